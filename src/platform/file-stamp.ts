// Whether a file is still the one an earlier run read, from its stat alone (git's index rule):
// replacing it (a rename, a package upgrade) changes its inode, writing it in place its size or
// times, a chmod its mode and ctime. The text is compared, never parsed.
import type { Stats } from 'node:fs';

export function fileStamp(s: Pick<Stats, 'dev' | 'ino' | 'size' | 'mtimeMs' | 'ctimeMs' | 'mode'>): string {
  return `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}:${s.mode}`;
}
