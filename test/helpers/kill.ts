// The kill test: `trust --root TREE` SIGKILLed at a random moment (seeded), then `trust` again
// must leave a consistent store, and `untrust` must give back the original tree exactly. The tree
// is a Debian store built by Debian's real update-ca-certificates (test/helpers/trees.ts); as root
// it carries its own shell, so the tree's tool runs in a chroot of it (the path with Debian's
// ca-certificates.crt.new and hash links to get wrong), otherwise the native method runs.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { RootFs } from '../../src/platform/rootfs.js';
import { stripBlock } from '../../src/fix/plan.js';
import { certificatesFromPem } from '../../src/x509/load.js';
import { BIN } from './cli.js';
import { SCENARIOS, tempDir } from './servers.js';
import { canChroot, debianTree, snapshot, snapshotDiff } from './trees.js';

export const CA = path.join(SCENARIOS, 'valid-rsa/ca.pem');


interface Run {
  code: number | null;
  out: string;
  ms: number;
}

/** The CLI as a child in its own process group; `killAfter` ms later the whole group gets SIGKILL (the tool too). */
export function cli(args: string[], killAfter?: number, bin = BIN): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: 'true' } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = killAfter === undefined ? undefined : setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, killAfter);
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      resolve({ code, out, ms: Date.now() - started });
    });
  });
}

export interface Tree {
  base: string;
  chroot: boolean;
  before: Map<string, string>;
  /**
   * Hash links that already dangle in a copy: a tree built from outside holds the base's host
   * path in its links, which a copy elsewhere does not have. Only new dangling links count.
   */
  danglingBefore: Set<string>;
}

/** `chroot: false` forces the native method (a tree without a shell), as for a user without root. */
export function baseTree(opts: { chroot?: boolean } = {}): Tree {
  const chroot = opts.chroot ?? canChroot();
  const base = debianTree({ withTool: true, shell: chroot });
  const t: Tree = { base, chroot, before: snapshot(base), danglingBefore: new Set() };
  const copy = copyTree(t);
  t.danglingBefore = new Set(dangling(copy));
  rmSync(path.dirname(copy), { recursive: true, force: true });
  return t;
}

function dangling(tree: string): string[] {
  const fs = new RootFs(tree);
  return readdirSync(path.join(tree, 'etc/ssl/certs')).filter((n) => /^[0-9a-f]{8}\.\d+$/.test(n) && !fs.exists(`/etc/ssl/certs/${n}`));
}

/** A fresh copy of the base tree (cp -a: modes, links and the tree's /dev/null as they are). */
export function copyTree(t: Tree): string {
  const dir = tempDir('ollama-tls-kill-');
  const tree = path.join(dir, 'tree');
  execFileSync('cp', ['-a', t.base, tree]);
  return tree;
}

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const caPem = () => readFileSync(CA, 'latin1');
const caSha = () => certificatesFromPem(caPem()).certificates[0]!.sha256;

/** Files a run may leave behind when killed: Debian's bundle under construction, its mktemp files, ours. */
function leftovers(tree: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      const rel = path.relative(tree, full);
      if (e.name.endsWith('.crt.new') || e.name.includes('.ollama-tls-') || e.name.startsWith('ca-certificates.tmp.') || rel === 'var/lib/ollama-tls') found.push(rel);
      if (e.isDirectory() && !e.isSymbolicLink() && rel !== 'dev' && rel !== 'proc') walk(full);
    }
  };
  walk(tree);
  return found;
}

/**
 * What Debian's tool builds from the tree's anchors: every certificate named in ca-certificates.conf
 * (in order; "!" and "#" lines skipped), then the local .crt files in sorted order, each with a
 * final newline added when missing (#635570).
 */
