// HTTP/2 over the connection the probe already made, for servers that pick h2 in ALPN.
// Why: the probe offers `h2, http/1.1` as Go's net/http does, and Caddy, Go servers, nginx with
// http2 and Cloudflare then pick h2; speaking HTTP/1.1 to them is a protocol error, which would be
// reported as a blocked or broken server while Ollama (Go) succeeds. The requests and answers have
// the shapes http.ts uses, so everything above the probe is the same for both.
import { STATUS_CODES } from 'node:http';
import http2 from 'node:http2';
import type { TLSSocket } from 'node:tls';
import { HttpFailure, type ExchangeOutcome, type HttpRequest, type HttpResponse, type NextRequest } from './http.js';
import { monotonicMs } from '../platform/monotonic.js';

/** RFC 9113 section 7 error codes, by number, as the report names them. */
const H2_ERRORS = [
  'NO_ERROR', 'PROTOCOL_ERROR', 'INTERNAL_ERROR', 'FLOW_CONTROL_ERROR', 'SETTINGS_TIMEOUT', 'STREAM_CLOSED', 'FRAME_SIZE_ERROR',
  'REFUSED_STREAM', 'CANCEL', 'COMPRESSION_ERROR', 'CONNECT_ERROR', 'ENHANCE_YOUR_CALM', 'INADEQUATE_SECURITY', 'HTTP_1_1_REQUIRED',
];
const errorName = (code: number | undefined) => (code === undefined ? 'unknown' : H2_ERRORS[code] ?? `error ${code}`);

/**
 * Send requests one after another as streams of one HTTP/2 session on `tlsSocket` (ALPN h2) and
 * read each answer. `authority` is the :authority (the Host header Go would send). A headersOnly
 * request is cancelled with RST_STREAM once its headers are in, as is a body past the limit: the
 * connection stays usable. A GOAWAY ends the connection for the next request (the caller dials again).
 */
export async function http2Exchange(
  tlsSocket: TLSSocket, authority: string, next: NextRequest, opts: { timeoutMs: number; maxBody?: number },
): Promise<ExchangeOutcome> {
  const limit = opts.maxBody ?? 256 * 1024;
  const out: HttpResponse[] = [];
  const session = http2.connect(`https://${authority}`, { createConnection: () => tlsSocket });
  let goaway: { code: number; lastStreamId: number } | undefined;
  let sessionError: (Error & { code?: string }) | undefined;
  let closed = false;
  session.on('goaway', (code: number, lastStreamId: number) => {
    goaway = { code, lastStreamId };
  });
  session.on('error', (e: Error & { code?: string }) => {
    sessionError ??= e;
  });
  session.on('close', () => {
    closed = true;
  });
  try {
    for (;;) {
      // Checked before asking for the next request: a NextRequest may count what it handed out.
      if (goaway) return { responses: out, ended: `the server sent GOAWAY (${errorName(goaway.code)})` };
      if (closed || session.destroyed) return { responses: out, ended: 'the server closed the HTTP/2 connection' };
      const request = next(out);
      if (!request) break;
      try {
        out.push(await oneStream(session, request, limit, opts.timeoutMs, () => ({ goaway, sessionError, reused: out.length > 0 })));
      } catch (e) {
        if (e instanceof HttpFailure) return { responses: out, failure: e };
        const err = e as NodeJS.ErrnoException;
        return { responses: out, failure: new HttpFailure('error', err.message, { request, ...(err.code ? { code: String(err.code) } : {}) }) };
      }
    }
    // (Set by the session's events meanwhile; TypeScript cannot see that.)
    const last = goaway as { code: number } | undefined;
    if (last) return { responses: out, ended: `the server sent GOAWAY (${errorName(last.code)})` };
    return { responses: out };
  } finally {
    // No more streams: tell the server (GOAWAY from our side); the probe closes the socket.
    if (!session.destroyed) session.close();
  }
}

