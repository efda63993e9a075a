// What a layer holds, remembered: the scan of a layer (every entry's metadata, the bytes of the
// few trust files) kept by the layer's digest, so that trusting a CA in a 1 GiB image again (a
// new CA, an untrust, a re-run) reads the layer's index instead of inflating the layer: the work
// is O(CA), not O(image).
//
// Where: the user's cache directory ($XDG_CACHE_HOME, else ~/.cache, per the XDG base directory
// spec), ollama-tls/layers/. Not beside the layout: an OCI layout directory holds oci-layout,
// index.json and blobs by the spec, and tools that copy or push it must not meet our files; an
// archive has nowhere to keep one; and a read-only layout gains from it too.
//
// When an entry applies: the layer's digest names it, and the file it was read from must be the
// very same one (device, inode, size, modification time, byte range). A digest alone would let
// a blob that lies about its digest speak for every other copy of that layer (its trust files
// planted in another image's new layer); proving the digest means hashing every byte, which
// costs more than the inflating it would save. A changed layer has another digest, and a
// rewritten blob or archive another inode or time: it is read afresh. Anything unreadable or
// odd in an entry is a miss.
import { randomBytes, createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cacheDir } from '../../platform/cache-dir.js';
import { MAX_BUFFERED, type LayerLocation, type LayerRecord } from './layer-scan.js';
import type { EntryType } from './tar-format.js';
import { fileStamp } from '../../platform/file-stamp.js';

// Bump when LayerRecord's meaning or the scan's rules change: older entries are then ignored.
const FORMAT = 1;
// Entries kept: a few hundred layers (a base image's layers are reused, the rest come and go).
const MAX_ENTRIES = 512;
const KEEP_AFTER_PRUNE = 384;

/** The directory of layer indexes (platform/cache-dir.ts decides where, sudo included), or undefined when there is no home to keep it in. */
export function layerIndexDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dir = cacheDir(env);
  return dir === undefined ? undefined : path.join(dir, 'layers');
}

interface Stored {
  format: number;
  digest: string;
  /** The file and range the scan read (see above). */
  source: string;
  /** [path, type, mode, uid, gid, size, linkname?, content base64?] */
  records: [string, EntryType, number, number, number, number, string?, string?][];
}

/** Which file (platform/file-stamp.ts), and which bytes of it. */
export async function identity(loc: LayerLocation): Promise<string> {
  return `${fileStamp(await stat(loc.file))}:${loc.start}-${loc.end}`;
}

const TYPES: ReadonlySet<string> = new Set<EntryType>(['file', 'link', 'symlink', 'directory', 'other']);

export class LayerIndex {
  private readonly key: string;

  /**
   * `wanted` names the files whose bytes a scan keeps (and `ourFile` the pattern of the others):
   * a scan kept for another set is another entry.
   */
  constructor(private readonly dir: string, wanted: Iterable<string>, ourFile: RegExp) {
    this.key = createHash('sha256').update(JSON.stringify([FORMAT, MAX_BUFFERED, [...wanted].sort(), ourFile.source])).digest('hex').slice(0, 16);
  }

  private file(digest: string): string | undefined {
    const m = /^sha256:([0-9a-f]{64})$/.exec(digest);
    return m ? path.join(this.dir, `${m[1]}-${this.key}.json`) : undefined;
  }

  /** The scan of the layer with this digest at `loc`, if one was kept from that very file. */
  async get(digest: string, loc: LayerLocation): Promise<LayerRecord[] | undefined> {
    const file = this.file(digest);
    if (!file) return undefined;
    try {
      const [text, source] = await Promise.all([readFile(file, 'utf8'), identity(loc)]);
      const s = JSON.parse(text) as Stored;
      if (s.format !== FORMAT || s.digest !== digest || s.source !== source || !Array.isArray(s.records)) return undefined;
      const out: LayerRecord[] = [];
      for (const x of s.records) {
        const [p, type, mode, uid, gid, bytes, linkname, content] = x;
        if (typeof p !== 'string' || !TYPES.has(type) || ![mode, uid, gid, bytes].every(Number.isSafeInteger)) return undefined;
        const r: LayerRecord = { path: p, type, mode, uid, gid, size: bytes };
        if (typeof linkname === 'string') r.linkname = linkname;
        if (typeof content === 'string') r.content = Buffer.from(content, 'base64');
        out.push(r);
      }
      return out;
    } catch {
      return undefined;
    }
  }

  /**
   * Keep the scan of the layer at `loc`, read from the file as `before` (identity()) found it.
   * Failing to write is no error: the index only saves time.
   */
  async put(digest: string, loc: LayerLocation, before: string, records: LayerRecord[]): Promise<void> {
    const file = this.file(digest);
    if (!file) return;
    // Changed while it was read: the scan may be of neither version.
    if ((await identity(loc).catch(() => undefined)) !== before) return;
    const stored: Stored = {
      format: FORMAT, digest, source: before,
      records: records.map((r) => [r.path, r.type, r.mode, r.uid, r.gid, r.size, r.linkname, r.content?.toString('base64')]),
    };
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      await writeFile(tmp, JSON.stringify(stored), { mode: 0o600 });
      await rename(tmp, file);
      await this.prune();
    } catch {
      await rm(tmp, { force: true }).catch(() => {});
    }
  }

  /** The oldest entries go when there are too many. */
  private async prune(): Promise<void> {
    const names = (await readdir(this.dir)).filter((n) => n.endsWith('.json'));
    if (names.length <= MAX_ENTRIES) return;
    const aged = await Promise.all(names.map(async (n) => ({ n, t: await stat(path.join(this.dir, n)).then((s) => s.mtimeMs, () => 0) })));
    aged.sort((a, b) => a.t - b.t);
    for (const { n } of aged.slice(0, aged.length - KEEP_AFTER_PRUNE)) await rm(path.join(this.dir, n), { force: true });
  }
}
