// The small HTTP/1.1 client the probe speaks after the handshake, against raw servers on loopback
// that answer byte for byte as written here: keep-alive, chunked and sized bodies, limits, a
// server that closes, one that says nothing, one that is not HTTP.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { header, http1Exchange, httpExchange, HttpFailure, type HttpResponse } from '../../../src/probe/http.js';
import { listen, track, type Running } from '../../helpers/servers.js';

let running: Running | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

/** A server that answers the n-th request on a connection with replies[n] (a function gets the request text). */
async function raw(replies: (string | ((req: string) => string) | null)[]): Promise<{ connect(): Promise<net.Socket>; seen: string[] }> {
  const seen: string[] = [];
  const server = net.createServer((socket) => {
    let buf = '';
    let n = 0;
    socket.on('data', (d) => {
      buf += d.toString('latin1');
      let at;
      while ((at = buf.indexOf('\r\n\r\n')) >= 0) {
        const req = buf.slice(0, at + 4);
        buf = buf.slice(at + 4);
        seen.push(req);
        const reply = replies[n++];
        if (reply === null || reply === undefined) continue; // say nothing
        const text = typeof reply === 'function' ? reply(req) : reply;
        if (text === 'CLOSE') socket.destroy();
        else if (text.startsWith('END:')) socket.end(text.slice(4));
        else socket.write(text);
      }
    });
    socket.on('error', () => {});
  });
  await listen(server);
  running = track(server);
  const port = running.port;
  return { seen, connect: () => new Promise((resolve) => { const s = net.connect(port, '127.0.0.1', () => resolve(s)); }) };
}

