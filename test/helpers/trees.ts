// Filesystem trees for `trust --root`: a Debian-style system store built by Debian's own
// update-ca-certificates from this machine's ca-certificates package, and an exact snapshot of a
// tree (paths, types, modes, link targets, content digests) to prove that undo restores it.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from './servers.js';

export const DEBIAN_TOOL = '/usr/sbin/update-ca-certificates';

/** Debian's update-ca-certificates and its CA package are installed here (they come with curl). */
export const haveDebianTool = (): boolean => existsSync(DEBIAN_TOOL) && existsSync('/usr/share/ca-certificates') && existsSync('/etc/ca-certificates.conf');

export function debianTreeArgs(root: string): string[] {
  return [
    '--certsconf', path.join(root, 'etc/ca-certificates.conf'),
    '--certsdir', path.join(root, 'usr/share/ca-certificates'),
    '--localcertsdir', path.join(root, 'usr/local/share/ca-certificates'),
    '--etccertsdir', path.join(root, 'etc/ssl/certs'),
    '--hooksdir', path.join(root, 'etc/ca-certificates/update.d'),
  ];
}

/** The programs Debian's update-ca-certificates calls (read from the script), for a tree it can run in. */
const SCRIPT_NEEDS = ['sh', 'sed', 'basename', 'readlink', 'ln', 'rm', 'mktemp', 'find', 'sort', 'wc', 'cat', 'chmod', 'mv', 'openssl', 'run-parts', 'test'];

/** Whether this process can chroot (root, and the program is there): the tree's tool then runs inside it. */
let chrootWorks: boolean | undefined;
export function canChroot(): boolean {
  if (chrootWorks === undefined) {
    chrootWorks = false;
    if (typeof process.getuid === 'function' && process.getuid() === 0 && existsSync('/usr/sbin/chroot')) {
      try {
        // A container may withhold CAP_SYS_CHROOT (or CAP_MKNOD, for the tree's /dev/null).
        execFileSync('/usr/sbin/chroot', ['/', 'true'], { stdio: 'ignore' });
        const probe = tempDir('ollama-tls-mknod-');
        execFileSync('mknod', ['-m', '666', path.join(probe, 'null'), 'c', '1', '3'], { stdio: 'ignore' });
        execFileSync('rm', ['-rf', probe]);
        chrootWorks = true;
      } catch {
        chrootWorks = false;
      }
    }
  }
  return chrootWorks;
}

/**
 * This machine's copies of the programs the script needs, with the shared libraries they load
 * (from ldd), so that `chroot TREE /usr/sbin/update-ca-certificates` runs the real script on
 * real programs inside the tree only.
 */
/**
 * The script writes to /dev/null; an image's /dev is filled by its runtime, a tree's by us. Also
 * for a copied tree: Node 24's cpSync leaves character devices out, Node 20's copies them.
 */
export function addDevNull(root: string): void {
  if (canChroot() && !existsSync(path.join(root, 'dev/null'))) execFileSync('mknod', ['-m', '666', path.join(root, 'dev/null'), 'c', '1', '3']);
}

function addShell(root: string): void {
  for (const d of ['usr/bin', 'usr/lib', 'usr/lib64', 'usr/sbin', 'dev']) mkdirSync(path.join(root, d), { recursive: true });
  addDevNull(root);
  for (const [link, target] of [['bin', 'usr/bin'], ['lib', 'usr/lib'], ['lib64', 'usr/lib64'], ['sbin', 'usr/sbin']]) symlinkSync(target!, path.join(root, link!));
  const libs = new Set<string>();
  for (const name of SCRIPT_NEEDS) {
    const found = ['/usr/bin', '/bin', '/usr/sbin', '/sbin'].map((d) => path.join(d, name)).find((p) => existsSync(p));
    if (!found) throw new Error(`${name} is not installed: the chroot tree needs it`);
    const host = realpathSync(found);
    copyFileSync(host, path.join(root, 'usr/bin', name));
    chmodSync(path.join(root, 'usr/bin', name), 0o755);
    for (const m of execFileSync('ldd', [host], { encoding: 'utf8' }).matchAll(/(\/\S+\.so[.\d]*)/g)) libs.add(m[1]!);
  }
  for (const lib of libs) {
    const dir = path.join(root, realpathSync(path.dirname(lib)));
    mkdirSync(dir, { recursive: true });
    copyFileSync(lib, path.join(dir, path.basename(lib)));
  }
}

/**
 * A Debian tree whose store was built by the real tool: the distribution's CAs, their links, the
 * bundle. `withTool: false` leaves the tool out (a minimal image: the native fallback's case);
 * `shell: true` adds /bin/sh and what the script calls, so that a root run can chroot into the
 * tree and run the tree's own tool there (the only place a tree's programs run).
 */
export function debianTree(opts: { withTool: boolean; shell?: boolean }): string {
  const root = tempDir('ollama-tls-tree-');
  for (const d of ['etc/ssl/certs', 'usr/local/share/ca-certificates', 'usr/sbin', 'etc/ca-certificates/update.d', 'usr/share', 'var/lib', 'tmp']) {
    mkdirSync(path.join(root, d), { recursive: true });
  }
  if (opts.shell) addShell(root);
  copyFileSync('/etc/ca-certificates.conf', path.join(root, 'etc/ca-certificates.conf'));
  cpSync('/usr/share/ca-certificates', path.join(root, 'usr/share/ca-certificates'), { recursive: true });
  writeFileSync(path.join(root, 'etc/os-release'), 'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n');
  copyFileSync(DEBIAN_TOOL, path.join(root, 'usr/sbin/update-ca-certificates'));
  // Inside the tree when it can be (links then hold in-tree paths, as in a real image), else from
  // outside with the script's options (links hold this machine's path of the tree).
  if (opts.shell && canChroot()) execFileSync('/usr/sbin/chroot', [root, '/usr/sbin/update-ca-certificates', '--fresh'], { stdio: 'ignore', env: { PATH: '/usr/bin:/bin' } });
  else execFileSync(path.join(root, 'usr/sbin/update-ca-certificates'), ['--fresh', ...debianTreeArgs(root)], { stdio: 'ignore' });
  if (!opts.withTool) execFileSync('rm', [path.join(root, 'usr/sbin/update-ca-certificates')]);
  return root;
}

/** Every entry under `root`: type, mode, and a digest of the content or the link target. */
export function snapshot(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      const rel = path.relative(root, full);
      const st = lstatSync(full);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) out.set(rel, `link ${readlinkSync(full)}`);
      else if (st.isDirectory()) {
        out.set(rel, `dir ${mode}`);
        walk(full);
      } else out.set(rel, `file ${mode} ${createHash('sha256').update(readFileSync(full)).digest('hex')}`);
    }
  };
  walk(root);
  return out;
}

/** The entries that differ between two snapshots, for a readable failure. */
export function snapshotDiff(a: Map<string, string>, b: Map<string, string>): string[] {
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
  return keys.filter((k) => a.get(k) !== b.get(k)).map((k) => `${k}: ${a.get(k) ?? '(absent)'} -> ${b.get(k) ?? '(absent)'}`);
}
