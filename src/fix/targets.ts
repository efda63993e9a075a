// Which stores a trust plan is for, on this machine or tree: the distribution's store when its
// tool is there (else the bundle files directly), the keychain on macOS, the Root store on
// Windows, and under WSL the Windows store as well. --bundle-out replaces them with one file.
import { bundleTarget } from './bundle-file.js';
import type { TrustContext } from './context.js';
import { DISTRO_TARGETS } from './linux-distro.js';
import { linuxNative } from './linux-native.js';
import { macos } from './macos.js';
import type { TargetId, TrustTarget } from './plan.js';
import { windows } from './windows.js';
import { wslWindows } from './wsl.js';

export interface TargetChoice {
  chosen: { target: TrustTarget; why: string }[];
  /** Targets that do not apply here, and why: shown with --dry-run and on request. */
  skipped: { id: TargetId; why: string }[];
}

export const TARGET_IDS: TargetId[] = [...DISTRO_TARGETS.map((t) => t.id), 'linux-native', 'macos', 'windows', 'wsl-windows', 'bundle'];

export function chooseTargets(ctx: TrustContext, opts: { bundleOut?: string; files?: TrustTarget[]; only?: TargetId[] } = {}): TargetChoice {
  // A file of the user's (a bundle, a Dockerfile, a compose file, an image) replaces the OS stores.
  const files = [...(opts.bundleOut ? [bundleTarget(opts.bundleOut)] : []), ...(opts.files ?? [])];
  if (files.length) return { chosen: files.map((t) => ({ target: t, why: t.detect(ctx).why })), skipped: [] };
  const chosen: TargetChoice['chosen'] = [];
  const skipped: TargetChoice['skipped'] = [];
  const consider = (t: TrustTarget): boolean => {
    const d = t.detect(ctx);
    if (d.applies) chosen.push({ target: t, why: d.why });
    else skipped.push({ id: t.id, why: d.why });
    return d.applies;
  };
  if (ctx.platform === 'linux') {
    // One Linux store: the distribution's, else the files directly.
    const distro = DISTRO_TARGETS.find((t) => consider(t));
    if (!distro) consider(linuxNative);
    if (ctx.live) consider(wslWindows);
  } else {
    for (const t of [macos, windows]) consider(t);
  }
  if (opts.only?.length) {
    // Named targets are taken even when another one would have been chosen (e.g. linux-native on
    // a Debian system), as long as they apply here at all.
    const all: TrustTarget[] = [...DISTRO_TARGETS, linuxNative, macos, windows, wslWindows];
    for (const id of opts.only) {
      if (chosen.some((c) => c.target.id === id)) continue;
      const t = all.find((x) => x.id === id);
      if (!t) continue;
      const d = t.detect(ctx);
      if (d.applies) chosen.push({ target: t, why: `${d.why} (--only)` });
    }
    const keep = chosen.filter((c) => opts.only!.includes(c.target.id));
    const rest = skipped.filter((s) => !keep.some((k) => k.target.id === s.id));
    for (const c of chosen) if (!keep.includes(c)) rest.push({ id: c.target.id, why: 'not named in --only' });
    return { chosen: keep, skipped: rest };
  }
  return { chosen, skipped };
}
