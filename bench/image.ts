// `npx tsx bench/image.ts` (the second half of `npm run bench`): the real CLI trusting a CA in
// images, as ratios from paired runs (bench/paired.ts) against the same peers each time:
//   trust --image LAYOUT (in place), a ~1 GiB OCI layout / the same on a ~5 MiB one: O(CA), not O(image)
//   trust --image ARCHIVE --output DST, a ~1 GiB docker save / cp of the archive
// The images are synthetic: one layer of random bytes (BENCH_IMAGE_MIB, default 1024) under a
// small Debian-like layer. BENCH_RUNS pairs (default 5); BENCH_DIR for the images (a few GiB).
// The in-place figure runs with the layer index (src/fix/image/layer-index.ts) the warm-up pair
// filled, as every run after the first on an image does; a second figure, for reference, gives
// each run an empty index (the first run on an image). BENCH_BASE_BIN: another build's launcher
// measured on the same images in the same run, figure by figure (before/after a change).
import { spawnSync } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { copyFileSync, createWriteStream, linkSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import zlib from 'node:zlib';
import tar from 'tar-stream';
import { paired, summary, type Figure, type Run } from './paired.js';

const ROOT = path.resolve(import.meta.dirname, '..');
// BENCH_BIN: another build's launcher (a checkout before a change), for before/after figures.
const BIN = process.env.BENCH_BIN ?? path.join(ROOT, 'bin/ollama-tls.js');
const BASE_BIN = process.env.BENCH_BASE_BIN;
const CA = path.join(ROOT, 'fixtures/scenarios/valid-rsa/ca.pem');

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

// Dirty pages of the previous run are written back before the next one is timed, so that one
// side does not pay for the other's writeback.
const settle = () => spawnSync('sync');

/** A fresh copy of a layout to change in place: blobs hard-linked (never rewritten), the rest copied. */
function restoreLayout(pristine: string, work: string): void {
  rmSync(work, { recursive: true, force: true });
  const r = spawnSync('cp', ['-al', pristine, work]);
  if (r.status !== 0) throw new Error(`cp -al failed: ${r.stderr}`);
  for (const f of ['index.json', 'oci-layout']) {
    rmSync(path.join(work, f));
    copyFileSync(path.join(pristine, f), path.join(work, f));
  }
  settle();
}

/** The CLI's trust; `cache` is its XDG cache directory (where the layer index lives). */
const trustRun = (bin: string, args: string[], cache: string, before: () => void): Run => ({
  argv: [process.execPath, bin, 'trust', '--ca', CA, ...args, '--yes'], env: { ...process.env, NO_COLOR: '1', XDG_CACHE_HOME: cache }, before,
});

async function main(): Promise<void> {
  const mib = Number(process.env.BENCH_IMAGE_MIB ?? 1024);
  const runs = Number(process.env.BENCH_RUNS ?? 5);
  const dir = mkdtempSync(path.join(process.env.BENCH_DIR ?? os.tmpdir(), 'ollama-tls-bench-image-'));
  try {
    console.log(`Building a ${mib} MiB image and a 5 MiB one (OCI layout and docker save) in ${dir}...`);
    const t0 = performance.now();
    mkdirSync(path.join(dir, 'big'));
    mkdirSync(path.join(dir, 'small'));
    const big = await build(path.join(dir, 'big'), mib);
    const small = await build(path.join(dir, 'small'), 5);
    console.log(`built in ${((performance.now() - t0) / 1000).toFixed(1)} s: docker save ${(statSync(big.archive).size / 2 ** 20).toFixed(0)} MiB\n`);
    const figures: Figure[] = [];
    const bigWork = path.join(dir, 'big-work');
    const smallWork = path.join(dir, 'small-work');
    const out = path.join(dir, 'out.tar');
    const fresh = () => {
      rmSync(out, { force: true });
      settle();
    };
    const builds: [string, string][] = [['', BIN], ...(BASE_BIN ? [[' (base build)', BASE_BIN] as [string, string]] : [])];
    for (const [label, bin] of builds) {
      const cache = path.join(dir, `cache${label ? '-base' : ''}`);
      figures.push(await paired(
        `trust --image in place: ${mib} MiB OCI layout / 5 MiB${label}`,
        trustRun(bin, ['--image', bigWork], cache, () => restoreLayout(big.layout, bigWork)),
        trustRun(bin, ['--image', smallWork], cache, () => restoreLayout(small.layout, smallWork)),
        1.5, runs, 1,
      ));
      // The first run on an image: an empty layer index each time.
      const cold = path.join(dir, 'cache-cold');
      const emptied = (layout: string, work: string) => () => {
        rmSync(cold, { recursive: true, force: true });
        restoreLayout(layout, work);
      };
      figures.push(await paired(
        `trust --image in place, empty layer index: ${mib} MiB / 5 MiB${label}`,
        trustRun(bin, ['--image', bigWork], cold, emptied(big.layout, bigWork)),
        trustRun(bin, ['--image', smallWork], cold, emptied(small.layout, smallWork)),
        undefined, runs, 1,
      ));
      figures.push(await paired(
        `trust --image docker-archive --output: ${mib} MiB / cp of the archive${label}`,
        trustRun(bin, ['--image', big.archive, '--output', out], cache, fresh),
        { argv: ['cp', big.archive, out], before: fresh },
        1.5, runs, 1,
      ));
    }
    summary(figures);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
