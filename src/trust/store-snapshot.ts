// The root stores as an earlier run read them, kept in one file between runs: a doctor run reads
// ~150 files of /etc/ssl/certs, a 200 KB bundle and Node's bundled roots, decodes their base64
// and walks every certificate, which is most of what the doctor costs beyond Node and the network
// (~10 ms). Here a store loaded once is recorded with what it was read from, and served again
// while every one of those inputs is unchanged.
//
// "Unchanged" is git's rule for its index: each input's stat (device, inode, size, mtime, ctime,
// mode) taken BEFORE it was read, compared with a fresh stat. Replacing a file (rename, package
// upgrade, update-ca-certificates) changes its inode; writing in place changes mtime and ctime;
// adding, removing or re-pointing a link in a directory changes the directory's. A stat taken
// before the read can only be older than the bytes read, so a change during the read shows next
// time. An input changed in the last few seconds is not recorded at all (a change later within
// the same clock tick would keep its times: git's "racily clean" case).
//
// Only the running system's own tree (not --root) and only inputs whose stat succeeded or said
// "no such file": an input that could not be examined leaves the store unrecorded.
import { statSync } from 'node:fs';
import path from 'node:path';
import type { Certificate, CertificateOutline } from '../x509/certificate.js';
import { knownCertificate } from '../x509/load.js';
import { OUTLINE_LENGTH, plausible } from '../x509/outline-cache.js';
import { rememberNameKey, nameKey } from '../x509/name-key.js';
import { cacheDir } from '../platform/cache-dir.js';
import { align4, readCacheFile, writeCacheFile } from '../platform/cache-file.js';
import { fileStamp } from '../platform/file-stamp.js';
import type { RememberedStores, StoreInputs, StoreSource, TrustStore } from './stores.js';

const MAGIC = 0x3353544f; // "OTS3": the layout in load()
const MAX_FILE_BYTES = 32 << 20;
/** Inputs changed this recently are not recorded (see above). */
const RACY_MS = 2000;

/** A stat as a string, or null for "no such file". */
type Stamp = string | null;

interface Entry {
  /** Every input (an index into Layout.names), in the order they were met. */
  inputs: number[];
  sources: StoreSource[];
  /** Indexes into the certificate table, in the store's order. */
  certs: number[];
  /** Where each was first found (TrustStore.origin), as indexes into Layout.names; same order. */
  origins: number[];
}

/** Facts about a certificate of the table (where it is and its outline are in the file's numbers). */
type TableRow = [notBefore: number, subjectKey: string | null];

/** Per certificate in the numbers: the DER's offset and length, then its outline. */
const ROW_INTS = 2 + OUTLINE_LENGTH;

interface Layout {
  id: string;
  /** Paths and origins, each once (the stores share most of their files). */
  names: string[];
  /** The stamp of each name that is an input (names that are only origins have none). */
  stamps: Record<number, Stamp>;
  table: TableRow[];
  entries: Record<string, Entry>;
}

/** What a store was read from, stamped as it is met. */
export class InputRecorder implements StoreInputs {
  readonly inputs: [string, Stamp][] = [];
  /** An input that could not be examined: the store is not recorded. */
  unusable = false;
  private seen = new Set<string>();

  constructor(private readonly stamps: StampMemo) {}

  /** Called before `p` is read (a file, or a directory listed). */
  see(p: string): void {
    if (this.seen.has(p)) return;
    this.seen.add(p);
    const stamp = this.stamps.stamp(p);
    if (stamp === undefined) this.unusable = true;
    else this.inputs.push([p, stamp]);
  }
}

/** One stat per path per run: the stores share most of their files. */
class StampMemo {
  private memo = new Map<string, Stamp | undefined>();
  /** The newest mtime or ctime met, for the racy rule. */
  newest = 0;

  stamp(p: string): Stamp | undefined {
    if (this.memo.has(p)) return this.memo.get(p);
    let stamp: Stamp | undefined;
    try {
      const st = statSync(p, { throwIfNoEntry: false });
      if (st) {
        this.newest = Math.max(this.newest, st.mtimeMs, st.ctimeMs);
        stamp = fileStamp(st);
      } else {
        stamp = null;
      }
    } catch {
      stamp = undefined; // EACCES on a directory on the way, ENOTDIR...: not recordable
    }
    this.memo.set(p, stamp);
    return stamp;
  }
}

export class StoreSnapshot implements RememberedStores {
  private layout: Layout | undefined;
  /** The DER bytes of the table's certificates, back to back. */
  private ders: Buffer = Buffer.alloc(0);
  /** ROW_INTS numbers per certificate of the table. */
  private ints: Int32Array<ArrayBufferLike> = new Int32Array(0);
  private added = new Map<string, { inputs: [string, Stamp][]; sources: StoreSource[]; store: TrustStore }>();
  /** The certificates of the table made so far this run, by row: the stores share most of them. */
  private rows: (Certificate | undefined)[] = [];
  private stamps = new StampMemo();
  private loaded = false;
  /** How many stores this run took from the snapshot. */
  served = 0;

  constructor(readonly file: string, readonly id: string) {}

  recorder(): InputRecorder {
    return new InputRecorder(this.stamps);
  }

  /** The store recorded under `key`, when every input it was read from is as it was then. */
  get(key: string): TrustStore | undefined {
    this.load();
    const entry = this.layout?.entries[key];
    if (!entry || !this.unchanged(entry)) return undefined;
    try {
      const store = this.rebuild(entry);
      this.served++;
      return store;
    } catch {
      return undefined; // a table that does not match its bytes: read the store again
    }
  }