function debianBundle(tree: string): string {
  const conf = readFileSync(path.join(tree, 'etc/ca-certificates.conf'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#') && !l.startsWith('!'));
  const withNl = (t: string) => (t.endsWith('\n') || t === '' ? t : `${t}\n`);
  let out = '';
  for (const l of conf) {
    const f = path.join(tree, 'usr/share/ca-certificates', l);
    if (existsSync(f)) out += withNl(readFileSync(f, 'latin1'));
  }
  const local = path.join(tree, 'usr/local/share/ca-certificates');
  for (const n of readdirSync(local).filter((n) => n.endsWith('.crt')).sort()) out += withNl(readFileSync(path.join(local, n), 'latin1'));
  return out;
}

/** Why the store in `tree` is not a consistent "trusted" state, or [] when it is. */
export function trustedProblems(t: Tree, tree: string): string[] {
  const problems: string[] = [];
  const left = leftovers(tree);
  if (left.length) problems.push(`left behind: ${left.join(', ')}`);
  const anchor = path.join(tree, `usr/local/share/ca-certificates/ollama-tls-${caSha().slice(0, 16)}.crt`);
  if (!existsSync(anchor) || readFileSync(anchor, 'latin1') !== caPem()) problems.push('anchor missing or different');
  const bundle = readFileSync(path.join(tree, 'etc/ssl/certs/ca-certificates.crt'), 'latin1');
  if (t.chroot) {
    if (sha(bundle) !== sha(debianBundle(tree))) problems.push("bundle is not what Debian's rules build from the anchors");
  } else {
    const original = readFileSync(path.join(t.base, 'etc/ssl/certs/ca-certificates.crt'), 'latin1');
    if (stripBlock(bundle, caSha()) !== original || bundle === original) problems.push('bundle is not the original plus the marked block');
  }
  // OpenSSL's lookup: a subject-hash link leads to the CA, inside the tree.
  const fs = new RootFs(tree);
  const links = readdirSync(path.join(tree, 'etc/ssl/certs')).filter((n) => /^[0-9a-f]{8}\.\d+$/.test(n));
  const reached = links.some((n) => {
    try {
      return certificatesFromPem(fs.readFile(`/etc/ssl/certs/${n}`).toString('latin1')).certificates.some((c) => c.sha256 === caSha());
    } catch {
      return false;
    }
  });
  if (!reached) problems.push('no subject-hash link leads to the CA');
  // Every hash link resolves (a dangling one breaks `openssl rehash` and -CApath lookups).
  const fresh = dangling(tree).filter((n) => !t.danglingBefore.has(n));
  if (fresh.length) problems.push(`dangling hash links: ${fresh.slice(0, 5).join(', ')}${fresh.length > 5 ? ` and ${fresh.length - 5} more` : ''}`);
  return problems;
}

export interface KillResult {
  delay: number;
  /** Right after the kill: the original tree, or a complete trust with nothing left behind. */
  cleanAfterKill: boolean;
  consistent: boolean;
  restored: boolean;
  problems: string[];
}

/** One kill: trust killed after `delay` ms, trust again, untrust, compare with the original. */
export async function oneKill(t: Tree, delay: number, bin = BIN): Promise<KillResult> {
  const tree = copyTree(t);
  try {
    await cli(['trust', '--root', tree, '--ca', CA, '--yes'], delay, bin);
    const afterKill = snapshotDiff(t.before, snapshot(tree)).length === 0 || trustedProblems(t, tree).length === 0;
    const again = await cli(['trust', '--root', tree, '--ca', CA, '--yes'], undefined, bin);
    const problems = trustedProblems(t, tree);
    if (again.code !== 0) problems.push(`second trust exited ${again.code}: ${again.out.slice(-400)}`);
    const undo = await cli(['untrust', '--root', tree, '--ca', CA, '--yes'], undefined, bin);
    const diff = snapshotDiff(t.before, snapshot(tree));
    if (undo.code !== 0) problems.push(`untrust exited ${undo.code}: ${undo.out.slice(-400)}`);
    if (diff.length) problems.push(`not restored: ${diff.slice(0, 5).join('; ')}`);
    return { delay, cleanAfterKill: afterKill, consistent: problems.filter((p) => !p.startsWith('not restored') && !p.startsWith('untrust')).length === 0, restored: diff.length === 0, problems };
  } finally {
    rmSync(path.dirname(tree), { recursive: true, force: true });
  }
}

/** How long an uninterrupted trust takes on this tree: the kills are spread over it. */
export async function measure(t: Tree, bin = BIN): Promise<number> {
  const tree = copyTree(t);
  try {
    const r = await cli(['trust', '--root', tree, '--ca', CA, '--yes'], undefined, bin);
    if (r.code !== 0) throw new Error(`trust failed on the base tree: ${r.out}`);
    return r.ms;
  } finally {
    rmSync(path.dirname(tree), { recursive: true, force: true });
  }
}
