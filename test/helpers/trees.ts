// Filesystem trees for `trust --root`: a Debian-style system store built by Debian's own
// update-ca-certificates from this machine's ca-certificates package, and an exact snapshot of a
// tree (paths, types, modes, link targets, content digests) to prove that undo restores it.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
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

/**
 * A Debian tree whose store was built by the real tool: the distribution's CAs, their links, the
 * bundle. `withTool: false` leaves the tool out (a minimal image: the native fallback's case).
 */
export function debianTree(opts: { withTool: boolean }): string {
  const root = tempDir('ollama-tls-tree-');
  for (const d of ['etc/ssl/certs', 'usr/local/share/ca-certificates', 'usr/sbin', 'etc/ca-certificates/update.d', 'usr/share']) {
    mkdirSync(path.join(root, d), { recursive: true });
  }
  copyFileSync('/etc/ca-certificates.conf', path.join(root, 'etc/ca-certificates.conf'));
  cpSync('/usr/share/ca-certificates', path.join(root, 'usr/share/ca-certificates'), { recursive: true });
  writeFileSync(path.join(root, 'etc/os-release'), 'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n');
  copyFileSync(DEBIAN_TOOL, path.join(root, 'usr/sbin/update-ca-certificates'));
  execFileSync(path.join(root, 'usr/sbin/update-ca-certificates'), ['--fresh', ...debianTreeArgs(root)], { stdio: 'ignore' });
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
