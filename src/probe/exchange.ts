// Which HTTP to speak on a connection: the one the server picked in ALPN, as Go's net/http does
// (it offers h2 and http/1.1; HTTP/2 when the server picks h2, HTTP/1.1 otherwise).
import type { TLSSocket } from 'node:tls';
import { http1Exchange, type ExchangeOutcome, type NextRequest } from './http.js';

export function exchangeOn(
  conn: { tlsSocket: TLSSocket; alpn: string | null }, authority: string, next: NextRequest, opts: { timeoutMs: number; maxBody?: number },
): Promise<ExchangeOutcome> {
  if (conn.alpn !== 'h2') return http1Exchange(conn.tlsSocket, authority, next, opts);
  // node:http2 costs ~15 ms to load: only a connection that picked h2 pays for it.
  return import('./http2.js').then(({ http2Exchange }) => http2Exchange(conn.tlsSocket, authority, next, opts));
}
