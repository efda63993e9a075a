// One pass over one layer, keeping what the merged view needs: every entry's path, type, mode,
// owner and link target (a few dozen bytes each), and the bytes of the few files that hold trust
// (os-release, the CA bundles, ollama-tls's own files). Layer data itself is never held: an
// uncompressed layer is walked by its headers alone, a compressed one is inflated and its
// headers read as the bytes go by (file data is passed over, never copied), and only the
// wanted files are collected from the stream.
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Transform } from 'node:stream';
import zlib from 'node:zlib';
import { TarStreamReader, walkTar, type EntryType } from './tar-format.js';

export interface LayerRecord {
  /** Absolute, normalised ("/etc/ssl/certs/x.pem"); whiteouts keep their ".wh." names. */
  path: string;
  type: EntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Symlink target as written; hard link target as an absolute path in the layer. */
  linkname?: string;
  /** The file's bytes, when `want` asked for them. */
  content?: Buffer;
}

/** Where a layer's bytes are: a whole blob file, or a byte range of an archive. */
export interface LayerLocation {
  file: string;
  start: number;
  /** Exclusive. */
  end: number;
  /** For messages: the layer's digest or archive path. */
  label: string;
}

export type Compression = 'none' | 'gzip' | 'zstd';

/** Decides which files' bytes to keep, from the path and size alone. */
export type Want = (path: string, size: number) => boolean;

/** The largest file ever buffered: real CA bundles are well under 1 MiB. */
export const MAX_BUFFERED = 16 << 20;

/** Tar names in layers are relative ("etc/x", "./etc/x", sometimes "/etc/x"); make them absolute. */
export function normaliseName(name: string): string {
  const p = path.posix.normalize(`/${name}`);
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
}

async function sniff(fh: FileHandle, at: number): Promise<Compression> {
  const b = Buffer.alloc(4);
  const { bytesRead } = await fh.read(b, 0, 4, at);
  if (bytesRead >= 2 && b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
  if (bytesRead === 4 && b.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}

// Large chunks: fewer trips between zlib's thread and JavaScript for a layer of big files.
const CHUNK = 1 << 20;

function decompressor(kind: Compression, label: string): Transform {
  if (kind === 'gzip') return zlib.createGunzip({ chunkSize: CHUNK });
  // zlib gained zstd in Node 22.15 / 23.8; older runtimes cannot read such layers at all.
  const z = zlib as unknown as { createZstdDecompress?: (o?: { chunkSize?: number }) => Transform };
  if (typeof z.createZstdDecompress !== 'function') {
    throw new Error(`layer ${label} is zstd-compressed, and this Node.js (${process.version}) has no zstd decoder: run ollama-tls on Node.js 22.15 or later`);
  }
  return z.createZstdDecompress({ chunkSize: CHUNK });
}

function record(name: string, h: { type: EntryType; mode: number; uid: number; gid: number; size: number; linkname?: string | null }): LayerRecord {
  const r: LayerRecord = { path: normaliseName(name), type: h.type, mode: h.mode & 0o7777, uid: h.uid, gid: h.gid, size: h.size };
  if (h.type === 'symlink' && h.linkname) r.linkname = h.linkname;
  if (h.type === 'link' && h.linkname) r.linkname = normaliseName(h.linkname);
  return r;
}

/**
 * Read one layer. `onBytes` reports progress in source bytes (compressed bytes for a compressed
 * layer, the whole range at once for an uncompressed one, whose data is skipped).
 */
export async function scanLayer(loc: LayerLocation, want: Want, onBytes: (n: number) => void = () => {}): Promise<LayerRecord[]> {
  const fh = await open(loc.file, 'r');
  try {
    const kind = await sniff(fh, loc.start);
    if (kind === 'none') {
      const out: LayerRecord[] = [];
      for await (const e of walkTar(fh, loc.start, loc.end)) {
        const r = record(e.name, e);
        if (r.type === 'file' && r.size <= MAX_BUFFERED && want(r.path, r.size)) r.content = await e.read();
        out.push(r);
      }
      onBytes(loc.end - loc.start);
      return out;
    }
    return await scanStream(loc, kind, want, onBytes);
  } finally {
    await fh.close();
  }
}

async function scanStream(loc: LayerLocation, kind: Compression, want: Want, onBytes: (n: number) => void): Promise<LayerRecord[]> {
  const source = createReadStream(loc.file, { start: loc.start, end: loc.end - 1, highWaterMark: CHUNK });
  const inflate = decompressor(kind, loc.label);
  source.on('data', (c: string | Buffer) => onBytes(c.length));
  source.on('error', (err) => inflate.destroy(err));
  source.pipe(inflate);
  const out: LayerRecord[] = [];
  const reader = new TarStreamReader((h) => {
    const r = record(h.name, h);
    out.push(r);
    return r.type === 'file' && r.size <= MAX_BUFFERED && want(r.path, r.size) ? (data) => (r.content = data) : undefined;
  });
  try {
    // The whole stream is read even after the tar's end, so that gzip checks its trailer.
    for await (const chunk of inflate) if (!reader.ended) reader.push(chunk as Buffer);
    reader.finish();
  } catch (err) {
    throw new Error(`layer ${loc.label}: ${(err as Error).message}`);
  } finally {
    source.destroy();
    inflate.destroy();
  }
  return out;
}
