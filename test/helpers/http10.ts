// A registry and blob store that answer HTTP/1.0 without keep-alive: every answer ends its
// connection, so each request of the pull walk needs a new one. Real servers (nginx, Go, Caddy)
// answer an HTTP/1.1 request with HTTP/1.1, so this fault is ours, written byte for byte (old
// appliances and embedded proxies still do it). Same paths and answers as test/helpers/registry.ts.
// Optionally the registry presents another certificate chain on every second connection (a load
// balancer whose backends disagree), to see that a new connection's chain is judged too.
import tls from 'node:tls';
import { MANIFEST_TYPE, type SeenRequest } from './registry.js';
import { issueLeaf, makeCa, type TestCa, type TestLeaf } from './pki.js';
import { listen, track, type Running } from './servers.js';

export interface Http10Registry {
  ca: TestCa;
  registry: Running & { host: string; seen: SeenRequest[]; connections: number };
  blobs: Running & { host: string; seen: SeenRequest[]; connections: number };
  digest: string;
  close(): Promise<void>;
}

export type Answer = { status: string; headers: Record<string, string | number>; body: string };

/** A TLS server answering every request HTTP/1.0 and closing; with two leaves it alternates them per connection. */
export function serve10(leaves: TestLeaf[], answer: (method: string, url: string, headers: Record<string, string>) => Answer) {
  const contexts = leaves.map((l) => tls.createSecureContext({ key: l.keyPem, cert: l.chainPem }));
  const state = { seen: [] as SeenRequest[], connections: 0 };
  // The context is chosen per connection: the first leaf, then (with two) every other connection the second.
  const server = tls.createServer({
    key: leaves[0]!.keyPem, cert: leaves[0]!.chainPem, ALPNProtocols: ['http/1.1'],
    SNICallback: (_name, cb) => cb(null, contexts[state.connections++ % contexts.length]!),
  }, (socket) => {
    let buf = '';
    socket.on('error', () => {});
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      const at = buf.indexOf('\r\n\r\n');
      if (at < 0) return;
      const [line, ...rest] = buf.slice(0, at).split('\r\n');
      const [method, url] = line!.split(' ') as [string, string];
      const headers: Record<string, string> = {};
      for (const h of rest) {
        const c = h.indexOf(':');
        if (c > 0) headers[h.slice(0, c).trim().toLowerCase()] = h.slice(c + 1).trim();
      }
      state.seen.push({ method, url, headers });
      const a = answer(method, url, headers);
      const head = [`HTTP/1.0 ${a.status}`, ...Object.entries({ ...a.headers, 'content-length': Buffer.byteLength(a.body) }).map(([k, v]) => `${k}: ${v}`)].join('\r\n');
      // No keep-alive: the answer, then the end of the connection.
      socket.end(`${head}\r\n\r\n${method === 'HEAD' ? '' : a.body}`);
    });
  });
  return { server, state };
}

export async function http10Registry(opts: { registryHost?: string; blobHost?: string; alternateRegistryCa?: TestCa } = {}): Promise<Http10Registry> {
  const ca = await makeCa('HTTP-1.0 Registry Test CA');
  const registryHost = opts.registryHost ?? 'registry.test';
  const blobHost = opts.blobHost ?? 'blobs.test';
  const small = `sha256:${'a'.repeat(64)}`;
  const manifest = JSON.stringify({
    schemaVersion: 2, mediaType: MANIFEST_TYPE,
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: `sha256:${'c'.repeat(64)}`, size: 485 },
    layers: [
      { mediaType: 'application/vnd.ollama.image.model', digest: `sha256:${'b'.repeat(64)}`, size: 45949216 },
      { mediaType: 'application/vnd.ollama.image.license', digest: small, size: 11357 },
    ],
  });
  let blobPort = 0;
  const leaves = [await issueLeaf(ca, [registryHost]), ...(opts.alternateRegistryCa ? [await issueLeaf(opts.alternateRegistryCa, [registryHost])] : [])];
  const reg = serve10(leaves, (_m, url): Answer => {
    if (url === '/v2/library/tiny/manifests/latest') return { status: '200 OK', headers: { 'content-type': MANIFEST_TYPE }, body: manifest };
    const blob = url.match(/^\/v2\/library\/tiny\/blobs\/sha256:([0-9a-f]{64})$/);
    if (blob) {
      const d = blob[1]!;
      return { status: '307 Temporary Redirect', headers: { location: `https://${blobHost}:${blobPort}/ollama/docker/registry/v2/blobs/sha256/${d.slice(0, 2)}/${d}/data?X-Amz-Signature=SECRETSIGNATURE` }, body: '' };
    }
    return { status: '404 Not Found', headers: { 'content-type': 'text/plain' }, body: '404 page not found' };
  });
  const blobs = serve10([await issueLeaf(ca, [blobHost])], (_m, _url, headers): Answer =>
    headers.range === 'bytes=0-0'
      ? { status: '206 Partial Content', headers: { 'content-type': 'application/octet-stream', 'content-range': 'bytes 0-0/11357' }, body: 'x' }
      : { status: '200 OK', headers: { 'content-type': 'application/octet-stream' }, body: '\0'.repeat(11357) });
  await listen(reg.server);
  await listen(blobs.server);
  const r = track(reg.server);
  const b = track(blobs.server);
  blobPort = b.port;
  const withState = (running: Running, host: string, state: { seen: SeenRequest[]; connections: number }) => ({
    ...running, host, seen: state.seen,
    get connections() {
      return state.connections;
    },
  });
  return {
    ca,
    registry: withState(r, registryHost, reg.state),
    blobs: withState(b, blobHost, blobs.state),
    digest: small,
    close: async () => {
      await r.close();
      await b.close();
    },
  };
}
