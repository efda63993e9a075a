// The image documents ollama-tls changes (config, manifest, index, docker save's manifest.json
// and repositories), edited in place (see json-spans.ts) so that untrust can give back the
// original bytes, and the history entry that marks ollama-tls's layer. The entry records the
// CAs and the digests of the config and manifest it was added to: untrust rebuilds those and
// checks its result against them instead of trusting its own arithmetic.
import { appendItem, appendMember, applyEdits, member, removeLastItem, removeLastMember, replaceValue, scan, type Edit, type Span } from './json-spans.js';

export const MEDIA = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

export const isIndexType = (t: string | undefined): boolean => t === MEDIA.ociIndex || t === MEDIA.dockerList;
export const isManifestType = (t: string | undefined): boolean => t === MEDIA.ociManifest || t === MEDIA.dockerManifest;
export const isConfigType = (t: string | undefined): boolean => t === MEDIA.ociConfig || t === MEDIA.dockerConfig;

/** The layer media type that matches a manifest's own vocabulary. */
export const gzipLayerType = (manifestType: string): string => (manifestType === MEDIA.dockerManifest ? MEDIA.dockerLayerGzip : MEDIA.ociLayerGzip);

export interface Descriptor {
  mediaType?: string;
  digest: string;
  size: number;
  platform?: { os?: string; architecture?: string; variant?: string };
  annotations?: Record<string, string>;
}

export interface ImageConfig {
  created?: string;
  os?: string;
  architecture?: string;
  variant?: string;
  config?: { Env?: string[] | null };
  rootfs?: { diff_ids?: string[] };
  history?: { created?: string; created_by?: string; comment?: string; empty_layer?: boolean }[];
}

/** What ollama-tls's history entry says about its layer. */
export interface OurLayer {
  /** SHA-256 fingerprints of the CAs the layer trusts. */
  cas: string[];
  /** Digest of the config (and manifest, when the image had one) the layer was added to. */
  baseConfig: string;
  baseManifest?: string;
}

const COMMENT = /^ollama-tls: trusted CA ((?:sha256:[0-9a-f]{64}(?: |;))+) ?base config (sha256:[0-9a-f]{64})(?:, manifest (sha256:[0-9a-f]{64}))?$/;

export function ourComment(o: OurLayer): string {
  const cas = o.cas.map((c) => `sha256:${c}`).join(' ');
  return `ollama-tls: trusted CA ${cas}; base config ${o.baseConfig}${o.baseManifest ? `, manifest ${o.baseManifest}` : ''}`;
}

export function parseOurComment(comment: string | undefined): OurLayer | undefined {
  const m = comment ? COMMENT.exec(comment) : null;
  if (!m) return undefined;
  const cas = m[1]!.split(/[ ;]+/).filter(Boolean).map((c) => c.slice('sha256:'.length));
  return { cas, baseConfig: m[2]!, ...(m[3] ? { baseManifest: m[3] } : {}) };
}

/**
 * The image's top layer is ollama-tls's when the last history entry describes a layer and its
 * comment is ollama-tls's (created_by may be the caller's own command line).
 */
export function ourTopLayer(config: ImageConfig): OurLayer | undefined {
  const history = config.history ?? [];
  const last = history[history.length - 1];
  if (!last || last.empty_layer || !(config.rootfs?.diff_ids?.length)) return undefined;
  return parseOurComment(last.comment);
}

/** The config's created time as whole seconds since the epoch (0 when absent or unreadable). */
export function createdSeconds(config: ImageConfig): number {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)/.exec(config.created ?? '');
  const t = m ? Date.parse(`${m[1]}Z`) : NaN;
  return Number.isFinite(t) && t > 0 ? Math.floor(t / 1000) : 0;
}

function need(span: Span | undefined, what: string): Span {
  if (!span) throw new Error(`image JSON has no ${what}`);
  return span;
}

export interface HistoryEntry {
  created: string;
  created_by: string;
  comment: string;
}

/** The config with one more layer: its diff_id last in rootfs.diff_ids, its history entry last. */
export function configWithLayer(text: string, diffId: string, entry: HistoryEntry): string {
  const root = scan(text);
  const edits: Edit[] = [appendItem(need(member(member(root, 'rootfs'), 'diff_ids'), 'rootfs.diff_ids'), diffId)];
  const history = member(root, 'history');
  if (history?.kind === 'array') edits.push(appendItem(history, entry));
  else if (history) throw new Error('image config history is not an array');
  else edits.push(appendMember(root, 'history', [entry]));
  return applyEdits(text, edits);
}

/**
 * The config without its top layer. When the history held only that entry, the original either
 * had no history at all or an empty one: both texts are returned, the caller keeps the one whose
 * digest the history entry recorded.
 */
