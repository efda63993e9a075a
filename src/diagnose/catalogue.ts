// The failure catalogue: what TLS and network errors look like in each client's own words, and
// which finding code each means. One table for `explain` (pasted errors, whole logs) and for
// `doctor` (its verdict messages are classified by it, so the two always agree).
import { OPENSSL_ERRORS, type OpenSslErrorName } from '../trust/openssl-verify.js';
import type { FindingCode } from './finding.js';

export type ClientId =
  | 'ollama' | 'go' | 'docker' | 'node' | 'npm' | 'curl' | 'openssl' | 'python' | 'pip' | 'java' | 'git' | 'macos';

export interface Signature {
  id: string;
  /** The client this wording comes from (context in the line may narrow it, e.g. go -> docker). */
  client: ClientId;
  pattern: RegExp;
  code: FindingCode | ((m: RegExpMatchArray) => FindingCode);
  /** Facts worth keeping from the match (inner reasons, times, names). */
  facts?: (m: RegExpMatchArray) => Record<string, string>;
}

/** What an OpenSSL verify error means, whoever prints it (Node, curl, Python, git, openssl). */
export const OPENSSL_CODES: Record<OpenSslErrorName, FindingCode> = {
  UNABLE_TO_GET_ISSUER_CERT: 'unknown-authority',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unknown-authority',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'missing-intermediate',
  SELF_SIGNED_CERT_IN_CHAIN: 'untrusted-root',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed-leaf',
  CERT_SIGNATURE_FAILURE: 'unknown-authority',
  CERT_NOT_YET_VALID: 'not-yet-valid',
  CERT_HAS_EXPIRED: 'expired',
  CERT_CHAIN_TOO_LONG: 'invalid-ca',
  INVALID_CA: 'invalid-ca',
  PATH_LENGTH_EXCEEDED: 'invalid-ca',
  KEYUSAGE_NO_CERTSIGN: 'invalid-ca',
  INVALID_PURPOSE: 'wrong-eku',
  UNHANDLED_CRITICAL_EXTENSION: 'unhandled-critical-extension',
  PERMITTED_VIOLATION: 'invalid-ca',
  EXCLUDED_VIOLATION: 'invalid-ca',
  HOSTNAME_MISMATCH: 'hostname-mismatch',
  // Whether the certificate has IP SANs at all is not in the message.
  IP_ADDRESS_MISMATCH: 'hostname-mismatch',
  EE_KEY_TOO_SMALL: 'weak-key',
  CA_KEY_TOO_SMALL: 'weak-key',
  CA_MD_TOO_WEAK: 'weak-signature',
  // Name-constraint machinery refusing a name or a constraint: the CA limits what it may sign.
  SUBTREE_MINMAX: 'invalid-ca',
  UNSUPPORTED_CONSTRAINT_TYPE: 'invalid-ca',
  UNSUPPORTED_CONSTRAINT_SYNTAX: 'invalid-ca',
  UNSUPPORTED_NAME_SYNTAX: 'invalid-ca',
  // What OpenSSL reports when verification stops on an internal refusal (an undecodable key,
  // the name-constraint work limit): no trusted path came out of it.
  UNSPECIFIED: 'unknown-authority',
  UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY: 'malformed-certificate',
  // check_curve: an EC key with explicit curve parameters must be reissued with a named curve.
  EC_KEY_EXPLICIT_PARAMS: 'weak-key',
};

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
  { id: 'go-proxy-auth', client: 'go', pattern: /Proxy Authentication Required/, code: 'proxy-auth-required' },
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
  { id: 'node-code', client: 'node', pattern: new RegExp(`\\b(${NODE_CODES})\\b`), code: (m) => OPENSSL_CODES[m[1] as OpenSslErrorName] },
  { id: 'node-enotfound', client: 'node', pattern: /getaddrinfo (ENOTFOUND|EAI_AGAIN) ([^\s'"]+)/, code: 'dns-failure' },
  { id: 'node-refused', client: 'node', pattern: /connect ECONNREFUSED ([^\s'"]+)/, code: 'connection-refused' },
  { id: 'node-timeout', client: 'node', pattern: /connect ETIMEDOUT ([^\s'"]+)|\bETIMEDOUT\b/, code: 'connect-timeout' },
  { id: 'node-reset', client: 'node', pattern: /\bECONNRESET\b|socket hang up|Client network socket disconnected before secure TLS connection was established/, code: 'connection-reset' },
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
  { id: 'openssl-verify-num', client: 'openssl', pattern: /verify error:num=(\d+):/, code: (m) => codeForOpenSslNum(Number(m[1])) ?? 'unknown-authority' },
  { id: 'openssl-return-code', client: 'openssl', pattern: /Verify return code: ([1-9]\d*) \(/, code: (m) => codeForOpenSslNum(Number(m[1])) ?? 'unknown-authority' },
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
  { id: 'python-ssl-error', client: 'python', pattern: /\[SSL: ([A-Z0-9_]+)\] ([^(']+)/, code: (m) => classifyOpenSslish(`${m[1]} ${m[2]}`) ?? 'tls-alert' },

  // ---- Java ----
  { id: 'java-pkix', client: 'java', pattern: /PKIX path building failed|unable to find valid certification path to requested target/, code: 'unknown-authority' },
  { id: 'java-expired', client: 'java', pattern: /CertificateExpiredException/, code: 'expired' },
  { id: 'java-not-yet', client: 'java', pattern: /CertificateNotYetValidException/, code: 'not-yet-valid' },
  { id: 'java-names', client: 'java', pattern: /No subject alternative (?:DNS )?names? matching (?:IP address )?(\S+) found|No name matching (\S+) found/, code: 'hostname-mismatch' },

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
  { pattern: /Error response from daemon|Error while pulling image|docker(?:d)?\[|docker pull|docker\.io\//i, client: 'docker', over: ['go'] },
  { pattern: /pull model manifest|ollama|registry\.ollama\.ai|r2\.cloudflarestorage\.com/i, client: 'ollama', over: ['go'] },
  { pattern: /\bnpm (?:ERR!|error|warn)/, client: 'npm', over: ['node', 'openssl'] },
  { pattern: /\bpip\b|Could not fetch URL|There was a problem confirming the ssl certificate/, client: 'pip', over: ['python', 'openssl'] },
  { pattern: /HTTPSConnectionPool|urllib3|requests\.exceptions|httpx|ssl\.SSL|_ssl\.c/, client: 'python', over: ['openssl'] },
  { pattern: /fatal: unable to access '/, client: 'git', over: ['curl', 'openssl'] },
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
// "critical"), since Node prints some of them bare ("Error: path length constraint exceeded").
// Case-sensitive stems on purpose: a case-insensitive alternation costs several times more per line.
const KEYWORDS = new RegExp(
  'x509|tls|TLS|ssl|SSL|ertif|ERTIF|erify|handshake|roxy|PROXY|dial tcp|ECONN|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EPROTO|hang up|' +
    'curl: \\(|PKIX|SELF_SIGNED|UNABLE_TO|altnames|ostname|no such host|refused|reset by peer|imeout|TIMEOUT|alert|ALERT|' +
    'wrong version|depth lookup|SecPolicy|path length|digest|key usage|purpose|mismatch|subtree|critical|unable to|elf.signed|' +
    'xpired|not yet valid|too weak|HTTPS client|forcibly closed|Tunnel connection failed|cURL error|\\[curl\\]|model manifest',
);

/** Whether a line could hold a recognised failure at all (a fast test to run before anything else). */
export function mayMatch(line: string): boolean {
  return KEYWORDS.test(line);
}

/** mayMatch's keywords as a pattern of their own, for explain.ts to find candidate lines in a whole chunk at once. */
export const KEYWORD_PATTERN: RegExp = KEYWORDS;

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

/** The finding code a client's message means (doctor's verdicts use this). */
export function codeForMessage(message: string): FindingCode | undefined {
  return classifyLine(message)?.code;
}

/** A client's verdict with the code its message means, as the report carries it. */
export function verdictWithCode<V extends { ok: boolean; message: string }>(v: V): V & { code: FindingCode | null } {
  return { ...v, code: v.ok ? null : (codeForMessage(v.message) ?? 'unknown-authority') };
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
];

/** Wordings many programs print; another line nearby may say which program it was. */
export const GENERIC_CLIENTS: ReadonlySet<ClientId> = new Set(['openssl']);
