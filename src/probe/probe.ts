// One target, end to end on the wire: resolve, connect (directly or through the proxy Ollama would
// use), handshake, capture. No judgement here: the result is data that the trust views and the
// diagnosis read.
import type { Duplex } from 'node:stream';
import { clientCertAfterHandshake, clientCertFromFailure, settleClientCertPolicy, type ClientCertUse } from './client-cert.js';
import type { ClientIdentity } from './client-identity.js';
import { dial, DialFailure, type DialAttempt } from './dial.js';
import { HttpFailure, type ExchangeOutcome, type HttpRequest, type HttpResponse, type NextRequest } from './http.js';
import { exchangeOn } from './exchange.js';
import { handshake, HandshakeFailure, pickServername, type HandshakeFailureKind, type HandshakeResult } from './handshake.js';
import { openTunnel, ProxyFailure, type ProxyFailureKind } from './proxy.js';
import { redactProxy, type ProxyChoice } from './proxy-env.js';
import { resolveHost, ResolveFailure, type ResolvedAddress, type ResolveOverride } from './resolve.js';
import { hostHeader, type Target } from './target.js';
import { monotonicMs } from '../platform/monotonic.js';

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
      /** certificate-list-limit: the server's Certificate message length. */
      certificateListBytes?: number;
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
  failure?: ProbeFailure;
  /** The server asked for a client certificate (mutual TLS): what it named, what was sent, how it answered. */
  clientCert?: ClientCertUse;
  /** Answers to ProbeOptions.http, in order (fewer when one was not read through). */
  http?: HttpResponse[];
  /**
   * The connections the HTTP requests went over: the first, then a new one each time the server
   * closed the last while requests remained (as Go's Transport dials again). Only with HTTP.
   */
  connections?: HttpConnection[];
  /** Why the HTTP exchange stopped, when it failed after a good handshake. */
  httpFailure?: { kind: string; message: string; code?: string; path?: string; received?: Buffer };
  timings: { resolveMs?: number; connectMs?: number; proxyMs?: number; handshakeMs?: number; httpMs?: number };
}

export interface HttpConnection {
  /** Why it was opened: 'first', or why the one before could carry no more requests. */
  reason: string;
  /** ALPN the server picked (h2 means HTTP/2 was spoken). */
  alpn: string | null;
  tlsProtocol: string | null;
  /** The chain this connection's handshake presented, when it differs from the first one's. */
  differentChain?: Buffer[];
}

/** At most this many connections for one target's requests (the pull walk sends a handful). */
const MAX_CONNECTIONS = 8;

export interface ProbeOptions {
  /**
   * HTTP requests to send after the handshake, on the same connection (the pull path, upstream
   * checks). `plan` sees the chain first, so a caller can judge it before deciding what to send
   * (credentials only over a trusted connection); undefined sends nothing.
   */
  http?: {
    plan: (chain: Buffer[]) => Promise<NextRequest | undefined>;
    maxBody?: number;
    /**
     * A new connection presented a different chain: go on over it? (Credentials must not go over
     * a connection less trusted than the one they were planned for.) Default: go on.
     */
    again?: (chain: Buffer[]) => Promise<boolean>;
  };
  timeoutMs: number;
  overrides: ResolveOverride[];
  servername?: string;
  dnsServers?: string[];
  /** What chooseProxy decided for this target. */
  proxy?: ProxyChoice;
  /** A client certificate to present when the server asks for one (--cert/--key, --pkcs12). */
  clientIdentity?: ClientIdentity;
  /** Told once the target's ClientHello is on its way (see HandshakeOptions.onClientHello). */
  onClientHello?: () => void;
}

async function direct(target: Target, result: ProbeResult, opts: ProbeOptions): Promise<Duplex | undefined> {
  let t0 = monotonicMs();
  try {
    result.addresses = await resolveHost(target.host, target.port, {
      overrides: opts.overrides, timeoutMs: opts.timeoutMs, ...(opts.dnsServers ? { dnsServers: opts.dnsServers } : {}),
    });
  } catch (e) {
    const f = e as ResolveFailure;
    result.failure = { stage: 'resolve', code: f.code ?? 'EAI_FAIL', message: f.message };
    return undefined;
  } finally {
    result.timings.resolveMs = monotonicMs() - t0;
  }
  t0 = monotonicMs();
  try {
    const d = await dial(result.addresses, target.port, opts.timeoutMs);
    result.address = d.address;
    return d.socket;
  } catch (e) {
    const f = e as DialFailure;
    result.failure = { stage: 'connect', kind: f.kind, code: f.code, message: f.message, attempts: f.attempts };
    return undefined;
  } finally {
    result.timings.connectMs = monotonicMs() - t0;
  }
}

async function viaProxy(target: Target, proxy: URL, result: ProbeResult, opts: ProbeOptions): Promise<Duplex | undefined> {
  const t0 = monotonicMs();
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
    result.timings.proxyMs = monotonicMs() - t0;
  }
}

// Go's default proxy ports when the URL has none (net/http: http 80, https 443, socks5 1080).
const PROXY_DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443, 'socks5:': 1080, 'socks5h:': 1080 };

export async function probe(target: Target, opts: ProbeOptions): Promise<ProbeResult> {
  const result = await probeOnce(target, opts);
  // Mutual TLS: with a certificate sent, a second connection without one tells optional from required.
  const { clientIdentity, http: _http, ...bare } = opts;
  await settleClientCertPolicy(result, clientIdentity, () => probeOnce(target, { ...bare, timeoutMs: Math.min(opts.timeoutMs, RECHECK_TIMEOUT_MS) }));
  return result;
}

/** The second, certificate-less handshake is a side question: it gets a short budget. */
const RECHECK_TIMEOUT_MS = 5000;

