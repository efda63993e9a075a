// Failures before there is a chain to judge: name resolution, TCP, the handshake itself.
import { isLocalHost } from '../platform/address.js';
import type { ProbeFailure, ProbeResult } from '../probe/probe.js';
import { GO_MAX_CERTIFICATE_MESSAGE, OPENSSL_MAX_CERT_LIST } from '../probe/tls-wire.js';
import { clientCertFinding, clientCertRefused } from './client-cert.js';
import type { Finding, FindingCode, Fix } from './finding.js';
import { NETWORK_FIX, SERVER_FIX } from './fixes.js';

type Text = { code: FindingCode; title: string; detail: string; fixes: Fix[]; severity?: Finding['severity'] };

const PROXY_HINT = 'On a corporate network, outbound HTTPS often has to go through a proxy: set HTTPS_PROXY for Ollama (in its service environment) and NO_PROXY=localhost,127.0.0.1.';

// A local target (platform/address.ts isLocalHost) never needs a proxy, so it gets no proxy hint.
const proxyHint = (p: ProbeResult) => (isLocalHost(p.target.host) ? '' : ` ${PROXY_HINT}`);

function printable(bytes: Buffer): string {
  return bytes.toString('latin1').replace(/[^\x20-\x7e]/g, '.').slice(0, 64);
}

