// Where a trust plan will act, read once: the tree (--root or /), its OS release, whether this is
// WSL, who we are. Targets only read this; they never probe the machine themselves, which keeps
// every plan testable as data from a fake tree and a stubbed platform.
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readOsRelease, type OsRelease } from '../platform/os-release.js';
import { isExecutableFile } from '../platform/executable.js';
import { DirTree, RootFs } from '../platform/rootfs.js';
import type { Env } from '../trust/stores.js';

export interface TrustContext {
  fs: DirTree;
  /** Host path of the tree the plan acts on; '/' for the running system. */
  root: string;
  /** True when acting on the running system rather than a tree given with --root. */
  live: boolean;
  platform: NodeJS.Platform;
  release?: OsRelease;
  env: Env;
  /** Root on Unix, an elevated process on Windows. */
  privileged: boolean;
  /** Running under WSL (Linux on Windows): the Windows store is a second target. */
  wsl: boolean;
  /** The invoking user's home (the real one: sudo may leave HOME pointing at root's). */
  home: string;
  /** Windows and macOS: the user's own store or the machine's. */
  scope: 'user' | 'machine';
  /** Whether a program exists at this absolute in-tree path and can be run from here. */
  hasTool(p: string): boolean;
  /** Whether a program exists on the machine running ollama-tls (chroot, openssl): never looked up in the tree. */
  hostTool(p: string): boolean;
  /** Whether this process may write into the in-tree directory (creating it if missing). */
  canWrite(dir: string): boolean;
}

export interface ContextOptions {
  root?: string;
  scope?: 'user' | 'machine';
  env?: Env;
  platform?: NodeJS.Platform;
  /** Facts about the machine, fixed by tests that plan for another platform from a fake tree. */
  overrides?: Partial<Omit<TrustContext, 'fs' | 'root'>>;
}

function isWsl(fs: DirTree, env: Env, platform: NodeJS.Platform): boolean {
  if (platform !== 'linux') return false;
  if (env.WSL_DISTRO_NAME || env.WSL_INTEROP) return true;
  try {
    return /microsoft/i.test(fs.readFile('/proc/sys/kernel/osrelease').toString('utf8'));
  } catch {
    return false;
  }
}


export function writableHostDir(hostDir: string): boolean {
  // The nearest existing ancestor decides: that is where a missing directory would be created.
  for (let d = hostDir; ; d = path.dirname(d)) {
    if (existsSync(d)) {
      try {
        accessSync(d, constants.W_OK);
        return true;
      } catch {
        return false;
      }
    }
    if (d === path.dirname(d)) return false;
  }
}

export function trustContext(opts: ContextOptions = {}): TrustContext {
  const fs = new RootFs(opts.root ?? '/');
  const env = opts.env ?? process.env;
  const platform = opts.platform ?? process.platform;
  const live = fs.isHostRoot;
  const privileged = typeof process.getuid === 'function' ? process.getuid() === 0 : windowsElevated(env);
  const release = platform === 'linux' ? readOsRelease(fs) : undefined;
  // Under sudo, os.userInfo() is root; SUDO_USER names who asked.
  const home = env.SUDO_USER && platform !== 'win32' ? path.join(platform === 'darwin' ? '/Users' : '/home', env.SUDO_USER) : os.userInfo().homedir;
  const ctx: TrustContext = {
    fs, root: fs.root, live, platform, env, privileged, home,
    ...(release ? { release } : {}),
    wsl: live && isWsl(fs, env, platform),
    // From WSL, Linux root says nothing about Windows rights: the Windows store defaults to the user's.
    scope: opts.scope ?? (privileged && !(live && isWsl(fs, env, platform)) ? 'machine' : 'user'),
    hasTool: (p) => {
      try {
        return isExecutableFile(fs.resolve(p));
      } catch {
        return false; // behind a link out of the tree (never followed) or a loop
      }
    },
    hostTool: isExecutableFile,
    canWrite: (dir) => writableHostDir(fs.isHostRoot ? dir : path.join(fs.root, dir)),
  };
  return { ...ctx, ...opts.overrides };
}

/** Only administrators may open System32\config\systemprofile: a cheap test for an elevated process. */
function windowsElevated(env: Env): boolean {
  try {
    readFileSync(path.join(env.SystemRoot ?? 'C:\\Windows', 'System32', 'config', 'systemprofile'));
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EISDIR';
  }
}
