// Trusting a CA inside a container image without a Docker daemon: `ollama-tls trust --ca corp.pem
// --image SRC --output DST`. The image is read from a docker save tarball (classic or Docker
// 25+'s OCI form), an OCI archive or an OCI layout directory, and written back in the same form
// with one more layer per image (every platform of a multi-platform index): the CA, the image's
// bundles with the CA appended in a marked block, the OpenSSL hash link and the distribution's
// anchor. Nothing else changes: the other layers, the environment, the entrypoint, the labels.
//
// analyseImage reads and plans; trustImage and untrustImage write. The image is streamed, never
// held: layers are read once each, and only the handful of files that hold trust are kept.
import { rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Certificate } from '../../x509/certificate.js';
import { openSource, type ImageFormat, type Skipped, type Source } from './archive-source.js';
import { checkLayoutTarget, copyBytes, copyLayout, copyWhole, sameTarget, startTarballCopy, writeLayout, writeTarball, type TarballCopy } from './archive-write.js';
import { claimEarlyCopy } from './early-copy.js';
import { loadStates, scanBytes, type ImageState, type LayerScans } from './image-state.js';
import { outputChanges } from './output-plan.js';
import { stampOf } from './source-stamp.js';
import { rebuild, type RebuildAction, type Rebuilt } from './rebuild.js';
import { trustFiles, type ImageFamily } from './trust-files.js';

export type { ImageFormat, Skipped } from './archive-source.js';
export type { ImageFamily } from './trust-files.js';

export interface ImageOptions {
  /** Bytes processed so far and the total, for a spinner. */
  onProgress?(done: number, total: number): void;
}

export interface ImageInfo {
  /** Tags (index.json ref names, docker save RepoTags), comma separated. */
  ref?: string;
  /** os/architecture[/variant]. */
  platform?: string;
  /** The manifest's digest; absent in a classic docker save archive, which has no manifest. */
  manifestDigest?: string;
  /** The config's digest: Docker's image ID. */
  imageId: string;
  /** From /etc/os-release (or /usr/lib/os-release); 'none' when the image has neither. */
  family: ImageFamily;
  osName?: string;
  /** The bundle Go reads, where it really is (symlinks followed), and as Go names it. */
  bundle?: string;
  bundleNamed?: string;
  /** OpenSSL's default bundle for the family (real path), when different from Go's. */
  opensslBundle?: string;
  /** The certificate directory (real path). */
  certDir: string;
  /** The distribution's anchor directory (real path). */
  anchorDir?: string;
  /** How many certificates the Go bundle holds. */
  bundleCertificates: number;
  /** Fingerprints of CAs ollama-tls added (its top layer, or marked blocks lower down). */
  hasCas: string[];
  /** The top layer is ollama-tls's. */
  alreadyOurs: boolean;
  /** With `cas`: what trusting them would write. */
  plan?: { files: string[]; add: string[]; already: string[]; notes: string[] };
  notes: string[];
}

export interface ImageAnalysis {
  src: string;
  format: ImageFormat;
  images: ImageInfo[];
  /** Manifests left alone, and why (attestations, other operating systems, artifacts). */
  skipped: Skipped[];
  notes: string[];
}

export interface ImageChange {
  ref?: string;
  platform?: string;
  manifestDigest?: string;
  imageId: string;
  newManifestDigest?: string;
  newImageId?: string;
  /** The new layer: its blob digest (gzip; the tar itself in a classic docker save) and diff_id. */
  layerDigest?: string;
  diffId?: string;
  action: RebuildAction;
  /** Files in the new layer (real paths in the image). */
  files: string[];
  /** untrust: the restored config and manifest have the digests recorded when the layer was added. */
  exact?: boolean;
  notes: string[];
}

export interface ImageResult {
  changed: boolean;
  format: ImageFormat;
  dst: string;
  images: ImageChange[];
  /** Files written (or, prefixed with "-", removed) in DST. */
  written: string[];
  notes: string[];
}

interface Loaded {
  src: Source;
  states: ImageState[];
  scans: LayerScans;
}

// analyseImage's reading, kept so that trustImage after it (plan, confirm, apply) does not read
// the layers a second time.
const loadedFor = new WeakMap<ImageAnalysis, Loaded>();

