// Each image of a source, read: its layers scanned in order into the merged view (leaving out
// ollama-tls's own top layer, which a new trust or an untrust replaces), where it keeps its
// trust, and the CAs ollama-tls's layer holds. Layers shared by several images (the platforms
// of one index usually share none, tags of one image all of them) are scanned once.
import type { Certificate } from '../../x509/certificate.js';
import { certificatesFromPem } from '../../x509/load.js';
import type { ImageEntry, LayerRef, Source } from './archive-source.js';
import { ourTopLayer, type OurLayer } from './image-json.js';
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

/** Bytes the scan will read: every distinct layer once. */
export function scanBytes(src: Source): number {
  const seen = new Map<string, number>();
  for (const img of src.images) for (const l of img.layers) seen.set(`${l.loc.file}:${l.loc.start}`, l.loc.end - l.loc.start);
  return [...seen.values()].reduce((a, b) => a + b, 0);
}

export async function loadStates(src: Source, progress: Progress): Promise<ImageState[]> {
  const wanted = new Set<string>(TRUST_FILES);
  for (const img of src.images) {
    const envFile = img.config.json.config?.Env?.find((e) => e.startsWith('SSL_CERT_FILE='))?.slice('SSL_CERT_FILE='.length);
    if (envFile) wanted.add(envFile);
  }
  const want: Want = (p) => wanted.has(p) || OUR_FILE.test(p);

  // Scans kept only while another image still needs them.
  const uses = new Map<string, number>();
  const key = (l: LayerRef) => `${l.loc.file}:${l.loc.start}`;
  for (const img of src.images) for (const l of img.layers) uses.set(key(l), (uses.get(key(l)) ?? 0) + 1);
  const cache = new Map<string, LayerRecord[]>();
  const scanned = new Set<string>();
  const records = async (l: LayerRef): Promise<LayerRecord[]> => {
    const k = key(l);
    let r = cache.get(k);
    if (!r) {
      // A layer read again (its cached scan was released) costs time but no progress.
      r = await scanLayer(l.loc, want, scanned.has(k) ? () => {} : progress);
      scanned.add(k);
    }
    const left = (uses.get(k) ?? 1) - 1;
    uses.set(k, left);
    if (left > 0) cache.set(k, r);
    else cache.delete(k);
    return r;
  };

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
