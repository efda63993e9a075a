// A tunnel through the proxy to host:port, made the way Go's net/http makes it: HTTP CONNECT
// (over TLS for an https:// proxy) or SOCKS5, with credentials from the proxy URL. The result is a
// stream the TLS handshake with the target runs over.
import type { Duplex } from 'node:stream';
import { dial, DialFailure } from './dial.js';
import { handshake, HandshakeFailure } from './handshake.js';
import { formatHostPort } from './target.js';
import { resolveHost, ResolveFailure, type ResolveOverride } from './resolve.js';
import { looksLikeTls } from './tls-wire.js';
import { ipVersion, parseIp } from '../platform/ip.js';

export type ProxyFailureKind = 'unreachable' | 'auth-required' | 'refused' | 'scheme-mismatch' | 'bad-reply' | 'tls';

export class ProxyFailure extends Error {
  constructor(
    readonly kind: ProxyFailureKind,
    message: string,
    readonly detail: {
      statusLine?: string;
      status?: number;
      /** Proxy-Authenticate schemes offered with a 407 (Basic, NTLM, Negotiate...). */
      authSchemes?: string[];
      firstBytes?: Buffer;
      handshake?: HandshakeFailure;
      code?: string;
    } = {},
  ) {
    super(message);
  }
}

export interface Tunnel {
  socket: Duplex;
  /** The proxy's address as dialled. */
  address: string;
  /** For an https:// proxy: the chain it presented and what it negotiated. */
  proxyTls?: { chain: Buffer[]; protocol: string | null; cipher: string | null; servername?: string };
}

export interface TunnelOptions {
  timeoutMs: number;
  overrides: ResolveOverride[];
  dnsServers?: string[];
}

const SOCKS_REPLIES: Record<number, string> = {
  1: 'general SOCKS server failure',
  2: 'connection not allowed by ruleset',
  3: 'network unreachable',
  4: 'host unreachable',
  5: 'connection refused',
  6: 'TTL expired',
  7: 'command not supported',
  8: 'address type not supported',
};

/** Read from a stream until `done` says the bytes are complete, the peer closes, or time runs out. */
function readUntil(stream: Duplex, done: (buf: Buffer) => number, timeoutMs: number): Promise<{ head: Buffer; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const cleanup = () => {
      clearTimeout(timer);
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('close', onEnd);
      stream.off('error', onError);
    };
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const n = done(buf);
      if (n > 0) {
        cleanup();
        stream.pause();
        resolve({ head: buf.subarray(0, n), rest: buf.subarray(n) });
      } else if (buf.length > 64 * 1024) {
        cleanup();
        reject(new ProxyFailure('bad-reply', 'the proxy sent more than 64 KiB without finishing its answer', { firstBytes: buf.subarray(0, 64) }));
      }
    };
    const onEnd = () => {
      cleanup();
      reject(new ProxyFailure(buf.length ? 'bad-reply' : 'refused', buf.length ? 'the proxy closed the connection in the middle of its answer' : 'the proxy closed the connection without answering', { firstBytes: buf.subarray(0, 64) }));
    };
    const onError = (e: NodeJS.ErrnoException) => {
      cleanup();
      reject(new ProxyFailure('refused', `the proxy connection failed: ${e.message}`, { code: e.code ?? 'ERROR', firstBytes: buf.subarray(0, 64) }));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new ProxyFailure('refused', `the proxy did not answer within ${timeoutMs} ms`, { code: 'ETIMEDOUT', firstBytes: buf.subarray(0, 64) }));
    }, timeoutMs);
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('close', onEnd);
    stream.once('error', onError);
    stream.resume();
  });
}

/** Put back bytes that arrived after the proxy's answer (they belong to the tunnel). */
function giveBack(stream: Duplex, rest: Buffer): void {
  if (rest.length) stream.unshift(rest);
}

