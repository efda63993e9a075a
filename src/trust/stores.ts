// Where each client reads its roots from, and what it finds there. Each loader records its
// sources (path, outcome, count) because "Go read a different file than you think" is itself
// a diagnosis.
import path from 'node:path';
import tls from 'node:tls';
import type { Certificate } from '../x509/certificate.js';
import { pemBlocks, type PemBlock } from '../x509/der.js';
import { certificatesFromBlocks, certificatesFromBytes, certificatesFromPem } from '../x509/load.js';
import { readCertificateFile } from '../x509/files.js';
import { DirTree, type RootFs } from '../platform/rootfs.js';
import { readOsRelease } from '../platform/os-release.js';
import { GO_CERT_DIRECTORIES, GO_CERT_FILES } from './store-paths.js';
import { familyFacts } from '../platform/linux-families.js';

export interface StoreSource {
  path: string;
  kind: 'file' | 'dir' | 'bundled' | 'keychain' | 'windows' | 'env';
  status: 'loaded' | 'missing' | 'unreadable' | 'empty' | 'skipped';
  certificates: number;
  note?: string;
  /**
   * CERTIFICATE blocks left out because they do not parse (Go's AppendCertsFromPEM and OpenSSL's
   * loader skip them without a word), with the first one's reason: said in the findings' evidence.
   */
  damaged?: { count: number; reason: string };
}

export interface TrustStore {
  certificates: Certificate[];
  sources: StoreSource[];
  /** Where each certificate was first found. */
  origin: Map<Certificate, string>;
}

export type Env = Record<string, string | undefined>;

const errCode = (e: unknown) => (e as NodeJS.ErrnoException)?.code ?? 'error';

/** A store being filled: de-duplicated by fingerprint, remembering where each came from. */
class StoreBuilder {
  readonly certificates: Certificate[] = [];
  readonly sources: StoreSource[] = [];
  // Certificates are parsed once per distinct DER (x509/load.ts), so identity is equality.
  readonly origin = new Map<Certificate, string>();

  add(certs: Certificate[], from: string): number {
    let n = 0;
    for (const c of certs) {
      if (this.origin.has(c)) continue;
      this.origin.set(c, from);
      this.certificates.push(c);
      n++;
    }
    return n;
  }

  merge(store: TrustStore): number {
    let n = 0;
    for (const c of store.certificates) n += this.add([c], store.origin.get(c) ?? 'unknown');
    return n;
  }

  done(): TrustStore {
    return { certificates: this.certificates, sources: this.sources, origin: this.origin };
  }
}

// Go's view and the OpenSSL view read the same files; read and split each one once per run.
const pemCache = new WeakMap<RootFs, Map<string, PemBlock[] | NodeJS.ErrnoException>>();

function readPemFile(fs: RootFs, file: string): PemBlock[] {
  let perFs = pemCache.get(fs);
  if (!perFs) pemCache.set(fs, (perFs = new Map()));
  let entry = perFs.get(file);
  if (!entry) {
    try {
      entry = pemBlocks(fs.readFile(file).toString('latin1'));
    } catch (e) {
      entry = e as NodeJS.ErrnoException;
    }
    perFs.set(file, entry);
  }
  if (entry instanceof Error) throw entry;
  return entry;
}

interface CertDirListing {
  /** The entries Go reads, in name order (full paths). */
  files: string[];
  /** Symlinks to a name in the same directory (OpenSSL's hash links), which Go skips. */
  sameDirLinks: number;
}

// Go's view and the OS view both walk /etc/ssl/certs: list and classify it once per run.
const dirCache = new WeakMap<RootFs, Map<string, CertDirListing | NodeJS.ErrnoException>>();

/** One directory as Go walks it: every entry but the symlinks whose target names no directory. */
function certDirListing(fs: RootFs, dir: string): CertDirListing | NodeJS.ErrnoException {
  let perFs = dirCache.get(fs);
  if (!perFs) dirCache.set(fs, (perFs = new Map()));
  let listing = perFs.get(dir);
  if (listing) return listing;
  try {
    const entries = fs.readdir(dir).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const base = dir.endsWith('/') ? dir.slice(0, -1) : dir;
    const files: string[] = [];
    let sameDirLinks = 0;
    for (const entry of entries) {
      const full = `${base}/${entry.name}`;
      // Only a symlink's target says whether Go skips it; a plain file is never skipped.
      if (entry.isSymbolicLink()) {
        let target: string | undefined;
        try {
          target = fs.readlink(full);
        } catch {
          target = undefined;
        }
        if (target !== undefined && !target.includes('/')) {
          sameDirLinks++;
          continue;
        }
      }
      files.push(full);
    }
    listing = { files, sameDirLinks };
  } catch (e) {
    listing = e as NodeJS.ErrnoException;
  }
  perFs.set(dir, listing);
  return listing;
}

