// The machine a fix is meant for: its OS, its Linux family, whether systemd runs services.
import { statSync } from 'node:fs';
import { readOsRelease, type OsRelease } from './os-release.js';
import type { RootFs } from './rootfs.js';

export interface ClientPlatform {
  platform: NodeJS.Platform;
  family?: OsRelease['family'];
  /** Ollama is installed as a systemd service (the Linux install script does this). */
  systemd?: boolean;
}

export async function detectClientPlatform(fs: RootFs, platform: NodeJS.Platform): Promise<ClientPlatform> {
  if (platform !== 'linux') return { platform };
  const release = readOsRelease(fs);
  return { platform, ...(release ? { family: release.family } : {}), systemd: runsSystemd() };
}

/** systemd's own test (sd_booted): /run/systemd/system exists. One stat, synchronous: fs.promises costs ~2 ms to load. */
function runsSystemd(): boolean {
  try {
    return statSync('/run/systemd/system', { throwIfNoEntry: false }) !== undefined;
  } catch {
    return false;
  }
}
