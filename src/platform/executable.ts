// Whether a path is a program this process could run: a regular file with the execute bit for
// us (what a shell's PATH search accepts). One check for PATH look-ups, sudo and a tree's tools.
import { accessSync, constants, statSync } from 'node:fs';

export function isExecutableFile(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}