// The latest analysis of each source path in this process: `trust --image` plans (reading the
// image), asks, then applies a step that names only the path; the step finds the reading here.
const latest = new Map<string, ImageAnalysis>();

/** The latest analysis of SRC in this process, if any (openForWrite checks it still applies). */
export function analysisOf(src: string): ImageAnalysis | undefined {
  return latest.get(path.resolve(src));
}

/**
 * The layer scans of an analysis, by layer digest, for reading another image made of the same
 * layers (the output of a trust, read back by verify): only its new layers are read.
 */
export function layerScansOf(a: ImageAnalysis): LayerScans | undefined {
  return loadedFor.get(a)?.scans;
}

function progressOf(opts: ImageOptions | undefined, total: number): (n: number) => void {
  let done = 0;
  let last = -1;
  return (n: number) => {
    done += n;
    // At most every 1 MiB (and always at the end): the caller redraws a spinner.
    if (opts?.onProgress && (done - last >= 1 << 20 || done >= total)) {
      last = done;
      opts.onProgress(Math.min(done, total), total);
    }
  };
}


function describe(s: ImageState): ImageInfo {
  const e = s.entry;
  const w = s.where;
  const hasCas = [...new Set([...(s.ours?.cas ?? []), ...w.markedCas])];
  return {
    ...(e.refs.length ? { ref: e.refs.join(', ') } : {}),
    ...(e.platform ? { platform: e.platform } : {}),
    ...(e.manifest ? { manifestDigest: e.manifest.digest } : {}),
    imageId: e.config.digest,
    family: w.family,
    ...(w.osName ? { osName: w.osName } : {}),
    ...(w.goBundle ? { bundle: w.goBundle.real, bundleNamed: w.goBundle.named } : {}),
    ...(w.opensslBundle && w.opensslBundle.real !== w.goBundle?.real ? { opensslBundle: w.opensslBundle.real } : {}),
    certDir: w.certDir.real,
    ...(w.anchorDir ? { anchorDir: w.anchorDir.real } : {}),
    bundleCertificates: w.bundleCas.size,
    hasCas,
    alreadyOurs: !!s.ours,
    notes: [...w.notes],
  };
}

function sourceNotes(src: Source): string[] {
  return [...src.notes, ...src.skipped.map((k) => `Left as is: ${k.what} (${k.why}).`)];
}

/** Read an image and say where it keeps its trust; with `cas`, also what trusting them would write. */
export async function analyseImage(src: string, opts: ImageOptions & { cas?: Certificate[]; layersFrom?: ImageAnalysis } = {}): Promise<ImageAnalysis> {
  const source = await openSource(src);
  const known = opts.layersFrom ? layerScansOf(opts.layersFrom) : undefined;
  const scans: LayerScans = new Map();
  const loaded: Loaded = { src: source, scans, states: await loadStates(source, progressOf(opts, scanBytes(source, known)), { known, keep: scans }) };
  const images: ImageInfo[] = [];
  for (const s of loaded.states) {
    const info = describe(s);
    if (opts.cas) {
      const wanted = desiredTrust(s, opts.cas);
      if (s.ours && sameSet(s.ours.cas, wanted.map((c) => c.sha256))) {
        info.plan = { files: [], add: [], already: [...s.ours.cas], notes: ['ollama-tls already trusts these CAs in the top layer: nothing to do.'] };
      } else {
        const t = await trustFiles(s.view, s.where, wanted, s.read);
        info.plan = { files: t.files, add: wanted.map((c) => c.sha256).filter((f) => !t.already.includes(f)), already: t.already, notes: t.notes };
      }
    }
    images.push(info);
  }
  const analysis: ImageAnalysis = { src, format: loaded.src.format, images, skipped: loaded.src.skipped, notes: sourceNotes(loaded.src) };
  loadedFor.set(analysis, loaded);
  latest.set(path.resolve(src), analysis);
  return analysis;
}

const sameSet = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x));

/** The CAs ollama-tls's layer should hold after trusting `cas`: what it holds plus them. */
function desiredTrust(s: ImageState, cas: Certificate[]): Certificate[] {
  const all = new Map<string, Certificate>();
  for (const c of s.ourCerts) all.set(c.sha256, c);
  for (const c of cas) all.set(c.sha256, c);
  return [...all.values()];
}

