// The tar format, read by position. A docker save archive and an uncompressed layer are files on
// disk, so their entries can be listed by reading the 512-byte headers alone and seeking past the
// data: a 1 GiB layer.tar costs a few reads, not a gigabyte of I/O. The reader understands what
// image tools write: ustar (with its name prefix), PAX extended headers (path, linkpath, size)
// and GNU long names, with numbers in octal or GNU base-256.
import type { FileHandle } from 'node:fs/promises';

export type EntryType = 'file' | 'link' | 'symlink' | 'directory' | 'other';

export interface TarEntry {
  name: string;
  type: EntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  linkname: string;
  /** Where the entry starts (its first header, extended headers included): copy from here to keep it as is. */
  start: number;
  /** Where its data starts and ends. */
  dataStart: number;
  dataEnd: number;
  /** Where the next entry starts (data padded to 512). */
  next: number;
}

const BLOCK = 512;
const pad = (n: number): number => Math.ceil(n / BLOCK) * BLOCK;

/** A tar number field: octal ASCII (space or NUL terminated), or GNU base-256 when the top bit is set. */
function readNumber(buf: Buffer, off: number, len: number): number {
  if (buf[off]! & 0x80) {
    let n = buf[off]! & 0x7f;
    for (let i = 1; i < len; i++) n = n * 256 + buf[off + i]!;
    return n;
  }
  const text = buf.toString('latin1', off, off + len).replace(/\0.*$/s, '').trim();
  return text ? parseInt(text, 8) : 0;
}

const readString = (buf: Buffer, off: number, len: number): string => {
  const end = buf.indexOf(0, off);
  return buf.toString('utf8', off, end < 0 || end > off + len ? off + len : end);
};

function checksumOk(h: Buffer): boolean {
  let unsigned = 0;
  for (let i = 0; i < BLOCK; i++) unsigned += i >= 148 && i < 156 ? 0x20 : h[i]!;
  return unsigned === readNumber(h, 148, 8);
}

/** PAX records: "<length> <key>=<value>\n". */
function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space < 0) break;
    const len = parseInt(data.toString('latin1', at, space), 10);
    if (!(len > 0)) break;
    const record = data.toString('utf8', space + 1, at + len - 1);
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    at += len;
  }
  return out;
}

function entryType(flag: string, name: string): EntryType {
  switch (flag) {
    case '0': case '\0': case '7': return name.endsWith('/') ? 'directory' : 'file';
    case '1': return 'link';
    case '2': return 'symlink';
    case '5': return 'directory';
    default: return 'other';
  }
}

/**
 * Reads through a window cache: consecutive small headers and files (a layer's /etc) cost one
 * read per 64 KiB instead of one per header.
 */
class Window {
  private buf = Buffer.alloc(0);
  private at = -1;
  constructor(private readonly fh: FileHandle, private readonly end: number) {}

  async read(pos: number, len: number): Promise<Buffer> {
    if (len > 1 << 16) {
      const out = Buffer.alloc(len);
      const { bytesRead } = await this.fh.read(out, 0, len, pos);
      return out.subarray(0, bytesRead);
    }
    if (this.at < 0 || pos < this.at || pos + len > this.at + this.buf.length) {
      const want = Math.max(len, Math.min(1 << 16, this.end - pos));
      const fresh = Buffer.alloc(Math.max(0, want));
      const { bytesRead } = await this.fh.read(fresh, 0, fresh.length, pos);
      this.buf = fresh.subarray(0, bytesRead);
      this.at = pos;
    }
    const from = pos - this.at;
    return this.buf.subarray(from, Math.min(from + len, this.buf.length));
  }
}

/** An entry's header fields, extension headers applied; `size` is the data that follows it. */
export type EntryHeader = Pick<TarEntry, 'name' | 'type' | 'linkname' | 'size' | 'mode' | 'uid' | 'gid'>;

export type HeaderBlock =
  | { kind: 'end' }
  /** PAX or GNU long-name data for the next entry: hand it to extension(). */
  | { kind: 'extension'; flag: string; size: number }
  | { kind: 'entry'; header: EntryHeader };

