// `npx tsx bench/image.ts`: trusting a CA in a large image, against copying the same image with
// cp. A synthetic ~1 GiB image (one layer of 1 GiB of random bytes, one small Debian-like layer)
// is written as an OCI layout and as a classic docker save tarball; each is trusted into a new
// output in a child process (its time measured inside it, from the call to trustImage to its
// end, so without Node's start; its peak RSS is its own getrusage maxRSS), and copied with cp,
// interleaved, median of BENCH_RUNS runs (default 3). Size: BENCH_IMAGE_MIB (default 1024);
// place: BENCH_DIR (default the system's temp directory). Not part of the test suite: it needs
// a few GiB of disk and about a minute.
import { spawnSync } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { createWriteStream, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import tls from 'node:tls';
import zlib from 'node:zlib';
import tar from 'tar-stream';

const ROOT = path.resolve(import.meta.dirname, '..');
const SELF = fileURLToPath(import.meta.url);
const CA = path.join(ROOT, 'fixtures/scenarios/valid-rsa/ca.pem');

async function child(): Promise<void> {
  const [, , , mode, src, dst] = process.argv;
  const { trustImage } = await import('../src/fix/image/index.js');
  const { certificatesFromPem } = await import('../src/x509/load.js');
  const cas = certificatesFromPem(readFileSync(CA, 'latin1')).certificates;
  const t0 = performance.now();
  if (mode === 'trust') await trustImage(src!, dst!, cas);
  const ms = performance.now() - t0;
  process.stdout.write(JSON.stringify({ ms, maxRssKiB: process.resourceUsage().maxRSS }));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

const sha = () => createHash('sha256');

/** A layer tar holding one file of `bytes` random bytes, streamed to disk; returns its diff_id. */
async function bigLayer(file: string, bytes: number): Promise<string> {
  const pack = tar.pack();
  const out = createWriteStream(file);
  const h = sha();
  pack.on('data', (c) => h.update(c as Buffer));
  const written = new Promise<void>((resolve, reject) => {
    out.on('finish', () => resolve());
    out.on('error', reject);
  });
  pack.pipe(out as unknown as NodeJS.WritableStream);
  pack.entry({ name: 'data/', type: 'directory', mtime: new Date(0) });
  const entry = pack.entry({ name: 'data/blob.bin', size: bytes, mtime: new Date(0) });
  const chunk = Buffer.alloc(1 << 20);
  for (let left = bytes; left > 0; left -= chunk.length) {
    randomFillSync(chunk);
    const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
    if (!entry.write(Buffer.from(piece))) await new Promise<void>((r) => entry.once('drain', () => r()));
  }
  entry.end(Buffer.alloc(0));
  pack.finalize();
  await written;
  return `sha256:${h.digest('hex')}`;
}

async function smallLayer(): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c) => chunks.push(c as Buffer));
  const done = new Promise<void>((r) => pack.on('end', () => r()));
  const mtime = new Date(0);
  pack.entry({ name: 'etc/', type: 'directory', mtime });
  pack.entry({ name: 'etc/os-release', mtime }, 'ID=debian\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n');
  pack.entry({ name: 'etc/ssl/', type: 'directory', mtime });
  pack.entry({ name: 'etc/ssl/certs/', type: 'directory', mtime });
  pack.entry({ name: 'etc/ssl/certs/ca-certificates.crt', mtime }, `${tls.rootCertificates.join('\n')}\n`);
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** gzip a file to another, streaming; returns the digest of the compressed bytes. */
async function gzipFile(from: string, to: string): Promise<string> {
  const h = sha();
  const { pipeline } = await import('node:stream/promises');
  const { createReadStream } = await import('node:fs');
  const { Transform } = await import('node:stream');
  await pipeline(createReadStream(from), zlib.createGzip({ level: 1 }), new Transform({ transform(c, _e, cb) { h.update(c); cb(null, c); } }), createWriteStream(to));
  return `sha256:${h.digest('hex')}`;
}

