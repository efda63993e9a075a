// Each image of a source, read: its layers scanned in order into the merged view (leaving out
// ollama-tls's own top layer, which a new trust or an untrust replaces), where it keeps its
// trust, and the CAs ollama-tls's layer holds. Layers shared by several images (the platforms
// of one index usually share none, tags of one image all of them) are scanned once.
import type { Certificate } from '../../x509/certificate.js';
import { certificatesFromPem } from '../../x509/load.js';
import type { ImageEntry, LayerRef, Source } from './archive-source.js';
import { ourTopLayer, type OurLayer } from './image-json.js';
import { identity, LayerIndex, layerIndexDir } from './layer-index.js';
import { scanLayer, type LayerRecord, type Want } from './layer-scan.js';
import { RootfsView } from './rootfs-view.js';
import { locateTrust, OUR_FILE, TRUST_FILES, type ReadFile, type TrustLocations } from './trust-files.js';

export interface ImageState {
  entry: ImageEntry;
  /** ollama-tls's top layer, when the image has one. */
  ours?: OurLayer;
  /** The image without ollama-tls's top layer. */
  view: RootfsView;
  where: TrustLocations;
  /** The certificates of the CAs in ollama-tls's top layer, as it stored them. */
  ourCerts: Certificate[];
  read: ReadFile;
}

export type Progress = (bytes: number) => void;

/**
 * Layer scans by the files asked for and the layer's digest: another image made of the same
 * layers (the output of a trust, read back to verify it) reads only its new ones.
 */
export type LayerScans = Map<string, LayerRecord[]>;

export interface ScanReuse {
  /** Scans of another reading, used for layers with the same digest instead of reading them. */
  known?: LayerScans | undefined;
  /** Filled with this reading's scans. */
  keep?: LayerScans;
  /** The directory of the per-digest layer index (layer-index.ts); default the user's cache, none with null. */
  indexDir?: string | null;
}

// Layers smaller than this are not kept in the layer index.
const INDEXED_FROM = 1 << 20;

// Layers read at the same time: gzip inflates on libuv's thread pool, so several layers overlap.
const CONCURRENT_LAYERS = 4;

/** The files whose bytes a scan keeps: the trust files, plus any SSL_CERT_FILE an image sets. */
function wantedFiles(src: Source): Set<string> {
  const wanted = new Set<string>(TRUST_FILES);
  for (const img of src.images) {
    const envFile = img.config.json.config?.Env?.find((e) => e.startsWith('SSL_CERT_FILE='))?.slice('SSL_CERT_FILE='.length);
    if (envFile) wanted.add(envFile);
  }
  return wanted;
}

const scanKey = (wanted: Set<string>, l: LayerRef) => `${[...wanted].sort().join('\0')}\n${l.digest}`;

/** Bytes the scan will read: every distinct layer once (none of those another reading has). */
export function scanBytes(src: Source, known?: LayerScans): number {
  const wanted = wantedFiles(src);
  const seen = new Map<string, number>();
  for (const img of src.images) {
    for (const l of img.layers) if (!known?.has(scanKey(wanted, l))) seen.set(`${l.loc.file}:${l.loc.start}`, l.loc.end - l.loc.start);
  }
  return [...seen.values()].reduce((a, b) => a + b, 0);
}

export async function loadStates(src: Source, progress: Progress, reuse: ScanReuse = {}): Promise<ImageState[]> {
  const wanted = wantedFiles(src);
  const want: Want = (p) => wanted.has(p) || OUR_FILE.test(p);
  const indexDir = reuse.indexDir === undefined ? layerIndexDir() : reuse.indexDir ?? undefined;
  const index = indexDir ? new LayerIndex(indexDir, wanted, OUR_FILE) : undefined;
  // A layer is looked up in the index (layer-index.ts) before it is read, and kept there after;
  // a small one (ollama-tls's own, a config-only step) is read again sooner than looked up.
  const scan = async (l: LayerRef): Promise<LayerRecord[]> => {
    if (!index || l.loc.end - l.loc.start < INDEXED_FROM) return scanLayer(l.loc, want, progress);
    const indexed = await index.get(l.digest, l.loc);
    if (indexed) {
      progress(l.loc.end - l.loc.start);
      return indexed;
    }
    const before = await identity(l.loc);
    const records = await scanLayer(l.loc, want, progress);
    await index.put(l.digest, l.loc, before, records);
    return records;
  };

  // Every distinct layer is read once, a few at a time, in the order the images need them; each
  // image then waits for its own. A failure surfaces at the first layer (in order) that failed.
  const key = (l: LayerRef) => `${l.loc.file}:${l.loc.start}`;
  const order = [...new Map(src.images.flatMap((img) => img.layers.map((l) => [key(l), l] as const))).values()];
  const scans = new Map<string, Promise<LayerRecord[]>>();
  let next = 0;
  const started = new Map<string, () => void>();
  const startOne = (): void => {
    const l = order[next++];
    if (!l) return;
    started.get(key(l))!();
  };
  for (const l of order) {
    const k = key(l);
    const known = reuse.known?.get(scanKey(wanted, l));
    const p = known
      ? Promise.resolve(known)
      : new Promise<void>((go) => started.set(k, go)).then(() => scan(l)).finally(startOne);
    // A layer already read takes no slot: reaching it starts the next one.
    if (known) started.set(k, startOne);
    const kept = p.then((r) => {
      reuse.keep?.set(scanKey(wanted, l), r);
      return r;
    });
    kept.catch(() => {}); // awaited below, in order
    scans.set(k, kept);
  }
  for (let i = 0; i < CONCURRENT_LAYERS; i++) startOne();
  const records = (l: LayerRef): Promise<LayerRecord[]> => scans.get(key(l))!;

  const states: ImageState[] = [];
  for (const entry of src.images) {
    const ours = ourTopLayer(entry.config.json);
    const base = ours ? entry.layers.slice(0, -1) : entry.layers;
    const view = new RootfsView();
    for (const [i, l] of base.entries()) view.apply(await records(l), i);
    let ourCerts: Certificate[] = [];
    if (ours) {
      const top = await records(entry.layers[entry.layers.length - 1]!);
      const found = new Map<string, Certificate>();
      for (const r of top) {
        if (!r.content || !OUR_FILE.test(r.path)) continue;
        for (const c of certificatesFromPem(r.content.toString('latin1')).certificates) if (ours.cas.includes(c.sha256)) found.set(c.sha256, c);
      }
      ourCerts = [...found.values()];
    }
    // The bytes of a file the scan did not keep (a bundle under an unusual name, reached
    // through a symlink): read again from the one layer that holds it.
    const read: ReadFile = async (p) => {
      const f = view.file(p);
      if (!f) return undefined;
      if (f.node.content) return f.node.content;
      const layer = base[f.node.layer]!;
      const src = f.node.src;
      const again = await scanLayer(layer.loc, (x) => x === src);
      const hit = again.reverse().find((r) => r.path === src && r.content);
      if (hit?.content) f.node.content = hit.content;
      return hit?.content;
    };
    const where = await locateTrust(view, entry.config.json.config?.Env, read);
    states.push({ entry, ...(ours ? { ours } : {}), view, where, ourCerts, read });
  }
  return states;
}
