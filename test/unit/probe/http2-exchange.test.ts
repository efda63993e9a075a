// The HTTP/2 side of the probe against Node's own HTTP/2 server (nghttp2) on loopback, for the
// faults real servers rarely show on demand: a stream reset before the answer, GOAWAY with an
// error, silence. What real servers do in the normal case (Go, Caddy, nginx) is in
// real-servers.test.ts.
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { http2Exchange } from '../../../src/probe/http2.js';
import type { HttpRequest } from '../../../src/probe/http.js';
import { issueLeaf, makeCa } from '../../helpers/pki.js';

let server: http2.Http2SecureServer | undefined;
const sessions = new Set<http2.Http2Session>();
const sockets = new Set<tls.TLSSocket>();
/** Close the server now: its sessions and our sockets too (close() alone waits for them). */
async function stop(): Promise<void> {
  for (const s of sockets) s.destroy();
  for (const s of sessions) s.destroy();
  sockets.clear();
  sessions.clear();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
}
afterEach(stop);

const leaf = (async () => issueLeaf(await makeCa('HTTP2 Test CA'), ['h2.test']))();

/** A TLS connection with ALPN h2 to a server whose streams `handler` answers; sessions are tracked to see resets. */
async function connect(handler: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, session: http2.Http2Session) => void) {
  const { keyPem, chainPem } = await leaf;
  const rst: number[] = [];
  server = http2.createSecureServer({ key: keyPem, cert: chainPem });
  server.on('stream', (stream, headers) => {
    stream.on('close', () => rst.push(stream.rstCode));
    stream.on('error', () => {});
    handler(stream, headers, stream.session!);
  });
  server.on('sessionError', () => {});
  server.on('session', (s) => sessions.add(s));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  const socket = await new Promise<tls.TLSSocket>((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'h2.test', ALPNProtocols: ['h2', 'http/1.1'], rejectUnauthorized: false }, () => resolve(s));
    s.once('error', reject);
  });
  sockets.add(socket);
  expect(socket.alpnProtocol).toBe('h2');
  return { socket, rst, authority: `h2.test:${port}` };
}

const list = (rs: HttpRequest[]) => (done: unknown[]) => rs[done.length];

describe('http2Exchange', () => {
  it('sends the requests as streams of one session, with :authority, headers lower-cased, and reads the answers', async () => {
    const seen: http2.IncomingHttpHeaders[] = [];
    const { socket, authority } = await connect((stream, headers) => {
      seen.push(headers);
      stream.respond({ ':status': 200, 'content-type': 'application/json', 'x-twice': ['a', 'b'] });
      stream.end(`{"path":"${headers[':path']}"}`);
    });
    const out = await http2Exchange(socket, authority, list([{ method: 'GET', path: '/one', headers: { 'User-Agent': 'ua', Accept: 'application/json' } }, { method: 'GET', path: '/two' }]), { timeoutMs: 2000 });
    expect(out.failure).toBeUndefined();
    expect(out.responses.map((r) => [r.status, r.statusText, r.protocol, r.body.toString()])).toEqual([[200, 'OK', 'h2', '{"path":"/one"}'], [200, 'OK', 'h2', '{"path":"/two"}']]);
    // Node joins repeated fields with ", " (same meaning in HTTP).
    expect(out.responses[0]!.headers).toContainEqual(['x-twice', 'a, b']);
    expect(seen[0]![':authority']).toBe(authority);
    expect(seen[0]!['user-agent']).toBe('ua');
    expect(seen.map((h) => h[':method'])).toEqual(['GET', 'GET']);
  });

  it('headersOnly cancels the stream (RST_STREAM CANCEL) and the connection carries the next request', async () => {
    const { socket, rst, authority } = await connect((stream, headers) => {
      stream.respond({ ':status': 200, 'content-length': headers[':path'] === '/blob' ? '10000000' : '2' });
      if (headers[':path'] === '/blob') stream.write(Buffer.alloc(16384));
      else stream.end('ok');
    });
    const out = await http2Exchange(socket, authority, list([{ method: 'GET', path: '/blob', headersOnly: true }, { method: 'GET', path: '/after' }]), { timeoutMs: 2000 });
    expect(out.responses.map((r) => [r.status, r.body.length, r.truncated])).toEqual([[200, 0, true], [200, 2, false]]);
    expect(out.ended).toBeUndefined();
    expect(rst[0]).toBe(http2.constants.NGHTTP2_CANCEL);
  });

  it('a body past the limit is cut and cancelled; the next request still goes', async () => {
    const { socket, authority } = await connect((stream, headers) => {
      stream.respond({ ':status': 200 });
      stream.end(headers[':path'] === '/big' ? 'x'.repeat(5000) : 'small');
    });
    const out = await http2Exchange(socket, authority, list([{ method: 'GET', path: '/big' }, { method: 'GET', path: '/small' }]), { timeoutMs: 2000, maxBody: 100 });
    expect(out.responses.map((r) => [r.body.length, r.truncated])).toEqual([[100, true], [5, false]]);
  });

  it('GOAWAY after an answer ends the connection for the next request (the caller dials again)', async () => {
    const { socket, authority } = await connect((stream, _h, session) => {
      stream.respond({ ':status': 200 });
      stream.end('one', () => session.goaway(http2.constants.NGHTTP2_NO_ERROR, stream.id!));
    });
    const out = await http2Exchange(socket, authority, list([{ method: 'GET', path: '/a' }, { method: 'GET', path: '/b' }]), { timeoutMs: 2000 });
    expect(out.responses).toHaveLength(1);
    // Either the GOAWAY came before the second request was sent, or the request went out and the
    // server refused it unprocessed: both mean "send it on a new connection".
    const why = out.ended ?? (out.failure?.detail.retryable ? out.failure.message : `not retryable: ${out.failure?.message}`);
    expect(why).toMatch(/GOAWAY \(NO_ERROR\)/);
  });

  it('faults read as sentences: a reset stream, GOAWAY with an error before the answer, silence', async () => {
    let c = await connect((stream) => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
    let out = await http2Exchange(c.socket, c.authority, list([{ method: 'GET', path: '/' }]), { timeoutMs: 2000 });
    expect(out.failure?.kind).toBe('bad-response');
    expect(out.failure?.message).toBe('the server reset the HTTP/2 stream (RST_STREAM INTERNAL_ERROR) without answering');
    await stop();

    c = await connect((_stream, _h, session) => session.goaway(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM, 0));
    out = await http2Exchange(c.socket, c.authority, list([{ method: 'GET', path: '/' }]), { timeoutMs: 2000 });
    expect(out.failure?.kind).toBe('bad-response');
    expect(out.failure?.message).toBe('the server ended the HTTP/2 connection with GOAWAY (ENHANCE_YOUR_CALM) before answering');
    // A refusal, not a graceful close: not sent again.
    expect(out.failure?.detail.retryable).toBeUndefined();
    await stop();

    c = await connect(() => {});
    const t0 = Date.now();
    out = await http2Exchange(c.socket, c.authority, list([{ method: 'GET', path: '/' }]), { timeoutMs: 300 });
    expect(out.failure?.kind).toBe('timeout');
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});
