// A fake Ollama registry and blob store on loopback, for the pull path: the registry serves a
// manifest and answers blob requests with a 307 to a second host name, as registry.ollama.ai does
// to its Cloudflare R2 bucket. Both log every request so tests can see what the doctor asked.
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { issueLeaf, makeCa, type TestCa } from './pki.js';
import { listen, track, type Running } from './servers.js';

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
}

export interface FakeRegistry {
  ca: TestCa;
  registry: Running & { host: string; seen: SeenRequest[] };
  blobs: Running & { host: string; seen: SeenRequest[] };
  digest: string;
  close(): Promise<void>;
}

export const MANIFEST_TYPE = 'application/vnd.docker.distribution.manifest.v2+json';

type Handler = (req: IncomingMessage, res: ServerResponse, ports: { registry: number; blobs: number }) => void;

/** A registry answering as registry.ollama.ai does; `override` replaces any answer (block pages, 404s). */
export async function fakeRegistry(opts: { registryHost?: string; blobHost?: string; override?: Handler } = {}): Promise<FakeRegistry> {
  const ca = await makeCa('Fake Registry Test CA');
  const registryHost = opts.registryHost ?? 'registry.test';
  const blobHost = opts.blobHost ?? 'blobs.test';
  const small = `sha256:${'a'.repeat(64)}`;
  const big = `sha256:${'b'.repeat(64)}`;
  const manifest = JSON.stringify({
    schemaVersion: 2, mediaType: MANIFEST_TYPE,
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: `sha256:${'c'.repeat(64)}`, size: 485 },
    layers: [
      { mediaType: 'application/vnd.ollama.image.model', digest: big, size: 45949216 },
      { mediaType: 'application/vnd.ollama.image.license', digest: small, size: 11357 },
    ],
  });
  const ports = { registry: 0, blobs: 0 };
  const seenRegistry: SeenRequest[] = [];
  const seenBlobs: SeenRequest[] = [];

  const registryLeaf = await issueLeaf(ca, [registryHost]);
  const registry = https.createServer({ key: registryLeaf.keyPem, cert: registryLeaf.chainPem }, (req, res) => {
    seenRegistry.push({ method: req.method!, url: req.url!, headers: req.headers });
    if (opts.override) return opts.override(req, res, ports);
    if (req.url === '/v2/library/tiny/manifests/latest') {
      res.writeHead(200, { 'content-type': MANIFEST_TYPE, 'content-length': Buffer.byteLength(manifest) });
      res.end(req.method === 'HEAD' ? undefined : manifest);
      return;
    }
    const blob = req.url!.match(/^\/v2\/library\/tiny\/blobs\/(sha256:[0-9a-f]{64})$/);
    if (blob) {
      const d = blob[1]!.slice(7);
      res.writeHead(307, {
        location: `https://${blobHost}:${ports.blobs}/ollama/docker/registry/v2/blobs/sha256/${d.slice(0, 2)}/${d}/data?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=KEYID%2F20261122&X-Amz-Signature=SECRETSIGNATURE`,
        'content-length': 0,
      });
      res.end();
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('404 page not found');
  });
  await listen(registry);
  const registryRunning = track(registry);
  ports.registry = registryRunning.port;

  const blobLeaf = await issueLeaf(ca, [blobHost]);
  const blobs = https.createServer({ key: blobLeaf.keyPem, cert: blobLeaf.chainPem }, (req, res) => {
    seenBlobs.push({ method: req.method!, url: req.url!, headers: req.headers });
    const size = 11357;
    if (req.headers.range === 'bytes=0-0') {
      res.writeHead(206, { 'content-type': 'application/octet-stream', 'content-range': `bytes 0-0/${size}`, 'content-length': 1 });
      res.end('x');
      return;
    }
    // A whole body would be a download: the doctor must never ask for one.
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
    res.end(req.method === 'HEAD' ? undefined : Buffer.alloc(size));
  });
  await listen(blobs);
  const blobsRunning = track(blobs);
  ports.blobs = blobsRunning.port;

  return {
    ca,
    registry: { ...registryRunning, host: registryHost, seen: seenRegistry },
    blobs: { ...blobsRunning, host: blobHost, seen: seenBlobs },
    digest: small,
    close: async () => {
      await registryRunning.close();
      await blobsRunning.close();
    },
  };
}