/** HTTP CONNECT, as net/http writes it; anything but 200 fails, as in Go. */
async function connect(stream: Duplex, proxy: URL, targetAddr: string, timeoutMs: number): Promise<void> {
  const lines = [`CONNECT ${targetAddr} HTTP/1.1`, `Host: ${targetAddr}`, 'User-Agent: Go-http-client/1.1'];
  if (proxy.username || proxy.password) {
    const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
    lines.push(`Proxy-Authorization: Basic ${Buffer.from(credentials).toString('base64')}`);
  }
  stream.write(`${lines.join('\r\n')}\r\n\r\n`);
  const { head, rest } = await readUntil(stream, (buf) => {
    const end = buf.indexOf('\r\n\r\n');
    if (end >= 0) return end + 4;
    // Not HTTP at all: decide as soon as the first bytes are in.
    return buf.length >= 8 && !/^HTTP\/\d/.test(buf.toString('latin1', 0, 8)) ? buf.length : 0;
  }, timeoutMs);
  const text = head.toString('latin1');
  const status = text.match(/^HTTP\/\d(?:\.\d)? (\d{3})(?: ([^\r\n]*))?/);
  if (!status) {
    if (looksLikeTls(head)) {
      throw new ProxyFailure('scheme-mismatch', 'the proxy answered CONNECT with TLS: it expects an https:// proxy URL', { firstBytes: head.subarray(0, 64) });
    }
    throw new ProxyFailure('bad-reply', 'the proxy answered CONNECT with something that is not HTTP', { firstBytes: head.subarray(0, 64) });
  }
  const code = Number(status[1]);
  const statusLine = text.split('\r\n')[0]!;
  if (code === 200) {
    giveBack(stream, rest);
    return;
  }
  if (code === 407) {
    const authSchemes = [...text.matchAll(/^Proxy-Authenticate:\s*([A-Za-z0-9_-]+)/gim)].map((m) => m[1]!);
    throw new ProxyFailure('auth-required', `the proxy wants credentials: ${statusLine}`, { status: code, statusLine, authSchemes });
  }
  throw new ProxyFailure('refused', `the proxy refused CONNECT ${targetAddr}: ${statusLine}`, { status: code, statusLine });
}

/** SOCKS5 (RFC 1928) with username/password (RFC 1929). Go sends the host name, never an address it resolved. */
async function socks5(stream: Duplex, proxy: URL, host: string, port: number, timeoutMs: number): Promise<void> {
  const withAuth = Boolean(proxy.username || proxy.password);
  stream.write(Buffer.from(withAuth ? [5, 2, 0, 2] : [5, 1, 0]));
  let reply = await readUntil(stream, (b) => (b.length >= 2 ? 2 : 0), timeoutMs);
  if (reply.head[0] !== 5) {
    const kind = /^HTTP\//.test(reply.head.toString('latin1')) || looksLikeTls(reply.head) ? 'scheme-mismatch' : 'bad-reply';
    throw new ProxyFailure(kind, 'the proxy does not speak SOCKS5', { firstBytes: Buffer.concat([reply.head, reply.rest]).subarray(0, 64) });
  }
  const method = reply.head[1];
  if (method === 0xff) throw new ProxyFailure('auth-required', 'the SOCKS proxy accepts none of the authentication methods offered', { authSchemes: withAuth ? ['username/password'] : [] });
  if (method === 2) {
    if (!withAuth) throw new ProxyFailure('auth-required', 'the SOCKS proxy wants a username and password', { authSchemes: ['username/password'] });
    const user = Buffer.from(decodeURIComponent(proxy.username));
    const pass = Buffer.from(decodeURIComponent(proxy.password));
    stream.write(Buffer.concat([Buffer.from([1, user.length]), user, Buffer.from([pass.length]), pass]));
    reply = await readUntil(stream, (b) => (b.length >= 2 ? 2 : 0), timeoutMs);
    if (reply.head[1] !== 0) throw new ProxyFailure('auth-required', 'the SOCKS proxy rejected the username and password', { authSchemes: ['username/password'] });
  }
  const portBytes = Buffer.from([port >> 8, port & 0xff]);
  let address: Buffer;
  const v = ipVersion(host);
  if (v === 4) address = Buffer.from([1, ...host.split('.').map(Number)]);
  else if (v === 6) address = Buffer.concat([Buffer.from([4]), parseIp(host)!]);
  else address = Buffer.concat([Buffer.from([3, Buffer.byteLength(host)]), Buffer.from(host)]);
  stream.write(Buffer.concat([Buffer.from([5, 1, 0]), address, portBytes]));
  reply = await readUntil(stream, (b) => {
    if (b.length < 5) return 0;
    const len = b[3] === 1 ? 4 : b[3] === 4 ? 16 : b[3] === 3 ? 1 + b[4]! : 0;
    return b.length >= 4 + len + 2 ? 4 + len + 2 : 0;
  }, timeoutMs);
  const rep = reply.head[1]!;
  if (rep !== 0) throw new ProxyFailure('refused', `the SOCKS proxy could not connect to ${formatHostPort(host, port)}: ${SOCKS_REPLIES[rep] ?? `reply ${rep}`}`, { status: rep });
  giveBack(stream, reply.rest);
}

