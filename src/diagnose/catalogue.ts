// The failure catalogue: what TLS and network errors look like in each client's own words, and
// which finding code each means: `explain` reads pasted errors and whole logs with it. Doctor's
// verdicts take their codes from the engines' errors (verdict-codes.ts); its messages read back
// through this table to the same codes (test/unit/diagnose/verdict-codes.test.ts, the round trip in explain.test.ts).
import { OPENSSL_ERRORS, type OpenSslErrorName } from '../trust/openssl-verify.js';
import type { FindingCode } from './finding.js';
import { OPENSSL_CODES } from './openssl-codes.js';

export type ClientId =
  | 'ollama' | 'go' | 'docker' | 'node' | 'npm' | 'curl' | 'openssl' | 'python' | 'pip' | 'java' | 'git' | 'macos'
  | 'wget' | 'gnutls' | 'apt';

export interface Signature {
  id: string;
  /** The client this wording comes from (context in the line may narrow it, e.g. go -> docker). */
  client: ClientId;
  pattern: RegExp;
  code: FindingCode | ((m: RegExpMatchArray) => FindingCode);
  /** Facts worth keeping from the match (inner reasons, times, names). */
  facts?: (m: RegExpMatchArray) => Record<string, string>;
  /**
   * The program's final verdict on a connection (s_client's "Verify return code"): the other
   * wordings the same program printed in the same block are its working (one line per depth),
   * not failures of their own.
   */
  verdict?: true;
}

// Older OpenSSL wordings of the same errors (1.1.x and earlier; Python and Node built on them).
const OPENSSL_OLD_TEXTS: Record<string, OpenSslErrorName> = {
  'self signed certificate in certificate chain': 'SELF_SIGNED_CERT_IN_CHAIN',
  'self signed certificate': 'DEPTH_ZERO_SELF_SIGNED_CERT',
  'unsupported certificate purpose': 'INVALID_PURPOSE',
};

const OPENSSL_BY_TEXT = new Map<string, OpenSslErrorName>([
  ...(Object.entries(OPENSSL_ERRORS) as [OpenSslErrorName, { text: string }][]).map(([name, e]) => [e.text.toLowerCase(), name] as [string, OpenSslErrorName]),
  ...Object.entries(OPENSSL_OLD_TEXTS),
]);
const OPENSSL_BY_NUM = new Map<number, OpenSslErrorName>(
  (Object.entries(OPENSSL_ERRORS) as [OpenSslErrorName, { num: number }][]).map(([name, e]) => [e.num, name]),
);
// Other verify errors clients print that the emulation never produces.
const OPENSSL_EXTRA_NUMS: Record<number, FindingCode> = {
  27: 'untrusted-root', // certificate not trusted
  28: 'untrusted-root', // certificate rejected
  23: 'unknown-authority', // certificate revoked (not modelled: say "no trusted path")
};

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
// Longest first, so "self-signed certificate in certificate chain" wins over "self-signed certificate".
const OPENSSL_TEXT_ALTERNATION = [...OPENSSL_BY_TEXT.keys()].sort((a, b) => b.length - a.length).map(escape).join('|');

export function codeForOpenSslText(text: string): FindingCode | undefined {
  const name = OPENSSL_BY_TEXT.get(text.toLowerCase().trim());
  return name ? OPENSSL_CODES[name] : undefined;
}

export function codeForOpenSslNum(num: number): FindingCode | undefined {
  const name = OPENSSL_BY_NUM.get(num);
  return name ? OPENSSL_CODES[name] : OPENSSL_EXTRA_NUMS[num];
}

/** Go prints its hints with %q: a double-quoted string with backslash escapes. */
const GO_QUOTED = '"((?:[^"\\\\]|\\\\.)*)"';
const unquote = (s: string) => s.replace(/\\(.)/g, '$1');

/** The inner reason of Go's "possibly because of" hint decides what the failure really is. */
function goHintCode(inner: string): FindingCode {
  if (/insecure algorithm|algorithm unimplemented/.test(inner)) return 'weak-signature';
  if (/parent certificate cannot sign|not authorized to sign|too many intermediates|not authorized to sign for this name/.test(inner)) return 'invalid-ca';
  if (/is after/.test(inner)) return 'expired';
  if (/is before/.test(inner)) return 'not-yet-valid';
  return 'unknown-authority';
}

/** A reason sentence of GnuTLS's verification status (and wget's wording of the same flags). */
function gnutlsReason(text: string): FindingCode {
  if (/expired/i.test(text)) return 'expired';
  if (/not yet activated|not yet valid/i.test(text)) return 'not-yet-valid';
  if (/name in the certificate does not match|owner does not match/i.test(text)) return 'hostname-mismatch';
  if (/insecure algorithm/i.test(text)) return 'weak-signature';
  if (/issuer is not a CA|signer is not a CA|constraint/i.test(text)) return 'invalid-ca';
  if (/purpose/i.test(text)) return 'wrong-eku';
  return 'unknown-authority';
}