describe('httpExchange', () => {
  it('sends requests one after another on one connection, with Host and headers', async () => {
    const srv = await raw([
      'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: application/json\r\n\r\n{"a":',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n',
    ]);
    const out = await httpExchange(await srv.connect(), 'example.test', [
      { method: 'GET', path: '/one', headers: { Accept: 'application/json' } },
      { method: 'GET', path: '/two' },
    ], { timeoutMs: 2000 });
    expect(out.map((r) => [r.status, r.body.toString()])).toEqual([[200, '{"a":'], [200, 'abcdefg']]);
    expect(header(out[0]!, 'content-type')).toBe('application/json');
    expect(srv.seen[0]).toMatch(/^GET \/one HTTP\/1\.1\r\nHost: example\.test\r\nAccept: application\/json\r\n\r\n$/);
    expect(srv.seen[1]).toMatch(/^GET \/two HTTP\/1\.1\r\n/);
  });

  it('lets the next request depend on the last answer', async () => {
    const srv = await raw(['HTTP/1.1 307 Temporary Redirect\r\nLocation: /there\r\nContent-Length: 0\r\n\r\n', 'HTTP/1.1 204 No Content\r\n\r\n']);
    const next = (done: HttpResponse[]) =>
      done.length === 0 ? { method: 'HEAD' as const, path: '/here' } : done.length === 1 ? { method: 'HEAD' as const, path: header(done[0]!, 'location')! } : undefined;
    const out = await httpExchange(await srv.connect(), 'h', next, { timeoutMs: 2000 });
    expect(out.map((r) => r.status)).toEqual([307, 204]);
    expect(srv.seen[1]).toMatch(/^HEAD \/there /);
  });

  it('reads no body for HEAD, and stops after a body longer than the limit', async () => {
    const srv = await raw(['HTTP/1.1 200 OK\r\nContent-Length: 999999\r\n\r\n', `HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n${'x'.repeat(100)}`, 'HTTP/1.1 200 OK\r\n\r\n']);
    const out = await httpExchange(await srv.connect(), 'h', [
      { method: 'HEAD', path: '/big' }, { method: 'GET', path: '/body' }, { method: 'GET', path: '/never' },
    ], { timeoutMs: 2000, maxBody: 10 });
    expect(out).toHaveLength(2);
    expect(out[1]!.body.toString()).toBe('x'.repeat(10));
    expect(out[1]!.truncated).toBe(true);
    expect(srv.seen).toHaveLength(2);
  });

  it('headersOnly never reads the body and asks the server to close', async () => {
    const srv = await raw([`HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n${'y'.repeat(1000)}`]);
    const out = await httpExchange(await srv.connect(), 'h', [{ method: 'GET', path: '/blob', headersOnly: true }, { method: 'GET', path: '/after' }], { timeoutMs: 2000 });
    expect(out).toHaveLength(1);
    expect(out[0]!.body.length).toBe(0);
    expect(out[0]!.truncated).toBe(true);
    expect(srv.seen[0]).toContain('Connection: close');
  });

  it('stops when the server says Connection: close', async () => {
    const srv = await raw(['HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok']);
    const out = await httpExchange(await srv.connect(), 'h', [{ method: 'GET', path: '/a' }, { method: 'GET', path: '/b' }], { timeoutMs: 2000 });
    expect(out).toHaveLength(1);
    expect(srv.seen).toHaveLength(1);
  });

  it('reads a body that ends with the connection', async () => {
    const srv = await raw(['END:HTTP/1.0 200 OK\r\n\r\nuntil close']);
    const out = await httpExchange(await srv.connect(), 'h', [{ method: 'GET', path: '/' }], { timeoutMs: 2000 });
    expect(out[0]!.body.toString()).toBe('until close');
    expect(out[0]!.truncated).toBe(false);
  });

  it('fails clearly: closed without answering, silence, not HTTP', async () => {
    let srv = await raw(['CLOSE']);
    await expect(httpExchange(await srv.connect(), 'h', [{ method: 'GET', path: '/' }], { timeoutMs: 2000 })).rejects.toMatchObject({ kind: 'closed' });
    await running!.close();
    srv = await raw([null]);
    const t0 = Date.now();
    const silent = await httpExchange(await srv.connect(), 'h', [{ method: 'GET', path: '/' }], { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(silent).toBeInstanceOf(HttpFailure);
    expect((silent as HttpFailure).kind, (silent as Error).message).toBe("timeout");
    expect(Date.now() - t0).toBeLessThan(2000);
    await running!.close();
    srv = await raw(['SSH-2.0-OpenSSH_9.6\r\n\r\n']);
    await expect(httpExchange(await srv.connect(), 'h', [{ method: 'GET', path: '/' }], { timeoutMs: 2000 })).rejects.toMatchObject({ kind: 'bad-response' });
  });

  it('says why a connection can carry no more (the caller dials again): HTTP/1.0 without keep-alive, Connection: close', async () => {
    let srv = await raw(['HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok']);
    const two = (done: unknown[]) => [{ method: 'GET' as const, path: '/a' }, { method: 'GET' as const, path: '/b' }][done.length];
    let out = await http1Exchange(await srv.connect(), 'h', two, { timeoutMs: 2000 });
    expect(out.responses.map((r) => [r.status, r.protocol])).toEqual([[200, 'http/1.0']]);
    expect(out.ended).toBe('the server answered HTTP/1.0 without keep-alive');
    await running!.close();
    srv = await raw(['HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok', 'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n']);
    out = await http1Exchange(await srv.connect(), 'h', two, { timeoutMs: 2000 });
    expect(out.responses.map((r) => r.protocol)).toEqual(['http/1.0', 'http/1.1']);
    expect(out.ended).toBe('the server said Connection: close');
  });

  it('a reused connection closed before answering: the request may go again on a new one (as Go retries it)', async () => {
    const srv = await raw(['HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', 'CLOSE']);
    const out = await http1Exchange(await srv.connect(), 'h', (done) => [{ method: 'GET' as const, path: '/a' }, { method: 'GET' as const, path: '/b' }][done.length], { timeoutMs: 2000 });
    expect(out.responses).toHaveLength(1);
    expect(out.failure?.kind).toBe('closed');
    expect(out.failure?.detail.retryable).toBe(true);
    expect(out.failure?.detail.request?.path).toBe('/b');
  });
});