function oneStream(
  session: http2.ClientHttp2Session, request: HttpRequest, limit: number, timeoutMs: number,
  state: () => { goaway?: { code: number; lastStreamId: number }; sessionError?: Error & { code?: string }; reused: boolean },
): Promise<HttpResponse> {
  const t0 = monotonicMs();
  const headers: http2.OutgoingHttpHeaders = { ':method': request.method, ':path': request.path };
  for (const [k, v] of Object.entries(request.headers ?? {})) headers[k.toLowerCase()] = v;
  return new Promise<HttpResponse>((resolve, reject) => {
    let stream: http2.ClientHttp2Stream;
    try {
      stream = session.request(headers, { endStream: true });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      reject(new HttpFailure('closed', `the HTTP/2 connection could not take another request: ${err.message}`, { request, retryable: true, ...(err.code ? { code: err.code } : {}) }));
      return;
    }
    let head: Omit<HttpResponse, 'body' | 'truncated' | 'ms'> | undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (body: { truncated: boolean; cancel?: boolean }) => {
      if (settled || !head) return;
      settled = true;
      clearTimeout(timer);
      // RST_STREAM CANCEL: the rest of this answer is not wanted; other streams go on.
      if (body.cancel && !stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
      resolve({ ...head, body: Buffer.concat(chunks).subarray(0, limit), truncated: body.truncated, ms: monotonicMs() - t0 });
    };
    const fail = (f: HttpFailure) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
      reject(f);
    };
    const timer = setTimeout(() => fail(new HttpFailure('timeout', 'the server did not answer in time', { code: 'ETIMEDOUT', request })), timeoutMs);

    stream.on('response', (h) => {
      const status = Number(h[':status']);
      const pairs: [string, string][] = [];
      for (const [k, v] of Object.entries(h)) {
        if (k.startsWith(':') || v === undefined) continue;
        for (const one of Array.isArray(v) ? v : [v]) pairs.push([k, String(one)]);
      }
      // HTTP/2 has no reason phrase; Go's Response.Status uses the standard text, as here.
      head = { request, status, statusText: STATUS_CODES[status] ?? '', headers: pairs, protocol: 'h2' };
      if (request.headersOnly) finish({ truncated: request.method !== 'HEAD' && status !== 204 && status !== 304, cancel: true });
    });
    stream.on('data', (d: Buffer) => {
      if (settled) return;
      chunks.push(d);
      size += d.length;
      if (size > limit) finish({ truncated: true, cancel: true });
    });
    stream.on('end', () => finish({ truncated: false }));
    stream.on('error', () => {
      /* read on close, with the RST code */
    });
    // Classified a moment later: the session's GOAWAY or error event may come after the stream's close.
    stream.on('close', () => setImmediate(() => {
      if (settled) return;
      if (head) {
        finish({ truncated: stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR });
        return;
      }
      const s = state();
      const rst = stream.rstCode;
      // Not processed by the server (REFUSED_STREAM, or past a GOAWAY's last stream): safe to send again elsewhere.
      const unprocessed = rst === http2.constants.NGHTTP2_REFUSED_STREAM || (s.goaway !== undefined && (stream.id === undefined || stream.id > s.goaway.lastStreamId));
      if (s.goaway) {
        // NO_ERROR: a graceful close, and a request it left unprocessed goes again on a new
        // connection; an error code is the server's refusal (its stream ends with that code too).
        const graceful = s.goaway.code === http2.constants.NGHTTP2_NO_ERROR;
        fail(new HttpFailure(graceful ? 'closed' : 'bad-response', `the server ended the HTTP/2 connection with GOAWAY (${errorName(s.goaway.code)}) before answering`, {
          request, ...(graceful && unprocessed ? { retryable: true } : {}),
        }));
      } else if (s.sessionError) {
        const e = s.sessionError;
        const alert = /alert number \d+/i.test(e.message);
        fail(new HttpFailure(alert || e.code === 'ECONNRESET' ? 'error' : 'bad-response', `the HTTP/2 connection failed: ${e.message}`, { request, ...(e.code ? { code: e.code } : {}) }));
      } else if (rst !== undefined && rst !== http2.constants.NGHTTP2_NO_ERROR) {
        fail(new HttpFailure(rst === http2.constants.NGHTTP2_REFUSED_STREAM ? 'closed' : 'bad-response', `the server reset the HTTP/2 stream (RST_STREAM ${errorName(rst)}) without answering`, {
          request, ...(unprocessed ? { retryable: true } : {}),
        }));
      } else {
        fail(new HttpFailure('closed', 'the server closed the HTTP/2 connection without answering', { request, ...(s.reused ? { retryable: true } : {}) }));
      }
    }));
  });
}