const BY_STAGE: { [S in ProbeFailure['stage']]: (f: Extract<ProbeFailure, { stage: S }>, p: ProbeResult) => Text } = {
  resolve: (f, p) => ({
    code: 'dns-failure',
    title: `Cannot resolve ${p.target.host}: ${f.message.replace(/^lookup [^:]+: /, '')}`,
    detail:
      `Go reports this as "dial tcp: lookup ${p.target.host}: no such host". Either the name is mistyped, this machine's DNS cannot see it ` +
      `(VPN split DNS, a container without the host's resolver), or the network only resolves external names through a proxy.${proxyHint(p)}`,
    fixes: [NETWORK_FIX.resolver(p.target.host), ...(isLocalHost(p.target.host) ? [] : [NETWORK_FIX.proxyForOllama])],
  }),
  connect: (f, p) => {
    const where = `${p.address?.address ?? f.attempts[f.attempts.length - 1]?.address ?? p.target.host}:${p.target.port}`;
    switch (f.kind) {
      case 'refused':
        return {
          code: 'connection-refused',
          title: `Connection refused by ${where}`,
          detail:
            `Nothing listens on ${where}, or a firewall actively rejects the connection.` +
            (isLocalHost(p.target.host) ? '' : ` For registry.ollama.ai this usually means outbound traffic must go through a proxy; "http://...:80 connection refused" in Ollama's log means --insecure switched it to plain HTTP.${proxyHint(p)}`),
          fixes: [NETWORK_FIX.listening(p.target.host, p.target.port)],
        };
      case 'timeout':
        return {
          code: 'connect-timeout',
          title: `No answer from ${where} (connection timed out)`,
          detail: `Packets to ${where} are silently dropped: a firewall, a wrong address, or a network that only allows traffic through a proxy.${proxyHint(p)}`,
          fixes: [{ title: 'Find out whether a proxy is required (ask IT, or check the browser\'s proxy settings)', side: 'client' }],
        };
      case 'unreachable':
        return {
          code: 'host-unreachable',
          title: `No route to ${where}`,
          detail: 'The network stack has no route to that address (no default route, IPv6 without connectivity, or a VPN that owns the routes).',
          fixes: [{ title: 'Check routes and interfaces', command: 'ip route', side: 'client' }],
        };
      default:
        return {
          code: 'connection-reset',
          title: `The connection to ${where} failed: ${f.message}`,
          detail: 'The TCP connection could not be established.',
          fixes: [],
        };
    }
  },
  proxy: (f, p) => {
    const proxy = p.proxy ? `${p.proxy.url} (from ${p.proxy.source})` : 'the proxy';
    const target = p.target.label;
    const goSays = 'Ollama reports this as "proxyconnect tcp: ..." or with the proxy\'s status text after the URL.';
    switch (f.kind) {
      case 'unreachable':
        return {
          code: 'proxy-unreachable',
          title: `The proxy ${proxy} cannot be reached`,
          detail: `${f.message}. ${goSays} Either the proxy setting is wrong (host, port, a proxy that only exists on another network) or the proxy is down.`,
          fixes: [
            { title: 'Check the proxy settings where Ollama runs (for the service: systemctl show ollama | grep -i proxy)', command: 'env | grep -i _proxy', side: 'client' },
            ...(p.proxy ? [NETWORK_FIX.listening(p.proxy.hostname, p.proxy.port)] : []),
          ],
        };
      case 'auth-required': {
        const schemes = f.authSchemes?.length ? f.authSchemes.join(', ') : 'none named';
        const basic = !f.authSchemes?.length || f.authSchemes.some((x) => /^basic$/i.test(x));
        return {
          code: 'proxy-auth-required',
          title: `The proxy ${proxy} wants credentials (${f.statusLine ?? '407 Proxy Authentication Required'})`,
          detail:
            `It offered these authentication schemes: ${schemes}. Go, and so Ollama, can only send Basic credentials, taken from the proxy URL` +
            (basic ? '.' : '; this proxy does not accept Basic, so Ollama needs a local helper proxy (cntlm, px) that authenticates for it with NTLM or Kerberos.'),
          fixes: basic
            ? [{ title: 'Put the credentials in the proxy URL (percent-encode special characters) for Ollama', command: 'sudo systemctl edit ollama   # [Service] Environment="HTTPS_PROXY=http://user:password@proxy.example:3128"', side: 'client' }]
            : [{ title: 'Run a local authenticating proxy (cntlm or px) and point HTTPS_PROXY at it', command: 'export HTTPS_PROXY=http://127.0.0.1:3128', side: 'client' }],
        };
      }
      case 'refused':
      case 'bad-reply': {
        const answered = f.firstBytes ? ` It answered "${printable(f.firstBytes)}".` : '';
        const blocked = f.status === 403 ? ' A 403 means the destination is blocked by policy.' : f.status && f.status >= 500 ? ' A 5xx means the proxy itself could not reach the destination (or name it).' : '';
        return {
          code: 'proxy-refused',
          title: `The proxy ${proxy} did not open a tunnel to ${target}${f.statusLine ? `: ${f.statusLine}` : ''}`,
          detail: `${f.message}.${blocked}${answered} Go needs exactly "200" to a CONNECT request before it starts TLS.`,
          fixes: [{ title: 'Ask the proxy administrators to allow CONNECT to the destination (for Ollama: registry.ollama.ai and *.r2.cloudflarestorage.com, port 443)', side: 'client' }],
        };
      }
      case 'scheme-mismatch':
        return {
          code: 'proxy-scheme-mismatch',
          title: `The proxy URL's scheme does not match what ${proxy} speaks`,
          detail:
            `${f.message}. With an https:// proxy URL the client opens TLS to the proxy itself; most corporate proxies want plain HTTP CONNECT (http://) ` +
            'on their port, even for https:// destinations. Go reports the https:// mistake as "proxyconnect tcp: tls: first record does not look like a TLS handshake".',
          fixes: [{ title: 'Use the scheme the proxy speaks (usually http://) in HTTPS_PROXY', command: 'export HTTPS_PROXY=http://proxy.example:3128', side: 'client' }],
        };
      default:
        return {
          code: 'proxy-unreachable',
          title: `TLS to the proxy ${proxy} failed`,
          detail: `${f.message}.`,
          fixes: [{ title: 'Check the proxy URL and its TLS configuration', side: 'client' }],
        };
    }
  },
  handshake: (f, p) => {
    const where = p.target.label;
    switch (f.kind) {
      case 'certificate-list-limit':
        return certificateListLimit(f, p);
      case 'timeout':
        return {
          code: 'handshake-timeout',
          title: `${where} accepted the connection but never completed a TLS handshake`,
          detail:
            'Something took the TCP connection and then stayed silent: a service that is not TLS and waits for the client to speak first, an overloaded ' +
            'server, or a middlebox that blackholes TLS it does not like. Go reports "net/http: TLS handshake timeout".',
          fixes: [{ title: 'Check what listens on that port', command: `openssl s_client -connect ${where} -servername ${p.servername ?? p.target.host} </dev/null`, side: 'client' }],
        };
      case 'reset':
      case 'closed':
        return {
          code: 'connection-reset',
          title: `${where} ${f.kind === 'reset' ? 'reset' : 'closed'} the connection during the TLS handshake`,
          detail:
            'The peer or something on the way hung up as soon as it saw the ClientHello. Firewalls that filter by SNI do this to names they block; so do ' +
            `servers that do not serve ${p.servername ?? p.target.host} at all. Go reports "connection reset by peer" or "EOF".`,
          fixes: [
            { title: 'Compare with another network or a proxy; ask IT whether the name is blocked', side: 'client' },
          ],
        };
      case 'not-tls':
        return {
          code: 'not-tls',
          title: `${where} does not speak TLS${f.firstBytes?.toString('latin1').startsWith('HTTP/') ? ' (it answered in plain HTTP)' : ''}`,
          detail:
            `The first bytes back were "${f.firstBytes ? printable(f.firstBytes) : ''}", not a TLS record. Go reports "first record does not look like a TLS handshake" ` +
            'or "server gave HTTP response to HTTPS client". Either use http:// for this port, or the TLS port is a different one (Ollama itself serves plain HTTP on 11434).',
          fixes: [{ title: 'Point the client at the HTTPS port, or use http:// if this service is meant to be plain HTTP', side: 'client' }],
        };
      case 'protocol-mismatch':
        return {
          code: 'protocol-mismatch',
          title: `${where} and this client share no TLS version`,
          detail:
            'Go (and so Ollama) and current Node only speak TLS 1.2 and 1.3 as clients; the server offers only something older, or refuses what we offer. ' +
            `${f.alert ? `The server's alert was ${f.alert.name} (${f.alert.description}). ` : ''}The server needs a TLS 1.2+ configuration.`,
          fixes: [SERVER_FIX.tls12],
        };
      case 'alert':
        return {
          // certificate_required, and any refusal after a certificate request, are client-cert-required (client-cert.ts).
          code: 'tls-alert',
          title: `${where} refused the handshake: ${f.alert ? `${f.alert.name} (alert ${f.alert.description})` : f.message}`,
          detail:
            f.alert?.description === 40
              ? 'handshake_failure usually means no cipher or curve in common, or (with TLS 1.2) that the server requires a client certificate we did not send.'
              : f.alert?.description === 112
                ? `unrecognized_name: the server does not serve the name sent in SNI (${p.servername ?? 'none sent'}).`
                : 'The server sent a fatal TLS alert. Its name says what it disliked.',
          fixes: [{ title: 'Look at the server\'s TLS configuration and logs for the reason', side: 'server' }],
        };
      default:
        return { code: 'tls-alert', title: `TLS handshake with ${where} failed: ${f.message}`, detail: 'The handshake failed locally.', fixes: [] };
    }
  },
};

