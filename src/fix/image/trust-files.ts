// Where an image keeps its trust, read from the merged view, and the files one new layer must
// hold so that the image trusts more CAs. The edits are fix/ca-into-tree.ts's, the same rule as
// `trust --root` without the update tool (the family's anchor, the bundle Go reads first and
// OpenSSL's default, a missing or empty one seeded with Mozilla's roots, the CA in the
// certificate directory with its OpenSSL subject-hash link), computed over the view as a
// `RootFs` (rootfs-view.ts imageTree); this module turns them into the layer's entries. Every
// path is resolved through the image's own symlinks first: a file is written where the link
// points, never over the link.
import path from 'node:path';
import tls from 'node:tls';
import { familyFacts, LINUX_FAMILIES, LINUX_FAMILY_NAMES, type LinuxFamily } from '../../platform/linux-families.js';
import { parseOsRelease } from '../../platform/os-release.js';
import { GO_CERT_FILES } from '../../trust/store-paths.js';
import type { Certificate } from '../../x509/certificate.js';
import { pemFingerprints } from '../../x509/load.js';
import { anchorEdits, bundleFiles, caIntoTree, filesRead, type TreeTrust } from '../ca-into-tree.js';
import { appendBlock, type Step } from '../plan.js';
import { imageTree, type RootfsView } from './rootfs-view.js';

/** The image's family: a Linux family, 'unknown' (os-release names none), 'none' (no os-release). */
export type ImageFamily = LinuxFamily | 'unknown' | 'none';

/** Files whose bytes the layer scan keeps, whatever the image: the rest is metadata only. */
export const TRUST_FILES: readonly string[] = [
  '/etc/os-release', '/usr/lib/os-release',
  ...GO_CERT_FILES,
  ...LINUX_FAMILY_NAMES.flatMap((f) => [LINUX_FAMILIES[f].goBundle, LINUX_FAMILIES[f].openssl.file]),
  // Where the usual bundle symlinks lead (Arch, RHEL's extracted tree, Debian's /usr/lib/ssl).
  '/etc/ca-certificates/extracted/tls-ca-bundle.pem',
  '/etc/pki/ca-trust/extracted/openssl/ca-bundle.trust.crt',
  '/usr/lib/ssl/cert.pem',
];

/** ollama-tls's own files (CA copies and anchors), kept so untrust and re-trust can read them. */
export const OUR_FILE = /\/ollama-tls-[0-9a-f]{16}\.(?:pem|crt)$/;

export interface PathPair {
  /** The path as programs name it. */
  named: string;
  /** Where it really is once the image's symlinks are followed. */
  real: string;
}

export interface TrustLocations {
  family: ImageFamily;
  osName?: string;
  /** The bundle Go reads (SSL_CERT_FILE from the image's environment, else the first of Go's list present). */
  goBundle?: PathPair;
  /** OpenSSL's default bundle for the family, when the image has it. */
  opensslBundle?: PathPair;
  certDir: PathPair;
  anchorDir?: PathPair;
  /** Fingerprints of the certificates in the Go bundle. */
  bundleCas: Set<string>;
  /** Fingerprints of the CAs ollama-tls marked in the Go bundle. */
  markedCas: string[];
  notes: string[];
}

export type ReadFile = (path: string) => Promise<Buffer | undefined>;

const envValue = (env: string[] | null | undefined, key: string): string | undefined =>
  env?.filter((e) => e.startsWith(`${key}=`)).map((e) => e.slice(key.length + 1)).pop() || undefined;

function pair(view: RootfsView, named: string): PathPair {
  const r = view.resolve(named);
  if (!r) throw new Error(`${named} cannot be resolved in the image (a symlink loop, or a file where a directory should be)`);
  return { named, real: r.path };
}

