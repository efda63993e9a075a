// Which Linux family a tree belongs to, from /etc/os-release ID and ID_LIKE.
import type { RootFs } from './rootfs.js';

export type LinuxFamily = 'debian' | 'rhel' | 'suse' | 'arch' | 'alpine' | 'unknown';

export interface OsRelease {
  id: string;
  idLike: string[];
  prettyName: string;
  family: LinuxFamily;
}

// ID or ID_LIKE values, first match wins (ID is checked before ID_LIKE).
const FAMILY_BY_ID: Record<string, LinuxFamily> = {
  debian: 'debian', ubuntu: 'debian', linuxmint: 'debian', pop: 'debian', raspbian: 'debian', kali: 'debian',
  rhel: 'rhel', fedora: 'rhel', centos: 'rhel', rocky: 'rhel', almalinux: 'rhel', amzn: 'rhel', ol: 'rhel',
  suse: 'suse', opensuse: 'suse', 'opensuse-leap': 'suse', 'opensuse-tumbleweed': 'suse', sles: 'suse', sled: 'suse',
  arch: 'arch', manjaro: 'arch', endeavouros: 'arch',
  alpine: 'alpine',
};

export function parseOsRelease(text: string): OsRelease {
  const fields: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = line.match(/^([A-Z_]+)=(.*)$/);
    if (m) fields[m[1]!] = m[2]!.replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1');
  }
  const id = (fields.ID ?? '').toLowerCase();
  const idLike = (fields.ID_LIKE ?? '').toLowerCase().split(/\s+/).filter(Boolean);
  const family = [id, ...idLike].map((x) => FAMILY_BY_ID[x]).find(Boolean) ?? 'unknown';
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
