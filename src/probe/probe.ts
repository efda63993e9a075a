// One target, end to end on the wire: resolve, connect (directly or through the proxy Ollama would
// use), handshake, capture. No judgement here: the result is data that the trust views and the
// diagnosis read.
import type { Duplex } from 'node:stream';
import { clientCertAfterHandshake, clientCertFromFailure, type ClientCertUse, type ClientIdentity } from './client-cert.js';
import { dial, DialFailure, type DialAttempt } from './dial.js';
import { httpExchange, HttpFailure, type HttpResponse, type NextRequest } from './http.js';
import { handshake, HandshakeFailure, pickServername, type HandshakeFailureKind } from './handshake.js';
import { openTunnel, ProxyFailure, type ProxyFailureKind } from './proxy.js';
import { redactProxy, type ProxyChoice } from './proxy-env.js';
import { resolveHost, ResolveFailure, type ResolvedAddress, type ResolveOverride } from './resolve.js';
import { hostHeader, type Target } from './target.js';

export type ProbeFailure =
  | { stage: 'resolve'; code: string; message: string }
  | { stage: 'connect'; kind: DialFailure['kind']; code: string; message: string; attempts: DialAttempt[] }
  | {
      stage: 'proxy'; kind: ProxyFailureKind; message: string; code?: string; status?: number; statusLine?: string;
      authSchemes?: string[]; firstBytes?: Buffer;
    }
  | {
      stage: 'handshake'; kind: HandshakeFailureKind; code?: string; message: string;
      alert?: { level: number; description: number; name: string }; firstBytes?: Buffer;
    };

export interface ProxyUse {
  /** The proxy URL, password hidden (platform/redact.ts; a URL that does not parse normally is not echoed). */
  url: string;
  /** Where the proxy is dialled: never parse `url` for it, it is for display only. Not reported. */
  hostname: string;
  port: number;
  scheme: string;
  /** The variable (or --proxy) it came from. */
  source: string;
  /** Used for this target, or bypassed (and why). */
  used: boolean;
  bypass?: string;
  /** The proxy's address as dialled. */
  address?: string;
  /** An https:// proxy's own certificate chain (DER, as sent). */
  tlsChain?: Buffer[];
  tlsServername?: string;
}

export interface ProbeResult {
  target: Target;
  /** SNI sent (undefined for IP literals without --servername). */
  servername?: string;
  /** The name the certificate must match: --servername, else the host. */
  verifyName: string;
  /** Addresses of the target; empty when a proxy resolves it (Go never looks the target up itself then). */
  addresses: ResolvedAddress[];
  address?: ResolvedAddress;
  proxy?: ProxyUse;
  tls?: { protocol: string | null; cipher: string | null; alpn: string | null };
  chain: Buffer[];
  chainSource?: 'wire' | 'api';
  /** Node's own verdict on this very handshake, for cross-checking the node view. */
  nodeHandshake?: { authorized: boolean; error: string | null };
  failure?: ProbeFailure;
  /** The server asked for a client certificate (mutual TLS): what it named, what was sent, how it answered. */
  clientCert?: ClientCertUse;
  /** Answers to ProbeOptions.http, in order (fewer when one was not read through). */
  http?: HttpResponse[];
  /** Why the HTTP exchange stopped, when it failed after a good handshake. */
  httpFailure?: { kind: string; message: string; code?: string; path?: string; received?: Buffer };
  timings: { resolveMs?: number; connectMs?: number; proxyMs?: number; handshakeMs?: number; httpMs?: number };
}

export interface ProbeOptions {
  /**
   * HTTP requests to send after the handshake, on the same connection (the pull path, upstream
   * checks). `plan` sees the chain first, so a caller can judge it before deciding what to send
   * (credentials only over a trusted connection); undefined sends nothing.
   */
  http?: { plan: (chain: Buffer[]) => Promise<NextRequest | undefined>; maxBody?: number };
  timeoutMs: number;
  overrides: ResolveOverride[];
  servername?: string;
  dnsServers?: string[];
  /** What chooseProxy decided for this target. */
  proxy?: ProxyChoice;
  /** A client certificate to present when the server asks for one (--cert/--key, --pkcs12). */
  clientIdentity?: ClientIdentity;
}

async function direct(target: Target, result: ProbeResult, opts: ProbeOptions): Promise<Duplex | undefined> {
  let t0 = performance.now();
  try {
    result.addresses = await resolveHost(target.host, target.port, {
      overrides: opts.overrides, timeoutMs: opts.timeoutMs, ...(opts.dnsServers ? { dnsServers: opts.dnsServers } : {}),
    });
  } catch (e) {
    const f = e as ResolveFailure;
    result.failure = { stage: 'resolve', code: f.code ?? 'EAI_FAIL', message: f.message };
    return undefined;
  } finally {
    result.timings.resolveMs = performance.now() - t0;
  }
  t0 = performance.now();
  try {
    const d = await dial(result.addresses, target.port, opts.timeoutMs);
    result.address = d.address;
    return d.socket;
  } catch (e) {
    const f = e as DialFailure;
    result.failure = { stage: 'connect', kind: f.kind, code: f.code, message: f.message, attempts: f.attempts };
    return undefined;
  } finally {
    result.timings.connectMs = performance.now() - t0;
  }
}

