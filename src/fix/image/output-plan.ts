// From rebuilt images to the changes of the archive: the new blobs, every index above a changed
// manifest rewritten (a multi-platform index and index.json point at the new manifests), docker
// save's manifest.json and repositories, and what is no longer referenced by anything.
import { createHash } from 'node:crypto';
import type { DockerItem, Source } from './archive-source.js';
import type { OutputChanges } from './archive-write.js';
import { blobPath, digestHex, isDigest, sha256Digest } from './digest.js';
import { dockerManifestWith, indexWithReplacements, repositoriesWith, splitRepoTag, type DockerItemChange, type ImageConfig } from './image-json.js';
import { bytesOf } from './json-spans.js';
import type { Rebuilt } from './rebuild.js';

const doc = (text: string) => ({ digest: sha256Digest(bytesOf(text)), size: bytesOf(text).length });
const parse = <T>(text: string): T => JSON.parse(bytesOf(text).toString('utf8')) as T;
const children = (indexText: string): string[] => (parse<{ manifests?: { digest: string }[] }>(indexText).manifests ?? []).map((d) => d.digest);
const hex = (s: string) => createHash('sha256').update(s).digest('hex');

/** Docker's layer ChainID: the first diff_id, then sha256("<chain> <diff_id>") for each next one. */
function chainId(diffIds: string[]): string {
  let chain = diffIds[0]!;
  for (const d of diffIds.slice(1)) chain = `sha256:${hex(`${chain} ${d}`)}`;
  return chain;
}

const LEGACY_LAYER = /^([0-9a-f]{64})\/layer\.tar$/;

/**
 * What the archive gains, what is rewritten, what goes. Only what ollama-tls made itself (its
 * layer, the config and manifest that named it, an index above them) is ever removed, and only
 * when nothing refers to it any more: the image's original blobs stay, whether a layout or a
 * tarball (loaders ignore blobs nothing references), which is what makes an undo cheap and
 * exact, and lets a tarball's layers be copied by the kernel.
 */