async function probeOnce(target: Target, opts: ProbeOptions): Promise<ProbeResult> {
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
      ...(opts.onClientHello ? { onClientHello: opts.onClientHello } : {}),
    });
    result.tls = { protocol: hs.protocol, cipher: hs.cipher, alpn: hs.alpn };
    result.chain = hs.chain;
    result.chainSource = hs.chainSource;
    result.timings.handshakeMs = hs.handshakeMs;
    hs.tlsSocket.on('error', () => {});
    const next = opts.http ? await opts.http.plan(hs.chain) : undefined;
    if (next) {
      const t0 = monotonicMs();
      try {
        await httpOverConnections(hs, next, target, result, opts);
      } finally {
        result.timings.httpMs = monotonicMs() - t0;
      }
    }
    // Mutual TLS: whether the server asked for a client certificate and went on (client-cert.ts).
    const refused = await clientCertAfterHandshake(hs, result, { timeoutMs: opts.timeoutMs, ...(opts.clientIdentity ? { identity: opts.clientIdentity } : {}) });
    if (refused) result.failure = refused;
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
      ...(e.certificateListBytes !== undefined ? { certificateListBytes: e.certificateListBytes } : {}),
    };
    socket.destroy();
  }
  return result;
}

const sameChain = (a: Buffer[], b: Buffer[]) => a.length === b.length && a.every((der, i) => der.equals(b[i]!));

/**
 * The HTTP requests, on as many connections as the server makes necessary. After an answer that
 * ends the connection (HTTP/1.0, Connection: close, GOAWAY, a body not read through) or a request
 * the server dropped unanswered on a reused connection, a new connection goes the same way (same
 * proxy, new handshake) for the rest, as Go's Transport does. A new handshake's chain is kept when
 * it differs from the first, so it is judged too.
 */
async function httpOverConnections(first: HandshakeResult, next: NextRequest, target: Target, result: ProbeResult, opts: ProbeOptions): Promise<void> {
  const authority = hostHeader(target.host, target.port);
  const xo = { timeoutMs: opts.timeoutMs, ...(opts.http?.maxBody ? { maxBody: opts.http.maxBody } : {}) };
  const all: HttpResponse[] = [];
  result.connections = [{ reason: 'first', alpn: first.alpn, tlsProtocol: first.protocol }];
  let hs = first;
  let outcome: ExchangeOutcome;
  // The request a new connection starts with (a NextRequest may count what it handed out: ask once).
  let carried: HttpRequest | undefined;
  for (;;) {
    const index = result.connections.length - 1;
    const before = all.length;
    const start = carried;
    outcome = await exchangeOn(hs, authority, (done) => (done.length === 0 && start ? start : next([...all.slice(0, before), ...done])), xo);
    for (const r of outcome.responses) all.push({ ...r, connection: index });
    if (hs !== first) hs.tlsSocket.destroy();
    // A request the server dropped unanswered is sent again (GET and HEAD are idempotent; Go does the same).
    const retry = outcome.failure?.detail.retryable ? outcome.failure.detail.request : undefined;
    const why = retry ? outcome.failure!.message : outcome.ended;
    if (!why || result.connections.length >= MAX_CONNECTIONS) break;
    carried = retry ?? next(all);
    if (!carried) break;
    const again = await reconnect(target, result, opts);
    if ('failure' in again) {
      outcome = { responses: [], failure: new HttpFailure('error', `${why}, and the new connection for the next request failed: ${again.failure}`, { ...(outcome.failure?.detail.request ? { request: outcome.failure.detail.request } : {}) }) };
      break;
    }
    hs = again.hs;
    hs.tlsSocket.on('error', () => {});
    const differs = !sameChain(hs.chain, first.chain);
    result.connections.push({ reason: why, alpn: hs.alpn, tlsProtocol: hs.protocol, ...(differs ? { differentChain: hs.chain } : {}) });
    if (differs && opts.http?.again && !(await opts.http.again(hs.chain))) {
      hs.tlsSocket.destroy();
      outcome = { responses: [], failure: new HttpFailure('error', 'the new connection presented a different certificate chain that is not trusted: nothing more was sent over it') };
      break;
    }
  }
  result.http = all;
  const e = outcome.failure;
  if (e) {
    result.httpFailure = {
      kind: e.kind, message: e.message,
      ...(e.code ? { code: e.code } : {}), ...(e.detail.request ? { path: e.detail.request.path } : {}),
      ...(e.detail.received?.length ? { received: e.detail.received } : {}),
    };
  }
}

/** A new connection to the target the way the first one went (direct or through the same proxy), and its handshake. */
async function reconnect(target: Target, result: ProbeResult, opts: ProbeOptions): Promise<{ hs: HandshakeResult } | { failure: string }> {
  let socket: Duplex;
  try {
    if (result.proxy?.used && opts.proxy?.url) {
      socket = (await openTunnel(opts.proxy.url, target.host, target.port, {
        timeoutMs: opts.timeoutMs, overrides: opts.overrides, ...(opts.dnsServers ? { dnsServers: opts.dnsServers } : {}),
      })).socket;
    } else {
      socket = (await dial(result.address ? [result.address, ...result.addresses.filter((a) => a !== result.address)] : result.addresses, target.port, opts.timeoutMs)).socket;
    }
  } catch (e) {
    return { failure: (e as Error).message };
  }
  try {
    return {
      hs: await handshake({
        socket, host: target.host, ...(opts.servername ? { servername: opts.servername } : {}), timeoutMs: opts.timeoutMs,
        ...(opts.clientIdentity ? { clientIdentity: opts.clientIdentity } : {}),
      }),
    };
  } catch (e) {
    socket.destroy();
    return { failure: `its TLS handshake failed: ${(e as Error).message}` };
  }
}
