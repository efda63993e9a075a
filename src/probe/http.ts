// HTTP/1.1 over the connection the probe already made (direct or through the proxy, TLS judged
// separately), so the requests take exactly the path Ollama's would. Small on purpose: a few
// requests in a row on one keep-alive connection, bodies read only up to a limit, and a request
// can ask for its headers alone (a blob is never downloaded: the connection is dropped instead).
// HTTP/2 (when the server picks h2 in ALPN) is http2.ts; the shapes here are shared by both.
import type { Duplex } from 'node:stream';
import { monotonicMs } from '../platform/monotonic.js';

export interface HttpRequest {
  method: 'GET' | 'HEAD';
  /** Path and query, as sent on the request line. */
  path: string;
  headers?: Record<string, string>;
  /** Read the status and headers, never the body (the connection ends after it). */
  headersOnly?: boolean;
}

export interface HttpResponse {
  request: HttpRequest;
  status: number;
  statusText: string;
  headers: [string, string][];
  body: Buffer;
  /** The body was longer than the limit, or was not read at all (headersOnly). */
  truncated: boolean;
  ms: number;
  /** What was spoken: h2, or HTTP/1.x as the server's status line said (1.0 means no keep-alive by default). */
  protocol: HttpProtocol;
  /** Which connection of the probe carried it (0: the first; more after the server closed one). */
  connection?: number;
}

export type HttpProtocol = 'h2' | 'http/1.1' | 'http/1.0';

export class HttpFailure extends Error {
  constructor(
    readonly kind: 'timeout' | 'closed' | 'bad-response' | 'error',
    message: string,
    readonly detail: {
      code?: string; request?: HttpRequest; received?: Buffer;
      /**
       * The server went away before answering a request on a connection that had already carried
       * one (or, in HTTP/2, refused it unprocessed): Go's Transport sends it again on a new
       * connection, and so does the probe.
       */
      retryable?: boolean;
    } = {},
  ) {
    super(message);
    // As Node's own errors carry it (ECONNRESET, EPIPE), for readers that look there.
    if (detail.code) this.code = detail.code;
  }

  readonly code?: string;
}

export const header = (r: Pick<HttpResponse, 'headers'>, name: string): string | undefined =>
  r.headers.find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];

export const headerAll = (r: HttpResponse, name: string): string[] =>
  r.headers.filter(([k]) => k.toLowerCase() === name.toLowerCase()).map(([, v]) => v);

/** A reader over a stream: pull bytes as they come, with one deadline for the whole exchange. */
class Reader {
  private buf: Buffer = Buffer.alloc(0);
  private ended = false;
  private error: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(stream: Duplex) {
    stream.on('data', (d: Buffer) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
      this.wake?.();
    });
    stream.on('end', () => {
      this.ended = true;
      this.wake?.();
    });
    stream.on('close', () => {
      this.ended = true;
      this.wake?.();
    });
    stream.on('error', (e: Error) => {
      this.error = e;
      this.wake?.();
    });
    stream.resume();
  }

  private async more(deadline: number): Promise<boolean> {
    if (this.error) throw this.error;
    if (this.ended) return false;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new HttpFailure('timeout', 'the server did not answer in time', { code: 'ETIMEDOUT' })), Math.max(0, deadline - Date.now()));
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
    if (this.error) throw this.error;
    return true;
  }

  /** Bytes up to and including `delimiter`, or undefined if the stream ended first. */
  async until(delimiter: string, limit: number, deadline: number): Promise<Buffer | undefined> {
    for (;;) {
      const at = this.buf.indexOf(delimiter);
      if (at >= 0) {
        const out = this.buf.subarray(0, at + delimiter.length);
        this.buf = this.buf.subarray(at + delimiter.length);
        return out;
      }
      if (this.buf.length > limit) throw new HttpFailure('bad-response', 'the response headers are too long', { received: this.buf.subarray(0, 64) });
      if (!(await this.more(deadline))) return undefined;
    }
  }

  /** Exactly n bytes (fewer when the stream ends). */
  async take(n: number, deadline: number): Promise<Buffer> {
    while (this.buf.length < n) if (!(await this.more(deadline))) break;
    const out = this.buf.subarray(0, Math.min(n, this.buf.length));
    this.buf = this.buf.subarray(out.length);
    return out;
  }

  /** Everything until the stream ends, up to `limit` (the rest is not read). */
  async rest(limit: number, deadline: number): Promise<{ body: Buffer; truncated: boolean }> {
    while (this.buf.length <= limit) if (!(await this.more(deadline))) break;
    return { body: this.buf.subarray(0, limit), truncated: this.buf.length > limit };
  }

  get pending(): Buffer {
    return this.buf;
  }
}

