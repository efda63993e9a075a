// The machine a fix is meant for: its OS, its Linux family, whether systemd runs services.
import { promises as fsp } from 'node:fs';
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
  const systemd = await fsp.stat('/run/systemd/system').then(() => true, () => false);
  return { platform, ...(release ? { family: release.family } : {}), systemd };
}
