// The new layer's bytes. Reproducible on purpose: entries sorted by path, one fixed mtime (the
// image's own created time), uid/gid 0 unless the image's directory says otherwise, no user or
// group names, gzip without a name or time and with a fixed OS byte. The same image and CAs
// therefore give the same diff_id and digest, and trusting twice can be recognised.
//
// The tar is written here, byte for byte as tar-stream's pack writes it (test/unit/fix/image.test.ts holds
// the two to the same bytes), so that layers made by earlier versions keep their digests. Only a
// name plain ustar cannot hold (non-ASCII, or too long for its name and prefix fields) takes
// tar-stream itself, loaded then: it needs a PAX header, and tar-stream is ~30 KB to load.
import { createHash } from 'node:crypto';
import zlib from 'node:zlib';
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

interface Header {
  name: string;
  type: LayerFile['type'];
  mode: number;
  uid: number;
  gid: number;
  size: number;
  linkname?: string;
}

const TYPEFLAG = { file: '0', symlink: '2', directory: '5' } as const;
// tar-stream's defaults for a mode of 0.
const DEFAULT_MODE = { file: 0o644, symlink: 0o644, directory: 0o755 } as const;

/** An octal field of `digits` digits and a space, all sevens when the value does not fit (as tar-stream writes it). */
const octal = (value: number, digits: number): string => {
  const s = value.toString(8);
  return s.length > digits ? `${'7'.repeat(digits)} ` : `${s.padStart(digits, '0')} `;
};

/** The ustar header, or undefined when the name needs a PAX header (tar-stream's encode returning null). */
function ustar(h: Header, mtimeSeconds: number): Buffer | undefined {
  let name = h.name;
  let prefix = '';
  const ascii = (s: string) => Buffer.byteLength(s) === s.length;
  if (!ascii(name)) return undefined;
  while (name.length > 100) {
    const i = name.indexOf('/');
    if (i === -1) return undefined;
    prefix += prefix ? `/${name.slice(0, i)}` : name.slice(0, i);
    name = name.slice(i + 1);
  }
  if (prefix.length > 155 || (h.linkname && Buffer.byteLength(h.linkname) > 100)) return undefined;
  if (h.size.toString(8).length > 11) return undefined; // base-256 sizes: not for a layer of CA files
  const b = Buffer.alloc(512);
  b.write(name, 0, 'utf8');
  b.write(octal(h.mode & 0o7777, 6), 100, 'latin1');
  b.write(octal(h.uid, 6), 108, 'latin1');
  b.write(octal(h.gid, 6), 116, 'latin1');
  b.write(octal(h.size, 11), 124, 'latin1');
  b.write(octal(mtimeSeconds | 0, 11), 136, 'latin1');
  b.write(TYPEFLAG[h.type], 156, 'latin1');
  if (h.linkname) b.write(h.linkname, 157, 'utf8');
  b.write('ustar\x0000', 257, 'latin1');
  b.write(octal(0, 6), 329, 'latin1');
  b.write(octal(0, 6), 337, 'latin1');
  if (prefix) b.write(prefix, 345, 'utf8');
  let sum = 8 * 32;
  for (let i = 0; i < 148; i++) sum += b[i]!;
  for (let i = 156; i < 512; i++) sum += b[i]!;
  b.write(octal(sum, 6), 148, 'latin1');
  return b;
}

function headerOf(e: LayerFile): Header {
  // Directory names end in "/", as docker and umoci write them.
  const name = e.type === 'directory' ? `${e.path.slice(1)}/` : e.path.slice(1);
  const size = e.type === 'file' ? e.content!.length : 0;
  return { name, type: e.type, mode: e.mode || DEFAULT_MODE[e.type], uid: e.uid, gid: e.gid, size, ...(e.type === 'symlink' ? { linkname: e.linkname! } : {}) };
}

/** The layer tar through tar-stream: for names that need its PAX headers. */
async function packWithTarStream(sorted: LayerFile[], mtimeSeconds: number): Promise<Buffer> {
  const { default: tar } = await import('tar-stream');
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on('data', (c) => chunks.push(c as Buffer));
    pack.on('end', () => resolve());
    pack.on('error', reject);
  });
  const mtime = new Date(mtimeSeconds * 1000);
  for (const e of sorted) {
    const header = { name: e.type === 'directory' ? `${e.path.slice(1)}/` : e.path.slice(1), mode: e.mode, uid: e.uid, gid: e.gid, uname: '', gname: '', mtime };
    if (e.type === 'directory') pack.entry({ ...header, type: 'directory' });
    else if (e.type === 'symlink') pack.entry({ ...header, type: 'symlink', linkname: e.linkname! });
    else pack.entry({ ...header, type: 'file', size: e.content!.length }, e.content!);
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** The layer's tar: every entry's header, its data padded to 512 bytes, two zero blocks. */
export async function layerTar(entries: LayerFile[], mtimeSeconds: number): Promise<Buffer> {
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  // tar-stream writes the time in whole seconds of the Date it was given.
  const seconds = Math.trunc(new Date(mtimeSeconds * 1000).getTime() / 1000);
  const parts: Buffer[] = [];
  for (const e of sorted) {
    const header = ustar(headerOf(e), seconds);
    if (!header) return packWithTarStream(sorted, mtimeSeconds);
    parts.push(header);
    if (e.type === 'file' && e.content!.length > 0) {
      parts.push(e.content!);
      const rest = e.content!.length % 512;
      if (rest) parts.push(Buffer.alloc(512 - rest));
    }
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export async function buildLayer(entries: LayerFile[], mtimeSeconds: number): Promise<BuiltLayer> {
  const tarBytes = await layerTar(entries, mtimeSeconds);
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
