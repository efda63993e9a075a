// The one rule for putting a CA into a Linux tree by hand, whatever the tree: the running system
// or a `--root` directory without the update tool (linux-native.ts, linux-distro.ts's native
// mode), or an image's merged layers (image/trust-files.ts). It is computed over `RootFs`, which
// both implement, so the same tree gives the same edits either way:
// - the family's anchor (`<anchorDir>/ollama-tls-<fp>.crt`), when the family is known and the
//   caller keeps one, so that the tree's own update tool keeps the CA when it next runs;
// - the CA appended, as a marked block, to the bundle Go reads first (SSL_CERT_FILE when the
//   tree's programs are given one) and to OpenSSL's default bundle, once per real file; a bundle
//   that is absent or empty is first seeded with Mozilla's roots (seed-roots.ts), marked with
//   what it was, so that Go keeps trusting public roots and untrust gives the file back;
// - the CA in the certificate directory (OpenSSL's default, or SSL_CERT_DIR) under its
//   ollama-tls name, with its OpenSSL subject-hash link.
// Every change is marked or named from the CA's fingerprint, so untrust removes exactly it.
import { familyFacts, type LinuxFamily } from '../platform/linux-families.js';
import { readTextIn, type RootFs } from '../platform/rootfs.js';
import { GO_CERT_FILES } from '../trust/store-paths.js';
import type { Certificate } from '../x509/certificate.js';
import { pemFingerprints } from '../x509/load.js';
import { opensslSubjectHash } from '../x509/subject-hash.js';
import { hashDirFingerprints } from './linux-checks.js';
import { caLabel, fileStem, hasBlock, stripBlock, type CaRef, type Step } from './plan.js';
import { needsSeed, seedBlock, seededAs } from './seed-roots.js';

export interface TreeTrust {
  /** The tree's family ('unknown', 'none' or undefined: Go's first file and /etc/ssl/certs). */
  family?: LinuxFamily | 'unknown' | 'none' | undefined;
  /** The bundle the tree's programs are told to read (SSL_CERT_FILE), when it names one that is there. */
  goBundle?: string | undefined;
  /** The certificate directory they are told to read (SSL_CERT_DIR's first entry). */
  certDir?: string | undefined;
}

export interface TreeEdits {
  steps: Step[];
  /** Per CA with nothing to do, why. */
  unchanged: string[];
  /** Bundles seeded with Mozilla's roots before the CAs, and what each was. */
  seeded: { file: string; was: 'absent' | 'empty' }[];
}

const HASH_LINK = /^([0-9a-f]{8})\.(\d+)$/;

/** OpenSSL's default bundle and directory for the family, else Go's first file and /etc/ssl/certs. */
function opensslPaths(family: TreeTrust['family']): { file: string; dir: string } {
  return familyFacts(family)?.openssl ?? { file: GO_CERT_FILES[0]!, dir: '/etc/ssl/certs' };
}

/** The certificate directory the edits go to. */
export const certDirOf = (where: TreeTrust): string => where.certDir ?? opensslPaths(where.family).dir;

/**
 * The bundle files to edit, named as programs name them: the one Go reads first (Go's first
 * file when none is there, which is where Go looks first) and OpenSSL's default, once per real file.
 */
export function bundleFiles(fs: RootFs, where: TreeTrust): string[] {
  const goFirst = where.goBundle ?? GO_CERT_FILES.find((f) => fs.exists(f)) ?? GO_CERT_FILES[0]!;
  const seen = new Set<string>();
  const files: string[] = [];
  for (const f of [goFirst, opensslPaths(where.family).file]) {
    const key = fs.exists(f) ? fs.resolve(f) : f;
    if (seen.has(key)) continue;
    seen.add(key);
    files.push(f);
  }
  return files;
}

// PEM files, read as Latin-1: every byte kept as it is.
const readText = (fs: RootFs, p: string) => readTextIn(fs, p, 'latin1');

function bundleHas(fs: RootFs, file: string, sha256: string): boolean {
  const text = readText(fs, file);
  if (text === undefined) return false;
  return hasBlock(text, sha256) || pemFingerprints(text).has(sha256);
}

/** Where the family's update tool picks up this CA. */
export function anchorPath(family: LinuxFamily, sha256: string): string {
  const f = familyFacts(family)!;
  return `${f.anchorDir}/${fileStem(sha256)}${f.anchorSuffix}`;
}

/** The anchor files the family's tool reads, for the CAs not already there with these bytes. */
export function anchorEdits(fs: RootFs, family: LinuxFamily, cas: Certificate[]): TreeEdits {
  const out: TreeEdits = { steps: [], unchanged: [], seeded: [] };
  const suffix = familyFacts(family)!.anchorSuffix;
  for (const ca of cas) {
    const p = anchorPath(family, ca.sha256);
    if (readText(fs, p) === ca.toPem()) {
      out.unchanged.push(`"${caLabel(ca)}" is already in ${p}`);
      continue;
    }
    out.steps.push({ kind: 'write', path: p, content: ca.toPem(), mode: 0o644, why: `the CA "${caLabel(ca)}" as an anchor (${suffix} is required)` });
  }
  return out;
}

