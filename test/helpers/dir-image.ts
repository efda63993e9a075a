// A directory tree read as `trust --image` reads an image: its entries as one layer's records
// (bytes kept only for the files the layer scan keeps), applied to a RootfsView, and a `read`
// that fetches any other file's bytes later, as image-state.ts does from the layer. And the
// other way: a new layer's entries written into a directory, as an unpacked image would hold them.
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { LayerRecord } from '../../src/fix/image/layer-scan.js';
import { RootfsView } from '../../src/fix/image/rootfs-view.js';
import { OUR_FILE, TRUST_FILES, type LayerFile, type ReadFile } from '../../src/fix/image/trust-files.js';

export function viewOfDir(root: string): { view: RootfsView; read: ReadFile } {
  const records: LayerRecord[] = [];
  const keep = (p: string) => TRUST_FILES.includes(p) || OUR_FILE.test(p);
  const walk = (rel: string) => {
    for (const name of readdirSync(path.join(root, rel)).sort()) {
      const p = `${rel}/${name}`;
      const st = lstatSync(path.join(root, p));
      const meta = { path: p, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
      if (st.isSymbolicLink()) records.push({ ...meta, type: 'symlink', size: 0, linkname: readlinkSync(path.join(root, p)) });
      else if (st.isDirectory()) {
        records.push({ ...meta, type: 'directory', size: 0 });
        walk(p);
      } else if (st.isFile()) records.push({ ...meta, type: 'file', size: st.size, ...(keep(p) ? { content: readFileSync(path.join(root, p)) } : {}) });
    }
  };
  walk('');
  const view = new RootfsView();
  view.apply(records, 0);
  const read: ReadFile = async (p) => {
    const f = view.file(p);
    if (!f) return undefined;
    f.node.content ??= readFileSync(path.join(root, f.node.src));
    return f.node.content;
  };
  return { view, read };
}

/** Write a layer's entries over an unpacked tree (directories made, files and links replaced). */
export function writeLayer(root: string, entries: LayerFile[]): void {
  for (const e of entries) {
    const host = path.join(root, e.path);
    if (e.type === 'directory') {
      mkdirSync(host, { recursive: true });
      continue;
    }
    mkdirSync(path.dirname(host), { recursive: true });
    rmSync(host, { force: true });
    if (e.type === 'symlink') symlinkSync(e.linkname!, host);
    else {
      writeFileSync(host, e.content!);
      chmodSync(host, e.mode & 0o7777);
    }
  }
}