function alertCode(name: string): FindingCode {
  const n = name.toLowerCase().replace(/_/g, ' ');
  if (/certificate required/.test(n)) return 'client-cert-required';
  if (/protocol version/.test(n)) return 'protocol-mismatch';
  return 'tls-alert';
}

function curlCode(m: RegExpMatchArray): FindingCode {
  const num = Number(m[1]);
  const text = m[2]!;
  const inner = classifyOpenSslish(text);
  switch (num) {
    case 5: return 'proxy-unreachable';
    case 6: return 'dns-failure';
    case 7: return /proxy/i.test(text) ? 'proxy-unreachable' : /timed out/i.test(text) ? 'connect-timeout' : 'connection-refused';
    case 28: return /SSL connection timeout/i.test(text) ? 'handshake-timeout' : 'connect-timeout';
    case 35: return inner ?? 'tls-alert';
    case 52: return 'connection-reset';
    case 56: {
      const status = text.match(/(?:response|HTTP code) (\d{3})/);
      if (status) return status[1] === '407' ? 'proxy-auth-required' : 'proxy-refused';
      return inner ?? 'connection-reset';
    }
    case 60: return inner ?? (/subject name|host name/i.test(text) ? 'hostname-mismatch' : 'unknown-authority');
    case 77: return 'no-roots';
    case 97: return 'proxy-unreachable';
    default: return inner ?? 'tls-alert';
  }
}

/** OpenSSL-flavoured text that several clients share: verify reasons, alerts, record errors. */
function classifyOpenSslish(text: string): FindingCode | undefined {
  const verify = text.match(new RegExp(`(${OPENSSL_TEXT_ALTERNATION})`, 'i'));
  if (verify) return codeForOpenSslText(verify[1]!);
  const alert = text.match(/alert[ _]([a-z _]+?)(?:[:),]|$|\s\()/i) ?? text.match(/ALERT_([A-Z_]+)/);
  if (alert) return alertCode(alert[1]!);
  if (/unrecognized name|UNRECOGNIZED_NAME/i.test(text)) return 'tls-alert';
  // OpenSSL's max_cert_list (100 KiB): in practice a server certificate list too long for it.
  if (/excessive message size|EXCESSIVE_MESSAGE_SIZE/i.test(text)) return 'certificate-list-too-large';
  if (/wrong version number|WRONG_VERSION_NUMBER|packet length too long|unknown protocol/i.test(text)) return 'not-tls';
  if (/unsupported protocol|no protocols available|UNSUPPORTED_PROTOCOL/i.test(text)) return 'protocol-mismatch';
  if (/no alternative certificate subject name matches|does not match target host name/i.test(text)) return 'hostname-mismatch';
  if (/connection reset|ECONNRESET/i.test(text)) return 'connection-reset';
  if (/certificate verify failed|CERTIFICATE_VERIFY_FAILED/i.test(text)) return 'unknown-authority';
  return undefined;
}

// Node prints the code UNSPECIFIED for every verify error it has no name for: the text decides those.
const NODE_CODES = Object.keys(OPENSSL_CODES).filter((k) => k !== 'UNSPECIFIED').join('|');

/**
 * The catalogue, most specific first: the first signature that matches a line decides it.
 * Sources of the wordings: Go's crypto/x509 and crypto/tls and net/http, Node's lib/_tls_wrap.js
 * and src/crypto, OpenSSL's crypto/x509/x509_txt.c, curl's error texts, CPython's Modules/_ssl.c,
 * the JDK's sun.security, git's http.c, and errors pasted in Ollama, npm and Docker issues
 * (test/explain-wordings.ts lists the cases with their sources).
 */
