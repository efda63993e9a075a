// `trust --image ARCHIVE --output DST --yes` (and untrust): the copy of the archive, which is
// nearly all of DST and the longest part of the run (a 1 GiB archive: ~280 ms of kernel copy
// against ~150 ms for everything else), starts as soon as the flags say where it goes: before
// the command's modules load, the CAs are read and the image is planned, so that all of that
// runs beside the copy instead of before it. Only when the plan is accepted in advance (--yes,
// no --dry-run): without a yes nothing is written.
//
// The copy goes to the temp file the write makes DST in (archive-write.ts tempName). The write
// takes it over (index.ts openForWrite) when it is of the same source, DST and stamp (the
// source's time and size when the copy began: a source changed since is copied again);
// otherwise, and when the run ends without a write, it is stopped and removed.
import { rmSync } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { copyWhole, tempName, type TarballCopy } from './archive-write.js';
import { stampText } from './source-stamp.js';

interface EarlyCopy extends TarballCopy {
  from: string;
  to: string;
  stamp: string;
  stop: AbortController;
}

let early: EarlyCopy | undefined;

/** A process that exits another way (process.exit on a closed pipe) leaves no copy behind. */
function onExit(): void {
  if (!early) return;
  early.stop.abort();
  rmSync(early.tmp, { force: true });
}

/** Start copying SRC beside DST when SRC is a file (an archive) and DST another path that is no directory. */
export async function startEarlyCopy(src: string, dst: string): Promise<void> {
  const from = path.resolve(src);
  const to = path.resolve(dst);
  if (early || from === to) return;
  const [s, d] = await Promise.all([stat(from).catch(() => undefined), stat(to).catch(() => undefined)]);
  // A layout (a directory) is copied blob by blob by the write; a directory as DST it refuses.
  if (!s?.isFile() || d?.isDirectory()) return;
  const stop = new AbortController();
  const tmp = tempName(to);
  const done = copyWhole(from, tmp, s.size, stop.signal);
  done.catch(() => {}); // awaited by the write that claims it, or by dropEarlyCopy
  early = { from, to, stamp: stampText(s), tmp, done, stop };
  process.once('exit', onExit);
}

/**
 * The copy of SRC beside DST, when one was started and SRC still has `stamp`: the caller owns it
 * from here (renames it into place, or removes it). A copy that does not fit is stopped and
 * removed first (the caller's own copy goes to the same temp file).
 */
export async function claimEarlyCopy(src: string, dst: string, stamp: string): Promise<TarballCopy | undefined> {
  const e = early;
  if (!e) return undefined;
  if (e.from !== path.resolve(src) || e.to !== path.resolve(dst) || e.stamp !== stamp) {
    await dropEarlyCopy();
    return undefined;
  }
  early = undefined;
  process.off('exit', onExit);
  return { tmp: e.tmp, done: e.done };
}

/** The run ends without having claimed the copy: stop it and remove what it wrote. */
export async function dropEarlyCopy(): Promise<void> {
  const e = early;
  if (!e) return;
  early = undefined;
  process.off('exit', onExit);
  e.stop.abort();
  await e.done.catch(() => {});
  await rm(e.tmp, { force: true });
}