export function networkFinding(p: ProbeResult): Finding | undefined {
  const f = p.failure;
  if (!f) return undefined;
  if (clientCertRefused(p)) return clientCertFinding(p);
  const text = (BY_STAGE[f.stage] as (f: ProbeFailure, p: ProbeResult) => Text)(f, p);
  const evidence = [f.message];
  if (f.stage === 'connect') for (const a of f.attempts) if (a.error) evidence.push(`${a.address}: ${a.error.code} after ${Math.round(a.ms)} ms`);
  if (f.stage === 'handshake' && f.code) evidence.push(`Node error code ${f.code}`);
  if (p.proxy) evidence.push(`proxy ${p.proxy.url} from ${p.proxy.source}${p.proxy.address ? `, connected to ${p.proxy.address}` : ''}`);
  if (p.addresses.length) evidence.push(`addresses: ${p.addresses.map((a) => `${a.address} (${a.source})`).join(', ')}`);
  return { code: text.code, severity: text.severity ?? 'error', title: text.title, detail: text.detail, evidence, fixes: text.fixes };
}

/**
 * The server's certificate list is over Node.js/OpenSSL's 100 KiB. Within Go's 256 KiB, Ollama
 * reads it: a note (the chain, read off the wire, is judged as usual); above, Go refuses it too.
 */
function certificateListLimit(f: Extract<ProbeFailure, { stage: 'handshake' }>, p: ProbeResult): Text {
  const where = p.target.label;
  const bytes = f.certificateListBytes;
  const size = bytes !== undefined ? `${bytes} bytes (${Math.round(bytes / 1024)} KiB)` : 'over 100 KiB';
  const openssl = `Node.js, curl, Python and other OpenSSL-based clients stop at ${OPENSSL_MAX_CERT_LIST} bytes (OpenSSL's default max_cert_list; Node has no option to raise it)`;
  const trim = { title: 'Send a shorter chain: the leaf and its intermediates only (no root, no unrelated certificates)', side: 'server' as const };
  if (bytes !== undefined && bytes > GO_MAX_CERTIFICATE_MESSAGE) {
    return {
      code: 'certificate-list-too-large',
      title: `${where} sends a certificate list of ${size}, more than Go (Ollama) accepts`,
      detail:
        `Go reads a Certificate message of up to ${GO_MAX_CERTIFICATE_MESSAGE} bytes and refuses a larger one: Ollama reports "tls: handshake message of length ${bytes} bytes exceeds maximum of ${GO_MAX_CERTIFICATE_MESSAGE} bytes". ` +
        `${openssl}. No client setting changes this; the server has to send less.`,
      fixes: [trim],
    };
  }
  return {
    code: 'certificate-list-too-large',
    // Without the chain nothing was judged: that is not a pass.
    severity: p.chain.length ? 'info' : 'error',
    title: `${where} sends a certificate list of ${size}: Go (Ollama) reads it, OpenSSL-based clients do not`,
    detail:
      `${openssl}, so this doctor's own handshake stopped there; that limit is Node's and OpenSSL's, not Ollama's. Go reads up to ${GO_MAX_CERTIFICATE_MESSAGE} bytes, ` +
      `so Ollama gets the chain, and the doctor read it off the wire and judged it as Go does. ${p.chain.length ? '' : 'The chain itself could not be read off the wire. '}` +
      'Checks that need the finished connection (HTTP requests, client certificates) could not run.',
    fixes: [trim],
  };
}