export const SIGNATURES: Signature[] = [
  // ---- Go (Ollama, Docker, any Go program) ----
  {
    id: 'go-proxyconnect',
    client: 'go',
    pattern: /proxyconnect tcp: (.*)$/,
    code: (m) => {
      const rest = m[1]!;
      if (/first record does not look like a TLS handshake|server gave HTTP response/.test(rest)) return 'proxy-scheme-mismatch';
      if (/x509:|certificate/.test(rest)) return classifyLine(rest)?.code ?? 'unknown-authority';
      return 'proxy-unreachable';
    },
  },
  {
    id: 'go-unknown-authority-hint',
    client: 'go',
    pattern: new RegExp(`x509: certificate signed by unknown authority \\(possibly because of ${GO_QUOTED} while trying to verify candidate authority certificate ${GO_QUOTED}\\)`),
    code: (m) => goHintCode(unquote(m[1]!)),
    facts: (m) => ({ reason: unquote(m[1]!), candidate: unquote(m[2]!) }),
  },
  { id: 'go-unknown-authority', client: 'go', pattern: /x509: certificate signed by unknown authority/, code: 'unknown-authority' },
  {
    id: 'go-validity',
    client: 'go',
    pattern: /x509: certificate has expired or is not yet valid: current time (\S+) is (after|before) (\S+)/,
    code: (m) => (m[2] === 'after' ? 'expired' : 'not-yet-valid'),
    facts: (m) => ({ now: m[1]!, bound: m[3]!.replace(/[,;)"]+$/, '') }),
  },
  { id: 'go-validity-macos', client: 'macos', pattern: /x509: certificate has expired or is not yet valid: “([^”]+)” certificate is expired/, code: 'expired' },
  { id: 'go-validity-bare', client: 'go', pattern: /x509: certificate has expired or is not yet valid/, code: 'expired' },
  { id: 'go-legacy-cn', client: 'go', pattern: /x509: certificate relies on legacy Common Name field/, code: 'cn-only' },
  { id: 'go-no-ip-sans', client: 'go', pattern: /x509: cannot validate certificate for (\S+) because it doesn't contain any IP SANs/, code: 'ip-san-missing' },
  {
    id: 'go-valid-for',
    client: 'go',
    pattern: /x509: certificate is valid for (.+?), not ([^\s"]+)/,
    code: 'hostname-mismatch',
    facts: (m) => ({ validFor: m[1]!, wanted: m[2]!.replace(/[,;)]+$/, '') }),
  },
  { id: 'go-no-names', client: 'go', pattern: /x509: certificate is not valid for any names, but wanted to match ([^\s"]+)/, code: 'hostname-mismatch' },
  { id: 'go-eku', client: 'go', pattern: /x509: certificate specifies an incompatible key usage/, code: 'wrong-eku' },
  {
    id: 'go-invalid-ca',
    client: 'go',
    pattern: /x509: (certificate is not authorized to sign other certificates|too many intermediates for path length constraint|invalid signature: parent certificate cannot sign this kind of certificate|a root or intermediate certificate is not authorized to sign for this name|a root or intermediate certificate is not authorized for an extended key usage)/,
    code: 'invalid-ca',
  },
  { id: 'go-insecure-algorithm', client: 'go', pattern: /x509: cannot verify signature: (insecure algorithm|algorithm unimplemented)/, code: 'weak-signature' },
  { id: 'go-critical', client: 'go', pattern: /x509: unhandled critical extension/, code: 'unhandled-critical-extension' },
  { id: 'go-parse', client: 'go', pattern: /tls: failed to parse certificate from server: (.+)$/, code: 'malformed-certificate' },
  // crypto/tls handshake_client.go verifyServerCertificate: refused with the parse errors, before Verify.
  { id: 'go-rsa-too-large', client: 'go', pattern: /tls: server sent certificate containing RSA key larger than \d+ bits/, code: 'malformed-certificate' },
  // verify.go CertificateInvalidError: NameMismatch (the candidate's subject is not the child's
  // issuer) and UnconstrainedName (a SAN type the CA's name constraints cannot judge).
  { id: 'go-issuer-name', client: 'go', pattern: /x509: issuer name does not match subject from issuing certificate/, code: 'unknown-authority' },
  { id: 'go-unconstrained-name', client: 'go', pattern: /x509: issuer has name constraints but leaf contains unknown or unconstrained name/, code: 'invalid-ca' },
  // verify.go: the name-constraint comparison budget (TooManyConstraints prints as "unknown error").
  { id: 'go-too-many-constraints', client: 'go', pattern: /tls: failed to verify certificate: x509: unknown error/, code: 'invalid-ca' },
  { id: 'go-signature-limit', client: 'go', pattern: /x509: signature check attempts limit reached/, code: 'unknown-authority' },
  // crypto/tls after Verify: a DSA (or unknown) leaf key cannot be used for the handshake.
  { id: 'go-key-type', client: 'go', pattern: /tls: server's certificate contains an unsupported type of public key/, code: 'weak-key' },
  // verify.go isValid: a SAN Go cannot read under a CA with name constraints.
  { id: 'go-nc-unparsable-san', client: 'go', pattern: /x509: cannot parse (?:dnsName|rfc822Name) "/, code: 'malformed-certificate' },
  { id: 'go-no-roots', client: 'go', pattern: /x509: failed to load system roots and no roots provided/, code: 'no-roots' },
  { id: 'macos-not-trusted', client: 'macos', pattern: /x509: (?:“[^”]+” )?certificate is not trusted/, code: 'unknown-authority' },
  { id: 'macos-not-compliant', client: 'macos', pattern: /certificate is not standards compliant/, code: 'not-standards-compliant' },
  { id: 'macos-name', client: 'macos', pattern: /“[^”]+” certificate name does not match input/, code: 'hostname-mismatch' },
  { id: 'macos-secpolicy', client: 'macos', pattern: /SecPolicyCreateSSL/, code: 'unknown-authority' },
  // crypto/tls conn.go readHandshake: 262144 is the Certificate message's own limit (maxHandshakeCertificateMsg).
  {
    id: 'go-certificate-list', client: 'go', pattern: /tls: handshake message of length (\d+) bytes exceeds maximum of 262144 bytes/, code: 'certificate-list-too-large',
    facts: (m) => ({ bytes: m[1]! }),
  },
  { id: 'go-remote-alert', client: 'go', pattern: /remote error: tls: ([a-z ]+)/, code: (m) => alertCode(m[1]!) },
  // urllib3/http.client's CONNECT failure, which also carries the proxy's reason phrase.
  {
    id: 'python-tunnel',
    client: 'python',
    pattern: /Tunnel connection failed: (\d{3})/,
    code: (m) => (m[1] === '407' ? 'proxy-auth-required' : 'proxy-refused'),
  },
  // net/http transport.go: the CONNECT status text right after the request wrapper `Get "URL": `.
  // Older Go printed the URL unquoted: `Get https://...: Proxy Authentication Required`.
  { id: 'go-proxy-auth', client: 'go', pattern: /(?:"|\bhttps?:\/\/\S*): Proxy Authentication Required/, code: 'proxy-auth-required' },
  { id: 'go-not-tls', client: 'go', pattern: /tls: first record does not look like a TLS handshake/, code: 'not-tls' },
  { id: 'go-http-response', client: 'go', pattern: /server gave HTTP response to HTTPS client/, code: 'not-tls' },
  { id: 'go-handshake-timeout', client: 'go', pattern: /(?:net\/http: )?TLS handshake timeout/, code: 'handshake-timeout' },
  { id: 'go-no-such-host', client: 'go', pattern: /dial tcp: lookup ([^\s:]+)(?: on [^\s]+)?: (no such host|server misbehaving|Temporary failure in name resolution|i\/o timeout)/, code: 'dns-failure' },
  {
    // `ollama pull --insecure` switches to http://, so a refused port 80 is its fingerprint.
    id: 'ollama-insecure',
    client: 'ollama',
    pattern: /"http:\/\/([^/"]+)\/v2\/[^"]*": dial tcp [^\s]+:80: connect: connection refused/,
    code: 'ollama-insecure-flag',
  },
  // Ollama's registry errors (server/images.go): 404 is "file does not exist", other refusals are "<status>: <body>".
  { id: 'ollama-manifest-missing', client: 'ollama', pattern: /pull model manifest: file does not exist/, code: 'model-not-found' },
  { id: 'ollama-manifest-blocked', client: 'ollama', pattern: /pull model manifest: (403|407|451|511)\b/, code: 'http-blocked', facts: (m) => ({ status: m[1]! }) },
  { id: 'go-refused', client: 'go', pattern: /dial tcp ([^\s]+): connect: connection refused/, code: 'connection-refused' },
  { id: 'go-unreachable', client: 'go', pattern: /dial tcp ([^\s]+): connect: (no route to host|network is unreachable)/, code: 'host-unreachable' },
  { id: 'go-dial-timeout', client: 'go', pattern: /dial tcp ([^\s]+): (i\/o timeout|connect: connection timed out)/, code: 'connect-timeout' },
  { id: 'go-reset', client: 'go', pattern: /read: connection reset by peer|write: broken pipe|: connection reset by peer/, code: 'connection-reset' },
  // Windows words a reset through Winsock.
  { id: 'go-reset-windows', client: 'go', pattern: /wsarecv: An existing connection was forcibly closed by the remote host|forcibly closed by the remote host/, code: 'connection-reset' },

  // ---- Node.js, npm, undici ----
  {
    id: 'node-altname',
    client: 'node',
    pattern: /(?:ERR_TLS_CERT_ALTNAME_INVALID\]?:? ?)?Hostname\/IP does not match certificate's altnames: (.*)$|ERR_TLS_CERT_ALTNAME_INVALID/,
    code: (m) => (/IP: \S+ is not in the cert's list: *$/.test(m[1] ?? '') ? 'ip-san-missing' : 'hostname-mismatch'),
  },
  // npm's fetch: the proxy's status as npm's error code.
  { id: 'npm-e407', client: 'npm', pattern: /\bnpm (?:ERR!|error) (?:code E407|407 Proxy Authentication Required)/, code: 'proxy-auth-required' },
  { id: 'node-code', client: 'node', pattern: new RegExp(`\\b(${NODE_CODES})\\b`), code: (m) => OPENSSL_CODES[m[1] as OpenSslErrorName] },
  { id: 'node-enotfound', client: 'node', pattern: /getaddrinfo (ENOTFOUND|EAI_AGAIN) ([^\s'"]+)/, code: 'dns-failure' },
  { id: 'node-refused', client: 'node', pattern: /connect ECONNREFUSED ([^\s'"]+)/, code: 'connection-refused' },
  { id: 'node-timeout', client: 'node', pattern: /connect ETIMEDOUT ([^\s'"]+)|\bETIMEDOUT\b/, code: 'connect-timeout' },
  { id: 'node-reset', client: 'node', pattern: /\bECONNRESET\b|socket hang up|Client network socket disconnected before secure TLS connection was established/, code: 'connection-reset' },
  // net.js writeAfterFIN: the peer closed first (undici's fetch after a TLS 1.3 server's refusal).
  { id: 'node-ended', client: 'node', pattern: /This socket has been ended by the other party|SocketError: other side closed/, code: 'connection-reset' },
  { id: 'node-eproto', client: 'node', pattern: /EPROTO.*(wrong version number|packet length too long)/, code: 'not-tls' },

  // ---- curl, git, OpenSSL command line ----
  { id: 'curl-error', client: 'curl', pattern: /curl: \((\d+)\) (.+)$/, code: curlCode },
  // libcurl errors as PHP (cURL error N) and Guzzle ([curl] N:) report them.
  { id: 'libcurl-error', client: 'curl', pattern: /(?:cURL error |\[curl\] )(\d+): (.+)$/, code: curlCode },
  // curl -v prints the alert the server sent.
  { id: 'curl-verbose-alert', client: 'curl', pattern: /TLS alert, ([a-z ]+) \(\d+\)/, code: (m) => alertCode(m[1]!) },
  {
    id: 'curl-verify-result',
    client: 'curl',
    pattern: /SSL certificate OpenSSL verify result: (.+?) \((\d+)\)/,
    code: (m) => codeForOpenSslNum(Number(m[2])) ?? codeForOpenSslText(m[1]!) ?? 'unknown-authority',
  },
  { id: 'git-gnutls', client: 'git', pattern: /server certificate verification failed\. CAfile: (\S+)/, code: 'unknown-authority' },
  // libcurl-gnutls (git on Debian): a fatal alert from the server, whose name GnuTLS does not print.
  { id: 'libcurl-gnutls-recv', client: 'curl', pattern: /GnuTLS recv error \(-\d+\): (.+)$/, code: (m) => (/fatal alert/i.test(m[1]!) ? 'tls-alert' : 'connection-reset') },
  // libcurl without the "curl: (N)" prefix (git's "fatal: unable to access 'URL': ..."): the CONNECT status and refused dials.
  { id: 'libcurl-connect-status', client: 'curl', pattern: /CONNECT tunnel failed, response (\d{3})/, code: (m) => (m[1] === '407' ? 'proxy-auth-required' : 'proxy-refused') },
  // libcurl (lib/connect.c) when the server closed the connection as it was being set up: git's
  // wording of a TLS 1.3 client-certificate refusal, depending on timing.
  { id: 'libcurl-not-connected', client: 'curl', pattern: /getpeername\(\) failed with errno 107: Transport endpoint is not connected/, code: 'connection-reset' },
  { id: 'libcurl-refused', client: 'curl', pattern: /Failed to connect to (\S+) port (\d+)(?: after \d+ ms)?: (?:Couldn't connect to server|Connection refused)/, code: 'connection-refused' },
  // libcurl-openssl's own name check (git's wording of curl 60).
  { id: 'libcurl-subject-name', client: 'curl', pattern: /SSL: (?:certificate subject name \(.*?\) does not match target host name|no alternative certificate subject name matches target host name) '([^']+)'/, code: 'hostname-mismatch' },
  { id: 'openssl-verify-num', client: 'openssl', pattern: /verify error:num=(\d+):/, code: (m) => codeForOpenSslNum(Number(m[1])) ?? 'unknown-authority' },
  { id: 'openssl-return-code', client: 'openssl', pattern: /Verify return code: ([1-9]\d*) \(/, code: (m) => codeForOpenSslNum(Number(m[1])) ?? 'unknown-authority', verdict: true },
  // apps/lib/http_server.c and s_client's -proxy: the CONNECT status line.
  { id: 'openssl-proxy-connect', client: 'openssl', pattern: /HTTP CONNECT failed, reason= ?(\d{3})/, code: (m) => (m[1] === '407' ? 'proxy-auth-required' : 'proxy-refused') },
  { id: 'openssl-bio-refused', client: 'openssl', pattern: /BIO_connect:Connection refused/, code: 'connection-refused' },
  { id: 'openssl-verify-cmd', client: 'openssl', pattern: /error (\d+) at \d+ depth lookup: /, code: (m) => codeForOpenSslNum(Number(m[1])) ?? 'unknown-authority' },

  // ---- Python (ssl, requests/urllib3, pip, httpx) ----
  {
    id: 'python-mismatch',
    client: 'python',
    pattern: /(Hostname|IP address) mismatch, certificate is not valid for '([^']+)'/,
    code: 'hostname-mismatch',
  },
  {
    id: 'python-verify',
    client: 'python',
    pattern: /\[SSL: CERTIFICATE_VERIFY_FAILED\] certificate verify failed: ([^(']+)/,
    code: (m) => codeForOpenSslText(m[1]!.trim()) ?? 'unknown-authority',
  },
  // urllib3's match_hostname (pip's vendored copy): the name check done in Python, not OpenSSL.
  { id: 'python-cert-error', client: 'python', pattern: /CertificateError\(["']hostname '([^']+)' doesn't match '([^']+)'|Certificate did not match expected hostname: ([^\s.]+(?:\.[^\s.]+)*)\. Certificate:/, code: 'hostname-mismatch' },
  {
    id: 'python-proxy',
    client: 'python',
    pattern: /(?:httpx|httpcore)\.ProxyError: (\d{3})|ProxyError\('Cannot connect to proxy\.'/,
    code: (m) => (m[1] === undefined ? 'proxy-unreachable' : m[1] === '407' ? 'proxy-auth-required' : 'proxy-refused'),
    // urllib3's conclusion: the refused connection in the traceback above it was the proxy's.
    verdict: true,
  },
  { id: 'python-refused', client: 'python', pattern: /ConnectionRefusedError: \[Errno 111\]|\[Errno 111\] Connection refused/, code: 'connection-refused' },
  { id: 'python-ssl-error', client: 'python', pattern: /\[SSL: ([A-Z0-9_]+)\] ([^(']+)/, code: (m) => classifyOpenSslish(`${m[1]} ${m[2]}`) ?? 'tls-alert' },

  // ---- Java ----
  { id: 'java-pkix', client: 'java', pattern: /PKIX path building failed|unable to find valid certification path to requested target/, code: 'unknown-authority' },
  { id: 'java-expired', client: 'java', pattern: /CertificateExpiredException/, code: 'expired' },
  { id: 'java-not-yet', client: 'java', pattern: /CertificateNotYetValidException/, code: 'not-yet-valid' },
  // sun.security.provider.certpath.BasicChecker: the reason of a PKIX *validation* failure.
  { id: 'java-validity', client: 'java', pattern: /CertPathValidatorException: validity check failed/, code: 'expired' },
  // A TLS 1.3 server's refusal after the handshake reaches the JDK only as a reset.
  // sun.security.ssl.Alert: the server's alert by its TLS name.
  { id: 'java-alert', client: 'java', pattern: /Received fatal alert: ([a-z_]+)/, code: (m) => alertCode(m[1]!) },
  { id: 'java-reset', client: 'java', pattern: /java\.net\.SocketException: Connection reset/, code: 'connection-reset' },
  { id: 'java-names', client: 'java', pattern: /No subject alternative (?:DNS )?names? matching (?:IP address )?(\S+) found|No name matching (\S+) found/, code: 'hostname-mismatch' },

  // ---- GnuTLS (gnutls-cli, apt's https method, wget and git on Debian) ----
  // lib/cert-session.c gnutls_certificate_verification_status_print: "The certificate is NOT
  // trusted." then one sentence per reason; apt prefixes "Certificate verification failed: ".
  {
    id: 'gnutls-status',
    client: 'gnutls',
    pattern: /The certificate is NOT trusted\. ?(.*?)(?:\s{2}|\s*$)/,
    code: (m) => gnutlsReason(m[1]!),
  },
  { id: 'gnutls-handshake', client: 'gnutls', pattern: /Could not handshake: Error in the certificate verification/, code: 'unknown-authority' },
  // apt methods/connect.cc and basehttp.cc: a proxy's refusal, a refused dial, a dropped connection.
  { id: 'apt-proxy', client: 'apt', pattern: /Invalid response from proxy: HTTP\/1\.[01] (\d{3})/, code: (m) => (m[1] === '407' ? 'proxy-auth-required' : 'proxy-refused') },
  { id: 'apt-refused', client: 'apt', pattern: /Could not connect to (\S+) \(.*?\)\. - connect \(111: Connection refused\)/, code: 'connection-refused' },
  { id: 'apt-connection-failed', client: 'apt', pattern: /^\s*(?:W: Failed to fetch \S+\s+)?Connection failed \[IP: /, code: 'connection-reset' },
  // wget src/gnutls.c ssl_check_certificate and src/http.c.
  {
    id: 'wget-certificate',
    client: 'wget',
    pattern: /The certificate of [‘'`"]?(.+?)[’'"]? (has expired|is not yet activated|doesn't have a known issuer|was signed using an insecure algorithm|issuer is not a CA|has been revoked)/,
    code: (m) => gnutlsReason(m[2]!),
  },
  { id: 'wget-owner', client: 'wget', pattern: /The certificate's owner does not match hostname [‘'`"]?([^’'"]+)/, code: 'hostname-mismatch' },
  { id: 'wget-proxy', client: 'wget', pattern: /Proxy tunneling failed: (.+?)(?:Unable to establish SSL connection\.)?$/, code: (m) => (/Authentication Required/i.test(m[1]!) ? 'proxy-auth-required' : 'proxy-refused') },
  { id: 'wget-refused', client: 'wget', pattern: /Connecting to .+?\.\.\. failed: Connection refused/, code: 'connection-refused' },
  // GNUTLS_E_INVALID_SESSION: GnuTLS marks a session invalid once the peer's fatal alert arrived
  // (what a TLS 1.3 server's certificate_required does to the first write after the handshake).
  { id: 'gnutls-invalidated', client: 'gnutls', pattern: /The specified session has been invalidated/, code: 'tls-alert' },
  // gnutls-cli: the alert by name decides; "A TLS fatal alert has been received" alone says only that one came.
  { id: 'gnutls-alert-name', client: 'gnutls', pattern: /\*\*\* Received alert \[\d+\]: (.+)/, code: (m) => (/certificate is required/i.test(m[1]!) ? 'client-cert-required' : 'tls-alert'), verdict: true },
  { id: 'gnutls-alert', client: 'gnutls', pattern: /\*\*\* Fatal error: A TLS fatal alert has been received/, code: 'tls-alert' },

  // ---- OpenSSL wordings in any client's message (Node's "Error: ...", curl's "SSL certificate problem: ...") ----
  {
    id: 'openssl-text',
    client: 'openssl',
    pattern: new RegExp(`(?:SSL certificate problem: |Error: |reason: |error: |UNSPECIFIED: )?(${OPENSSL_TEXT_ALTERNATION})`, 'i'),
    code: (m) => codeForOpenSslText(m[1]!) ?? 'unknown-authority',
  },
  { id: 'openssl-alert', client: 'openssl', pattern: /(?:sslv3|tlsv1|tlsv13) alert ([a-z ]+?)(?:[:,]|$|\s\(|\sSSL)/i, code: (m) => alertCode(m[1]!) },
  { id: 'openssl-wrong-version', client: 'openssl', pattern: /wrong version number|WRONG_VERSION_NUMBER/, code: 'not-tls' },
  { id: 'openssl-verify-failed', client: 'openssl', pattern: /certificate verify failed/i, code: 'unknown-authority' },
];

// Context in the same line that says which program printed a wording.
const CONTEXT: { pattern: RegExp; client: ClientId; over: ClientId[] }[] = [
  // apt's acquire lines: "Err:1 URL ...", then the reason, "[IP: address port]"; W: Failed to fetch.
  { pattern: /^\s*(?:Err:\d+ |Ign:\d+ |W: Failed to fetch |E: Failed to fetch )|Certificate verification failed: .*\[IP ?: |\[IP ?: [0-9A-Fa-f.:]+ \d+\]/, client: 'apt', over: ['gnutls'] },
  { pattern: /^(?:ERROR: The certificate of |--\d{4}-\d\d-\d\d \d\d:\d\d:\d\d--|Failed writing HTTP request: |Unable to establish SSL connection)/, client: 'wget', over: ['gnutls'] },
  { pattern: /Error response from daemon|Error while pulling image|docker(?:d)?\[|docker pull|docker\.io\//i, client: 'docker', over: ['go'] },
  { pattern: /pull model manifest|\bollama(?:\[\d+\]:|\.service| (?:pull|run|serve|push|create)\b)|\/api\/(?:pull|push|generate|chat)\b|\b(?:download|images|upload)\.go:\d+|registry\.ollama\.ai|r2\.cloudflarestorage\.com/i, client: 'ollama', over: ['go'] },
  { pattern: /\bnpm (?:ERR!|error|warn)/, client: 'npm', over: ['node', 'openssl'] },
  // pip logs urllib3's warnings as "WARNING: message"; Python's default format is "WARNING:logger:message".
  { pattern: /\bpip\b|Could not fetch URL|There was a problem confirming the ssl certificate|^WARNING: (?:Retrying \(Retry\(|Certificate did not match expected hostname)/, client: 'pip', over: ['python', 'openssl'] },
  { pattern: /HTTPSConnectionPool|urllib3|requests\.exceptions|httpx|ssl\.SSL|_ssl\.c/, client: 'python', over: ['openssl'] },
  { pattern: /fatal: unable to access '/, client: 'git', over: ['curl', 'openssl', 'gnutls'] },
  { pattern: /\bcurl: \(|^\* (?:OpenSSL|TLSv1|SSL connection|ALPN)/, client: 'curl', over: ['openssl'] },
  { pattern: /\bnode:|undici|FetchError|fetch failed|\bcode: '|--use-system-ca/, client: 'node', over: ['openssl'] },
];

export interface Classification {
  signature: Signature;
  code: FindingCode;
  client: ClientId;
  /** The part of the line that matched. */
  matched: string;
  facts: Record<string, string>;
}

// Cheap test first: a line without any of these stems cannot match any signature. Every OpenSSL
// verify text contains one ("ertif", "path length", "digest", "ostname", "mismatch", "subtree",
// "critical", "onstraint", "name syntax"), since Node prints some of them bare ("Error: path length
// constraint exceeded", "UNSPECIFIED: unsupported name constraint type").
// Case-sensitive stems on purpose: a case-insensitive alternation costs several times more per line.
const KEYWORDS = new RegExp(
  'x509|tls|TLS|ssl|SSL|ertif|ERTIF|erify|handshake|roxy|PROXY|dial tcp|ECONN|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EPROTO|hang up|' +
    'curl: \\(|PKIX|SELF_SIGNED|UNABLE_TO|altnames|ostname|no such host|refused|reset by peer|imeout|TIMEOUT|alert|ALERT|' +
    'wrong version|depth lookup|SecPolicy|path length|digest|key usage|purpose|mismatch|subtree|critical|unable to|elf.signed|' +
    'xpired|not yet valid|too weak|HTTPS client|forcibly closed|Tunnel connection failed|cURL error|\\[curl\\]|model manifest|' +
    'Connection reset|Connection failed|invalidated|tunnel failed|CONNECT failed|ended by the other party|other side closed|' +
    'Transport endpoint|onstraint|name syntax',
);

/** Whether a line could hold a recognised failure at all (a fast test to run before anything else). */
export function mayMatch(line: string): boolean {
  return KEYWORDS.test(line);
}

/** Classify one line of text; undefined when it holds no recognised failure. */
export function classifyLine(line: string): Classification | undefined {
  if (!KEYWORDS.test(line)) return undefined;
  for (const signature of SIGNATURES) {
    const m = line.match(signature.pattern);
    if (!m) continue;
    const code = typeof signature.code === 'function' ? signature.code(m) : signature.code;
    const context = CONTEXT.find((c) => c.over.includes(signature.client) && c.pattern.test(line));
    return { signature, code, client: context?.client ?? signature.client, matched: m[0], facts: signature.facts?.(m) ?? {} };
  }
  return undefined;
}

/** The finding code a client's message means (doctor's verdicts get theirs from the engine's error: verdict-codes.ts). */
export function codeForMessage(message: string): FindingCode | undefined {
  return classifyLine(message)?.code;
}

/**
 * Lines that name the program without holding an error: a Node stack frame, Python's _ssl.c, a
 * Java frame. They follow the message in a multi-line paste, so explain attributes a bare OpenSSL
 * wording just above them to that program.
 */
export const FOLLOWING_CONTEXT: { pattern: RegExp; client: ClientId }[] = [
  { pattern: /node:_tls_wrap|node:internal|at TLSSocket\.|undici|\bcode: '[A-Z_]+'/, client: 'node' },
  { pattern: /_ssl\.c|urllib3|requests\.exceptions|ssl\.SSL/, client: 'python' },
  { pattern: /at (?:sun|javax?)\.(?:security|net)/, client: 'java' },
  // pip's own lines around urllib3's words.
  { pattern: /^Looking in indexes: |^ERROR: (?:Could not find a version that satisfies|No matching distribution found)/, client: 'pip' },
];

/** A cheap gate for the lines FOLLOWING_CONTEXT may name a program in (they hold no failure keyword). */
export const FOLLOWING_STEMS = /node:|_ssl\.c|at (?:sun|java)|Looking in indexes|No matching distribution|satisfies the requirement/;

/** Wordings many programs print; another line nearby may say which program it was. */
export const GENERIC_CLIENTS: ReadonlySet<ClientId> = new Set(['openssl', 'gnutls']);

/**
 * Which programs print another one's words inside their own (pip prints urllib3's and OpenSSL's,
 * git prints libcurl's, Ollama prints Go's): the same failure named by both in one block is the
 * wrapping program's. Read off the in-line context table, so the two never disagree.
 */
export const WRAPS: ReadonlyMap<ClientId, readonly ClientId[]> = new Map(CONTEXT.map((c) => [c.client, c.over]));
