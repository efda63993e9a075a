// The filesystem a container would see, rebuilt from the layers' metadata without extracting
// anything: layers applied in order, whiteouts removing what lower layers put there
// (".wh.<name>"; ".wh..wh..opq" empties a directory of everything below it), later entries
// replacing earlier ones. Symlinks are resolved as the kernel would inside the container:
// absolute targets from the image's root, ".." never above it, at most 40 hops. That is how
// /etc/ssl/certs/ca-bundle.crt on a RHEL image is found to be
// /etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem, the file that must really change.
import path from 'node:path';
import type { RootFs } from '../../platform/rootfs.js';
import type { LayerRecord } from './layer-scan.js';

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';
const MAX_HOPS = 40;

interface Meta {
  mode: number;
  uid: number;
  gid: number;
}

export interface DirNode extends Meta {
  kind: 'dir';
  children: Map<string, Node>;
  /** Created because a deeper entry needed it, with no entry of its own (mode unknown). */
  implicit?: boolean;
}
export interface FileNode extends Meta {
  kind: 'file';
  size: number;
  /** Which layer (index in the image's layer list) holds the bytes, and under which name. */
  layer: number;
  src: string;
  content?: Buffer;
}
export interface SymlinkNode extends Meta {
  kind: 'symlink';
  target: string;
}
export interface HardlinkNode extends Meta {
  kind: 'hardlink';
  target: string;
  layer: number;
}
export interface OtherNode extends Meta {
  kind: 'other';
}
export type Node = DirNode | FileNode | SymlinkNode | HardlinkNode | OtherNode;

export interface Resolved {
  /** The path with every symlink resolved (what the kernel would open). */
  path: string;
  /** The node there, or undefined when nothing is there (yet). */
  node?: Node;
}

const parts = (p: string): string[] => p.split('/').filter((x) => x !== '' && x !== '.');

export class RootfsView {
  readonly root: DirNode = { kind: 'dir', mode: 0o755, uid: 0, gid: 0, children: new Map() };

  /** Apply one layer on top of what is there. */
  apply(records: LayerRecord[], layer: number): void {
    // Whiteouts hide lower layers only, whatever their position in the layer's tar, so they go
    // first and the layer's own entries after them.
    for (const r of records) {
      const base = path.posix.basename(r.path);
      if (!base.startsWith(WHITEOUT)) continue;
      const dir = this.dirFor(path.posix.dirname(r.path), false);
      if (!dir) continue;
      if (base === OPAQUE) dir.children.clear();
      else dir.children.delete(base.slice(WHITEOUT.length));
    }
    for (const r of records) {
      if (r.path === '/') {
        Object.assign(this.root, { mode: r.mode, uid: r.uid, gid: r.gid });
        continue;
      }
      const base = path.posix.basename(r.path);
      if (base.startsWith(WHITEOUT)) continue;
      const dir = this.dirFor(path.posix.dirname(r.path), true);
      if (!dir) continue;
      const meta = { mode: r.mode, uid: r.uid, gid: r.gid };
      const existing = dir.children.get(base);
      switch (r.type) {
        case 'directory':
          // A directory entry over a directory keeps what lower layers put in it.
          if (existing?.kind === 'dir') Object.assign(existing, meta, { implicit: false });
          else dir.children.set(base, { kind: 'dir', ...meta, children: new Map() });
          break;
        case 'file':
          dir.children.set(base, { kind: 'file', ...meta, size: r.size, layer, src: r.path, ...(r.content ? { content: r.content } : {}) });
          break;
        case 'symlink':
          dir.children.set(base, { kind: 'symlink', ...meta, target: r.linkname ?? '' });
          break;
        case 'link':
          dir.children.set(base, { kind: 'hardlink', ...meta, target: r.linkname ?? '', layer });
          break;
        default:
          dir.children.set(base, { kind: 'other', ...meta });
      }
    }
  }

  /**
   * The directory at `p` (following symlinks, as extracting a tar through a symlinked directory
   * does), optionally creating missing ones; undefined when a non-directory is in the way.
   */
  private dirFor(p: string, create: boolean): DirNode | undefined {
    const r = this.resolve(p);
    if (!r) return undefined;
    if (r.node?.kind === 'dir') return r.node;
    if (r.node || !create) return undefined;
    let dir = this.root;
    for (const part of parts(r.path)) {
      let next = dir.children.get(part);
      if (!next) {
        next = { kind: 'dir', mode: 0o755, uid: 0, gid: 0, children: new Map(), implicit: true };
        dir.children.set(part, next);
      }
      if (next.kind !== 'dir') return undefined;
      dir = next;
    }
    return dir;
  }