function requestText(host: string, r: HttpRequest): string {
  const lines = [`${r.method} ${r.path} HTTP/1.1`, `Host: ${host}`];
  for (const [k, v] of Object.entries(r.headers ?? {})) lines.push(`${k}: ${v}`);
  if (r.headersOnly) lines.push('Connection: close');
  return `${lines.join('\r\n')}\r\n\r\n`;
}

function parseHead(head: Buffer, request: HttpRequest): Omit<HttpResponse, 'body' | 'truncated' | 'ms'> {
  const text = head.toString('latin1');
  const [statusLine, ...rest] = text.slice(0, -4).split('\r\n');
  const m = statusLine!.match(/^HTTP\/(\d\.\d) (\d{3})(?: (.*))?$/);
  if (!m) throw new HttpFailure('bad-response', `the answer is not HTTP: "${statusLine!.slice(0, 60)}"`, { request, received: head.subarray(0, 64) });
  const headers: [string, string][] = [];
  for (const line of rest) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  return { request, status: Number(m[2]), statusText: m[3] ?? '', headers, protocol: m[1] === '1.0' ? 'http/1.0' : 'http/1.1' };
}

async function readChunked(reader: Reader, limit: number, deadline: number): Promise<{ body: Buffer; truncated: boolean }> {
  const parts: Buffer[] = [];
  let size = 0;
  for (;;) {
    const line = await reader.until('\r\n', 1024, deadline);
    if (!line) return { body: Buffer.concat(parts), truncated: true };
    const n = parseInt(line.toString('latin1'), 16);
    if (!Number.isFinite(n)) throw new HttpFailure('bad-response', 'a chunked body with a bad chunk size');
    if (n === 0) {
      // Trailers, then the blank line.
      for (;;) {
        const t = await reader.until('\r\n', 8192, deadline);
        if (!t || t.length <= 2) break;
      }
      return { body: Buffer.concat(parts), truncated: false };
    }
    if (size + n > limit) return { body: Buffer.concat(parts), truncated: true };
    parts.push(await reader.take(n, deadline));
    size += n;
    await reader.take(2, deadline);
  }
}

/** The next request to send, given the answers so far; undefined ends the exchange. */
export type NextRequest = (done: HttpResponse[]) => HttpRequest | undefined;

/**
 * How one connection's exchange went: the answers, and either why the connection cannot carry
 * another request (`ended`: the caller dials again if more is to be sent) or the failure.
 */
export interface ExchangeOutcome {
  responses: HttpResponse[];
  ended?: string;
  failure?: HttpFailure;
}

/**
 * Send requests one after another on `stream` and read each answer. The next request may depend
 * on the last answer (a manifest names the blob to ask for). Stops early when a body is not read
 * through or the server says it closes: the connection cannot carry another request after that.
 */
export async function httpExchange(stream: Duplex, host: string, requests: HttpRequest[] | NextRequest, opts: { timeoutMs: number; maxBody?: number }): Promise<HttpResponse[]> {
  const next: NextRequest = Array.isArray(requests) ? (done) => requests[done.length] : requests;
  const outcome = await http1Exchange(stream, host, next, opts);
  if (outcome.failure) throw outcome.failure;
  return outcome.responses;
}

