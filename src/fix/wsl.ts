// WSL has two trust stores: the Linux distribution's (read by an `ollama` installed inside WSL)
// and Windows' own (read by Ollama for Windows, which WSL programs often talk to on localhost).
// This target is the Windows one, reached through the Windows drive and certutil.exe (WSL
// interop). Which Ollama the user runs decides which store matters; both are found and named.
import { readdirSync } from 'node:fs';
import type { TrustContext } from './context.js';
import type { TrustTarget } from './plan.js';
import { windowsTarget, type WindowsPaths } from './windows.js';

/** Where Windows drives are mounted: /etc/wsl.conf [automount] root, default /mnt/. */
export function wslMountRoot(ctx: TrustContext): string {
  try {
    const conf = ctx.fs.readFile('/etc/wsl.conf').toString('utf8');
    let section = '';
    for (const line of conf.split(/\r?\n/)) {
      const s = line.trim();
      const head = s.match(/^\[(.+)\]$/);
      if (head) section = head[1]!.toLowerCase();
      const kv = s.match(/^root\s*=\s*(.+)$/);
      if (section === 'automount' && kv) return kv[1]!.replace(/\/?$/, '/');
    }
  } catch {
    // no wsl.conf: the default
  }
  return '/mnt/';
}

/** Where each Ollama is installed, so the plan can say which store each one reads. */
export function ollamaInstalls(ctx: TrustContext, mount = wslMountRoot(ctx)): { linux?: string; windows?: string } {
  const linux = ['/usr/local/bin/ollama', '/usr/bin/ollama', '/etc/systemd/system/ollama.service'].find((p) => ctx.fs.exists(p));
  let windows: string | undefined;
  try {
    for (const user of readdirSync(ctx.fs.resolve(`${mount}c/Users`))) {
      const p = `${mount}c/Users/${user}/AppData/Local/Programs/Ollama/ollama.exe`;
      if (ctx.fs.exists(p)) {
        windows = p;
        break;
      }
    }
  } catch {
    // the Windows drive is not mounted here
  }
  return { ...(linux ? { linux } : {}), ...(windows ? { windows } : {}) };
}

function wslPaths(ctx: TrustContext): WindowsPaths {
  const mount = wslMountRoot(ctx);
  // ProgramData lets every user create a folder; the copy must be somewhere certutil can read.
  return {
    certutil: `${mount}c/Windows/System32/certutil.exe`,
    copy: (name) => `${mount}c/ProgramData/ollama-tls/${name}`,
    copyForCertutil: (name) => `C:\\ProgramData\\ollama-tls\\${name}`,
  };
}

export const wslWindows: TrustTarget = (() => {
  const t = windowsTarget(
    'wsl-windows',
    wslPaths,
    (ctx) => {
      if (!ctx.wsl) return { applies: false, why: 'not WSL' };
      if (!ctx.hostTool(wslPaths(ctx).certutil)) return { applies: false, why: `${wslPaths(ctx).certutil} is not reachable (WSL interop off, or the C: drive not mounted)` };
      return { applies: true, why: 'WSL: the Windows store, for Ollama for Windows' };
    },
    (ctx) => {
      const found = ollamaInstalls(ctx);
      return [
        found.windows ? `Ollama for Windows is installed (${found.windows}): it reads this Windows store.` : 'No Ollama for Windows was found; this store matters only if you run it.',
        found.linux ? `An ollama inside WSL (${found.linux}) reads the Linux store instead.` : 'No ollama was found inside WSL.',
      ];
    },
  );
  // Paths in these plans are Linux paths on the Windows drive; they write through the mount.
  return { ...t, id: 'wsl-windows' as const };
})();
