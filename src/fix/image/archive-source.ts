// Reading an image source in any of the forms it arrives in, down to one list of images:
//  - an OCI image layout directory (oci-layout, index.json, blobs/sha256/...);
//  - a classic `docker save` tarball (manifest.json, repositories, <id>/layer.tar or skopeo's
//    <diff_id>.tar, <config hex>.json);
//  - Docker 25+'s `docker save`: an OCI layout inside the tar plus manifest.json and
//    repositories naming blobs/sha256/... (docker load reads manifest.json, OCI tools index.json);
//  - an OCI layout tarball without manifest.json (skopeo's oci-archive).
// A tarball is indexed by its headers (tar-format.ts); nothing but the small JSON documents is
// read here. Layers are located (file, byte range), not read.
import { open, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { blobPath, digestHex, isDigest, sha256Digest as sha256Of } from './digest.js';
import { isConfigType, isIndexType, isManifestType, type Descriptor, type ImageConfig } from './image-json.js';
import type { LayerLocation } from './layer-scan.js';
import { textOf } from './json-spans.js';
import { stampText } from './source-stamp.js';
import { walkTar, type TarEntry } from './tar-format.js';

export type ImageFormat = 'docker-archive' | 'docker-archive-oci' | 'oci-archive' | 'oci-layout';

export interface LayerRef {
  /** The blob's digest (for an uncompressed docker save layer, its diff_id). */
  digest: string;
  mediaType: string;
  size: number;
  loc: LayerLocation;
  /** docker save: the path manifest.json names. */
  path?: string;
}

export interface DockerItem {
  config: string;
  layers: string[];
  repoTags: string[];
}

export interface ImageEntry {
  refs: string[];
  platform?: string;
  manifest?: { digest: string; text: string; mediaType: string };
  config: { digest: string; text: string; json: ImageConfig };
  layers: LayerRef[];
  /** The docker save manifest.json item describing this image (docker-archive formats). */
  dockerItem?: DockerItem;
}

export interface Skipped {
  what: string;
  why: string;
}

export interface Source {
  format: ImageFormat;
  path: string;
  /** Bytes of the source: the tarball, or the layout's blobs. */
  size: number;
  images: ImageEntry[];
  skipped: Skipped[];
  notes: string[];
  /** The OCI side: index.json's text and every index blob met under it. */
  indexJson?: string;
  indexBlobs: Map<string, string>;
  /** docker save's own files. */
  dockerManifest?: string;
  repositories?: string;
  /** Tarballs: the entries in order, for the copy. */
  entries?: TarEntry[];
  /** Whether the source holds this blob (layouts) or this entry (tarballs). */
  has(nameOrDigest: string): boolean;
  /** A small file of a tarball (by name) or a blob of a layout. */
  readSmall(nameOrDigest: string): Promise<Buffer | undefined>;
  /** When the source was read: a later write must not find it changed. */
  stamp: string;
}

const ATTESTATION = 'vnd.docker.reference.type';
const MAX_DOCUMENT = 4 << 20;
const REF_NAME = 'org.opencontainers.image.ref.name';
const IMAGE_NAME = 'io.containerd.image.name';

const platformOf = (p: Descriptor['platform'] | undefined, c?: ImageConfig): string | undefined => {
  const os = p?.os ?? c?.os;
  const arch = p?.architecture ?? c?.architecture;
  if (!os && !arch) return undefined;
  const variant = p?.variant ?? c?.variant;
  return `${os ?? '?'}/${arch ?? '?'}${variant ? `/${variant}` : ''}`;
};

/** Blob access common to both OCI containers (directory or tarball). */
interface BlobStore {
  locate(digest: string): LayerLocation | undefined;
  read(digest: string): Promise<Buffer | undefined>;
}

async function walkOci(src: Source, store: BlobStore, indexText: string): Promise<void> {
  const byManifest = new Map<string, ImageEntry>();
  const visit = async (desc: Descriptor, refs: string[], depth: number): Promise<void> => {
    const what = `${desc.mediaType ?? 'descriptor'} ${desc.digest}`;
    if (!isDigest(desc.digest)) {
      src.skipped.push({ what, why: 'not a sha256 digest' });
      return;
    }
    if (desc.annotations?.[ATTESTATION] === 'attestation-manifest') {
      src.skipped.push({ what: `attestation ${desc.digest}`, why: 'an attestation manifest (build provenance/SBOM) is not an image: kept as is; it still names the original image' });
      return;
    }
    // Manifests and indexes are small; a descriptor claiming more is not one to read whole.
    if (!(desc.size <= MAX_DOCUMENT)) {
      src.skipped.push({ what, why: `${desc.size} bytes is not the size of a manifest or index` });
      return;
    }
    const bytes = await store.read(desc.digest);
    if (!bytes) {
      src.skipped.push({ what, why: 'the blob is not in the source' });
      return;
    }
    if (sha256Of(bytes) !== desc.digest) throw new Error(`${what}: the blob does not match its digest`);
    const text = textOf(bytes);
    const doc = JSON.parse(bytes.toString('utf8')) as { mediaType?: string; manifests?: Descriptor[]; config?: Descriptor; layers?: Descriptor[] };
    const type = desc.mediaType ?? doc.mediaType;
    if (isIndexType(type) || (!type && Array.isArray(doc.manifests))) {
      if (depth > 8) throw new Error('image indexes nested too deeply');
      src.indexBlobs.set(desc.digest, text);
      for (const m of doc.manifests ?? []) await visit(m, refs, depth + 1);
      return;
    }
    if (!isManifestType(type) && !(doc.config && Array.isArray(doc.layers))) {
      src.skipped.push({ what, why: `media type ${type ?? 'unknown'} is not an image manifest` });
      return;
    }
    const seen = byManifest.get(desc.digest);
    if (seen) {
      for (const r of refs) if (!seen.refs.includes(r)) seen.refs.push(r);
      return;
    }
    if (!doc.config || !isDigest(doc.config.digest) || (doc.config.mediaType && !isConfigType(doc.config.mediaType))) {
      src.skipped.push({ what, why: `its config (${doc.config?.mediaType ?? 'none'}) is not an image config: an artifact, not an image` });
      return;
    }
    const configBytes = doc.config.size <= MAX_DOCUMENT ? await store.read(doc.config.digest) : undefined;
    if (!configBytes) {
      src.skipped.push({ what, why: 'its config blob is not in the source' });
      return;
    }
    if (sha256Of(configBytes) !== doc.config.digest) throw new Error(`config ${doc.config.digest}: the blob does not match its digest`);
    const configText = textOf(configBytes);
    const config = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
    if (config.os && config.os !== 'linux') {
      src.skipped.push({ what, why: `a ${config.os} image: only Linux images read Go's and OpenSSL's Linux paths` });
      return;
    }
    const layers: LayerRef[] = [];
    for (const l of doc.layers ?? []) {
      const loc = isDigest(l.digest) ? store.locate(l.digest) : undefined;
      if (!loc) {
        src.skipped.push({ what, why: `layer ${l.digest} is not in the source (a foreign or non-distributable layer?)` });
        return;
      }
      layers.push({ digest: l.digest, mediaType: l.mediaType ?? '', size: l.size, loc });
    }
    const entry: ImageEntry = {
      refs: [...refs],
      ...(platformOf(desc.platform, config) ? { platform: platformOf(desc.platform, config)! } : {}),
      manifest: { digest: desc.digest, text, mediaType: type ?? '' },
      config: { digest: doc.config.digest, text: configText, json: config },
      layers,
    };
    byManifest.set(desc.digest, entry);
    src.images.push(entry);
  };
  const index = JSON.parse(Buffer.from(indexText, 'latin1').toString('utf8')) as { manifests?: Descriptor[] };
  for (const d of index.manifests ?? []) {
    const ref = d.annotations?.[IMAGE_NAME] ?? d.annotations?.[REF_NAME];
    await visit(d, ref ? [ref] : [], 0);
  }
}

async function openLayout(dir: string): Promise<Source> {
  const layoutFile = await readFile(path.join(dir, 'oci-layout'), 'utf8').catch(() => undefined);
  if (layoutFile === undefined) throw new Error(`${dir} is not an OCI image layout (no oci-layout file)`);
  const indexJson = textOf(await readFile(path.join(dir, 'index.json')));
  const sizes = new Map<string, number>();
  const blobDir = path.join(dir, 'blobs/sha256');
  let total = 0;
  for (const name of await readdir(blobDir).catch(() => [] as string[])) {
    if (!/^[0-9a-f]{64}$/.test(name)) continue;
    const s = await stat(path.join(blobDir, name));
    sizes.set(`sha256:${name}`, s.size);
    total += s.size;
  }
  const indexStat = await stat(path.join(dir, 'index.json'));
  const src: Source = {
    format: 'oci-layout', path: dir, size: total, images: [], skipped: [], notes: [],
    indexJson, indexBlobs: new Map(),
    // By digest, or by path in the layout ("blobs/sha256/<hex>").
    has: (n) => sizes.has(isDigest(n) ? n : `sha256:${n.replace(/^blobs\/sha256\//, '')}`),
    readSmall: async (d) => (sizes.has(d) ? readFile(path.join(dir, blobPath(d))) : undefined),
    stamp: stampText(indexStat),
  };
  const store: BlobStore = {
    locate: (d) => (sizes.has(d) ? { file: path.join(dir, blobPath(d)), start: 0, end: sizes.get(d)!, label: d } : undefined),
    read: async (d) => (sizes.has(d) ? readFile(path.join(dir, blobPath(d))) : undefined),
  };
  await walkOci(src, store, indexJson);
  return src;
}

const cleanName = (n: string): string => path.posix.normalize(n.replace(/^\/+/, '')).replace(/^\.\//, '').replace(/\/$/, '');

async function openTarball(file: string): Promise<Source> {
  const fh = await open(file, 'r');
  let entries: TarEntry[];
  let size: number;
  let stamp: string;
  try {
    const s = await fh.stat();
    size = s.size;
    stamp = stampText(s);
    const magic = Buffer.alloc(4);
    await fh.read(magic, 0, 4, 0);
    if (magic[0] === 0x1f && magic[1] === 0x8b) throw new Error(`${file} is gzip-compressed: gunzip it first (docker load accepts the plain tar)`);
    if (magic.readUInt32LE(0) === 0xfd2fb528) throw new Error(`${file} is zstd-compressed: decompress it first`);
    entries = [];
    for await (const e of walkTar(fh, 0, size)) {
      const { read: _read, ...plain } = e;
      entries.push({ ...plain, name: cleanName(e.name) });
    }
  } finally {
    await fh.close();
  }
  const byName = new Map<string, TarEntry>();
  for (const e of entries) byName.set(e.name, e);
  // Entries may be links to others (docker save links duplicate layers, skopeo links the legacy
  // <id>/layer.tar to <diff_id>.tar): follow them inside the archive.
  const find = (name: string, hops = 0): TarEntry | undefined => {
    const e = byName.get(cleanName(name));
    if (!e || hops > 16) return undefined;
    if (e.type === 'symlink') return find(path.posix.join(path.posix.dirname(e.name), e.linkname), hops + 1);
    if (e.type === 'link') return find(e.linkname, hops + 1);
    return e.type === 'file' ? e : undefined;
  };
  const readEntry = async (name: string): Promise<Buffer | undefined> => {
    const e = find(name);
    if (!e) return undefined;
    if (e.size > 64 << 20) throw new Error(`${name} in ${file} is too large for a metadata file`);
    const h = await open(file, 'r');
    try {
      const b = Buffer.alloc(e.size);
      await h.read(b, 0, e.size, e.dataStart);
      return b;
    } finally {
      await h.close();
    }
  };
  const locateName = (name: string, label: string): LayerLocation | undefined => {
    const e = find(name);
    return e ? { file, start: e.dataStart, end: e.dataEnd, label } : undefined;
  };
  const indexJson = byName.has('index.json') && byName.has('oci-layout') ? (await readEntry('index.json'))?.toString('latin1') : undefined;
  const dockerManifest = (await readEntry('manifest.json'))?.toString('latin1');
  const repositories = (await readEntry('repositories'))?.toString('latin1');
  if (!indexJson && !dockerManifest) throw new Error(`${file} is neither a docker save archive (no manifest.json) nor an OCI archive (no index.json)`);
  const format: ImageFormat = indexJson ? (dockerManifest ? 'docker-archive-oci' : 'oci-archive') : 'docker-archive';
  const src: Source = {
    format, path: file, size, images: [], skipped: [], notes: [], entries, indexBlobs: new Map(),
    ...(indexJson ? { indexJson } : {}), ...(dockerManifest ? { dockerManifest } : {}), ...(repositories ? { repositories } : {}),
    has: (n) => find(isDigest(n) ? blobPath(n) : n) !== undefined,
    readSmall: (n) => readEntry(isDigest(n) ? blobPath(n) : n),
    stamp,
  };
  const items = dockerManifest ? (JSON.parse(Buffer.from(dockerManifest, 'latin1').toString('utf8')) as { Config: string; Layers: string[]; RepoTags?: string[] | null }[]) : [];
  const dockerItems: DockerItem[] = items.map((i) => ({ config: i.Config, layers: i.Layers ?? [], repoTags: i.RepoTags ?? [] }));
  if (indexJson) {
    await walkOci(src, { locate: (d) => locateName(blobPath(d), d), read: (d) => readEntry(blobPath(d)) }, indexJson);
    for (const img of src.images) {
      const item = dockerItems.find((i) => cleanName(i.config) === blobPath(img.config.digest));
      if (item) img.dockerItem = item;
    }
    return src;
  }
  for (const item of dockerItems) {
    const configBytes = await readEntry(item.config);
    if (!configBytes) {
      src.skipped.push({ what: item.config, why: 'manifest.json names a config that is not in the archive' });
      continue;
    }
    const configText = textOf(configBytes);
    const config = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
    const diffIds = config.rootfs?.diff_ids ?? [];
    if (diffIds.length !== item.layers.length) throw new Error(`${item.config}: ${item.layers.length} layers in manifest.json but ${diffIds.length} diff_ids in the config`);
    const layers: LayerRef[] = [];
    for (const [i, p] of item.layers.entries()) {
      const loc = locateName(p, p);
      if (!loc) throw new Error(`manifest.json names ${p}, which is not in the archive`);
      digestHex(diffIds[i]!);
      layers.push({ digest: diffIds[i]!, mediaType: 'application/vnd.docker.image.rootfs.diff.tar', size: loc.end - loc.start, loc, path: p });
    }
    src.images.push({
      refs: item.repoTags,
      ...(platformOf(undefined, config) ? { platform: platformOf(undefined, config)! } : {}),
      config: { digest: sha256Of(configBytes), text: configText, json: config },
      layers, dockerItem: item,
    });
  }
  return src;
}

export async function openSource(p: string): Promise<Source> {
  const s = await stat(p);
  return s.isDirectory() ? openLayout(p) : openTarball(p);
}
