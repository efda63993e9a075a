// Writing the result in the source's own form.
//  - A layout directory in place: only the new blobs are written (temp file + rename each), then
//    index.json is replaced atomically; readers see the old image or the new one, never half.
//    Into another directory: the layout is first copied with the kernel's file copy (no
//    buffering), which can run while the layers are being read.
//  - A tarball: one pass. The unchanged prefix is copied with the kernel's file copy, then
//    every entry is copied byte for byte from its own header (extended headers and original
//    metadata survive), a rewritten document (manifest.json, index.json, repositories) keeps
//    its original header with only the size changed, dropped entries are left out, new entries
//    go last, and the archive's own end (its zero blocks and record padding) is kept. So an
//    untrust gives back the original archive byte for byte. The result goes to a temp file
//    beside DST and is renamed over it, so DST == SRC is safe.
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { copyFile, mkdir, open, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { systemProgram } from '../../platform/executable.js';
import type { Source } from './archive-source.js';
import { END_OF_ARCHIVE, padding, ustarHeader } from './tar-format.js';

export interface OutputChanges {
  /** New files: blob paths ("blobs/sha256/<hex>") or docker save names ("<id>/layer.tar"). */
  add: { name: string; data: Buffer }[];
  /** Documents rewritten in place: index.json, manifest.json, repositories. */
  replace: Map<string, Buffer>;
  /** Entries (tarballs) or blob paths (layouts) that nothing refers to any more. */
  drop: Set<string>;
}

export type Progress = (bytes: number) => void;

/** The temp file a write of `p` is made in (beside it, so that the rename is atomic). */
export const tempName = (p: string) => path.join(path.dirname(p), `.${path.basename(p)}.ollama-tls-${process.pid}.tmp`);

async function atomicWrite(file: string, data: Buffer): Promise<void> {
  const tmp = tempName(file);
  try {
    await writeFile(tmp, data, { mode: 0o644 });
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

// Above this size a copy goes through cp (see copyWhole); below, the wait it saves is not worth a process.
const CP_THRESHOLD = 64 << 20;

/**
 * A whole file copied by the kernel (copy_file_range, or a clone where the filesystem can).
 * Large files not by Node's copyFile on Linux: libuv truncates the new file to zero bytes
 * first, and ext4 takes truncate-then-close for "a file's contents replaced", so close() starts
 * writing the whole copy back to disk and waits while its blocks are allocated (0.37 s after a
 * 1 GiB copy, measured). cp creates the file instead of truncating it, and the write-back goes
 * at the kernel's own pace, as it does for any copy.
 */
export async function copyWhole(from: string, to: string, size: number, signal?: AbortSignal): Promise<void> {
  // The system's own cp, not whatever a PATH (a shim, a wrapper) offers under that name.
  const cp = process.platform === 'linux' && size >= CP_THRESHOLD ? systemProgram('cp') : undefined;
  if (cp) {
    // No pipes (cp says nothing on success; a failure falls back below): spawning is quicker.
    const copied = await new Promise<boolean>((resolve) => {
      const child = spawn(cp, ['--', from, to], { stdio: 'ignore', ...(signal ? { signal } : {}) });
      child.on('error', () => resolve(false));
      child.on('close', (code) => resolve(code === 0));
    });
    if (copied) return;
  }
  // Stopped (signal): the copy is not wanted any more, so no second try.
  signal?.throwIfAborted();
  // FICLONE where the filesystem can (btrfs, XFS): a copy that costs no space or time.
  await copyFile(from, to, constants.COPYFILE_FICLONE);
}

const exists = (p: string) => stat(p).then(() => true, () => false);

export const sameTarget = (src: Source, dst: string): boolean => path.resolve(src.path) === path.resolve(dst);

/** Bytes the write will copy (for progress). */
export function copyBytes(src: Source, dst: string): number {
  return src.format === 'oci-layout' && sameTarget(src, dst) ? 0 : src.size;
}

/** Refuse an output directory that already holds anything. */
export async function checkLayoutTarget(dst: string): Promise<void> {
  if (await exists(dst)) {
    if ((await readdir(dst)).length > 0) throw new Error(`${dst} exists and is not empty: give a new directory (or the source itself, to change it in place)`);
  }
}

/** Copy a layout (oci-layout, every blob) into an empty directory; index.json comes last, from the writer. */
export async function copyLayout(src: Source, dst: string, progress: Progress): Promise<void> {
  await mkdir(path.join(dst, 'blobs/sha256'), { recursive: true });
  await copyFile(path.join(src.path, 'oci-layout'), path.join(dst, 'oci-layout'));
  for (const name of await readdir(path.join(src.path, 'blobs/sha256'))) {
    const rel = `blobs/sha256/${name}`;
    const size = (await stat(path.join(src.path, rel))).size;
    await copyWhole(path.join(src.path, rel), path.join(dst, rel), size);
    progress(size);
  }
}

/** Apply the changes to a layout directory that already holds the source's blobs (in place, or a copy). */
export async function writeLayout(src: Source, dst: string, out: OutputChanges): Promise<string[]> {
  const written: string[] = [];
  for (const a of out.add) {
    const target = path.join(dst, a.name);
    if (await exists(target)) continue;
    await atomicWrite(target, a.data);
    written.push(a.name);
  }
  // index.json names the image: written after every blob it leads to, before any is removed.
  const index = out.replace.get('index.json') ?? (sameTarget(src, dst) ? undefined : Buffer.from(src.indexJson ?? '', 'latin1'));
  if (index) {
    await atomicWrite(path.join(dst, 'index.json'), index);
    written.push('index.json');
  }
  for (const rel of out.drop) {
    await rm(path.join(dst, rel), { force: true });
    written.push(`-${rel}`);
  }
  return written;
}

/** An entry's own ustar header with a new size (and so a new checksum); everything else as it was. */
function resizedHeader(original: Buffer, size: number): Buffer {
  const h = Buffer.from(original);
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 12, 'latin1');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return h;
}

/** A tarball source being copied beside DST, before the changes are known (a write keeps nearly all of it). */
export interface TarballCopy {
  tmp: string;
  done: Promise<void>;
}

export function startTarballCopy(src: Source, dst: string): TarballCopy {
  const tmp = tempName(dst);
  const done = copyWhole(src.path, tmp, src.size);
  done.catch(() => {}); // awaited by the write, or by the abort that removes it
  return { tmp, done };
}

/** `copy`: the source already copied (or being copied) to the temp file the result is made in. */
export async function writeTarball(src: Source, dst: string, out: OutputChanges, progress: Progress, copy?: TarballCopy): Promise<string[]> {
  const entries = src.entries ?? [];
  const touched = (name: string) => out.drop.has(name) || out.replace.has(name);
  const firstTouched = entries.findIndex((e) => touched(e.name));
  const dataEnd = entries.length > 0 ? entries[entries.length - 1]!.next : 0;
  const untouched = firstTouched < 0 ? dataEnd : entries[firstTouched]!.start;
  // The untouched prefix (docker and skopeo write the layers before the documents rewritten
  // here) goes by the kernel's copy, the rest is written over it; when it is less than half the archive,
  // the extra bytes copied would cost more than they save.
  // A copy made already holds the whole prefix, however short.
  const prefixEnd = copy || untouched >= src.size / 2 ? untouched : 0;
  const overwriting = await exists(dst);
  const tmp = copy?.tmp ?? tempName(dst);
  const written: string[] = [];
  try {
    if (copy) await copy.done;
    else if (prefixEnd > 0) await copyWhole(src.path, tmp, src.size);
    else await writeFile(tmp, Buffer.alloc(0));
    const fh = await open(tmp, 'r+');
    const from = await open(src.path, 'r');
    try {
      // No truncation here: the rest is overwritten from prefixEnd on, and the final truncate cuts
      // what is left over (shrinking a freshly copied file first costs a wait on ext4).
      progress(prefixEnd);
      const buf = Buffer.allocUnsafe(4 << 20);
      let pos = prefixEnd;
      const write = async (b: Buffer) => {
        await fh.write(b, 0, b.length, pos);
        pos += b.length;
      };
      const readAt = async (at: number, len: number) => {
        const b = Buffer.alloc(len);
        await from.read(b, 0, len, at);
        return b;
      };
      for (const e of entries.filter((x) => x.start >= prefixEnd)) {
        if (out.drop.has(e.name)) {
          progress(e.next - e.start);
          continue;
        }
        const replacement = out.replace.get(e.name);
        if (replacement) {
          const header = e.dataStart - e.start === 512 ? resizedHeader(await readAt(e.start, 512), replacement.length) : ustarHeader({ name: e.name, size: replacement.length });
          await write(Buffer.concat([header, replacement, padding(replacement.length)]));
          written.push(e.name);
          progress(e.next - e.start);
          continue;
        }
        for (let at = e.start; at < e.next;) {
          const n = Math.min(buf.length, e.next - at);
          const { bytesRead } = await from.read(buf, 0, n, at);
          if (bytesRead === 0) throw new Error('source archive shrank while being copied');
          await fh.write(buf, 0, bytesRead, pos);
          pos += bytesRead;
          at += bytesRead;
          progress(bytesRead);
        }
      }
      // New entries get docker save's own fixed time, the epoch.
      for (const a of out.add) {
        await write(Buffer.concat([ustarHeader({ name: a.name, size: a.data.length, mtime: 0 }), a.data, padding(a.data.length)]));
        written.push(a.name);
      }
      // The archive's end as it was (Go writes two zero blocks, GNU tar pads to 10 KiB records).
      const tailLength = src.size - dataEnd;
      const tail = tailLength >= END_OF_ARCHIVE.length && tailLength <= 1 << 20 ? await readAt(dataEnd, tailLength) : undefined;
      await write(tail && tail.every((b) => b === 0) ? tail : END_OF_ARCHIVE);
      progress(src.size - dataEnd);
      await fh.truncate(pos);
      // Replacing an existing file: make the new bytes durable before the rename, so a crash
      // leaves the old archive or the new one.
      if (overwriting) await fh.sync();
    } finally {
      await fh.close();
      await from.close();
    }
    await rename(tmp, dst);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return written;
}