export function configWithoutTopLayer(text: string): string[] {
  const root = scan(text);
  const diffIds = removeLastItem(need(member(member(root, 'rootfs'), 'diff_ids'), 'rootfs.diff_ids'));
  const history = need(member(root, 'history'), 'history');
  if (history.kind !== 'array') throw new Error('image config history is not an array');
  const candidates = [applyEdits(text, [diffIds, removeLastItem(history)])];
  if (history.items.length === 1) {
    const dropped = removeLastMember(root, 'history');
    if (dropped) candidates.unshift(applyEdits(text, [diffIds, dropped]));
  }
  return candidates;
}

/** The manifest pointing at a new config, with one more layer. */
export function manifestWithLayer(text: string, config: { digest: string; size: number }, layer: Descriptor): string {
  const root = scan(text);
  const cfg = need(member(root, 'config'), 'config');
  return applyEdits(text, [
    replaceValue(need(member(cfg, 'digest'), 'config.digest'), config.digest),
    replaceValue(need(member(cfg, 'size'), 'config.size'), config.size),
    appendItem(need(member(root, 'layers'), 'layers'), { mediaType: layer.mediaType, digest: layer.digest, size: layer.size }),
  ]);
}

/** The manifest pointing at the restored config, without its top layer. */
export function manifestWithoutTopLayer(text: string, config: { digest: string; size: number }): string {
  const root = scan(text);
  const cfg = need(member(root, 'config'), 'config');
  return applyEdits(text, [
    replaceValue(need(member(cfg, 'digest'), 'config.digest'), config.digest),
    replaceValue(need(member(cfg, 'size'), 'config.size'), config.size),
    removeLastItem(need(member(root, 'layers'), 'layers')),
  ]);
}

/** An index (or index.json) whose descriptors for changed manifests/indexes point at the new ones. */
export function indexWithReplacements(text: string, replaced: Map<string, { digest: string; size: number }>): string {
  const root = scan(text);
  const list = need(member(root, 'manifests'), 'manifests');
  if (list.kind !== 'array') throw new Error('index manifests is not an array');
  const edits: Edit[] = [];
  for (const d of list.items) {
    const digestSpan = member(d, 'digest');
    if (!digestSpan) continue;
    const now = replaced.get(JSON.parse(text.slice(digestSpan.start, digestSpan.end)) as string);
    if (!now) continue;
    edits.push(replaceValue(digestSpan, now.digest));
    const sizeSpan = member(d, 'size');
    if (sizeSpan) edits.push(replaceValue(sizeSpan, now.size));
  }
  return applyEdits(text, edits);
}

/** One change to a docker save manifest.json item, found by its Config path. */
export interface DockerItemChange {
  config: string;
  newConfig: string;
  removeLastLayer: boolean;
  addLayer?: string;
}

export function dockerManifestWith(text: string, changes: DockerItemChange[]): string {
  const root = scan(text);
  if (root.kind !== 'array') throw new Error('manifest.json is not an array');
  const edits: Edit[] = [];
  for (const item of root.items) {
    const cfg = member(item, 'Config');
    if (!cfg) continue;
    const change = changes.find((c) => c.config === JSON.parse(text.slice(cfg.start, cfg.end)));
    if (!change) continue;
    edits.push(replaceValue(cfg, change.newConfig));
    const layers = need(member(item, 'Layers'), 'Layers');
    if (change.removeLastLayer && change.addLayer) {
      const last = layers.kind === 'array' ? layers.items[layers.items.length - 1] : undefined;
      if (!last) throw new Error('manifest.json item has no layer to replace');
      edits.push(replaceValue(last, change.addLayer));
    } else if (change.removeLastLayer) edits.push(removeLastItem(layers));
    else if (change.addLayer) edits.push(appendItem(layers, change.addLayer));
  }
  return applyEdits(text, edits);
}

/** docker save's `repositories`: {name: {tag: top layer id}}; point the given tags at a new top. */
export function repositoriesWith(text: string, tags: { name: string; tag: string; top: string }[]): string {
  const root = scan(text);
  const edits: Edit[] = [];
  for (const t of tags) {
    const value = member(member(root, t.name), t.tag);
    if (value?.kind === 'scalar') edits.push(replaceValue(value, t.top));
  }
  return applyEdits(text, edits);
}

/** "docker.io/library/app:1.0" -> name and tag (a ":" after the last "/" separates them). */
export function splitRepoTag(repoTag: string): { name: string; tag: string } | undefined {
  const colon = repoTag.lastIndexOf(':');
  if (colon < 0 || colon < repoTag.lastIndexOf('/')) return undefined;
  return { name: repoTag.slice(0, colon), tag: repoTag.slice(colon + 1) };
}
