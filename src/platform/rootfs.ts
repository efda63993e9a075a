// File access relative to a filesystem root (`--root DIR`): a mounted image, a chroot, a test
// tree. Absolute symlinks inside the tree (Debian's /etc/ssl/certs/*.pem all are) must resolve
// inside the tree, never on the host, so links are followed by hand.
//
// Reads are synchronous on purpose: a trust store is hundreds of small files, which cost a few
// milliseconds to read directly and tens of milliseconds through the promise machinery.
import { readdirSync, readFileSync, readlinkSync, statSync, type Dirent } from 'node:fs';
import path from 'node:path';

const MAX_LINKS = 40;

export class RootFs {
  /** Absolute host path of the tree, or '/' for the running system. */
  readonly root: string;
  /** True for the running system's own root: paths are used as they are. */
  readonly isHostRoot: boolean;

  constructor(root = '/') {
    this.root = path.resolve(root);
    this.isHostRoot = this.root === path.parse(this.root).root;
  }

  /** The host path for an in-tree absolute path, following symlinks inside the tree. */
  resolve(p: string): string {
    if (this.isHostRoot) return p;
    let parts = path.posix.normalize(p).split('/').filter(Boolean);
    let resolved: string[] = [];
    let hops = 0;
    while (parts.length > 0) {
      const part = parts.shift()!;
      if (part === '..') {
        resolved.pop();
        continue;
      }
      const candidate = [...resolved, part];
      let target: string | undefined;
      try {
        target = readlinkSync(path.join(this.root, ...candidate));
      } catch {
        target = undefined; // not a link (or missing): keep walking
      }
      if (target === undefined) {
        resolved = candidate;
        continue;
      }
      if (++hops > MAX_LINKS) throw Object.assign(new Error(`too many levels of symbolic links: ${p}`), { code: 'ELOOP' });
      // A tool run from outside the tree (Debian's update-ca-certificates with --etccertsdir and
      // friends) writes links holding the tree's own host path: they mean the same file.
      const inTree = target.startsWith(`${this.root}/`) ? target.slice(this.root.length) : target;
      parts = [...inTree.split('/').filter(Boolean), ...parts];
      if (inTree.startsWith('/')) resolved = [];
    }
    return path.join(this.root, ...resolved);
  }

  readFile(p: string): Buffer {
    return readFileSync(this.resolve(p));
  }

  readdir(p: string): Dirent[] {
    return readdirSync(this.resolve(p), { withFileTypes: true });
  }

  /** readlink on the last component itself (no following). */
  readlink(p: string): string {
    return readlinkSync(path.join(this.resolve(path.posix.dirname(p)), path.posix.basename(p)));
  }

  exists(p: string): boolean {
    try {
      statSync(this.resolve(p));
      return true;
    } catch {
      return false;
    }
  }
}