/**
 * Header blocks decoded one by one, whether they come from a file (walkTar) or a stream
 * (TarStreamReader): extension headers (PAX, GNU long names) wait here for the entry they describe.
 */
export class HeaderDecoder {
  private longName: string | undefined;
  private longLink: string | undefined;
  private pax: Record<string, string> = {};

  /** One 512-byte block at offset `pos` (for messages). */
  decode(h: Buffer, pos: number): HeaderBlock {
    if (h.every((b) => b === 0)) return { kind: 'end' };
    if (!checksumOk(h)) throw new Error(`not a tar archive, or corrupt at offset ${pos}`);
    const flag = String.fromCharCode(h[156]!);
    let size = readNumber(h, 124, 12);
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') return { kind: 'extension', flag, size };
    const pax = this.pax;
    let name = readString(h, 0, 100);
    const magic = h.toString('latin1', 257, 263);
    if (magic.startsWith('ustar') && magic !== 'ustar ' && h[345] !== 0) name = `${readString(h, 345, 155)}/${name}`;
    if (this.longName !== undefined) name = this.longName;
    if (pax.path !== undefined) name = pax.path;
    let linkname = readString(h, 157, 100);
    if (this.longLink !== undefined) linkname = this.longLink;
    if (pax.linkpath !== undefined) linkname = pax.linkpath;
    if (pax.size !== undefined) size = parseInt(pax.size, 10);
    const type = entryType(flag, name);
    const header: EntryHeader = {
      name, type, linkname,
      // Links and directories have no data, whatever the size field says.
      size: type === 'file' || type === 'other' ? size : 0,
      mode: readNumber(h, 100, 8) & 0o7777,
      uid: pax.uid !== undefined ? parseInt(pax.uid, 10) : readNumber(h, 108, 8),
      gid: pax.gid !== undefined ? parseInt(pax.gid, 10) : readNumber(h, 116, 8),
    };
    this.longName = this.longLink = undefined;
    this.pax = {};
    return { kind: 'entry', header };
  }

  /** The data of the extension header decode() just returned. */
  extension(flag: string, data: Buffer): void {
    if (flag === 'x') this.pax = { ...this.pax, ...parsePax(data) };
    else if (flag === 'L') this.longName = data.toString('utf8').replace(/\0+$/, '');
    else if (flag === 'K') this.longLink = data.toString('utf8').replace(/\0+$/, '');
    // 'g' (global PAX) only carries defaults Docker and the OCI tools never rely on.
  }
}

/**
 * The entries of a tar stored in `fh` between `start` and `end`, in order. Stops at the
 * end-of-archive blocks (or the end of the range); throws on a corrupt header.
 */
export async function* walkTar(fh: FileHandle, start: number, end: number): AsyncGenerator<TarEntry & { read(): Promise<Buffer> }> {
  const win = new Window(fh, end);
  const decoder = new HeaderDecoder();
  let pos = start;
  let entryStart = start;
  while (pos + BLOCK <= end) {
    const h = await win.read(pos, BLOCK);
    if (h.length < BLOCK) break;
    const block = decoder.decode(h, pos);
    if (block.kind === 'end') break;
    const dataStart = pos + BLOCK;
    if (block.kind === 'extension') {
      decoder.extension(block.flag, await win.read(dataStart, block.size));
      pos = dataStart + pad(block.size);
      continue;
    }
    const { size } = block.header;
    const entry = {
      ...block.header,
      start: entryStart, dataStart, dataEnd: dataStart + size, next: dataStart + pad(size),
      read: async () => Buffer.from(await win.read(dataStart, size)),
    };
    if (entry.dataEnd > end) throw new Error(`tar entry ${entry.name} runs past the end of the archive`);
    yield entry;
    pos = entry.next;
    entryStart = pos;
  }
}

// PAX records and GNU long names: a few hundred bytes in practice; more is a broken or hostile tar.
const MAX_EXTENSION = 1 << 20;

