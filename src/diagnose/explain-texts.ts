// What explain says about each code, knowing only the words of an error (no certificate): the
// plain-language why, and the fixes for the client that printed it. Doctor says the same things
// with the certificate in hand (trust-findings.ts); the shared fixes live in fixes.ts.
import type { ClientId } from './catalogue.js';
import { CLIENT_TRUST } from './client-trust.js';
import type { FindingCode, Fix } from './finding.js';
import { INSECURE_FLAG_NOTE, NETWORK_FIX, SERVER_FIX, type ClientPlatform } from './fixes.js';

export interface ExplainContext {
  client: ClientId;
  hosts: string[];
  count: number;
  facts: Record<string, string>;
  platform: ClientPlatform;
}

interface Text {
  title: string;
  detail: string;
  fixes: Fix[];
}

const who = (x: ExplainContext) => CLIENT_TRUST[x.client].name;
const where = (x: ExplainContext) => (x.hosts.length ? ` for ${x.hosts.slice(0, 3).join(', ')}${x.hosts.length > 3 ? ', ...' : ''}` : '');
const clientFixes = (x: ExplainContext) => CLIENT_TRUST[x.client].fixes(x.platform);
const goLike = (x: ExplainContext) => x.client === 'ollama' || x.client === 'go' || x.client === 'docker' || x.client === 'macos';
const reads = (x: ExplainContext) => `${capitalise(who(x))} reads its roots from ${CLIENT_TRUST[x.client].reads}.`;
// Program names keep their own spelling (npm, curl); only a leading article is capitalised.
const capitalise = (s: string) => (/^(the|this) /.test(s) ? s.charAt(0).toUpperCase() + s.slice(1) : s);

const PROXY_HINT = 'On a corporate network, outbound HTTPS often has to go through a proxy: set HTTPS_PROXY (and NO_PROXY=localhost,127.0.0.1) where the program runs; for Ollama, in its service environment.';