export async function openTunnel(proxy: URL, host: string, port: number, opts: TunnelOptions): Promise<Tunnel> {
  // net/http knows socks5, socks5h and https; any other scheme (even ftp://) gets plain CONNECT,
  // on the URL's port, as for http. Only http, https, socks5 and socks5h have a default port.
  const scheme = proxy.protocol.replace(/:$/, '');
  const defaultPort = ({ http: 80, https: 443, socks5: 1080, socks5h: 1080 } as Record<string, number>)[scheme];
  if (!proxy.port && defaultPort === undefined) {
    throw new ProxyFailure('unreachable', `a ${scheme}:// proxy URL needs a port: Go knows no default port for ${scheme}://, so Ollama cannot connect (use http://HOST:PORT)`);
  }
  const proxyHost = proxy.hostname.replace(/^\[(.*)\]$/, '$1');
  const proxyPort = Number(proxy.port || defaultPort);
  let socket: Duplex;
  let address: string;
  try {
    const addresses = await resolveHost(proxyHost, proxyPort, { overrides: opts.overrides, timeoutMs: opts.timeoutMs, ...(opts.dnsServers ? { dnsServers: opts.dnsServers } : {}) });
    const d = await dial(addresses, proxyPort, opts.timeoutMs);
    socket = d.socket;
    address = formatHostPort(d.address.address, proxyPort);
  } catch (e) {
    if (e instanceof ResolveFailure) throw new ProxyFailure('unreachable', `the proxy host cannot be resolved: ${e.message}`, { code: e.code });
    if (e instanceof DialFailure) throw new ProxyFailure('unreachable', `cannot connect to the proxy ${formatHostPort(proxyHost, proxyPort)}: ${e.message}`, { code: e.code });
    throw e;
  }

  try {
    let proxyTls: Tunnel['proxyTls'];
    if (scheme === 'https') {
      try {
        const hs = await handshake({ socket, host: proxyHost, timeoutMs: opts.timeoutMs, alpn: ['http/1.1'] });
        proxyTls = { chain: hs.chain, protocol: hs.protocol, cipher: hs.cipher, ...(ipVersion(proxyHost) ? {} : { servername: proxyHost }) };
        hs.tlsSocket.on('error', () => {});
        socket = hs.tlsSocket;
      } catch (e) {
        if (e instanceof HandshakeFailure && e.kind === 'not-tls') {
          throw new ProxyFailure('scheme-mismatch', 'the proxy URL says https:// but the proxy answers in plain HTTP', { firstBytes: e.firstBytes, handshake: e });
        }
        if (e instanceof HandshakeFailure) throw new ProxyFailure('tls', `TLS to the proxy failed: ${e.message}`, { handshake: e });
        throw e;
      }
    }
    if (scheme === 'socks5' || scheme === 'socks5h') await socks5(socket, proxy, host, port, opts.timeoutMs);
    else await connect(socket, proxy, formatHostPort(host, port), opts.timeoutMs);
    return { socket, address, ...(proxyTls ? { proxyTls } : {}) };
  } catch (e) {
    socket.destroy();
    // A TLS-only proxy hangs up on plain text without a word (OpenSSL sends no alert for a record
    // that is not TLS), which reads like a refusal. Ask it in TLS once to tell the two apart.
    if (scheme !== 'https' && scheme !== 'socks5' && scheme !== 'socks5h' && e instanceof ProxyFailure && e.kind === 'refused' && !e.detail.status && !e.detail.firstBytes?.length && e.detail.code !== 'ETIMEDOUT') {
      if (await speaksTls(proxyHost, address, opts.timeoutMs)) {
        throw new ProxyFailure('scheme-mismatch', 'the proxy hung up on plain-text CONNECT but answers TLS: it expects an https:// proxy URL');
      }
    }
    throw e;
  }
}

/** Whether the proxy at `address` answers a TLS ClientHello with TLS (a ServerHello or an alert). */
async function speaksTls(proxyHost: string, address: string, timeoutMs: number): Promise<boolean> {
  const m = address.match(/^\[?(.*?)\]?:(\d+)$/);
  if (!m) return false;
  let socket: Duplex | undefined;
  try {
    const d = await dial([{ address: m[1]!, family: ipVersion(m[1]!) === 6 ? 6 : 4, source: 'dns' }], Number(m[2]), timeoutMs);
    socket = d.socket;
    const hs = await handshake({ socket, host: proxyHost, timeoutMs, alpn: ['http/1.1'] });
    hs.tlsSocket.on('error', () => {});
    hs.tlsSocket.destroy();
    return true;
  } catch (e) {
    return e instanceof HandshakeFailure && (e.kind === 'alert' || e.kind === 'protocol-mismatch');
  } finally {
    socket?.destroy();
  }
}