/**
 * The same reading over a stream (an inflated layer), fed chunk by chunk: headers are decoded
 * as they go by and file data is passed over without being copied, unless `onEntry` returns a
 * function to receive it. Reading stops at the end-of-archive block, as Go's archive/tar does.
 */
export class TarStreamReader {
  private readonly decoder = new HeaderDecoder();
  private readonly head = Buffer.alloc(BLOCK);
  private headFill = 0;
  /** Bytes still to pass over (data nobody wants, padding). */
  private skip = 0;
  /** Data being gathered: an extension header's, or a wanted file's. */
  private gather: { buf: Buffer; fill: number; done: (data: Buffer) => void; pad: number } | undefined;
  /** Stream offset of the next byte (for messages). */
  private offset = 0;
  ended = false;

  constructor(private readonly onEntry: (h: EntryHeader) => ((data: Buffer) => void) | undefined) {}

  push(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length && !this.ended) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i);
        this.skip -= n;
        i += n;
        continue;
      }
      const g = this.gather;
      if (g) {
        const n = Math.min(g.buf.length - g.fill, chunk.length - i);
        chunk.copy(g.buf, g.fill, i, i + n);
        g.fill += n;
        i += n;
        if (g.fill === g.buf.length) {
          this.gather = undefined;
          this.skip = g.pad;
          g.done(g.buf);
        }
        continue;
      }
      const n = Math.min(BLOCK - this.headFill, chunk.length - i);
      chunk.copy(this.head, this.headFill, i, i + n);
      this.headFill += n;
      i += n;
      if (this.headFill < BLOCK) continue;
      this.headFill = 0;
      const block = this.decoder.decode(this.head, this.offset + i - BLOCK);
      if (block.kind === 'end') this.ended = true;
      else if (block.kind === 'extension') {
        if (block.size > MAX_EXTENSION) throw new Error(`an extended header of ${block.size} bytes at offset ${this.offset + i - BLOCK}`);
        this.take(block.size, (data) => this.decoder.extension(block.flag, data));
      }
      else {
        const sink = this.onEntry(block.header);
        if (sink) this.take(block.header.size, sink);
        else this.skip = pad(block.header.size);
      }
    }
    this.offset += chunk.length;
  }

  private take(size: number, done: (data: Buffer) => void): void {
    if (size === 0) done(Buffer.alloc(0));
    else this.gather = { buf: Buffer.allocUnsafe(size), fill: 0, done, pad: pad(size) - size };
  }

  /** The stream is over: throws when it stopped inside an entry. */
  finish(): void {
    if (!this.ended && (this.headFill > 0 || this.skip > 0 || this.gather)) throw new Error('the tar stream ends inside an entry');
  }
}

function writeOctal(buf: Buffer, value: number, off: number, len: number): void {
  buf.write(`${value.toString(8).padStart(len - 1, '0')}\0`, off, len, 'latin1');
}

/**
 * A ustar header for the small metadata files ollama-tls adds to an archive (manifest.json, a
 * config, a layer): names are short and known, so no extension headers are needed.
 */
export function ustarHeader(e: { name: string; size: number; type?: 'file' | 'symlink'; linkname?: string; mode?: number; mtime?: number }): Buffer {
  const name = Buffer.from(e.name, 'utf8');
  if (name.length > 100) throw new Error(`archive entry name too long for ustar: ${e.name}`);
  const h = Buffer.alloc(BLOCK);
  name.copy(h, 0);
  writeOctal(h, e.mode ?? 0o644, 100, 8);
  writeOctal(h, 0, 108, 8);
  writeOctal(h, 0, 116, 8);
  writeOctal(h, e.size, 124, 12);
  writeOctal(h, e.mtime ?? 0, 136, 12);
  h.write(e.type === 'symlink' ? '2' : '0', 156, 'latin1');
  if (e.linkname) h.write(e.linkname, 157, 100, 'utf8');
  h.write('ustar\x0000', 257, 'latin1');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return h;
}

/** Zero padding after `size` bytes of data. */
export const padding = (size: number): Buffer => Buffer.alloc(pad(size) - size);

/** The end-of-archive marker: two zero blocks. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);
