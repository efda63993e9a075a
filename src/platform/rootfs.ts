// File access relative to a filesystem root (`--root DIR`): a mounted image, a chroot, a test
// tree. Absolute symlinks inside the tree (Debian's /etc/ssl/certs/*.pem all are) must resolve
// inside the tree, never on the host, so links are followed by hand.
import { promises as fs, readdirSync, readFileSync, readlinkSync, statSync, type Dirent } from 'node:fs';
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
  async resolve(p: string): Promise<string> {
    if (this.isHostRoot) return p;
    let parts = path.posix.normalize(p).split('/').filter(Boolean);
    let resolved: string[] = [];
    let hops = 0;
    while (parts.length > 0) {
      const part = parts.shift()!;
      if (part === '..') { resolved.pop(); continue; }
      const candidate = [...resolved, part];
      const host = path.join(this.root, ...candidate);
      let target: string | undefined;
      try {
        target = await fs.readlink(host);
      } catch {
        target = undefined; // not a link (or missing): keep walking
      }
      if (target === undefined) { resolved = candidate; continue; }
      if (++hops > MAX_LINKS) throw Object.assign(new Error(`too many levels of symbolic links: ${p}`), { code: 'ELOOP' });
      const targetParts = target.split('/').filter(Boolean);
      parts = [...targetParts, ...parts];
      if (target.startsWith('/')) resolved = [];
    }
    return path.join(this.root, ...resolved);
  }

  /**
   * Synchronous twin of resolve(). Trust stores are hundreds of small files: reading them
   * synchronously costs a few milliseconds, the promise machinery per file costs tens.
   */
  resolveSync(p: string): string {
    if (this.isHostRoot) return p;
    let parts = path.posix.normalize(p).split('/').filter(Boolean);
    let resolved: string[] = [];
    let hops = 0;
    while (parts.length > 0) {
      const part = parts.shift()!;
      if (part === '..') { resolved.pop(); continue; }
      const candidate = [...resolved, part];
      let target: string | undefined;
      try {
        target = readlinkSync(path.join(this.root, ...candidate));
      } catch {
        target = undefined;
      }
      if (target === undefined) { resolved = candidate; continue; }
      if (++hops > MAX_LINKS) throw Object.assign(new Error(`too many levels of symbolic links: ${p}`), { code: 'ELOOP' });
      parts = [...target.split('/').filter(Boolean), ...parts];
      if (target.startsWith('/')) resolved = [];
    }
    return path.join(this.root, ...resolved);
  }

  readFileSync(p: string): Buffer {
    return readFileSync(this.resolveSync(p));
  }

  readdirSync(p: string): Dirent[] {
    return readdirSync(this.resolveSync(p), { withFileTypes: true });
  }

  readlinkSync(p: string): string {
    return readlinkSync(path.join(this.resolveSync(path.posix.dirname(p)), path.posix.basename(p)));
  }

  /** Show a host path the way the user thinks of it: inside the tree when there is one. */
  display(p: string): string {
    return this.isHostRoot ? p : path.join(this.root, p);
  }

  async readFile(p: string): Promise<Buffer> {
    return fs.readFile(await this.resolve(p));
  }

  async readdir(p: string): Promise<Dirent[]> {
    return fs.readdir(await this.resolve(p), { withFileTypes: true });
  }

  /** readlink on the last component itself (no following). */
  async readlink(p: string): Promise<string> {
    const dir = await this.resolve(path.posix.dirname(p));
    return fs.readlink(path.join(dir, path.posix.basename(p)));
  }

  existsSync(p: string): boolean {
    try {
      statSync(this.resolveSync(p));
      return true;
    } catch {
      return false;
    }
  }

  async exists(p: string): Promise<boolean> {
    try {
      await fs.stat(await this.resolve(p));
      return true;
    } catch {
      return false;
    }
  }
}
