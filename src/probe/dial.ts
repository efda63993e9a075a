// TCP connect with a deadline, trying each resolved address in turn as Go's dialer does.
import net from 'node:net';
import type { ResolvedAddress } from './resolve.js';
import { monotonicMs } from '../platform/monotonic.js';

export type DialFailureKind = 'refused' | 'timeout' | 'unreachable' | 'reset' | 'error';

export interface DialAttempt {
  address: string;
  error?: { kind: DialFailureKind; code: string; message: string };
  ms: number;
}

export class DialFailure extends Error {
  constructor(message: string, readonly kind: DialFailureKind, readonly code: string, readonly attempts: DialAttempt[]) {
    super(message);
  }
}

const KIND_BY_CODE: Record<string, DialFailureKind> = {
  ECONNREFUSED: 'refused',
  ETIMEDOUT: 'timeout',
  EHOSTUNREACH: 'unreachable',
  ENETUNREACH: 'unreachable',
  EADDRNOTAVAIL: 'unreachable',
  ECONNRESET: 'reset',
};

function connectOnce(address: ResolvedAddress, port: number, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: address.address, port, family: address.family });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(Object.assign(new Error(`dial tcp ${address.address}:${port}: i/o timeout`), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    });
  });
}

/** Connect to the first address that answers; `timeoutMs` bounds each attempt. */
export async function dial(addresses: ResolvedAddress[], port: number, timeoutMs: number): Promise<{ socket: net.Socket; address: ResolvedAddress; attempts: DialAttempt[] }> {
  const attempts: DialAttempt[] = [];
  for (const address of addresses) {
    const t0 = monotonicMs();
    try {
      const socket = await connectOnce(address, port, timeoutMs);
      attempts.push({ address: address.address, ms: monotonicMs() - t0 });
      return { socket, address, attempts };
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const code = err.code ?? 'EUNKNOWN';
      attempts.push({ address: address.address, ms: monotonicMs() - t0, error: { kind: KIND_BY_CODE[code] ?? 'error', code, message: err.message } });
    }
  }
  const last = attempts[attempts.length - 1]?.error ?? { kind: 'error' as const, code: 'ENOADDR', message: 'no address to connect to' };
  throw new DialFailure(last.message, last.kind, last.code, attempts);
}
