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

// Where system programs live, searched in this order (so chroot is /usr/sbin/chroot and sudo
// /usr/bin/sudo, as Debian installs them; /sbin and /bin for trees without the /usr merge).
// Programs we run as root are found here, never through PATH, which the caller may control.
const SYSTEM_DIRS = ['/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** The first SYSTEM_DIRS path of NAME that `isThere` accepts (this machine by default; a tree's own check for its tools). */
export function systemProgram(name: string, isThere: (p: string) => boolean = isExecutableFile): string | undefined {
  for (const dir of SYSTEM_DIRS) {
    const p = `${dir}/${name}`;
    if (isThere(p)) return p;
  }
  return undefined;
}