/**
 * Go's Linux/BSD loadSystemRoots: the FIRST bundle file that can be read (SSL_CERT_FILE replaces
 * the list), then every file of every directory (SSL_CERT_DIR, colon-separated, replaces those),
 * skipping symlinks that point inside the same directory (OpenSSL's hash links: their targets are
 * read anyway). Only PEM counts. `reader` says whose PEM rules apply: Go ignores "TRUSTED
 * CERTIFICATE" blocks and blocks with headers; OpenSSL reads them. (A root Go cannot parse is
 * skipped by Go; GoCertPool leaves those out when it looks for parents.)
 */
export async function loadUnixRoots(fs: RootFs, env: Env, reader: 'go' | 'openssl' = 'go'): Promise<TrustStore> {
  return remembered(fs, JSON.stringify(['unix', reader, env.SSL_CERT_FILE || null, env.SSL_CERT_DIR || null]), (see) => readUnixRoots(fs, env, reader, see));
}

function readUnixRoots(fs: RootFs, env: Env, reader: 'go' | 'openssl', see: (p: string) => void): TrustStore {
  const store = new StoreBuilder();
  const pemOptions = { goRules: reader === 'go' };

  const fileEnv = env.SSL_CERT_FILE;
  const files = fileEnv ? [fileEnv] : GO_CERT_FILES;
  const kind = fileEnv ? 'env' : 'file';
  let found = false;
  for (const file of files) {
    if (found) {
      store.sources.push({ path: file, kind, status: 'skipped', certificates: 0, note: 'Go stops at the first bundle it can read' });
      continue;
    }
    try {
      see(file);
      const pem = certificatesFromBlocks(readPemFile(fs, file), pemOptions);
      const n = store.add(pem.certificates, file);
      found = true;
      store.sources.push({
        path: file, kind, status: n ? 'loaded' : 'empty', certificates: n, ...(fileEnv ? { note: 'from SSL_CERT_FILE' } : {}),
        ...(pem.problems[0] ? { damaged: { count: pem.unparsable, reason: pem.problems[0].reason } } : {}),
      });
    } catch (e) {
      const code = errCode(e);
      store.sources.push({
        path: file, kind, status: code === 'ENOENT' ? 'missing' : 'unreadable', certificates: 0,
        ...(fileEnv ? { note: `SSL_CERT_FILE points here${code === 'ENOENT' ? ' but the file does not exist' : ` but it cannot be read (${code})`}` } : {}),
      });
    }
  }

  const dirEnv = env.SSL_CERT_DIR;
  const dirs = dirEnv ? dirEnv.split(':').filter(Boolean) : GO_CERT_DIRECTORIES;
  const dirKind = dirEnv ? 'env' : 'dir';
  for (const dir of dirs) {
    see(dir);
    const listing = certDirListing(fs, dir);
    if (listing instanceof Error) {
      store.sources.push({ path: dir, kind: dirKind, status: errCode(listing) === 'ENOENT' ? 'missing' : 'unreadable', certificates: 0 });
      continue;
    }
    let n = 0;
    let read = 0;
    let damaged: StoreSource['damaged'];
    for (const full of listing.files) {
      try {
        see(full);
        const pem = certificatesFromBlocks(readPemFile(fs, full), pemOptions);
        const certs = pem.certificates;
        if (pem.problems[0]) damaged = { count: (damaged?.count ?? 0) + pem.unparsable, reason: damaged?.reason ?? `${full}: ${pem.problems[0].reason}` };
        read += certs.length;
        n += store.add(certs, full);
      } catch {
        // Sub-directories and unreadable entries are skipped by Go too.
      }
    }
    const hashLinks = listing.sameDirLinks;
    const notes = [
      dirEnv ? 'from SSL_CERT_DIR' : '',
      read > n ? `${read - n} already in the bundle` : '',
      hashLinks ? `${hashLinks} same-directory links skipped, as Go does` : '',
    ].filter(Boolean);
    store.sources.push({
      path: dir, kind: dirKind, status: read ? 'loaded' : 'empty', certificates: read, ...(notes.length ? { note: notes.join('; ') } : {}), ...(damaged ? { damaged } : {}),
    });
  }
  return store.done();
}

/**
 * The distribution's own store, as OpenSSL-based tools (curl, wget, apt, Python) read it: the
 * distro's default bundle and directory (not Go's first-found file), ignoring SSL_CERT_FILE and
 * SSL_CERT_DIR. An unknown distribution falls back to Go's search.
 */
