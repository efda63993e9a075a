// Certificates met in an earlier run, by content: where their fields are (Certificate.outline),
// kept in one file between runs, so that the ~150 roots of the trust stores are not walked and
// checked again every time (cold, that outline parse is ~5 ms of a doctor run). Content-addressed:
// an entry holds the whole DER and serves only those very bytes, so a store that changes cannot
// make it stale; another build of the parser (its `id`) starts the file afresh. Only certificates
// that parsed are recorded, so a damaged one is judged damaged again on every run.
import { statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir } from '../platform/cache-dir.js';
import { align4, readCacheFile, writeCacheFile } from '../platform/cache-file.js';
import { OUTLINE_FIELDS, type CertificateOutline } from './certificate.js';

const MAGIC = 0x4f544c32; // "OTL2": the layout in parse()
/** Numbers in one outline. */
export const OUTLINE_LENGTH = 3 + 4 * OUTLINE_FIELDS.length;
/** More than any store holds; past it a run keeps only what it used. */
const MAX_ENTRIES = 4096;
const MAX_FILE_BYTES = 32 << 20;

interface Entry { der: Buffer; outline: CertificateOutline; used: boolean }

export class OutlineCache {
  private entries = new Map<string, Entry[]>();
  private dirty = false;
  private loaded = false;

  constructor(readonly file: string, readonly id: string) {}

  /** The outline recorded for exactly these bytes. */
  get(der: Buffer): CertificateOutline | undefined {
    this.loadOnce();
    const e = this.entries.get(keyOf(der))?.find((x) => x.der.equals(der));
    if (!e) return undefined;
    e.used = true;
    return e.outline;
  }

  add(der: Buffer, outline: CertificateOutline): void {
    this.loadOnce();
    const key = keyOf(der);
    const list = this.entries.get(key) ?? [];
    if (list.some((x) => x.der.equals(der))) return;
    // A copy: `der` is usually a view into a whole PEM file's decoded bytes.
    list.push({ der: Buffer.from(der), outline, used: true });
    this.entries.set(key, list);
    this.dirty = true;
  }

  /** The file is read on first use: a run whose stores all come from their snapshot never needs it. */
  private loadOnce(): void {
    if (!this.loaded) this.load();
  }

  /** Reads the file; a missing, foreign, damaged or other build's file leaves the cache empty. */
  load(): this {
    this.loaded = true;
    const buf = readCacheFile(this.file, MAX_FILE_BYTES);
    try {
      if (buf) this.parse(buf);
    } catch {
      this.entries.clear();
    }
    return this;
  }

  // Layout: magic, id length (u32), id, entry count (u32), padding to 4 bytes; then every
  // outline (count x OUTLINE_LENGTH int32), every DER length (count x u32), every DER back to back.
  // Typed-array views read it without a loop over fields: loading is cheaper than what it saves.
  private parse(buf: Buffer): void {
    if (buf.length < 12 || buf.readUInt32LE(0) !== MAGIC) return;
    const idLength = buf.readUInt32LE(4);
    if (buf.toString('utf8', 8, 8 + idLength) !== this.id) return;
    const n = buf.readUInt32LE(8 + idLength);
    const tables = align4(12 + idLength);
    const derStart = tables + 4 * n * (OUTLINE_LENGTH + 1);
    if (derStart > buf.length) throw new RangeError('damaged outline cache');
    // A copy into memory of its own: Int32Array needs 4-byte alignment (and little-endian bytes,
    // which a cache written and read on one machine has).
    const ints = new Int32Array(buf.buffer.slice(buf.byteOffset + tables, buf.byteOffset + derStart));
    let at = derStart;
    for (let i = 0; i < n; i++) {
      const outline = ints.subarray(i * OUTLINE_LENGTH, (i + 1) * OUTLINE_LENGTH);
      const derLength = ints[n * OUTLINE_LENGTH + i]!;
      const der = buf.subarray(at, at + derLength);
      at += derLength;
      if (der.length !== derLength || !plausible(der, outline)) throw new RangeError('damaged outline cache');
      const key = keyOf(der);
      const list = this.entries.get(key);
      const entry = { der, outline, used: false };
      if (list) list.push(entry);
      else this.entries.set(key, [entry]);
    }
  }

  /** Writes the file when this run added to it (whole, then renamed over the old one); errors are ignored. */
  save(): void {
    if (!this.dirty) return;
    let all = [...this.entries.values()].flat();
    if (all.length > MAX_ENTRIES) all = all.filter((e) => e.used).slice(-MAX_ENTRIES);
    const id = Buffer.from(this.id, 'utf8');
    const tables = align4(12 + id.length);
    const head = Buffer.alloc(tables);
    head.writeUInt32LE(MAGIC, 0);
    head.writeUInt32LE(id.length, 4);
    id.copy(head, 8);
    head.writeUInt32LE(all.length, 8 + id.length);
    const ints = new Int32Array(all.length * (OUTLINE_LENGTH + 1));
    all.forEach((e, i) => {
      ints.set(e.outline, i * OUTLINE_LENGTH);
      ints[all.length * OUTLINE_LENGTH + i] = e.der.length;
    });
    if (writeCacheFile(this.file, [head, Buffer.from(ints.buffer), ...all.map((e) => e.der)])) this.dirty = false;
  }
}

/** The last bytes of a DER are its signature: unique per certificate (load.ts keys the same way). */
const keyOf = (der: Buffer) => der.toString('latin1', Math.max(0, der.length - 24));

/** Offsets inside the DER, in order, each at the tag it names: a file damaged on disk is refused. */
export function plausible(der: Buffer, o: CertificateOutline): boolean {
  if (o.length !== OUTLINE_LENGTH || !(o[0]! >= 1 && o[0]! <= 256) || !(o[1]! >= 0 && o[1]! < o[2]! && o[2]! <= der.length)) return false;
  for (let k = 0; k < OUTLINE_FIELDS.length; k++) {
    const tag = o[3 + 4 * k]!, start = o[4 + 4 * k]!, body = o[5 + 4 * k]!, end = o[6 + 4 * k]!;
    if (tag === 0 && OUTLINE_FIELDS[k] === 'extensions') continue;
    if (!(start >= 0 && start < body && body <= end && end <= der.length && der[start] === tag)) return false;
  }
  return true;
}

/** The cache file, in ollama-tls's cache directory (platform/cache-dir.ts). */
export function outlineCacheFile(env: Record<string, string | undefined> = process.env): string | undefined {
  const dir = cacheDir(env);
  return dir ? path.join(dir, 'certificate-outlines.bin') : undefined;
}

/**
 * Which parser wrote the outlines: the tool's version and the file this code runs from (a rebuild
 * changes its size or time), so a changed parser never trusts an older one's outlines.
 */
export function parserIdentity(version: string): string {
  try {
    const st = statSync(fileURLToPath(import.meta.url));
    return `${version} ${st.size} ${st.mtimeMs}`;
  } catch {
    return `${version} unknown build ${Math.random()}`;
  }
}
