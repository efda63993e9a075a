// One target, end to end on the wire: resolve, connect, handshake, capture. No judgement here:
// the result is data that the trust views and the diagnosis read.
import { dial, DialFailure, type DialAttempt } from './dial.js';
import { handshake, HandshakeFailure, pickServername, type HandshakeFailureKind } from './handshake.js';
import { resolveHost, ResolveFailure, type ResolvedAddress, type ResolveOverride } from './resolve.js';
import type { Target } from './target.js';

export type ProbeFailure =
  | { stage: 'resolve'; code: string; message: string }
  | { stage: 'connect'; kind: DialFailure['kind']; code: string; message: string; attempts: DialAttempt[] }
  | {
      stage: 'handshake'; kind: HandshakeFailureKind; code?: string; message: string;
      alert?: { level: number; description: number; name: string }; firstBytes?: Buffer;
    };

export interface ProbeResult {
  target: Target;
  /** SNI sent (undefined for IP literals without --servername). */
  servername?: string;
  /** The name the certificate must match: --servername, else the host. */
  verifyName: string;
  addresses: ResolvedAddress[];
  address?: ResolvedAddress;
  tls?: { protocol: string | null; cipher: string | null; alpn: string | null };
  chain: Buffer[];
  chainSource?: 'wire' | 'api';
  /** Node's own verdict on this very handshake, for cross-checking the node view. */
  nodeHandshake?: { authorized: boolean; error: string | null };
  failure?: ProbeFailure;
  timings: { resolveMs?: number; connectMs?: number; handshakeMs?: number };
}

export interface ProbeOptions {
  timeoutMs: number;
  overrides: ResolveOverride[];
  servername?: string;
  dnsServers?: string[];
}

export async function probe(target: Target, opts: ProbeOptions): Promise<ProbeResult> {
  const servername = pickServername(target.host, opts.servername);
  const result: ProbeResult = {
    target, verifyName: opts.servername ?? target.host, addresses: [], chain: [], timings: {},
    ...(servername ? { servername } : {}),
  };

  let t0 = performance.now();
  try {
    result.addresses = await resolveHost(target.host, target.port, {
      overrides: opts.overrides, timeoutMs: opts.timeoutMs, ...(opts.dnsServers ? { dnsServers: opts.dnsServers } : {}),
    });
  } catch (e) {
    const f = e as ResolveFailure;
    result.failure = { stage: 'resolve', code: f.code ?? 'EAI_FAIL', message: f.message };
    return result;
  } finally {
    result.timings.resolveMs = performance.now() - t0;
  }

  t0 = performance.now();
  let socket;
  try {
    const d = await dial(result.addresses, target.port, opts.timeoutMs);
    socket = d.socket;
    result.address = d.address;
  } catch (e) {
    const f = e as DialFailure;
    result.failure = { stage: 'connect', kind: f.kind, code: f.code, message: f.message, attempts: f.attempts };
    return result;
  } finally {
    result.timings.connectMs = performance.now() - t0;
  }

  try {
    const hs = await handshake({ socket, host: target.host, ...(opts.servername ? { servername: opts.servername } : {}), timeoutMs: opts.timeoutMs });
    result.tls = { protocol: hs.protocol, cipher: hs.cipher, alpn: hs.alpn };
    result.chain = hs.chain;
    result.chainSource = hs.chainSource;
    result.nodeHandshake = hs.node;
    result.timings.handshakeMs = hs.handshakeMs;
    hs.tlsSocket.on('error', () => {});
    hs.tlsSocket.destroy();
  } catch (e) {
    if (!(e instanceof HandshakeFailure)) throw e;
    result.failure = {
      stage: 'handshake', kind: e.kind, message: e.message,
      ...(e.code ? { code: e.code } : {}), ...(e.alert ? { alert: e.alert } : {}), ...(e.firstBytes ? { firstBytes: e.firstBytes } : {}),
    };
    socket.destroy();
  }
  return result;
}
