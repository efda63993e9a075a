// A source's stamp: when it was read (or copied), as a short text. A later write that finds
// another stamp must not reuse what was read or copied from it.
import { stat } from 'node:fs/promises';
import path from 'node:path';

/** A layout's index.json's time and size, or a tarball's. */
export const stampText = (s: { mtimeMs: number; size: number }): string => `${s.mtimeMs}:${s.size}`;

/** The stamp openSource would give, from a stat or two: whether a reading still applies. */
export async function stampOf(p: string): Promise<string> {
  const s = await stat(p);
  return stampText(s.isDirectory() ? await stat(path.join(p, 'index.json')) : s);
}