const TEXTS: Partial<Record<FindingCode, (x: ExplainContext) => Text>> = {
  'unknown-authority': (x) => ({
    title: `${capitalise(who(x))} does not trust the certificate${where(x)}`,
    detail:
      `The server's chain does not lead to a root that ${who(x)} trusts. The usual reasons: the certificate comes from a private CA or a ` +
      `TLS-inspecting proxy (Zscaler, Netskope, Palo Alto, ...), or the server leaves out an intermediate. ${reads(x)} The doctor shows which it is.`,
    fixes: [...clientFixes(x), ...(goLike(x) ? [INSECURE_FLAG_NOTE] : [])],
  }),
  'missing-intermediate': (x) => ({
    title: `The server${where(x)} sends an incomplete chain: the intermediate is missing`,
    detail:
      `${capitalise(who(x))} got the server's certificate without the intermediate that issued it, so it cannot link it to a trusted root. ` +
      'Browsers often still work because they fetch or cache intermediates; most other clients do not. This is a server configuration mistake.',
    fixes: [SERVER_FIX.fullChain],
  }),
  'untrusted-root': (x) => ({
    title: `${capitalise(who(x))} does not trust the root CA of the certificate${where(x)}`,
    detail:
      'The chain is complete but ends at a self-signed root that is not trusted here: the mark of a private CA or of a TLS-inspecting proxy ' +
      `(Zscaler, Netskope, ...). ${reads(x)}`,
    fixes: [...clientFixes(x), ...(goLike(x) ? [INSECURE_FLAG_NOTE] : [])],
  }),
  'self-signed-leaf': (x) => ({
    title: `The server${where(x)} presents a self-signed certificate`,
    detail: `No CA vouches for the server's certificate: it signs itself. ${capitalise(who(x))} accepts it only if that exact certificate is trusted. ${reads(x)}`,
    fixes: [SERVER_FIX.realCertificate, ...clientFixes(x)],
  }),
  expired: (x) => ({
    title: `A certificate${where(x)} has expired${x.facts.bound ? ` (valid until ${x.facts.bound})` : ''}`,
    detail:
      'Every client refuses an expired certificate, the server certificate or an intermediate sent with it.' +
      (x.facts.now ? ` The client's clock said ${x.facts.now}.` : '') +
      ' Renew it on the server, unless the clock of the machine that failed is wrong.',
    fixes: [SERVER_FIX.renew, SERVER_FIX.currentIntermediate],
  }),
  'not-yet-valid': (x) => ({
    title: `A certificate${where(x)} is not valid yet${x.facts.bound ? ` (valid from ${x.facts.bound})` : ''}`,
    detail: `Either the certificate was issued with a future start date or the clock of the machine that failed is behind${x.facts.now ? ` (it said ${x.facts.now})` : ''}.`,
    fixes: [NETWORK_FIX.clockSync, NETWORK_FIX.wslClock],
  }),
  'hostname-mismatch': (x) => ({
    title: `The certificate does not name the host that was asked for${x.facts.wanted ? ` (${x.facts.wanted})` : where(x)}`,
    detail:
      `${x.facts.validFor ? `It is valid for ${x.facts.validFor}. ` : ''}Either this address serves another site (check DNS, the hosts file and proxies), ` +
      'a load balancer presents its default certificate, or the certificate lacks this name.',
    fixes: [SERVER_FIX.nameOnCertificate],
  }),
  'cn-only': (x) => ({
    title: `The certificate${where(x)} names the host only in its Common Name; Go requires a Subject Alternative Name`,
    detail: 'Go stopped falling back to the Common Name in Go 1.15 and removed the GODEBUG=x509ignoreCN=0 escape hatch in Go 1.17, so Ollama rejects it; OpenSSL-based tools still accept it.',
    fixes: [SERVER_FIX.reissueWithSan(x.hosts[0] ?? 'host.example')],
  }),
  'ip-san-missing': (x) => ({
    title: `The address is checked against IP SANs and the certificate has none${where(x)}`,
    detail: 'To verify an IP address, Go and Node look only at IP-address entries in the subjectAltName; DNS names and the Common Name do not count.',
    fixes: [{ title: 'Connect by a host name the certificate lists', side: 'client' }, SERVER_FIX.reissueWithIpSan(x.hosts[0] ?? '10.0.0.5')],
  }),
  'weak-signature': (x) => ({
    title: `A certificate${where(x)} is signed with SHA-1 (or another algorithm ${who(x)} refuses)`,
    detail:
      `Go has refused SHA-1 certificate signatures since Go 1.18 and removed the GODEBUG=x509sha1=1 override in Go 1.24; OpenSSL 3 refuses them at its default security level.` +
      (x.facts.candidate ? ` The issuer involved is "${x.facts.candidate}".` : ''),
    fixes: [SERVER_FIX.sha256],
  }),
  'weak-key': () => ({
    title: 'A certificate has a key that is too small',
    detail: 'OpenSSL 3.2+ (Node 24, current distributions) refuses RSA keys under 2048 bits at its default security level.',
    fixes: [SERVER_FIX.strongKey],
  }),
  'wrong-eku': (x) => ({
    title: `The certificate${where(x)} is not valid for TLS servers`,
    detail: 'Its extended key usage does not include serverAuth (a client certificate installed on the server is the usual cause).',
    fixes: [SERVER_FIX.serverAuth],
  }),
  'invalid-ca': (x) => ({
    title: `A certificate in the chain${where(x)} is not allowed to issue the one below it`,
    detail:
      `It is not a CA (basicConstraints), its key usage lacks keyCertSign, or a path length constraint is exceeded.` +
      (x.facts.candidate ? ` The certificate involved is "${x.facts.candidate}".` : ''),
    fixes: [SERVER_FIX.properCa],
  }),
  'not-standards-compliant': (x) => ({
    title: `macOS calls the certificate${where(x)} not standards compliant`,
    detail:
      "Apple's verifier, which Go uses on macOS, refuses server certificates that break its rules even when the CA is trusted: no subjectAltName, " +
      'no serverAuth extended key usage, a validity longer than 825 days (398 for public CAs), a SHA-1 signature or an RSA key under 2048 bits.',
    fixes: [SERVER_FIX.reissueWithSan(x.hosts[0] ?? 'host.example')],
  }),
  'malformed-certificate': () => ({
    title: 'Go cannot parse a certificate the server sent',
    detail: "Go's certificate parser is stricter than OpenSSL's (negative serial numbers, duplicate extensions, malformed names); the program fails before checking trust.",
    fixes: [{ title: 'Reissue the offending certificate with a conforming encoding', side: 'server' }],
  }),
  'unhandled-critical-extension': () => ({
    title: 'A certificate has a critical extension the client does not understand',
    detail: 'Clients must refuse a certificate whose critical extension they do not implement.',
    fixes: [{ title: 'Reissue the certificate without that critical extension (or mark it non-critical)', side: 'server' }],
  }),
  'no-roots': (x) => ({
    title: `${capitalise(who(x))} has no trusted roots to check with`,
    detail: `The CA bundle it was told to use cannot be read, or the system has none (a minimal container image without ca-certificates). ${reads(x)}`,
    fixes: [{ title: 'Install the distribution CA bundle (in a container image: apt-get install ca-certificates, apk add ca-certificates)', side: 'client' }],
  }),
  'certificate-list-too-large': (x) => ({
    title: `The server${where(x)} sends a certificate list too long for ${who(x)}`,
    detail:
      goLike(x)
        ? 'Go (and so Ollama) reads a Certificate message of up to 262144 bytes (256 KiB); this server sends more. No client setting changes that limit.'
        : `OpenSSL-based clients (Node.js, curl, Python) stop at 102400 bytes (100 KiB, OpenSSL's default max_cert_list), while Go, and so Ollama, reads up to 256 KiB: ` +
          'Ollama may well work where this client fails. The doctor reads such a list off the wire and says what Go makes of it.',
    fixes: [
      { title: 'Send a shorter chain: the leaf and its intermediates only (no root, no unrelated certificates)', side: 'server' },
      { title: 'See what the server sends and what Go makes of it', command: `ollama-tls doctor ${x.hosts[0] ?? 'HOST:PORT'}`, side: 'client' },
    ],
  }),
  'client-cert-required': (x) => ({
    title: `The server${where(x)} requires a client certificate`,
    detail:
      'The server asked for a certificate from the client and refused the connection without an acceptable one (mutual TLS). In TLS 1.3 this arrives as an alert after the handshake. ' +
      'Ollama itself cannot present a client certificate: for Ollama, a proxy on its side has to (nginx proxy_ssl_certificate, or stunnel in client mode).',
    fixes: [
      { title: 'Configure the client certificate and key for this server (or ask its operator which CA it accepts)', side: 'client' },
      { title: 'See which CAs the server accepts, and whether your certificate would pass', command: `ollama-tls doctor ${x.hosts[0] ?? 'HOST:PORT'} --cert client.pem --key client.key`, side: 'client' },
    ],
  }),
  'tls-alert': (x) => ({
    title: `The server${where(x)} refused the TLS handshake`,
    detail: 'It sent a fatal alert: no cipher or curve in common, a name it does not serve, or (TLS 1.2) a client certificate it wanted and did not get.',
    fixes: [{ title: "Look at the server's TLS configuration and logs for the reason", side: 'server' }],
  }),
  'protocol-mismatch': (x) => ({
    title: `The server${where(x)} and the client share no TLS version`,
    detail: 'Current Go, Node and OpenSSL speak TLS 1.2 and 1.3; the server offers only something older.',
    fixes: [SERVER_FIX.tls12],
  }),
  'not-tls': (x) => ({
    title: `The other side${where(x)} does not speak TLS`,
    detail:
      'The client sent a TLS handshake and got back plain text, usually an HTTP response: the port is plain HTTP (Ollama itself serves plain HTTP on ' +
      '11434), or something in the way answers in clear text.',
    fixes: [{ title: 'Use the HTTPS port, or http:// if the service is meant to be plain HTTP', side: 'client' }],
  }),
  'proxy-scheme-mismatch': () => ({
    title: 'HTTPS_PROXY says https:// but the proxy speaks plain HTTP',
    detail: 'With an https:// proxy URL the client opens TLS to the proxy itself; most corporate proxies expect plain HTTP CONNECT on their port.',
    fixes: [{ title: 'Use an http:// proxy URL', command: 'export HTTPS_PROXY=http://proxy.example:3128', side: 'client' }],
  }),
  'proxy-unreachable': () => ({
    title: 'The proxy cannot be reached',
    detail: 'The client is configured to use a proxy (HTTPS_PROXY or similar) and could not connect to it: a wrong host or port, or a proxy that is down.',
    fixes: [{ title: 'Check the proxy settings where the program runs', command: 'env | grep -i _proxy', side: 'client' }],
  }),
  'proxy-auth-required': () => ({
    title: 'The proxy wants credentials (407 Proxy Authentication Required)',
    detail: 'The proxy refused the CONNECT request until the client authenticates. Go and Ollama can send Basic credentials from the proxy URL; NTLM or Kerberos proxies need a local helper such as cntlm or px.',
    fixes: [{ title: 'Put the credentials in the proxy URL (percent-encode special characters)', command: 'export HTTPS_PROXY=http://user:password@proxy.example:3128', side: 'client' }],
  }),
  'proxy-refused': () => ({
    title: 'The proxy refused to connect to the destination',
    detail: 'The proxy answered the CONNECT request with an error status (403 and similar): the destination is blocked by policy, or the port is not allowed.',
    fixes: [{ title: 'Ask the proxy administrators to allow the destination (registry.ollama.ai and *.r2.cloudflarestorage.com for Ollama)', side: 'client' }],
  }),
  'dns-failure': (x) => ({
    title: `The name${where(x)} cannot be resolved`,
    detail: `The resolver on that machine does not know the name: a typo, split DNS behind a VPN, a container without the host's resolver, or a network that resolves external names only through a proxy. ${PROXY_HINT}`,
    fixes: [NETWORK_FIX.resolver(x.hosts[0] ?? 'registry.ollama.ai'), NETWORK_FIX.proxyForOllama],
  }),
  'connection-refused': (x) => ({
    title: `The connection${where(x)} was refused`,
    detail: `Nothing listens on that address and port, or a firewall actively rejects the connection. ${PROXY_HINT}`,
    fixes: [NETWORK_FIX.listening(x.hosts[0] ?? 'host', 443)],
  }),
  'host-unreachable': (x) => ({
    title: `No route to the host${where(x)}`,
    detail: 'The network stack has no route to that address (no default route, IPv6 without connectivity, or a VPN that owns the routes).',
    fixes: [{ title: 'Check routes and interfaces', command: 'ip route', side: 'client' }],
  }),
  'connect-timeout': (x) => ({
    title: `Connecting${where(x)} timed out`,
    detail: `Packets are silently dropped: a firewall, a wrong address, or a network that only allows traffic through a proxy. ${PROXY_HINT}`,
    fixes: [NETWORK_FIX.proxyForOllama],
  }),
  'handshake-timeout': (x) => ({
    title: `The TLS handshake${where(x)} timed out`,
    detail: 'A TCP connection was made but the TLS handshake never finished: a service that is not TLS, an overloaded server, or a middlebox that stalls TLS it does not like.',
    fixes: [{ title: 'See what answers on that port', command: `openssl s_client -connect ${x.hosts[0] ?? 'host'}:443 </dev/null`, side: 'client' }],
  }),
  'connection-reset': (x) => ({
    title: `The connection${where(x)} was reset`,
    detail: 'The peer or something on the way hung up mid-conversation. Firewalls that filter by SNI do this to names they block; so do servers that do not serve the name asked for.',
    fixes: [{ title: 'Compare with another network; ask IT whether the destination is blocked', side: 'client' }],
  }),
  'model-not-found': () => ({
    title: 'The registry has no such model or tag',
    detail: 'The connection and TLS worked: the registry answered 404 for the manifest. The name or the tag is wrong (tags are per model: see its page on ollama.com).',
    fixes: [{ title: 'Check the name and tag on https://ollama.com/library', side: 'client' }],
  }),
  'http-blocked': (x) => ({
    title: `Something answered ${x.facts.status ?? 'an HTTP error'} in place of the registry`,
    detail:
      'TLS worked, but the answer is a refusal: a web filter blocking the host or the AI category (its block page is in the body), a proxy wanting credentials (407), or a captive portal (511). ' +
      'The doctor shows who answered and names the product when the page names itself.',
    fixes: [
      { title: 'See who answers, on the same path', command: 'ollama-tls doctor', side: 'client' },
      { title: 'Ask IT to allow registry.ollama.ai, *.ollama.com and *.r2.cloudflarestorage.com', side: 'client' },
    ],
  }),
  'ollama-insecure-flag': () => ({
    title: '`ollama pull --insecure` switched to plain HTTP, and the registry does not answer on port 80',
    detail:
      '--insecure does not skip certificate verification: it only allows an http:// registry. registry.ollama.ai serves HTTPS only, so the pull fails on port 80. ' +
      'The TLS problem that led to trying --insecure is still there; fix that instead.',
    fixes: [{ title: 'Drop --insecure and diagnose the original TLS error', command: 'ollama-tls doctor registry.ollama.ai', side: 'client' }],
  }),
};

const FALLBACK = (code: FindingCode) => (x: ExplainContext): Text => ({
  title: `${capitalise(who(x))} reports ${code}${where(x)}`,
  detail: `A ${code} failure.`,
  fixes: [],
});

export function explainText(code: FindingCode, x: ExplainContext): Text {
  return (TEXTS[code] ?? FALLBACK(code))(x);
}