export async function locateTrust(view: RootfsView, env: string[] | null | undefined, read: ReadFile): Promise<TrustLocations> {
  const notes: string[] = [];
  let family: ImageFamily = 'none';
  let osName: string | undefined;
  for (const p of ['/etc/os-release', '/usr/lib/os-release']) {
    const f = view.file(p);
    if (!f) continue;
    const text = await read(p);
    if (text === undefined) continue;
    const rel = parseOsRelease(text.toString('utf8'));
    family = rel.family;
    osName = rel.prettyName || undefined;
    break;
  }
  const facts = familyFacts(family);
  const defaults = facts?.openssl;

  // Go: SSL_CERT_FILE replaces its list; otherwise the first file of the list that exists.
  const envFile = envValue(env, 'SSL_CERT_FILE');
  let goNamed: string | undefined;
  if (envFile && view.file(envFile)) goNamed = envFile;
  else {
    if (envFile) notes.push(`The image sets SSL_CERT_FILE=${envFile}, which is not in the image (mounted at run time?): the standard bundle is edited instead.`);
    goNamed = GO_CERT_FILES.find((f) => view.file(f));
  }
  const goBundle = goNamed ? { named: goNamed, real: view.file(goNamed)!.path } : undefined;
  const opensslBundle = defaults && view.file(defaults.file) ? { named: defaults.file, real: view.file(defaults.file)!.path } : undefined;

  const envDir = envValue(env, 'SSL_CERT_DIR')?.split(':').find(Boolean);
  const certDir = pair(view, envDir ?? defaults?.dir ?? '/etc/ssl/certs');
  const anchorNamed = facts?.anchorDir;
  const anchorDir = anchorNamed ? pair(view, anchorNamed) : undefined;

  const bundleCas = new Set<string>();
  const markedCas: string[] = [];
  if (goBundle) {
    const text = (await read(goBundle.named))?.toString('latin1') ?? '';
    for (const fp of pemFingerprints(text)) bundleCas.add(fp);
    for (const m of text.matchAll(/^# ollama-tls sha256:([0-9a-f]{64})/gm)) markedCas.push(m[1]!);
  }
  return {
    family, ...(osName ? { osName } : {}),
    ...(goBundle ? { goBundle } : {}), ...(opensslBundle ? { opensslBundle } : {}),
    certDir, ...(anchorDir ? { anchorDir } : {}),
    bundleCas, markedCas, notes,
  };
}

/** One entry of the new layer. Paths are absolute and real (no symlink on the way). */
export interface LayerFile {
  path: string;
  type: 'file' | 'symlink' | 'directory';
  mode: number;
  uid: number;
  gid: number;
  content?: Buffer;
  linkname?: string;
}

export interface TrustFiles {
  /** Everything the layer holds, parent directories included. */
  entries: LayerFile[];
  /** The files it adds or replaces (what a plan lists). */
  files: string[];
  /** CAs the image already trusted without ollama-tls: nothing added for them. */
  already: string[];
  notes: string[];
}

// The plan and then the write (which reuses the plan's reading, and so its TrustLocations) ask
// for the same files: worked out once per reading of an image and set of CAs.
const made = new WeakMap<TrustLocations, Map<string, Promise<TrustFiles>>>();

/**
 * The files that make the image trust `cas` (sorted by fingerprint, so the same CAs always give
 * the same layer). Nothing when the image already trusts them all. The result is shared: read it, never change it.
 */
export function trustFiles(view: RootfsView, where: TrustLocations, cas: Certificate[], read: ReadFile): Promise<TrustFiles> {
  const key = [...new Set(cas.map((c) => c.sha256))].sort().join(',');
  let forWhere = made.get(where);
  if (!forWhere) made.set(where, (forWhere = new Map()));
  let files = forWhere.get(key);
  if (!files) {
    files = filesFor(view, where, cas, read);
    forWhere.set(key, files);
    // A failure is not remembered: the next caller meets it afresh.
    files.catch(() => forWhere.delete(key));
  }
  return files;
}

async function filesFor(view: RootfsView, where: TrustLocations, cas: Certificate[], read: ReadFile): Promise<TrustFiles> {
  const out: TrustFiles = { entries: [], files: [], already: [], notes: [] };
  const sorted = [...new Map(cas.map((c) => [c.sha256, c])).values()].sort((a, b) => (a.sha256 < b.sha256 ? -1 : 1));
  const toAdd = sorted.filter((c) => {
    const there = where.bundleCas.has(c.sha256);
    if (there) out.already.push(c.sha256);
    return !there;
  });
  if (toAdd.length === 0) return out;

  // The rule reads the tree synchronously: the bytes it will look at are fetched first (a bundle
  // under a name the scan did not keep is read again from its layer).
  const tree = imageTree(view);
  const at: TreeTrust = { family: where.family, goBundle: where.goBundle?.named, certDir: where.certDir.named };
  const bundles = bundleFiles(tree, at);
  for (const p of filesRead(tree, at, toAdd)) {
    if (view.file(p) && (await read(p)) === undefined && bundles.includes(p)) throw new Error(`could not read ${p} from the image`);
  }
  const family = familyFacts(where.family) ? (where.family as LinuxFamily) : undefined;
  const edits = caIntoTree(tree, at, toAdd);
  const steps = [...(family ? anchorEdits(tree, family, toAdd).steps : []), ...edits.steps];
  for (const { file, was } of edits.seeded) {
    out.notes.push(was === 'empty'
      ? `${file} is empty in the image: it is seeded with Node.js ${process.version}'s Mozilla roots before the CAs.`
      : where.goBundle
        ? `${file} is not in the image: it is created with Node.js ${process.version}'s ${tls.rootCertificates.length} Mozilla roots plus the CAs.`
        : `The image has no CA bundle: ${file} is created with Node.js ${process.version}'s ${tls.rootCertificates.length} Mozilla roots plus the CAs.`);
  }
  const files = layerFiles(view, tree, steps);
  out.files = [...files.keys()].sort();

  // Parent directories as entries, with the image's own mode and owner where it has them.
  for (const f of [...files.values()]) {
    const parts = f.path.split('/').filter(Boolean);
    for (let i = 1; i < parts.length; i++) {
      const p = `/${parts.slice(0, i).join('/')}`;
      if (files.has(p)) continue;
      const node = view.at(p);
      const known = node?.kind === 'dir' && !node.implicit;
      files.set(p, { path: p, type: 'directory', mode: known ? node.mode : 0o755, uid: known ? node.uid : 0, gid: known ? node.gid : 0 });
    }
  }
  out.entries = [...files.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return out;
}

/**
 * The steps as the layer's entries, by real path: a write is the file's new bytes (an existing
 * file keeps its mode and owner), an appended block is appended to what the layer already holds
 * for that file or else to the image's file, a link is a symlink entry.
 */
function layerFiles(view: RootfsView, tree: ReturnType<typeof imageTree>, steps: Step[]): Map<string, LayerFile> {
  const files = new Map<string, LayerFile>();
  const meta = (named: string, mode: number) => {
    const node = view.file(named)?.node;
    return node ? { mode: node.mode, uid: node.uid, gid: node.gid } : { mode, uid: 0, gid: 0 };
  };
  for (const step of steps) {
    switch (step.kind) {
      case 'write': {
        const real = tree.resolve(step.path);
        files.set(real, { path: real, type: 'file', ...meta(step.path, step.mode), content: Buffer.from(step.content, 'latin1') });
        break;
      }
      case 'append-block': {
        const real = tree.resolve(step.path);
        const before = files.get(real) ?? { path: real, type: 'file' as const, ...meta(step.path, 0o644), content: tree.readFile(step.path) };
        const text = appendBlock(before.content!.toString('latin1'), step.fingerprint, step.pem, step.label);
        files.set(real, { ...before, content: Buffer.from(text, 'latin1') });
        break;
      }
      case 'symlink': {
        const real = `${tree.resolve(path.posix.dirname(step.path))}/${path.posix.basename(step.path)}`.replace(/^\/\//, '/');
        files.set(real, { path: real, type: 'symlink', mode: 0o777, uid: 0, gid: 0, linkname: step.target });
        break;
      }
      default:
        throw new Error(`internal error: an image layer cannot hold a ${step.kind} step`);
    }
  }
  return files;
}