async function viaProxy(target: Target, proxy: URL, result: ProbeResult, opts: ProbeOptions): Promise<Duplex | undefined> {
  const t0 = performance.now();
  try {
    const tunnel = await openTunnel(proxy, target.host, target.port, {
      timeoutMs: opts.timeoutMs, overrides: opts.overrides, ...(opts.dnsServers ? { dnsServers: opts.dnsServers } : {}),
    });
    result.proxy!.address = tunnel.address;
    if (tunnel.proxyTls) {
      result.proxy!.tlsChain = tunnel.proxyTls.chain;
      if (tunnel.proxyTls.servername) result.proxy!.tlsServername = tunnel.proxyTls.servername;
    }
    return tunnel.socket;
  } catch (e) {
    if (!(e instanceof ProxyFailure)) throw e;
    result.failure = {
      stage: 'proxy', kind: e.kind, message: e.message,
      ...(e.detail.code ? { code: e.detail.code } : {}), ...(e.detail.status !== undefined ? { status: e.detail.status } : {}),
      ...(e.detail.statusLine ? { statusLine: e.detail.statusLine } : {}), ...(e.detail.authSchemes ? { authSchemes: e.detail.authSchemes } : {}),
      ...(e.detail.firstBytes?.length ? { firstBytes: e.detail.firstBytes } : {}),
    };
    return undefined;
  } finally {
    result.timings.proxyMs = performance.now() - t0;
  }
}

// Go's default proxy ports when the URL has none (net/http: http 80, https 443, socks5 1080).
const PROXY_DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443, 'socks5:': 1080, 'socks5h:': 1080 };

export async function probe(target: Target, opts: ProbeOptions): Promise<ProbeResult> {
  const servername = pickServername(target.host, opts.servername);
  const result: ProbeResult = {
    target, verifyName: opts.servername ?? target.host, addresses: [], chain: [], timings: {},
    ...(servername ? { servername } : {}),
  };
  const choice = opts.proxy;
  if (choice?.url) {
    result.proxy = {
      url: redactProxy(choice.url), scheme: choice.url.protocol.replace(/:$/, ''), source: choice.source ?? 'HTTPS_PROXY',
      hostname: choice.url.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(choice.url.port) || PROXY_DEFAULT_PORTS[choice.url.protocol] || 80,
      used: !choice.bypass, ...(choice.bypass ? { bypass: choice.bypass } : {}),
    };
  }

  const socket = choice?.url && !choice.bypass ? await viaProxy(target, choice.url, result, opts) : await direct(target, result, opts);
  if (!socket) return result;

  try {
    const hs = await handshake({
      socket, host: target.host, ...(opts.servername ? { servername: opts.servername } : {}), timeoutMs: opts.timeoutMs,
      ...(opts.clientIdentity ? { clientIdentity: opts.clientIdentity } : {}),
    });
    result.tls = { protocol: hs.protocol, cipher: hs.cipher, alpn: hs.alpn };
    result.chain = hs.chain;
    result.chainSource = hs.chainSource;
    result.nodeHandshake = hs.node;
    result.timings.handshakeMs = hs.handshakeMs;
    hs.tlsSocket.on('error', () => {});
    const next = opts.http ? await opts.http.plan(hs.chain) : undefined;
    if (next) {
      const t0 = performance.now();
      try {
        result.http = await httpExchange(hs.tlsSocket, hostHeader(target.host, target.port), next, { timeoutMs: opts.timeoutMs, ...(opts.http?.maxBody ? { maxBody: opts.http.maxBody } : {}) });
      } catch (e) {
        const err = e as HttpFailure & NodeJS.ErrnoException;
        result.httpFailure = {
          kind: e instanceof HttpFailure ? e.kind : 'error', message: err.message,
          ...(err.code ? { code: String(err.code) } : e instanceof HttpFailure && e.detail.code ? { code: e.detail.code } : {}),
          ...(e instanceof HttpFailure && e.detail.request ? { path: e.detail.request.path } : {}),
          ...(e instanceof HttpFailure && e.detail.received?.length ? { received: e.detail.received } : {}),
        };
      } finally {
        result.timings.httpMs = performance.now() - t0;
      }
    }
    // Mutual TLS: whether the server asked for a client certificate and went on (client-cert.ts).
    await clientCertAfterHandshake(hs, result, { timeoutMs: opts.timeoutMs, ...(opts.clientIdentity ? { identity: opts.clientIdentity } : {}) });
    hs.tlsSocket.destroy();
  } catch (e) {
    if (!(e instanceof HandshakeFailure)) throw e;
    const clientCert = clientCertFromFailure(e, opts.clientIdentity);
    if (clientCert) result.clientCert = clientCert;
    if (e.chain?.length) {
      result.chain = e.chain;
      result.chainSource = 'wire';
    }
    result.failure = {
      stage: 'handshake', kind: e.kind, message: e.message,
      ...(e.code ? { code: e.code } : {}), ...(e.alert ? { alert: e.alert } : {}), ...(e.firstBytes ? { firstBytes: e.firstBytes } : {}),
    };
    socket.destroy();
  }
  return result;
}
