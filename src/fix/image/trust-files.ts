// Where an image keeps its trust, read from the merged view, and the files one new layer must
// hold so that the image trusts more CAs. The same rules as the linux-native target (the bundle
// Go reads first, OpenSSL's default bundle, the CA in the certificate directory with its OpenSSL
// subject-hash link) plus the distribution's anchor, so that an update-ca-certificates or
// update-ca-trust run by a later build step keeps the CA. Every path is resolved through the
// image's own symlinks first: a file is written where the link points, never over the link.
import tls from 'node:tls';
import { parseOsRelease, type LinuxFamily } from '../../platform/os-release.js';
import { GO_CERT_FILES, OPENSSL_DEFAULTS } from '../../trust/store-paths.js';
import type { Certificate } from '../../x509/certificate.js';
import { certificatesFromPem } from '../../x509/load.js';
import { opensslSubjectHash } from '../../x509/subject-hash.js';
import { appendBlock, caLabel, fileStem, hasBlock } from '../plan.js';
import { needsSeed, seedRootsPem } from '../seed-roots.js';
import type { RootfsView } from './rootfs-view.js';

export type ImageFamily = LinuxFamily | 'none';

// The anchor directories of src/fix/linux-distro.ts (where each distribution's update tool
// picks up an administrator's CAs), by family.
const ANCHOR_DIRS: Partial<Record<LinuxFamily, string>> = {
  debian: '/usr/local/share/ca-certificates',
  alpine: '/usr/local/share/ca-certificates',
  rhel: '/etc/pki/ca-trust/source/anchors',
  suse: '/etc/pki/trust/anchors',
  arch: '/etc/ca-certificates/trust-source/anchors',
};

/** Files whose bytes the layer scan keeps, whatever the image: the rest is metadata only. */
export const TRUST_FILES: readonly string[] = [
  '/etc/os-release', '/usr/lib/os-release',
  ...GO_CERT_FILES,
  ...Object.values(OPENSSL_DEFAULTS).map((d) => d.file),
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
  const defaults = family === 'none' || family === 'unknown' ? undefined : OPENSSL_DEFAULTS[family];

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
  const anchorNamed = family === 'none' || family === 'unknown' ? undefined : ANCHOR_DIRS[family];
  const anchorDir = anchorNamed ? pair(view, anchorNamed) : undefined;

  const bundleCas = new Set<string>();
  const markedCas: string[] = [];
  if (goBundle) {
    const text = (await read(goBundle.named))?.toString('latin1') ?? '';
    for (const c of certificatesFromPem(text).certificates) bundleCas.add(c.sha256);
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

const HASH_LINK = /^([0-9a-f]{8})\.(\d+)$/;

/**
 * The files that make the image trust `cas` (sorted by fingerprint, so the same CAs always give
 * the same layer). Nothing when the image already trusts them all.
 */
export async function trustFiles(view: RootfsView, where: TrustLocations, cas: Certificate[], read: ReadFile): Promise<TrustFiles> {
  const out: TrustFiles = { entries: [], files: [], already: [], notes: [] };
  const sorted = [...new Map(cas.map((c) => [c.sha256, c])).values()].sort((a, b) => (a.sha256 < b.sha256 ? -1 : 1));
  const toAdd = sorted.filter((c) => {
    const there = where.bundleCas.has(c.sha256);
    if (there) out.already.push(c.sha256);
    return !there;
  });
  if (toAdd.length === 0) return out;
  const files = new Map<string, LayerFile>();
  const put = (f: LayerFile) => files.set(f.path, f);

  // The bundles: the one Go reads and OpenSSL's default, once per real file.
  const bundles: { real: string; text: string; meta: { mode: number; uid: number; gid: number } }[] = [];
  if (where.goBundle) {
    for (const b of [where.goBundle, where.opensslBundle]) {
      if (!b || bundles.some((x) => x.real === b.real)) continue;
      const node = view.file(b.named)!.node;
      const text = (await read(b.named))?.toString('latin1');
      if (text === undefined) throw new Error(`could not read ${b.named} from the image`);
      // The rule of seed-roots.ts: an empty bundle is seeded as a missing one is.
      if (needsSeed(text)) out.notes.push(`${b.named} is empty in the image: it is seeded with Node.js ${process.version}'s Mozilla roots before the CAs.`);
      bundles.push({ real: b.real, text: needsSeed(text) ? seedRootsPem() : text, meta: { mode: node.mode, uid: node.uid, gid: node.gid } });
    }
  } else {
    // No bundle at all (scratch, distroless static, a slim image without ca-certificates):
    // Go would trust nothing. The rule of seed-roots.ts: start from Node's bundled Mozilla roots,
    // so public hosts keep working, in the file the family's OpenSSL reads (Go's list has it too).
    const named = where.family === 'none' || where.family === 'unknown' ? GO_CERT_FILES[0]! : OPENSSL_DEFAULTS[where.family]?.file ?? GO_CERT_FILES[0]!;
    const real = pair(view, named).real;
    bundles.push({ real, text: seedRootsPem(), meta: { mode: 0o644, uid: 0, gid: 0 } });
    out.notes.push(`The image has no CA bundle: ${named} is created with Node.js ${process.version}'s ${tls.rootCertificates.length} Mozilla roots plus the CAs.`);
  }
  for (const b of bundles) {
    let text = b.text;
    for (const ca of toAdd) if (!hasBlock(text, ca.sha256)) text = appendBlock(text, ca.sha256, ca.toPem(), caLabel(ca));
    put({ path: b.real, type: 'file', ...b.meta, content: Buffer.from(text, 'latin1') });
  }

  // The certificate directory: the CA under its ollama-tls name and its subject-hash link.
  const dir = where.certDir.real;
  const names = new Set(view.list(dir));
  for (const ca of toAdd) {
    const stem = fileStem(ca.sha256);
    put({ path: `${dir}/${stem}.pem`, type: 'file', mode: 0o644, uid: 0, gid: 0, content: Buffer.from(ca.toPem(), 'latin1') });
    const hash = opensslSubjectHash(ca.subjectRaw);
    const linked = [...names].some((n) => HASH_LINK.exec(n)?.[1] === hash && view.linkTarget(`${dir}/${n}`) === `${stem}.pem`);
    if (!linked) {
      let n = 0;
      while (names.has(`${hash}.${n}`)) n++;
      names.add(`${hash}.${n}`);
      put({ path: `${dir}/${hash}.${n}`, type: 'symlink', mode: 0o777, uid: 0, gid: 0, linkname: `${stem}.pem` });
    }
    if (where.anchorDir) {
      put({ path: `${where.anchorDir.real}/${stem}.crt`, type: 'file', mode: 0o644, uid: 0, gid: 0, content: Buffer.from(ca.toPem(), 'latin1') });
    }
  }
  out.files = [...files.keys()].sort();

  // Parent directories as entries, with the image's own mode and owner where it has them.
  for (const f of [...files.values()]) {
    const parts = f.path.split('/').filter(Boolean);
    for (let i = 1; i < parts.length; i++) {
      const p = `/${parts.slice(0, i).join('/')}`;
      if (files.has(p)) continue;
      const node = view.at(p);
      const known = node?.kind === 'dir' && !node.implicit;
      put({ path: p, type: 'directory', mode: known ? node.mode : 0o755, uid: known ? node.uid : 0, gid: known ? node.gid : 0 });
    }
  }
  out.entries = [...files.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return out;
}