export async function loadLinuxSystemRoots(fs: RootFs): Promise<TrustStore> {
  const release = readOsRelease(fs);
  const defaults = familyFacts(release?.family)?.openssl;
  if (!defaults || !fs.exists(defaults.file)) return loadUnixRoots(fs, {}, 'openssl');
  const store = await loadUnixRoots(fs, { SSL_CERT_FILE: defaults.file, SSL_CERT_DIR: defaults.dir }, 'openssl');
  // These paths are the distribution's defaults, not settings from the environment.
  for (const source of store.sources) {
    source.kind = source.path === defaults.file ? 'file' : 'dir';
    delete source.note;
  }
  return store;
}

let bundled: TrustStore | undefined;

/** The Mozilla-derived roots compiled into this Node.js (remembered by the binary they come from). */
export function bundledRoots(): TrustStore {
  bundled ??= remembered(undefined, JSON.stringify(['bundled', process.version, process.versions.openssl, process.execPath]), (see) => {
    see(process.execPath);
    const store = new StoreBuilder();
    const where = `Node.js ${process.version} bundled roots`;
    const n = store.add(certificatesFromPem(tls.rootCertificates.join('\n')).certificates, where);
    store.sources.push({ path: where, kind: 'bundled', status: 'loaded', certificates: n });
    return store.done();
  });
  return bundled;
}

/** What a store was read from, told before each read. */
export interface StoreInputs {
  see(p: string): void;
}

/** Stores as earlier runs read them, served while their inputs are unchanged (trust/store-snapshot.ts). */
export interface RememberedStores {
  get(key: string): TrustStore | undefined;
  recorder(): StoreInputs;
  put(key: string, store: TrustStore, inputs: StoreInputs): void;
}

let snapshot: RememberedStores | undefined;

/** Stores as earlier runs read them (trust/store-snapshot.ts; the CLI turns this on). */
export function useStoreSnapshot(s: RememberedStores | undefined): void {
  snapshot = s;
}

/**
 * A store from the snapshot while its inputs are unchanged; else read, and recorded. Only stores
 * of the running system's tree (`fs`; none for Node's bundled roots).
 */
function remembered(fs: RootFs | undefined, key: string, read: (see: (p: string) => void) => TrustStore): TrustStore {
  if (!snapshot || (fs && !(fs instanceof DirTree && fs.isHostRoot))) return read(() => {});
  const known = snapshot.get(key);
  if (known) return known;
  const inputs = snapshot.recorder();
  const store = read((p) => inputs.see(p));
  snapshot.put(key, store, inputs);
  return store;
}

/**
 * The newest notBefore among the bundled roots. They were all issued before this Node.js was
 * built, so a clock reading earlier than this is certainly wrong.
 */
export function clockFloor(): Date {
  let max = 0;
  for (const c of bundledRoots().certificates) max = Math.max(max, c.notBefore.getTime());
  return new Date(max);
}

/** Node.js's default roots: bundled + NODE_EXTRA_CA_CERTS (+ the OS store with --use-system-ca). */
export async function loadNodeRoots(fs: RootFs, env: Env, system: () => Promise<TrustStore>): Promise<TrustStore> {
  const store = new StoreBuilder();
  const base = bundledRoots();
  store.merge(base);
  store.sources.push(...base.sources);
  const extra = env.NODE_EXTRA_CA_CERTS;
  if (extra) {
    const added = remembered(fs, JSON.stringify(['node-extra', extra]), (see) => {
      const file = new StoreBuilder();
      try {
        see(extra);
        const pem = certificatesFromPem(fs.readFile(extra).toString('latin1'));
        file.add(pem.certificates, extra);
        file.sources.push({ path: extra, kind: 'env', status: pem.certificates.length ? 'loaded' : 'empty', certificates: 0, note: 'from NODE_EXTRA_CA_CERTS' });
      } catch (e) {
        // Node only warns ("Ignoring extra certs from ...") and carries on without them.
        file.sources.push({ path: extra, kind: 'env', status: errCode(e) === 'ENOENT' ? 'missing' : 'unreadable', certificates: 0, note: 'NODE_EXTRA_CA_CERTS is set but Node cannot read it' });
      }
      return file.done();
    });
    // Counted as added to the bundled roots: those already among them are not counted again.
    const source = added.sources[0]!;
    source.certificates = store.merge(added);
    store.sources.push(source);
  }
  if (usesSystemCa(env)) {
    const n = store.merge(await system());
    store.sources.push({ path: 'OS store (--use-system-ca)', kind: 'env', status: n ? 'loaded' : 'empty', certificates: n });
  }
  return store.done();
}