export interface WriteOptions extends ImageOptions {
  /** Recorded as the layer's created_by instead of the canonical command (part of the digest). */
  commandLine?: string;
  /** A previous analyseImage of the same source: its reading is reused. */
  analysis?: ImageAnalysis;
  /** Reuse this process's latest analyseImage of the source when the source has not changed since. */
  reuseLatest?: boolean;
}

interface Session extends Loaded {
  dst: string;
  progress: (n: number) => void;
  /** A layout being copied into a new directory while the layers are read. */
  copied?: Promise<void>;
  /** An archive being copied beside a new DST while the image is rebuilt. */
  tarCopy?: TarballCopy;
}

async function openForWrite(src: string, dst: string, opts: WriteOptions): Promise<Session> {
  const given = opts.analysis && path.resolve(opts.analysis.src) === path.resolve(src) ? loadedFor.get(opts.analysis) : undefined;
  // A reading of SRC is reused when SRC has the same stamp: then nothing is read again.
  const stamp = await stampOf(src);
  if (given && stamp !== given.src.stamp) throw new Error(`${src} changed since it was analysed: analyse it again`);
  // Asked for: this process's latest analysis of SRC, if SRC has not changed since.
  const last = !given && opts.reuseLatest ? analysisOf(src) : undefined;
  const remembered = last ? loadedFor.get(last) : undefined;
  const reused = given ?? (remembered && remembered.src.stamp === stamp ? remembered : undefined);
  const source = reused?.src ?? await openSource(src);
  const layout = source.format === 'oci-layout';
  const dstIsDir = await stat(dst).then((s) => s.isDirectory(), () => undefined);
  if (!layout && dstIsDir) throw new Error(`${dst} is a directory, but ${src} is an archive: the output keeps the input's format, give a file name`);
  if (layout && dstIsDir === false) throw new Error(`${dst} is a file, but ${src} is an OCI layout directory: the output keeps the input's format, give a directory`);
  const copying = layout && !sameTarget(source, dst);
  if (copying) await checkLayoutTarget(dst);
  const progress = progressOf(opts, (reused ? 0 : scanBytes(source)) + copyBytes(source, dst));
  // Copying a layout needs nothing from the analysis: the kernel copies while the layers are read.
  const copied = copying ? copyLayout(source, dst, progress) : undefined;
  copied?.catch(() => {}); // awaited by write() or abort()
  // An archive written to a new file keeps nearly all of its bytes: the kernel copies them while
  // the new layer is made (the changes are written over the copy's end). The command line may
  // have started that copy already, before the plan (early-copy.ts).
  const tarCopy = !layout && !sameTarget(source, dst) ? (await claimEarlyCopy(source.path, dst, source.stamp)) ?? startTarballCopy(source, dst) : undefined;
  const session: Session = {
    src: source, states: [], scans: reused?.scans ?? new Map(), dst, progress,
    ...(copied ? { copied } : {}), ...(tarCopy ? { tarCopy } : {}),
  };
  try {
    session.states = reused ? reused.states : await loadStates(source, progress, { keep: session.scans });
  } catch (err) {
    await abort(session);
    throw err;
  }
  return session;
}

/** Undo a half-made output: a layout or archive copy in progress is finished and removed. */
async function abort(session: Session): Promise<void> {
  if (session.tarCopy) {
    await session.tarCopy.done.catch(() => {});
    await rm(session.tarCopy.tmp, { force: true });
  }
  if (!session.copied) return;
  await session.copied.catch(() => {});
  await rm(session.dst, { recursive: true, force: true });
}

