// The new layer's bytes. Reproducible on purpose: entries sorted by path, one fixed mtime (the
// image's own created time), uid/gid 0 unless the image's directory says otherwise, no user or
// group names, gzip without a name or time and with a fixed OS byte. The same image and CAs
// therefore give the same diff_id and digest, and trusting twice can be recognised.
import { createHash } from 'node:crypto';
import zlib from 'node:zlib';
import tar from 'tar-stream';
import type { LayerFile } from './trust-files.js';

export interface BuiltLayer {
  /** The uncompressed tar, as docker save's layer.tar stores it. */
  tar: Buffer;
  gzip: Buffer;
  /** sha256 of the uncompressed tar: the config's rootfs.diff_ids entry. */
  diffId: string;
  /** sha256 of the gzip bytes: the manifest's layer digest. */
  gzipDigest: string;
}

const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export async function buildLayer(entries: LayerFile[], mtimeSeconds: number): Promise<BuiltLayer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on('data', (c) => chunks.push(c as Buffer));
    pack.on('end', () => resolve());
    pack.on('error', reject);
  });
  const mtime = new Date(mtimeSeconds * 1000);
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const e of sorted) {
    // Directory names end in "/", as docker and umoci write them.
    const header = { name: e.type === 'directory' ? `${e.path.slice(1)}/` : e.path.slice(1), mode: e.mode, uid: e.uid, gid: e.gid, uname: '', gname: '', mtime };
    if (e.type === 'directory') pack.entry({ ...header, type: 'directory' });
    else if (e.type === 'symlink') pack.entry({ ...header, type: 'symlink', linkname: e.linkname! });
    else pack.entry({ ...header, type: 'file', size: e.content!.length }, e.content!);
  }
  pack.finalize();
  await done;
  const tarBytes = Buffer.concat(chunks);
  // Compressed when first asked for: a classic docker save stores the tar itself, and gzip at
  // level 9 of a ~200 KB bundle is most of the layer's cost.
  let gzipped: { bytes: Buffer; digest: string } | undefined;
  const compressed = () => {
    if (!gzipped) {
      const bytes = zlib.gzipSync(tarBytes, { level: 9 });
      // zlib writes the OS it was built for in byte 9 (3 = Unix); fix it so every platform agrees.
      bytes[9] = 3;
      gzipped = { bytes, digest: sha256(bytes) };
    }
    return gzipped;
  };
  return {
    tar: tarBytes, diffId: sha256(tarBytes),
    get gzip() { return compressed().bytes; },
    get gzipDigest() { return compressed().digest; },
  };
}
