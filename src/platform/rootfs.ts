// File access relative to a filesystem root (`--root DIR`): a mounted image, a chroot, a test
// tree. Absolute symlinks inside the tree (Debian's /etc/ssl/certs/*.pem all are) must resolve
// inside the tree, never on the host, so links are followed by hand: an absolute link is taken
// from the tree's root (as a chroot would), and a relative link that climbs above the tree's root
// is refused with its name (an untrusted image must not make us read or write the host's files).
//
// Reads are synchronous on purpose: a trust store is hundreds of small files, which cost a few
// milliseconds to read directly and tens of milliseconds through the promise machinery.
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import path from 'node:path';

/** One name in a directory of a tree, as `readdir` gives it (a node:fs Dirent is one). */
export interface TreeEntry {
  name: string;
  isSymbolicLink(): boolean;
}

/**
 * A Linux tree, read: the one interface the rules that read a tree or compute edits to it are
 * written against. Paths are absolute inside the tree; links are followed inside it. Two
 * implementations: `DirTree` below (the running system, or a `--root` directory), and the
 * image's merged layers (`fix/image/rootfs-view.ts` `imageTree`), so that putting a CA into a
 * tree is one rule whatever the tree (`fix/ca-into-tree.ts`).
 */
export interface RootFs {
  /** Where `p` really is once links are followed inside the tree (for a directory tree, the host path). */
  resolve(p: string): string;
  readFile(p: string): Buffer;
  readdir(p: string): TreeEntry[];
  /** readlink on the last component itself (no following). */
  readlink(p: string): string;
  exists(p: string): boolean;
  /** The permission bits of the file `p` names, or undefined when there is none. */
  mode(p: string): number | undefined;
}

/** A file of the tree as text, or undefined when there is none (or it cannot be read). */
export function readTextIn(fs: RootFs, p: string, encoding: BufferEncoding = 'utf8'): string | undefined {
  try {
    return fs.readFile(p).toString(encoding);
  } catch {
    return undefined;
  }
}

const MAX_LINKS = 40;

/** A link inside a --root tree whose relative target climbs out of the tree. */
export class TreeEscapeError extends Error {
  readonly code = 'EROOTESCAPE';
  constructor(readonly link: string, readonly target: string) {
    super(`${link} is a link to ${target}, which leaves the tree: refusing to follow it`);
  }
}

/** A tree that is a directory on this machine: `/` (the running system) or a `--root DIR`. */
export class DirTree implements RootFs {
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
      if (++hops > MAX_LINKS) throw Object.assign(new Error(`too many levels of symbolic links (a loop, or a link to itself once taken inside the tree) at ${path.join(this.root, ...candidate)}`), { code: 'ELOOP' });
      // A tool run from outside the tree (Debian's update-ca-certificates with --etccertsdir and
      // friends) writes links holding the tree's own host path: they mean the same file.
      const inTree = target.startsWith(`${this.root}/`) ? target.slice(this.root.length) : target;
      if (!inTree.startsWith('/')) {
        // Relative: counted from the link's directory; climbing above the root leaves the tree.
        let depth = resolved.length;
        for (const seg of inTree.split('/')) {
          if (seg === '..') depth--;
          else if (seg !== '' && seg !== '.') depth++;
          if (depth < 0) throw new TreeEscapeError(path.join(this.root, ...candidate), target);
        }
      }
      parts = [...inTree.split('/').filter(Boolean), ...parts];
      if (inTree.startsWith('/')) resolved = [];
    }
    return path.join(this.root, ...resolved);
  }

  /**
   * The link out of the tree met on the way to `p` (its directories and, with `last`, the entry
   * itself), or undefined when `p` stays inside. A plan checks every path it will touch with this
   * before changing anything.
   */
  escape(p: string, last = true): Error | undefined {
    try {
      if (last) this.resolve(p);
      else this.resolve(path.posix.dirname(p));
      return undefined;
    } catch (e) {
      // A loop too: TREE/etc/ssl/certs -> /etc/ssl/certs is itself once re-rooted, and a tool run
      // from outside would have followed it to the host's store.
      return e instanceof TreeEscapeError || (e as NodeJS.ErrnoException).code === 'ELOOP' ? (e as Error) : undefined;
    }
  }

  readFile(p: string): Buffer {
    return readFileSync(this.resolve(p));
  }

  readdir(p: string): TreeEntry[] {
    return readdirSync(this.resolve(p), { withFileTypes: true });
  }

  /** readlink on the last component itself (no following). */
  readlink(p: string): string {
    // A plain absolute host path needs no rewriting (a certificate directory holds hundreds of links).
    if (this.isHostRoot && p.startsWith('/') && !p.endsWith('/') && !p.includes('//') && !p.includes('/.')) return readlinkSync(p);
    return readlinkSync(path.join(this.resolve(path.posix.dirname(p)), path.posix.basename(p)));
  }

  mode(p: string): number | undefined {
    try {
      return statSync(this.resolve(p)).mode & 0o7777;
    } catch {
      return undefined;
    }
  }

  exists(p: string): boolean {
    try {
      statSync(this.resolve(p));
      return true;
    } catch {
      // Missing, or behind a link out of the tree (which is never followed): not there for us.
      return false;
    }
  }
}

/** `new RootFs(dir)`: the directory tree, the implementation most callers construct. */
export const RootFs = DirTree;