  /** Records a store just read, to be written by save(). */
  put(key: string, store: TrustStore, inputs: StoreInputs): void {
    if (!(inputs instanceof InputRecorder) || inputs.unusable || this.stamps.newest > Date.now() - RACY_MS) return;
    // A copy of the sources: a caller may still change its own (loadLinuxSystemRoots does).
    this.added.set(key, { inputs: inputs.inputs, sources: structuredClone(store.sources), store });
  }

  private unchanged(entry: Entry): boolean {
    const { names, stamps } = this.layout!;
    return entry.inputs.every((i) => stamps[i] !== undefined && this.stamps.stamp(names[i]!) === stamps[i]);
  }

  private rebuild(entry: Entry): TrustStore {
    const { names, table } = this.layout!;
    const certificates: Certificate[] = [];
    const origin = new Map<Certificate, string>();
    entry.certs.forEach((index, i) => {
      let cert = this.rows[index];
      if (!cert) {
        const [notBefore, subjectKey] = table[index]!;
        const row = this.ints.subarray(index * ROW_INTS, (index + 1) * ROW_INTS);
        const offset = row[0]!, length = row[1]!;
        const der = this.ders.subarray(offset, offset + length);
        const outline = row.subarray(2);
        if (row.length !== ROW_INTS || der.length !== length || !plausible(der, outline)) throw new RangeError('damaged store snapshot');
        cert = knownCertificate(der, outline as CertificateOutline, new Date(notBefore));
        if (subjectKey !== null) rememberNameKey(cert.subjectRaw, subjectKey);
        this.rows[index] = cert;
      }
      certificates.push(cert);
      origin.set(cert, names[entry.origins[i]!]!);
    });
    // A copy: the caller may add notes to its sources.
    return { certificates, sources: structuredClone(entry.sources), origin };
  }

  /** Reads the file once, on first use; a missing, foreign, damaged or other build's file is no snapshot. */
  private load(): void {
    if (this.loaded) return;
    this.loaded = true;
    const buf = readCacheFile(this.file, MAX_FILE_BYTES);
    if (!buf || buf.length < 8 || buf.readUInt32LE(0) !== MAGIC) return;
    try {
      // Layout: magic, the JSON's length (u32), the JSON (Layout), padding to 4 bytes, ROW_INTS
      // int32 per certificate of the table, then their DER back to back.
      const jsonLength = buf.readUInt32LE(4);
      const layout = JSON.parse(buf.toString('utf8', 8, 8 + jsonLength)) as Layout;
      if (layout.id !== this.id) return;
      const intsStart = align4(8 + jsonLength);
      const dersStart = intsStart + 4 * ROW_INTS * layout.table.length;
      if (dersStart > buf.length) return;
      // A copy: Int32Array needs 4-byte alignment (little-endian, as written on this machine).
      this.ints = new Int32Array(buf.buffer.slice(buf.byteOffset + intsStart, buf.byteOffset + dersStart));
      this.ders = buf.subarray(dersStart);
      this.layout = layout;
    } catch {
      this.layout = undefined;
    }
  }

  /** Writes the file when this run recorded a store (whole, then renamed over the old one); errors are ignored. */
  save(): void {
    if (this.added.size === 0) return;
    this.load();
    const out: Layout = { id: this.id, names: [], stamps: {}, table: [], entries: {} };
    const chunks: Buffer[] = [];
    const ints: number[] = [];
    let size = 0;
    const rowOf = new Map<Certificate, number>();
    const row = (cert: Certificate): number => {
      let r = rowOf.get(cert);
      if (r === undefined) {
        r = out.table.length;
        out.table.push([cert.notBefore.getTime(), nameKey(cert.subjectRaw) ?? null]);
        ints.push(size, cert.der.length, ...cert.outline);
        chunks.push(cert.der);
        size += cert.der.length;
        rowOf.set(cert, r);
      }
      return r;
    };
    const nameOf = new Map<string, number>();
    const name = (text: string): number => {
      let n = nameOf.get(text);
      if (n === undefined) {
        n = out.names.push(text) - 1;
        nameOf.set(text, n);
      }
      return n;
    };
    const record = (key: string, inputs: [string, Stamp][], sources: StoreSource[], store: TrustStore): void => {
      out.entries[key] = {
        inputs: inputs.map(([p, stamp]) => {
          const n = name(p);
          out.stamps[n] = stamp;
          return n;
        }),
        sources,
        certs: store.certificates.map(row),
        origins: store.certificates.map((c) => name(store.origin.get(c) ?? 'unknown')),
      };
    };
    // The stores recorded earlier stay while their inputs do; the ones read now replace theirs.
    const earlier = this.layout;
    for (const [key, entry] of Object.entries(earlier?.entries ?? {})) {
      if (this.added.has(key) || !this.unchanged(entry)) continue;
      try {
        record(key, entry.inputs.map((i) => [earlier!.names[i]!, earlier!.stamps[i]!]), entry.sources, this.rebuild(entry));
      } catch {
        // damaged: dropped
      }
    }
    for (const [key, { inputs, sources, store }] of this.added) record(key, inputs, sources, store);
    const json = Buffer.from(JSON.stringify(out), 'utf8');
    const head = Buffer.alloc(8);
    head.writeUInt32LE(MAGIC, 0);
    head.writeUInt32LE(json.length, 4);
    const padding = Buffer.alloc(align4(8 + json.length) - 8 - json.length);
    if (writeCacheFile(this.file, [head, json, padding, Buffer.from(new Int32Array(ints).buffer), ...chunks])) this.added.clear();
  }
}

/** The snapshot file, in ollama-tls's cache directory (platform/cache-dir.ts). */
export function storeSnapshotFile(env: Record<string, string | undefined> = process.env): string | undefined {
  const dir = cacheDir(env);
  return dir ? path.join(dir, 'root-stores.bin') : undefined;
}