/** The bundles, the certificate file and its hash link for `cas` (see the top of this file). */
export function caIntoTree(fs: RootFs, where: TreeTrust, cas: Certificate[]): TreeEdits {
  const dir = certDirOf(where);
  const files = bundleFiles(fs, where);
  const out: TreeEdits = { steps: [], unchanged: [], seeded: [] };
  for (const file of cas.length > 0 ? files : []) {
    const text = readText(fs, file);
    if (!needsSeed(text)) continue;
    const was = text === undefined ? 'absent' : 'empty';
    out.seeded.push({ file, was });
    out.steps.push({ kind: 'write', path: file, content: seedBlock(was), mode: fs.mode(file) ?? 0o644, why: `seed ${file} (${was}) with Mozilla's roots; untrust makes it ${was} again` });
  }
  let names: string[] = [];
  try {
    names = fs.readdir(dir).map((e) => e.name);
  } catch {
    // the directory is created by the first write
  }
  for (const ca of cas) {
    const stem = fileStem(ca.sha256);
    const label = caLabel(ca);
    const pemPath = `${dir}/${stem}.pem`;
    const hash = opensslSubjectHash(ca.subjectRaw);
    const pending: Step[] = [];
    for (const file of files) {
      if (!bundleHas(fs, file, ca.sha256)) {
        pending.push({ kind: 'append-block', path: file, fingerprint: ca.sha256, pem: ca.toPem(), label, why: `add "${label}" to the bundle ${file === files[0] ? 'Go reads first' : 'OpenSSL reads'}` });
      }
    }
    if (!fs.exists(pemPath)) pending.push({ kind: 'write', path: pemPath, content: ca.toPem(), mode: 0o644, why: `the CA as a file in ${dir}` });
    if (!hashDirFingerprints(fs, dir, hash).has(ca.sha256)) {
      const used = new Set(names.map((n) => n.match(HASH_LINK)).filter((m) => m && m[1] === hash).map((m) => Number(m![2])));
      let n = 0;
      while (used.has(n)) n++;
      names.push(`${hash}.${n}`);
      pending.push({ kind: 'symlink', path: `${dir}/${hash}.${n}`, target: `${stem}.pem`, why: `OpenSSL finds CAs by subject hash (openssl x509 -hash = ${hash})` });
    }
    if (pending.length === 0) out.unchanged.push(`"${label}" is already in ${files.join(' and ')} and linked in ${dir}`);
    out.steps.push(...pending);
  }
  return out;
}

/** The files a CA could be read from by `caIntoTree` (what an image reads before computing). */
export function filesRead(fs: RootFs, where: TreeTrust, cas: Certificate[]): string[] {
  const dir = certDirOf(where);
  let names: string[] = [];
  try {
    names = fs.readdir(dir).map((e) => e.name);
  } catch {
    // none
  }
  const hashes = new Set(cas.map((c) => opensslSubjectHash(c.subjectRaw)));
  return [
    ...bundleFiles(fs, where),
    ...names.filter((n) => HASH_LINK.test(n) && hashes.has(n.slice(0, 8))).map((n) => `${dir}/${n}`),
    ...cas.flatMap((c) => (familyFacts(where.family) ? [anchorPath(where.family as LinuxFamily, c.sha256)] : [])),
  ];
}

/** Undo of `caIntoTree` on a tree ollama-tls edited by hand: its blocks, files and links, and a seed once empty again. */
export function caOutOfTree(fs: RootFs, where: TreeTrust, refs: CaRef[]): Omit<TreeEdits, 'seeded'> {
  const dir = certDirOf(where);
  const files = bundleFiles(fs, where);
  const out: Omit<TreeEdits, 'seeded'> = { steps: [], unchanged: [] };
  let entries: { name: string; link?: string }[] = [];
  try {
    entries = fs.readdir(dir).map((e) => {
      if (!e.isSymbolicLink()) return { name: e.name };
      try {
        return { name: e.name, link: fs.readlink(`${dir}/${e.name}`) };
      } catch {
        return { name: e.name };
      }
    });
  } catch {
    // nothing there to remove
  }
  for (const ref of refs) {
    const stem = fileStem(ref.sha256);
    const label = ref.cert ? caLabel(ref.cert) : ref.sha256.slice(0, 16);
    const pending: Step[] = [];
    for (const file of files) {
      const text = readText(fs, file);
      if (text !== undefined && hasBlock(text, ref.sha256)) pending.push({ kind: 'strip-block', path: file, fingerprint: ref.sha256, why: `take "${label}" out of ${file}` });
    }
    for (const e of entries) {
      if (e.link === `${stem}.pem`) pending.push({ kind: 'remove', path: `${dir}/${e.name}`, why: 'its subject-hash link' });
    }
    if (entries.some((e) => e.name === `${stem}.pem`)) pending.push({ kind: 'remove', path: `${dir}/${stem}.pem`, why: 'the CA file ollama-tls wrote' });
    if (pending.length === 0) out.unchanged.push(`"${label}" was not added by ollama-tls in this store; nothing to remove`);
    out.steps.push(...pending);
  }
  // A bundle ollama-tls seeded goes back to what it was once the last of its CAs is out of it.
  for (const file of files) {
    const text = readText(fs, file);
    if (text === undefined) continue;
    const rest = refs.reduce((t, ref) => stripBlock(t, ref.sha256), text);
    const was = rest !== text ? seededAs(rest) : undefined;
    if (was === 'absent') out.steps.push({ kind: 'remove', path: file, why: `${file} was absent before ollama-tls seeded it` });
    if (was === 'empty') out.steps.push({ kind: 'write', path: file, content: '', mode: fs.mode(file) ?? 0o644, why: `${file} was empty before ollama-tls seeded it` });
  }
  return out;
}
