// One image, rebuilt to trust exactly a set of CAs through ollama-tls's layer: the image without
// ollama-tls's top layer (the "base", given back byte for byte), plus one new layer for the
// CAs when there are any. Trust, re-trust with more CAs and untrust are all this one operation
// with a different set, so the result never depends on the order things were done in.
import type { Certificate } from '../../x509/certificate.js';
import { fileStem } from '../plan.js';
import { sha256Digest } from './digest.js';
import {
  configWithLayer, configWithoutTopLayer, createdSeconds, gzipLayerType, manifestWithLayer, manifestWithoutTopLayer, ourComment,
  type ImageConfig,
} from './image-json.js';
import type { ImageState } from './image-state.js';
import { bytesOf } from './json-spans.js';
import { buildLayer, type BuiltLayer } from './layer-build.js';
import { trustFiles } from './trust-files.js';

export type RebuildAction = 'added' | 'replaced' | 'removed' | 'unchanged';

export interface Rebuilt {
  state: ImageState;
  action: RebuildAction;
  /** Texts are the documents' bytes as latin1 (see json-spans.ts). */
  config: { digest: string; text: string };
  manifest?: { digest: string; text: string; mediaType: string };
  layer?: BuiltLayer & { mediaType: string };
  /** The image's previous top layer (ollama-tls's) is gone from the result. */
  removedTop: boolean;
  /** Files the new layer adds or replaces. */
  files: string[];
  /** CAs of the new layer. */
  cas: string[];
  /** For an undo: the base config and manifest came back with the digests the history recorded. */
  exact?: boolean;
  notes: string[];
}

const doc = (text: string) => ({ digest: sha256Digest(bytesOf(text)), size: bytesOf(text).length });

/** The image without ollama-tls's top layer, and whether it matches what the history recorded. */
function base(state: ImageState): { config: string; manifest?: string; exact?: boolean; notes: string[] } {
  const e = state.entry;
  const notes: string[] = [];
  if (!state.ours) return { config: e.config.text, ...(e.manifest ? { manifest: e.manifest.text } : {}), notes };
  const candidates = configWithoutTopLayer(e.config.text);
  const config = candidates.find((c) => doc(c).digest === state.ours!.baseConfig) ?? candidates[0]!;
  let exact = doc(config).digest === state.ours.baseConfig;
  if (!exact) notes.push(`The config without ollama-tls's layer is ${doc(config).digest}, not ${state.ours.baseConfig} as recorded: it was changed after ollama-tls added the layer (same layers, same settings otherwise).`);
  let manifest: string | undefined;
  if (e.manifest) {
    manifest = manifestWithoutTopLayer(e.manifest.text, doc(config));
    if (state.ours.baseManifest && doc(manifest).digest !== state.ours.baseManifest) {
      exact = false;
      notes.push(`The manifest without ollama-tls's layer is ${doc(manifest).digest}, not ${state.ours.baseManifest} as recorded.`);
    }
  }
  return { config, ...(manifest !== undefined ? { manifest } : {}), exact, notes };
}

export async function rebuild(state: ImageState, cas: Certificate[], opts: { commandLine?: string } = {}): Promise<Rebuilt> {
  const e = state.entry;
  const b = base(state);
  let config = b.config;
  let manifest = b.manifest;
  let layer: Rebuilt['layer'];
  let files: string[] = [];
  let added: string[] = [];
  const notes = [...b.notes];
  if (cas.length > 0) {
    const planned = await trustFiles(state.view, state.where, cas, state.read);
    notes.push(...planned.notes);
    if (planned.already.length > 0) notes.push(`Already trusted by the image itself (no layer needed): ${planned.already.map((f) => f.slice(0, 16)).join(', ')}.`);
    if (planned.entries.length > 0) {
      const json = JSON.parse(bytesOf(config).toString('utf8')) as ImageConfig;
      const built = await buildLayer(planned.entries, createdSeconds(json));
      const mediaType = e.manifest ? gzipLayerType(e.manifest.mediaType) : 'application/vnd.docker.image.rootfs.diff.tar';
      // Not spread: that would read the lazy gzip (layer-build.ts) a classic docker save never needs.
      layer = Object.assign(built, { mediaType });
      files = planned.files;
      added = cas.map((c) => c.sha256).filter((f) => !planned.already.includes(f)).sort();
      const baseConfig = doc(config).digest;
      const baseManifest = manifest !== undefined ? doc(manifest).digest : undefined;
      config = configWithLayer(config, built.diffId, {
        created: json.created ?? '1970-01-01T00:00:00Z',
        created_by: opts.commandLine ?? `ollama-tls trust ${added.map((f) => `--ca ${state.where.certDir.real}/${fileStem(f)}.pem`).join(' ')}`,
        comment: ourComment({ cas: added, baseConfig, ...(baseManifest ? { baseManifest } : {}) }),
      });
      if (manifest !== undefined) manifest = manifestWithLayer(manifest, doc(config), { mediaType, digest: built.gzipDigest, size: built.gzip.length });
    }
  }
  const unchanged = config === e.config.text && manifest === e.manifest?.text;
  const action: RebuildAction = unchanged ? 'unchanged' : state.ours ? (layer ? 'replaced' : 'removed') : 'added';
  return {
    state, action,
    config: { digest: doc(config).digest, text: config },
    ...(manifest !== undefined ? { manifest: { digest: doc(manifest).digest, text: manifest, mediaType: e.manifest!.mediaType } } : {}),
    ...(layer && !unchanged ? { layer } : {}),
    removedTop: !unchanged && !!state.ours,
    files: unchanged ? [] : files,
    cas: added,
    ...(state.ours && b.exact !== undefined ? { exact: b.exact } : {}),
    notes,
  };
}