  /**
   * Resolve `p` inside the image. `followLast: false` is lstat (the link itself). Undefined
   * when a component is not a directory or links loop.
   */
  resolve(p: string, followLast = true): Resolved | undefined {
    let todo = parts(p);
    let names: string[] = [];
    let nodes: Node[] = [];
    let hops = 0;
    while (todo.length > 0) {
      const part = todo.shift()!;
      if (part === '..') {
        names.pop();
        nodes.pop();
        continue;
      }
      const dir = nodes.length > 0 ? nodes[nodes.length - 1]! : this.root;
      if (dir.kind !== 'dir') return undefined;
      const child = dir.children.get(part);
      if (!child) {
        // Nothing there: the rest of the path is taken as written (".." handled by name).
        const rest = path.posix.normalize(`/${[...names, part, ...todo].join('/')}`);
        return { path: rest };
      }
      if (child.kind === 'symlink' && (todo.length > 0 || followLast)) {
        if (++hops > MAX_HOPS) return undefined;
        todo = [...parts(child.target), ...todo];
        if (child.target.startsWith('/')) {
          names = [];
          nodes = [];
        }
        continue;
      }
      if (todo.length > 0 && child.kind !== 'dir') return undefined;
      names.push(part);
      nodes.push(child);
    }
    return { path: `/${names.join('/')}`, node: nodes.length > 0 ? nodes[nodes.length - 1]! : this.root };
  }

  /** The node at an already resolved path (no link following). */
  at(p: string): Node | undefined {
    let node: Node = this.root;
    for (const part of parts(p)) {
      if (node.kind !== 'dir') return undefined;
      const next: Node | undefined = node.children.get(part);
      if (!next) return undefined;
      node = next;
    }
    return node;
  }

  /** The regular file `p` names (through symlinks and hard links), if that is what is there. */
  file(p: string): { path: string; node: FileNode } | undefined {
    const r = this.resolve(p);
    if (!r?.node) return undefined;
    if (r.node.kind === 'file') return { path: r.path, node: r.node };
    if (r.node.kind === 'hardlink') {
      const target = this.resolve(r.node.target, false);
      if (target?.node?.kind === 'file') return { path: r.path, node: target.node };
    }
    return undefined;
  }

  /** Names in a directory (resolved path), empty when it is not there. */
  list(dir: string): string[] {
    const n = this.resolve(dir);
    return n?.node?.kind === 'dir' ? [...n.node.children.keys()] : [];
  }

  /** A symlink's target at a resolved directory + name, without following it. */
  linkTarget(p: string): string | undefined {
    const n = this.at(p);
    return n?.kind === 'symlink' ? n.target : undefined;
  }
}

const fsError = (code: string, message: string): Error => Object.assign(new Error(message), { code });

/**
 * The merged view as a `RootFs` (platform/rootfs.ts), so the rule that puts a CA into a tree
 * (fix/ca-into-tree.ts) reads an image as it reads a directory. Links resolve inside the image.
 * A file's bytes are those the layer scan kept (or a caller fetched into the node beforehand):
 * reading any other file fails, as an unreadable file does.
 */
export function imageTree(view: RootfsView): RootFs {
  const resolved = (p: string, follow = true): Resolved => {
    const r = view.resolve(p, follow);
    if (!r) throw fsError('ELOOP', `${p} cannot be resolved in the image (a symlink loop, or a file where a directory should be)`);
    return r;
  };
  return {
    resolve: (p) => resolved(p).path,
    readFile(p) {
      const f = view.file(p);
      if (!f) throw fsError('ENOENT', `${p} is not a file in the image`);
      if (!f.node.content) throw fsError('EAGAIN', `${p}: its bytes were not read from the layer`);
      return f.node.content;
    },
    readdir(p) {
      const node = resolved(p).node;
      if (node?.kind !== 'dir') throw fsError('ENOTDIR', `${p} is not a directory in the image`);
      return [...node.children].map(([name, n]) => ({ name, isSymbolicLink: () => n.kind === 'symlink' }));
    },
    readlink(p) {
      const node = resolved(p, false).node;
      if (node?.kind !== 'symlink') throw fsError('EINVAL', `${p} is not a symlink in the image`);
      return node.target;
    },
    exists: (p) => view.resolve(p)?.node !== undefined,
    mode(p) {
      const f = view.file(p);
      return f ? f.node.mode & 0o7777 : undefined;
    },
  };
}
