// After a Linux plan ran: read the store back from the tree, the way its readers do, and say
// whether each CA is there (trust) or gone (untrust). Go's loading rules (first bundle, then
// the directories, parse errors dropped) and OpenSSL's (default bundle, subject-hash links).
import { RootFs } from '../platform/rootfs.js';
import { readOsRelease } from '../platform/os-release.js';
import { goParseErrors, parseGoDebug } from '../trust/go-verify.js';
import { readSystemdService } from '../ollama/systemd.js';
import { familyFacts } from '../platform/linux-families.js';
import { loadUnixRoots, type Env } from '../trust/stores.js';
import { certificatesFromPem } from '../x509/load.js';
import { opensslSubjectHash } from '../x509/subject-hash.js';
import type { CaRef, Check } from './plan.js';

const HASH_LINK = /^[0-9a-f]{8}\.\d+$/;

/** The SHA-256 of every certificate reachable through `<hash>.N` entries for this subject hash. */
export function hashDirFingerprints(fs: RootFs, dir: string, hash: string): Set<string> {
  const out = new Set<string>();
  let names: string[];
  try {
    names = fs.readdir(dir).map((e) => e.name).filter((n) => HASH_LINK.test(n) && n.startsWith(`${hash}.`));
  } catch {
    return out;
  }
  for (const name of names) {
    try {
      for (const c of certificatesFromPem(fs.readFile(`${dir}/${name}`).toString('latin1')).certificates) out.add(c.sha256);
    } catch {
      // a dangling link finds nothing, for OpenSSL too
    }
  }
  return out;
}

function fileFingerprints(fs: RootFs, file: string): Set<string> | undefined {
  try {
    return new Set(certificatesFromPem(fs.readFile(file).toString('latin1')).certificates.map((c) => c.sha256));
  } catch {
    return undefined;
  }
}

/** An environment Go may run in, when it points Go at other roots: from where, and the two variables. */
interface GoEnv { from: string; env: Env }

/**
 * The environments Ollama's Go may load its roots in, besides the defaults: this shell's
 * (live tree only) and the ollama.service unit's, when they set SSL_CERT_FILE or SSL_CERT_DIR.
 */
function goEnvironments(fs: RootFs, live: boolean, env: Env): GoEnv[] {
  const out: GoEnv[] = [];
  const pick = (e: Record<string, string | undefined>) => ({
    ...(e.SSL_CERT_FILE ? { SSL_CERT_FILE: e.SSL_CERT_FILE } : {}), ...(e.SSL_CERT_DIR ? { SSL_CERT_DIR: e.SSL_CERT_DIR } : {}),
  });
  const shell = live ? pick(env) : {};
  if (Object.keys(shell).length) out.push({ from: 'this shell', env: shell });
  try {
    const service = readSystemdService(fs);
    const unit = service ? pick(Object.fromEntries(Object.entries(service.env).map(([k, v]) => [k, v.value]))) : {};
    if (service && Object.keys(unit).length && JSON.stringify(unit) !== JSON.stringify(shell)) out.push({ from: service.name, env: unit });
  } catch {
    // no readable unit: nothing to add
  }
  return out;
}

const describeEnv = (g: GoEnv) => Object.entries(g.env).map(([k, v]) => `${k}=${v}`).join(' ');

/**
 * Each CA present (want 'present') or absent ('absent') for Go and for OpenSSL in the tree.
 * Go's view is read as Go reads it (first bundle, the directories, what its parser rejects
 * dropped, GODEBUG honoured), and again under each SSL_CERT_FILE/SSL_CERT_DIR Ollama may run
 * with. A fresh RootFs: the plan just changed files that an earlier read may have cached.
 */
export async function linuxStoreChecks(root: string, refs: CaRef[], want: 'present' | 'absent', env: Env = process.env): Promise<Check[]> {
  const fs = new RootFs(root);
  const godebug = parseGoDebug(env.GODEBUG);
  const views = [
    { label: 'Go (Ollama)', store: await loadUnixRoots(fs, {}, 'go') },
    ...await Promise.all(goEnvironments(fs, fs.isHostRoot, env).map(async (g) => ({
      label: `Go (Ollama) with ${describeEnv(g)} (${g.from})`, store: await loadUnixRoots(fs, g.env, 'go'),
    }))),
  ].map((v) => ({ ...v, bySha: new Map(v.store.certificates.map((c) => [c.sha256, c])) }));
  const family = readOsRelease(fs)?.family;
  const openssl = familyFacts(family)?.openssl;
  const checks: Check[] = [];
  for (const ref of refs) {
    const name = ref.cert?.commonName ?? ref.sha256.slice(0, 16);
    for (const { label, store: go, bySha } of views) {
      const inGo = bySha.get(ref.sha256);
      if (want === 'present') {
        const parse = inGo ? goParseErrors(inGo, godebug) : [];
        checks.push({
          ok: inGo !== undefined && parse.length === 0,
          what: inGo
            ? parse.length ? `${label} finds "${name}" (${go.origin.get(inGo)}) but drops it: ${parse[0]}` : `${label} loads "${name}" from ${go.origin.get(inGo)}`
            : `${label} does not find "${name}" in ${go.sources.filter((s) => s.status === 'loaded').map((s) => s.path).join(', ') || 'any bundle'}`,
        });
      } else {
        checks.push({ ok: !inGo, what: inGo ? `${label} still loads "${name}" from ${go.origin.get(inGo)}` : `${label} no longer finds "${name}"` });
      }
    }
    if (!openssl) continue;
    const inFile = fileFingerprints(fs, openssl.file)?.has(ref.sha256) ?? false;
    const inDir = ref.cert ? hashDirFingerprints(fs, openssl.dir, opensslSubjectHash(ref.cert.subjectRaw)).has(ref.sha256) : undefined;
    if (want === 'present') {
      checks.push({ ok: inFile, what: `${inFile ? '' : 'not '}in ${openssl.file} (curl, Python, git)` });
      if (inDir !== undefined) checks.push({ ok: inDir, what: `${inDir ? '' : 'no '}subject-hash link in ${openssl.dir} (OpenSSL's -CApath lookup)` });
    } else {
      checks.push({ ok: !inFile, what: `${inFile ? 'still ' : 'no longer '}in ${openssl.file}` });
      if (inDir !== undefined) checks.push({ ok: !inDir, what: `${inDir ? 'a subject-hash link still leads to it' : 'no subject-hash link leads to it'} in ${openssl.dir}` });
    }
  }
  return checks;
}
