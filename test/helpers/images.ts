// Container images built in the tests with the real tools, no Docker daemon: umoci makes OCI
// layouts layer by layer (each layer from a fresh unpack, changed by a function), and unpacks
// them back to root filesystems for checking.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';

/** umoci and skopeo are installed (Debian's packages; CI installs them). */
export const haveImageTools = (): boolean => ['umoci', 'skopeo'].every((t) => spawnSync(t, ['--version']).status === 0);

// umoci needs --rootless to unpack as an ordinary user.
const rootless = process.getuid?.() === 0 ? [] : ['--rootless'];

export const run = (cmd: string, args: string[], cwd?: string): string => execFileSync(cmd, args, { encoding: 'utf8', cwd, stdio: ['ignore', 'pipe', 'pipe'] });

/** An OCI layout `dir` whose image `tag` has one layer per function (each run on an unpacked rootfs). */
export function buildLayout(dir: string, tag: string, layers: ((rootfs: string) => void)[], config: string[] = []): void {
  if (!existsSync(path.join(dir, 'oci-layout'))) run('umoci', ['init', '--layout', dir]);
  run('umoci', ['new', '--image', `${dir}:${tag}`]);
  for (const layer of layers) {
    // Each layer from a fresh unpack: umoci repack diffs against what was unpacked.
    const bundle = path.join(path.dirname(dir), `bundle-${path.basename(dir)}-${tag}`);
    run('umoci', ['unpack', ...rootless, '--image', `${dir}:${tag}`, bundle]);
    layer(path.join(bundle, 'rootfs'));
    run('umoci', ['repack', '--image', `${dir}:${tag}`, bundle]);
    rmSync(bundle, { recursive: true, force: true });
  }
  if (config.length > 0) run('umoci', ['config', '--image', `${dir}:${tag}`, ...config]);
}

/** The image's root filesystem, unpacked under `work`. */
export function unpack(layout: string, tag: string, work: string): string {
  const bundle = `${mkdtempSync(path.join(work, 'unpacked-'))}/bundle`;
  run('umoci', ['unpack', ...rootless, '--image', `${layout}:${tag}`, bundle]);
  return path.join(bundle, 'rootfs');
}