/** httpExchange without throwing: what was answered, and why the connection ended (for reconnecting). */
export async function http1Exchange(stream: Duplex, host: string, next: NextRequest, opts: { timeoutMs: number; maxBody?: number }): Promise<ExchangeOutcome> {
  const reader = new Reader(stream);
  const limit = opts.maxBody ?? 256 * 1024;
  const out: HttpResponse[] = [];
  for (let request = next(out); request; request = next(out)) {
    const t0 = monotonicMs();
    const deadline = Date.now() + opts.timeoutMs;
    try {
      stream.write(requestText(host, request));
      const head = await reader.until('\r\n\r\n', 64 * 1024, deadline).catch((e: unknown) => {
        if (e instanceof HttpFailure) throw Object.assign(e, { detail: { ...e.detail, request } });
        throw e;
      });
      if (!head) {
        const got = reader.pending;
        throw new HttpFailure(got.length ? 'bad-response' : 'closed', got.length ? 'the server closed the connection in the middle of its answer' : 'the server closed the connection without answering', {
          request, received: got.subarray(0, 64), ...(got.length === 0 && out.length > 0 ? { retryable: true } : {}),
        });
      }
      const parsed = parseHead(head, request);
      const connection = header(parsed, 'connection') ?? '';
      // HTTP/1.0 closes after each answer unless it says keep-alive; HTTP/1.1 when it says close.
      const closing = /\bclose\b/i.test(connection) || (parsed.protocol === 'http/1.0' && !/\bkeep-alive\b/i.test(connection));
      const why = closing ? (/\bclose\b/i.test(connection) ? 'the server said Connection: close' : 'the server answered HTTP/1.0 without keep-alive') : undefined;
      const noBody = request.method === 'HEAD' || parsed.status === 204 || parsed.status === 304 || (parsed.status >= 100 && parsed.status < 200);
      if (noBody) {
        out.push({ ...parsed, body: Buffer.alloc(0), truncated: false, ms: monotonicMs() - t0 });
        if (request.headersOnly) return { responses: out, ended: 'the answer was read for its headers only' };
        if (why) return { responses: out, ended: why };
        continue;
      }
      if (request.headersOnly) {
        out.push({ ...parsed, body: Buffer.alloc(0), truncated: true, ms: monotonicMs() - t0 });
        return { responses: out, ended: 'the answer was read for its headers only' };
      }
      const te = header(parsed, 'transfer-encoding') ?? '';
      const cl = header(parsed, 'content-length');
      let body: { body: Buffer; truncated: boolean };
      let toEnd = false;
      if (/chunked/i.test(te)) body = await readChunked(reader, limit, deadline);
      else if (cl !== undefined && /^\d+$/.test(cl)) {
        const n = Number(cl);
        body = n > limit ? { body: await reader.take(limit, deadline), truncated: true } : { body: await reader.take(n, deadline), truncated: false };
      } else {
        body = await reader.rest(limit, deadline);
        toEnd = true;
      }
      out.push({ ...parsed, ...body, ms: monotonicMs() - t0 });
      if (body.truncated) return { responses: out, ended: 'a body was not read to its end' };
      if (why || toEnd) return { responses: out, ended: why ?? 'the body ended with the connection' };
    } catch (e) {
      if (e instanceof HttpFailure) return { responses: out, failure: e.detail.request ? e : Object.assign(e, { detail: { ...e.detail, request } }) };
      const err = e as NodeJS.ErrnoException;
      // A reused connection the server had already dropped: Go sends the request again on a new one.
      const dropped = out.length > 0 && reader.pending.length === 0 && (err.code === 'ECONNRESET' || err.code === 'EPIPE');
      return { responses: out, failure: new HttpFailure('error', err.message, { request, ...(err.code ? { code: String(err.code) } : {}), ...(dropped ? { retryable: true } : {}) }) };
    }
  }
  return { responses: out };
}
