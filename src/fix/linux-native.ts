// Any Linux tree without its distribution's update tool (minimal images, distroless, a plain
// alpine): do what the tool would have done, by hand. Append the CA to the bundle Go reads first
// and to the one OpenSSL reads, and put it in the certificate directory with its OpenSSL
// subject-hash link, so Go, OpenSSL and curl all find it. Every change is marked or named from
// the CA's fingerprint, so untrust removes exactly it. A bundle that is absent or empty is first
// seeded with Mozilla's roots (seed-roots.ts, the one rule for a CA into a Linux tree), marked with
// what the file was, so untrust removes it again or empties it again.
import { statSync } from 'node:fs';
import type { LinuxFamily } from '../platform/os-release.js';
import type { RootFs } from '../platform/rootfs.js';
import { GO_CERT_FILES, OPENSSL_DEFAULTS } from '../trust/store-paths.js';
import type { Certificate } from '../x509/certificate.js';
import { certificatesFromPem } from '../x509/load.js';
import { opensslSubjectHash } from '../x509/subject-hash.js';
import type { TrustContext } from './context.js';
import { hashDirFingerprints, linuxStoreChecks } from './linux-checks.js';
import { caLabel, fileStem, hasBlock, stripBlock, type CaRef, type Plan, type Step, type TrustTarget } from './plan.js';
import { needsSeed, seedBlock, seededAs } from './seed-roots.js';

export interface StepSet {
  steps: Step[];
  unchanged: string[];
  notes: string[];
}

const HASH_LINK = /^([0-9a-f]{8})\.(\d+)$/;

function opensslPaths(family: LinuxFamily | undefined): { file: string; dir: string } {
  return (family && OPENSSL_DEFAULTS[family]) || { file: GO_CERT_FILES[0]!, dir: '/etc/ssl/certs' };
}

/** The bundle files to edit: the one Go reads first and OpenSSL's default, once each. */
function bundleFiles(fs: RootFs, family: LinuxFamily | undefined): { files: string[] } {
  const goFirst = GO_CERT_FILES.find((f) => fs.exists(f));
  const candidates = [goFirst ?? GO_CERT_FILES[0]!, opensslPaths(family).file];
  const seen = new Set<string>();
  const files: string[] = [];
  for (const f of candidates) {
    const key = fs.exists(f) ? fs.resolve(f) : f;
    if (seen.has(key)) continue;
    seen.add(key);
    files.push(f);
  }
  return { files };
}

/** The file's permission bits, or 0o644 for a file that is not there. */
function fileMode(fs: RootFs, p: string): number {
  try {
    return statSync(fs.resolve(p)).mode & 0o7777;
  } catch {
    return 0o644;
  }
}

function readText(fs: RootFs, p: string): string | undefined {
  try {
    return fs.readFile(p).toString('latin1');
  } catch {
    return undefined;
  }
}

function bundleHas(fs: RootFs, file: string, sha256: string): boolean {
  const text = readText(fs, file);
  if (text === undefined) return false;
  return hasBlock(text, sha256) || certificatesFromPem(text).certificates.some((c) => c.sha256 === sha256);
}

export function nativeTrustSteps(fs: RootFs, family: LinuxFamily | undefined, cas: Certificate[]): StepSet {
  const { dir } = opensslPaths(family);
  const { files } = bundleFiles(fs, family);
  const out: StepSet = { steps: [], unchanged: [], notes: [] };
  for (const file of cas.length > 0 ? files : []) {
    const text = readText(fs, file);
    if (!needsSeed(text)) continue;
    const was = text === undefined ? 'absent' : 'empty';
    out.notes.push(`${file} is ${was} in this tree: it is seeded with Node.js ${process.version}'s Mozilla roots before the CAs, so Go keeps trusting public CAs.`);
    out.steps.push({ kind: 'write', path: file, content: seedBlock(was), mode: fileMode(fs, file), why: `seed ${file} (${was}) with Mozilla's roots; untrust makes it ${was} again` });
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

export function nativeUndoSteps(fs: RootFs, family: LinuxFamily | undefined, refs: CaRef[]): StepSet {
  const { dir } = opensslPaths(family);
  const { files } = bundleFiles(fs, family);
  const out: StepSet = { steps: [], unchanged: [], notes: [] };
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
    if (was === 'empty') out.steps.push({ kind: 'write', path: file, content: '', mode: fileMode(fs, file), why: `${file} was empty before ollama-tls seeded it` });
  }
  return out;
}

export const linuxNative: TrustTarget = {
  id: 'linux-native',
  detect: (ctx) =>
    ctx.platform === 'linux'
      ? { applies: true, why: `no distribution tool to run${ctx.release ? ` for ${ctx.release.prettyName}` : ''}: the bundle files and hash links are edited directly` }
      : { applies: false, why: 'not Linux' },
  plan(ctx: TrustContext, cas: Certificate[]): Plan {
    const set = nativeTrustSteps(ctx.fs, ctx.release?.family, cas);
    return planOf(ctx, 'trust', set);
  },
  planUndo(ctx: TrustContext, refs: CaRef[]): Plan {
    return planOf(ctx, 'untrust', nativeUndoSteps(ctx.fs, ctx.release?.family, refs));
  },
  verify: (ctx, refs, action) => linuxStoreChecks(ctx.root, refs, action === 'trust' ? 'present' : 'absent'),
};

function planOf(ctx: TrustContext, action: 'trust' | 'untrust', set: StepSet): Plan {
  const dirs = [...new Set(set.steps.map((s) => ('path' in s ? s.path.slice(0, s.path.lastIndexOf('/')) || '/' : '/')))];
  return {
    target: 'linux-native', action, root: ctx.root,
    title: `Linux CA bundle and certificate directory, edited directly${ctx.release ? ` (${ctx.release.prettyName})` : ''}`,
    steps: set.steps, unchanged: set.unchanged, notes: set.notes,
    needsPrivilege: dirs.some((d) => !ctx.canWrite(d)),
    readers: 'Ollama (Go), curl, wget, git, Python, OpenSSL',
  };
}