/** Node 22.15+/23.8+: NODE_USE_SYSTEM_CA=1 or --use-system-ca in NODE_OPTIONS adds the OS store. */
export function usesSystemCa(env: Env): boolean {
  return env.NODE_USE_SYSTEM_CA === '1' || /(^|\s)--use-system-ca(\s|$)/.test(env.NODE_OPTIONS ?? '');
}

/** execFile with an argument array; loaded only on the platforms that shell out (macOS, Windows). */
async function run(file: string, args: string[], opts: { maxBuffer: number }): Promise<{ stdout: string }> {
  const { execFile } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    execFile(file, args, { ...opts, encoding: 'utf8' }, (err, stdout) => (err ? reject(err) : resolve({ stdout })));
  });
}

/** macOS: the system roots, the System keychain (admin-added CAs) and the login keychain. */
async function loadDarwinRoots(env: Env): Promise<TrustStore> {
  const keychains = [
    '/System/Library/Keychains/SystemRootCertificates.keychain',
    '/Library/Keychains/System.keychain',
    ...(env.HOME ? [path.join(env.HOME, 'Library/Keychains/login.keychain-db')] : []),
  ];
  const store = new StoreBuilder();
  for (const keychain of keychains) {
    try {
      const { stdout } = await run('/usr/bin/security', ['find-certificate', '-a', '-p', keychain], { maxBuffer: 64 << 20 });
      const n = store.add(certificatesFromPem(stdout).certificates, keychain);
      store.sources.push({ path: keychain, kind: 'keychain', status: n ? 'loaded' : 'empty', certificates: n });
    } catch {
      store.sources.push({ path: keychain, kind: 'keychain', status: 'unreadable', certificates: 0 });
    }
  }
  return store.done();
}

/** Windows: the machine and user Root stores (what Go's platform verifier consults). */
async function loadWindowsRoots(): Promise<TrustStore> {
  const where = 'Cert:\\LocalMachine\\Root + Cert:\\CurrentUser\\Root';
  const script = 'Get-ChildItem Cert:\\LocalMachine\\Root, Cert:\\CurrentUser\\Root | ForEach-Object { [Convert]::ToBase64String($_.RawData) }';
  const store = new StoreBuilder();
  try {
    const { stdout } = await run('powershell.exe', ['-NoProfile', '-NonInteractive', '-Command', script], { maxBuffer: 64 << 20 });
    let n = 0;
    for (const line of stdout.split(/\r?\n/).filter(Boolean)) n += store.add(certificatesFromBytes(Buffer.from(line.trim(), 'base64')).certificates, where);
    store.sources.push({ path: where, kind: 'windows', status: n ? 'loaded' : 'empty', certificates: n });
  } catch {
    store.sources.push({ path: where, kind: 'windows', status: 'unreadable', certificates: 0 });
  }
  return store.done();
}

/** The OS store on this platform. Newer Node reads macOS/Windows stores natively (tls.getCACertificates). */
export async function loadOsRoots(fs: DirTree, env: Env, platform: NodeJS.Platform): Promise<TrustStore> {
  if (platform === 'darwin' || platform === 'win32') {
    const native = (tls as unknown as { getCACertificates?: (type: string) => string[] }).getCACertificates;
    if (native && fs.isHostRoot) {
      const store = new StoreBuilder();
      const where = 'OS store (tls.getCACertificates)';
      const n = store.add(certificatesFromPem(native('system').join('\n')).certificates, where);
      store.sources.push({ path: where, kind: platform === 'darwin' ? 'keychain' : 'windows', status: 'loaded', certificates: n });
      return store.done();
    }
    return platform === 'darwin' ? loadDarwinRoots(env) : loadWindowsRoots();
  }
  return loadLinuxSystemRoots(fs);
}

/** The OS store plus files given with --ca (any certificate file: PEM, DER, PKCS#7, PKCS#12). */
export async function loadExtraRoots(base: TrustStore, files: string[], password?: string): Promise<TrustStore> {
  const store = new StoreBuilder();
  store.merge(base);
  store.sources.push(...base.sources);
  await addRootFiles(store, files, 'from --ca', password);
  return store.done();
}

/** Only these files' certificates as roots (verify --roots): no OS store under them. */
export async function loadRootFiles(files: string[], password?: string): Promise<TrustStore> {
  const store = new StoreBuilder();
  await addRootFiles(store, files, 'from --roots', password);
  return store.done();
}

async function addRootFiles(store: StoreBuilder, files: string[], note: string, password?: string): Promise<void> {
  for (const file of files) {
    // These are the user's own files on this machine, even when --root points elsewhere.
    const read = await readCertificateFile(file, password !== undefined ? { password } : {});
    const n = store.add(read.entries.map((e) => e.cert), file);
    store.sources.push({ path: file, kind: 'file', status: n ? 'loaded' : 'empty', certificates: n, note });
  }
}