async function write(session: Session, results: Rebuilt[]): Promise<ImageResult> {
  const { src, dst } = session;
  const changed = results.some((r) => r.action !== 'unchanged');
  const notes = sourceNotes(src);
  let written: string[] = [];
  if (src.format === 'oci-layout') {
    if (session.copied) await session.copied;
    if (changed || session.copied) written = await writeLayout(src, dst, await outputChanges(src, results));
  } else if (changed) {
    written = await writeTarball(src, dst, await outputChanges(src, results), session.progress, session.tarCopy);
  } else if (!sameTarget(src, dst)) {
    // Nothing to change: DST is still asked for, and gets the source as it is.
    if (session.tarCopy) {
      await session.tarCopy.done;
      await rename(session.tarCopy.tmp, dst);
    } else await copyWhole(src.path, dst, src.size);
    session.progress(src.size);
  }
  return {
    changed, format: src.format, dst, written, notes,
    images: results.map((r) => {
      const e = r.state.entry;
      return {
        ...(e.refs.length ? { ref: e.refs.join(', ') } : {}),
        ...(e.platform ? { platform: e.platform } : {}),
        ...(e.manifest ? { manifestDigest: e.manifest.digest } : {}),
        imageId: e.config.digest,
        ...(r.action !== 'unchanged' ? { newImageId: r.config.digest, ...(r.manifest ? { newManifestDigest: r.manifest.digest } : {}) } : {}),
        ...(r.layer ? { layerDigest: r.manifest ? r.layer.gzipDigest : r.layer.diffId, diffId: r.layer.diffId } : {}),
        action: r.action, files: r.files,
        ...(r.exact !== undefined ? { exact: r.exact } : {}),
        notes: [...r.state.where.notes, ...r.notes],
      };
    }),
  };
}

/** Run the per-image decisions, then write; a failure leaves no half-made output behind. */
async function apply(session: Session, decide: (s: ImageState) => Promise<Rebuilt>): Promise<ImageResult> {
  try {
    const results: Rebuilt[] = [];
    for (const s of session.states) results.push(await decide(s));
    return await write(session, results);
  } catch (err) {
    await abort(session);
    throw err;
  }
}

const unchanged = (s: ImageState, why: string): Rebuilt => ({
  state: s, action: 'unchanged', removedTop: false, files: [], cas: [], notes: [why],
  config: { digest: s.entry.config.digest, text: s.entry.config.text },
  ...(s.entry.manifest ? { manifest: { ...s.entry.manifest } } : {}),
});

/**
 * Trust `cas` in every image of SRC, written to DST in the same format (DST may be SRC). An
 * image whose top layer is already ollama-tls's for these CAs is left as it is; one with an
 * ollama-tls layer for other CAs gets that layer replaced by one for all of them.
 */
export async function trustImage(src: string, dst: string, cas: Certificate[], opts: WriteOptions = {}): Promise<ImageResult> {
  if (cas.length === 0) throw new Error('no CA to trust');
  return apply(await openForWrite(src, dst, opts), async (s) => {
    const wanted = desiredTrust(s, cas);
    if (s.ours && sameSet(s.ours.cas, wanted.map((c) => c.sha256))) return unchanged(s, 'The top layer is already ollama-tls\'s for these CAs: nothing to do.');
    if (s.ours && s.ourCerts.length < s.ours.cas.length) throw new Error(`${s.entry.refs[0] ?? s.entry.config.digest}: ollama-tls's layer lacks the certificate of a CA it names; untrust it first`);
    return rebuild(s, wanted, opts);
  });
}

/**
 * Take CAs out of ollama-tls's top layer in every image (all of them when `fingerprints` is
 * empty): the layer is removed, or replaced by one for the CAs that stay. The config and
 * manifest come back byte for byte; `exact` says the digests match those recorded.
 */
export async function untrustImage(src: string, dst: string, fingerprints: string[], opts: WriteOptions = {}): Promise<ImageResult> {
  const fps = fingerprints.map((f) => f.toLowerCase().replace(/[^0-9a-f]/g, ''));
  return apply(await openForWrite(src, dst, opts), async (s) => {
    if (!s.ours) {
      const lower = fps.filter((f) => s.where.markedCas.includes(f));
      return unchanged(s, lower.length > 0
        ? `The CA ${lower.map((f) => f.slice(0, 16)).join(', ')} was added by ollama-tls in a lower layer, under layers added later: rebuild those from the untrusted image.`
        : 'The top layer is not ollama-tls\'s: nothing to remove.');
    }
    if (fps.length > 0 && !fps.some((f) => s.ours!.cas.includes(f))) return unchanged(s, 'ollama-tls\'s layer does not hold these CAs: nothing to remove.');
    const keep = fps.length === 0 ? [] : s.ourCerts.filter((c) => !fps.includes(c.sha256));
    if (fps.length > 0 && keep.length < s.ours.cas.filter((f) => !fps.includes(f)).length) {
      throw new Error(`${s.entry.refs[0] ?? s.entry.config.digest}: ollama-tls's layer lacks the certificate of a CA it names; untrust all its CAs instead`);
    }
    return rebuild(s, keep, opts);
  });
}