export async function outputChanges(src: Source, results: Rebuilt[]): Promise<OutputChanges> {
  const out: OutputChanges = { add: [], replace: new Map(), drop: new Set() };
  const adding = new Map<string, Buffer>();
  const kept = new Set<string>();
  const add = (name: string, data: Buffer) => {
    if (src.has(name)) kept.add(name);
    else if (!adding.has(name)) adding.set(name, data);
  };
  const changed = results.filter((r) => r.action !== 'unchanged');
  const candidates = new Set<string>();
  const dockerChanges: DockerItemChange[] = [];
  const repoTops: { name: string; tag: string; top: string }[] = [];
  const tagTops = (item: DockerItem | undefined, top: string | undefined) => {
    if (!item || !top) return;
    for (const t of item.repoTags) {
      const nt = splitRepoTag(t);
      if (nt) repoTops.push({ ...nt, top });
    }
  };
  const lastDiffHex = (configText: string) => {
    const ids = parse<ImageConfig>(configText).rootfs?.diff_ids ?? [];
    return ids.length > 0 ? digestHex(ids[ids.length - 1]!) : undefined;
  };

  if (src.format === 'docker-archive') {
    const repos = src.repositories ? parse<Record<string, Record<string, string>>>(src.repositories) : {};
    for (const r of changed) {
      const e = r.state.entry;
      const item = e.dockerItem!;
      const configName = `${digestHex(r.config.digest)}.json`;
      add(configName, bytesOf(r.config.text));
      if (r.removedTop) candidates.add(item.config);
      const last = item.layers[item.layers.length - 1];
      // The legacy id of the layer below ollama-tls's: the previous top's directory, or the
      // parent recorded in ollama-tls's own layer json, or what repositories says.
      let parent: string | undefined;
      if (r.removedTop && last) {
        const m = LEGACY_LAYER.exec(last);
        if (m) {
          for (const f of ['layer.tar', 'VERSION', 'json']) candidates.add(`${m[1]}/${f}`);
          candidates.add(m[1]!);
          const json = await src.readSmall(`${m[1]}/json`);
          parent = json ? (JSON.parse(json.toString('utf8')) as { parent?: string }).parent : undefined;
        } else candidates.add(last);
      } else if (last) {
        parent = LEGACY_LAYER.exec(last)?.[1];
        const first = item.repoTags.map(splitRepoTag).find(Boolean);
        parent ??= first ? repos[first.name]?.[first.tag] : undefined;
      }
      let layerName: string | undefined;
      let top = parent;
      if (r.layer) {
        const config = parse<ImageConfig>(r.config.text);
        const id = hex(JSON.stringify({ layer_id: chainId(config.rootfs!.diff_ids!), parent: parent ?? '' }));
        layerName = `${id}/layer.tar`;
        add(layerName, r.layer.tar);
        add(`${id}/VERSION`, Buffer.from('1.0'));
        add(`${id}/json`, Buffer.from(JSON.stringify({ id, ...(parent ? { parent } : {}), created: config.created ?? '1970-01-01T00:00:00Z', os: config.os ?? 'linux' })));
        top = id;
      }
      dockerChanges.push({ config: item.config, newConfig: configName, removeLastLayer: r.removedTop, ...(layerName ? { addLayer: layerName } : {}) });
      tagTops(item, top);
    }
  } else {
    // The OCI side: new configs, manifests and layers as blobs, then the indexes above them.
    const replaced = new Map<string, { digest: string; size: number }>();
    const manifestTexts = new Map<string, string>();
    for (const img of src.images) if (img.manifest) manifestTexts.set(img.manifest.digest, img.manifest.text);
    for (const r of changed) {
      const e = r.state.entry;
      add(blobPath(r.config.digest), bytesOf(r.config.text));
      add(blobPath(r.manifest!.digest), bytesOf(r.manifest!.text));
      if (r.layer) add(blobPath(r.layer.gzipDigest), r.layer.gzip);
      manifestTexts.set(r.manifest!.digest, r.manifest!.text);
      replaced.set(e.manifest!.digest, doc(r.manifest!.text));
      if (r.removedTop) {
        candidates.add(e.manifest!.digest);
        candidates.add(e.config.digest);
        candidates.add(e.layers[e.layers.length - 1]!.digest);
      }
      if (e.dockerItem) {
        dockerChanges.push({
          config: e.dockerItem.config, newConfig: blobPath(r.config.digest), removeLastLayer: r.removedTop,
          ...(r.layer ? { addLayer: blobPath(r.layer.gzipDigest) } : {}),
        });
        // Docker 25+ names the top layer by its diff_id in repositories.
        tagTops(e.dockerItem, lastDiffHex(r.config.text));
      }
    }
    const indexTexts = new Map(src.indexBlobs);
    const done = new Set<string>();
    const rewrite = (digest: string): void => {
      if (done.has(digest)) return;
      done.add(digest);
      const text = src.indexBlobs.get(digest)!;
      for (const c of children(text)) if (src.indexBlobs.has(c)) rewrite(c);
      const now = indexWithReplacements(text, replaced);
      if (now === text) return;
      const d = doc(now);
      add(blobPath(d.digest), bytesOf(now));
      indexTexts.set(d.digest, now);
      replaced.set(digest, d);
      // An index that pointed at ollama-tls's manifests was made by ollama-tls.
      if (children(text).some((c) => candidates.has(c))) candidates.add(digest);
    };
    for (const c of children(src.indexJson!)) if (src.indexBlobs.has(c)) rewrite(c);
    const indexJson = indexWithReplacements(src.indexJson!, replaced);
    if (indexJson !== src.indexJson) out.replace.set('index.json', bytesOf(indexJson));

    if (candidates.size > 0) {
      const referenced = new Set<string>();
      const visit = (text: string, depth: number) => {
        for (const d of children(text)) {
          referenced.add(d);
          const sub = indexTexts.get(d);
          if (sub && depth < 8) visit(sub, depth + 1);
          const m = manifestTexts.get(d);
          if (m) {
            const man = parse<{ config?: { digest: string }; layers?: { digest: string }[] }>(m);
            if (man.config) referenced.add(man.config.digest);
            for (const l of man.layers ?? []) referenced.add(l.digest);
          }
        }
      };
      visit(indexJson, 0);
      const dockerText = src.dockerManifest ? dockerManifestWith(src.dockerManifest, dockerChanges) : undefined;
      for (const item of dockerText ? parse<{ Config: string; Layers: string[] }[]>(dockerText) : []) {
        for (const p of [item.Config, ...item.Layers]) {
          const m = /^blobs\/sha256\/([0-9a-f]{64})$/.exec(p);
          if (m) referenced.add(`sha256:${m[1]}`);
        }
      }
      for (const c of candidates) if (isDigest(c) && !referenced.has(c)) out.drop.add(blobPath(c));
    }
  }

  if (src.dockerManifest && dockerChanges.length > 0) {
    const text = dockerManifestWith(src.dockerManifest, dockerChanges);
    out.replace.set('manifest.json', bytesOf(text));
    if (src.format === 'docker-archive' && candidates.size > 0) {
      const items = parse<{ Config: string; Layers: string[] }[]>(text);
      const used = new Set(items.flatMap((i) => [i.Config, ...i.Layers, ...i.Layers.map((l) => l.split('/')[0]!)]));
      for (const c of candidates) {
        const dir = c.split('/')[0]!;
        if (!used.has(c) && !used.has(dir)) out.drop.add(c);
      }
    }
  }
  if (src.repositories && repoTops.length > 0) {
    const text = repositoriesWith(src.repositories, repoTops);
    if (text !== src.repositories) out.replace.set('repositories', bytesOf(text));
  }
  // What the result needs is never dropped (an untrust needs again what its trust replaced).
  for (const name of [...adding.keys(), ...kept]) out.drop.delete(name);
  out.add = [...adding].map(([name, data]) => ({ name, data }));
  return out;
}