async function build(dir: string, mib: number): Promise<{ layout: string; archive: string }> {
  const bigTar = path.join(dir, 'big.tar');
  const bigDiff = await bigLayer(bigTar, mib << 20);
  const small = await smallLayer();
  const smallDiff = `sha256:${sha().update(small).digest('hex')}`;
  const config = JSON.stringify({
    created: '2024-01-01T00:00:00Z', architecture: 'amd64', os: 'linux',
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: [bigDiff, smallDiff] },
    history: [{ created: '2024-01-01T00:00:00Z', created_by: 'big' }, { created: '2024-01-01T00:00:00Z', created_by: 'debian-like' }],
  });
  const configDigest = `sha256:${sha().update(config).digest('hex')}`;

  // OCI layout: gzip layers.
  const layout = path.join(dir, 'layout');
  const blobs = path.join(layout, 'blobs/sha256');
  mkdirSync(blobs, { recursive: true });
  const bigGz = path.join(dir, 'big.tar.gz');
  const bigGzDigest = await gzipFile(bigTar, bigGz);
  linkSync(bigGz, path.join(blobs, bigGzDigest.slice(7)));
  rmSync(bigGz);
  const smallGz = zlib.gzipSync(small);
  const smallGzDigest = `sha256:${sha().update(smallGz).digest('hex')}`;
  writeFileSync(path.join(blobs, smallGzDigest.slice(7)), smallGz);
  writeFileSync(path.join(blobs, configDigest.slice(7)), config);
  const manifest = JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
    layers: [
      { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: bigGzDigest, size: statSync(path.join(blobs, bigGzDigest.slice(7))).size },
      { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: smallGzDigest, size: smallGz.length },
    ],
  });
  const manifestDigest = `sha256:${sha().update(manifest).digest('hex')}`;
  writeFileSync(path.join(blobs, manifestDigest.slice(7)), manifest);
  writeFileSync(path.join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: manifestDigest, size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': 'latest' } }] }));
  writeFileSync(path.join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');

  // Classic docker save: uncompressed layers in <id>/layer.tar.
  const staging = path.join(dir, 'staging');
  const ids = [bigDiff, smallDiff].map((d) => d.slice(7));
  for (const id of ids) mkdirSync(path.join(staging, id), { recursive: true });
  linkSync(bigTar, path.join(staging, ids[0]!, 'layer.tar'));
  writeFileSync(path.join(staging, ids[1]!, 'layer.tar'), small);
  writeFileSync(path.join(staging, `${configDigest.slice(7)}.json`), config);
  writeFileSync(path.join(staging, 'manifest.json'), `${JSON.stringify([{ Config: `${configDigest.slice(7)}.json`, RepoTags: ['bench/big:latest'], Layers: ids.map((id) => `${id}/layer.tar`) }])}\n`);
  writeFileSync(path.join(staging, 'repositories'), `${JSON.stringify({ 'bench/big': { latest: ids[1] } })}\n`);
  const archive = path.join(dir, 'image.tar');
  const r = spawnSync('tar', ['--sort=name', '-cf', archive, '-C', staging, `${configDigest.slice(7)}.json`, ...ids, 'manifest.json', 'repositories']);
  if (r.status !== 0) throw new Error(`tar failed: ${r.stderr}`);
  rmSync(staging, { recursive: true });
  rmSync(bigTar);
  return { layout, archive };
}

// Dirty pages of the previous copy are written back before the next one is timed, so that one
// side does not pay for the other's writeback.
const settle = () => spawnSync('sync');

function timeCp(src: string, dst: string): number {
  rmSync(dst, { recursive: true, force: true });
  settle();
  const t0 = performance.now();
  const r = spawnSync('cp', ['-r', src, dst]);
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`cp failed: ${r.stderr}`);
  rmSync(dst, { recursive: true, force: true });
  return ms;
}

function trustChild(mode: 'trust' | 'idle', src: string, dst: string): { ms: number; wallMs: number; maxRssKiB: number } {
  rmSync(dst, { recursive: true, force: true });
  settle();
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [...process.execArgv, SELF, '--child', mode, src, dst], { encoding: 'utf8' });
  const wallMs = performance.now() - t0;
  if (r.status !== 0) throw new Error(`child failed:\n${r.stderr}`);
  rmSync(dst, { recursive: true, force: true });
  return { ...(JSON.parse(r.stdout) as { ms: number; maxRssKiB: number }), wallMs };
}

async function main(): Promise<void> {
  const mib = Number(process.env.BENCH_IMAGE_MIB ?? 1024);
  const runs = Number(process.env.BENCH_RUNS ?? 3);
  const dir = mkdtempSync(path.join(process.env.BENCH_DIR ?? os.tmpdir(), 'ollama-tls-bench-image-'));
  try {
    console.log(`Building a ${mib} MiB image (OCI layout and docker save) in ${dir}...`);
    const t0 = performance.now();
    const { layout, archive } = await build(dir, mib);
    console.log(`built in ${((performance.now() - t0) / 1000).toFixed(1)} s: layout ${mib} MiB + docker save ${(statSync(archive).size / 2 ** 20).toFixed(0)} MiB`);
    const idle = trustChild('idle', layout, path.join(dir, 'unused'));
    console.log(`Node + ollama-tls loaded, doing nothing: peak RSS ${(idle.maxRssKiB / 1024).toFixed(0)} MiB`);
    console.log('');
    console.log('format                | cp -r (median) | trustImage (median) | ratio | trust peak RSS');
    console.log('----------------------|----------------|---------------------|-------|---------------');
    for (const [label, src] of [['OCI layout (gzip)', layout], ['docker save (tar)', archive]] as const) {
      const dst = path.join(dir, 'out');
      const cp: number[] = [];
      const trust: number[] = [];
      let rss = 0;
      // One warm-up of each, so both read from the page cache.
      timeCp(src, dst);
      trustChild('trust', src, dst);
      for (let i = 0; i < runs; i++) {
        cp.push(timeCp(src, dst));
        const t = trustChild('trust', src, dst);
        trust.push(t.ms);
        rss = Math.max(rss, t.maxRssKiB);
      }
      const mc = median(cp);
      const mt = median(trust);
      console.log(`${label.padEnd(22)}| ${(mc / 1000).toFixed(2).padStart(11)} s | ${(mt / 1000).toFixed(2).padStart(16)} s | ${(mt / mc).toFixed(2).padStart(5)} | ${(rss / 1024).toFixed(0).padStart(9)} MiB`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') await child();
else await main();
