// Which Linux family a tree belongs to, from /etc/os-release ID and ID_LIKE (the IDs are the
// families' rows in linux-families.ts).
import { familyOfIds, type LinuxFamily } from './linux-families.js';
import type { RootFs } from './rootfs.js';

export interface OsRelease {
  id: string;
  idLike: string[];
  prettyName: string;
  /** 'unknown' when no family's row names the ID or ID_LIKE. */
  family: LinuxFamily | 'unknown';
}

export function parseOsRelease(text: string): OsRelease {
  const fields: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = line.match(/^([A-Z_]+)=(.*)$/);
    if (m) fields[m[1]!] = m[2]!.replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1');
  }
  const id = (fields.ID ?? '').toLowerCase();
  const idLike = (fields.ID_LIKE ?? '').toLowerCase().split(/\s+/).filter(Boolean);
  const family = familyOfIds(id, idLike) ?? 'unknown';
  return { id, idLike, prettyName: fields.PRETTY_NAME ?? id, family };
}

export function readOsRelease(fs: RootFs): OsRelease | undefined {
  for (const p of ['/etc/os-release', '/usr/lib/os-release']) {
    try {
      return parseOsRelease(fs.readFile(p).toString('utf8'));
    } catch {
      // try the next location
    }
  }
  return undefined;
}
