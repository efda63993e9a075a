// The files ollama-tls keeps in its cache directory (platform/cache-dir.ts): read only when they
// are this user's own, written whole or not at all. A cache that cannot be read or written costs
// a run its head start, never the run itself.
import { closeSync, fstatSync, mkdirSync, openSync, readSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The file's bytes, or undefined: missing, larger than `maxBytes`, unreadable, or someone else's (a run under sudo keeping HOME). */
export function readCacheFile(file: string, maxBytes: number): Buffer | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const st = fstatSync(fd);
    if ((process.getuid && st.uid !== process.getuid()) || st.size > maxBytes) return undefined;
    const buf = Buffer.allocUnsafe(st.size);
    return readSync(fd, buf, 0, st.size, 0) === st.size ? buf : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Writes the file whole (a temporary file renamed over it), private to this user; false when it could not. */
export function writeCacheFile(file: string, bytes: readonly Buffer[]): boolean {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(tmp, Buffer.concat(bytes), { mode: 0o600 });
    renameSync(tmp, file);
    return true;
  } catch {
    try {
      rmSync(tmp, { force: true }); // a half-written one; its directory may not even exist
    } catch {
      // nothing there to remove
    }
    return false;
  }
}

/** The next multiple of 4 (typed-array views of a cache file's numbers need that alignment). */
export const align4 = (n: number): number => (n + 3) & ~3;
