// A fake Ollama on loopback, plain HTTP as `ollama serve` is: the few answers the doctor reads
// (/, /api/version, /api/tags, the router's 404), and optionally Ollama's Host check, which answers
// an empty 403 to a Host header that is not a local name. Every request is logged so tests can see
// what a proxy in front let through (which Host, which Authorization).
import http from 'node:http';
import type { IncomingMessage } from 'node:http';
import net from 'node:net';
import { listen, track, type Running } from './servers.js';

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
}

export interface FakeOllama extends Running {
  version: string;
  seen: SeenRequest[];
}

export const FAKE_MODEL = 'tiny:latest';

/**
 * What Ollama accepts as a Host when it listens on loopback (server/routes.go, allowedHostsMiddleware):
 * an IP that is loopback, private or unspecified, "localhost", and names under .localhost, .local
 * or .internal. Anything else (the public name a proxy passes on with `Host $host`) is refused.
 */
export function ollamaAllowsHost(hostHeader: string | undefined): boolean {
  if (!hostHeader) return true;
  let host = hostHeader.toLowerCase();
  const bracketed = host.match(/^\[([^\]]+)\](?::\d+)?$/);
  if (bracketed) host = bracketed[1]!;
  else if (/^[^:]+:\d+$/.test(host)) host = host.slice(0, host.lastIndexOf(':'));
  if (net.isIP(host)) {
    if (host === '::1' || host === '::' || host.startsWith('fc') || host.startsWith('fd')) return true;
    const [a, b] = host.split('.').map(Number) as [number, number];
    return a === 127 || a === 10 || a === 0 || (a === 172 && b >= 16 && b < 32) || (a === 192 && b === 168);
  }
  return host === 'localhost' || ['.localhost', '.local', '.internal'].some((tld) => host.endsWith(tld));
}

export async function fakeOllama(opts: { version?: string; hostCheck?: boolean } = {}): Promise<FakeOllama> {
  const version = opts.version ?? '0.40.1';
  const seen: SeenRequest[] = [];
  const tags = JSON.stringify({
    models: [{
      name: FAKE_MODEL, model: FAKE_MODEL, modified_at: '2025-05-01T10:00:00.000000000Z', size: 1234567,
      digest: 'a'.repeat(64),
      details: { parent_model: '', format: 'gguf', family: 'llama', families: ['llama'], parameter_size: '1M', quantization_level: 'Q4_0' },
    }],
  });
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method!, url: req.url!, headers: req.headers });
    const send = (status: number, type: string | undefined, body: string) => {
      res.writeHead(status, { ...(type ? { 'content-type': type } : {}), 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    // Gin's AbortWithStatus: the status alone, no body, no content type.
    if (opts.hostCheck && !ollamaAllowsHost(req.headers.host)) return send(403, undefined, '');
    const url = (req.url ?? '/').replace(/\?.*$/, '');
    if ((req.method === 'GET' || req.method === 'HEAD') && url === '/') return send(200, 'text/plain; charset=utf-8', 'Ollama is running');
    if (req.method === 'GET' && url === '/api/version') return send(200, 'application/json; charset=utf-8', JSON.stringify({ version }));
    if (req.method === 'GET' && url === '/api/tags') return send(200, 'application/json; charset=utf-8', tags);
    send(404, 'text/plain', '404 page not found');
  });
  await listen(server, '127.0.0.1');
  return { ...track(server), version, seen };
}
