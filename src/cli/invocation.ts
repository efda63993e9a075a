// Commands the tool prints must run as printed on the machine it ran on. Findings and advice are
// written with the canonical words ("sudo ollama-tls trust ..."); this one module turns them into
// what works here, when they are printed (text and JSON alike):
//   - `sudo ` only when this process is not root and a sudo is on the PATH (root needs none, and a
//     machine without sudo cannot run it);
//   - the program as the user can call it: `ollama-tls` when that name on the PATH is this program,
//     `npx ollama-tls` under npx/npm exec, the standalone binary's path, else this launcher's path.
import { realpathSync } from 'node:fs';
import { isExecutableFile } from '../platform/executable.js';
import path from 'node:path';

export interface Invocation {
  /** How to call this program from a shell here. */
  program: string;
  /** 'sudo ' or ''. */
  sudo: string;
}


function real(p: string): string | undefined {
  try {
    // The system's realpath(3): one call, where the JavaScript one walks every component.
    return realpathSync.native(p);
  } catch {
    return undefined;
  }
}

/** The first executable `name` on PATH, as the shell would find it. */
export function onPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, name);
    if (isExecutableFile(p)) return p;
  }
  return undefined;
}

// Defined as true by the standalone build (scripts/standalone.ts), and by no other: asking node:sea
// instead costs every run ~1 ms to load it.
declare const OLLAMA_TLS_STANDALONE: boolean | undefined;

/** Running as a single executable application (build/ollama-tls): the binary is the program. */
function standaloneBinary(): string | undefined {
  return typeof OLLAMA_TLS_STANDALONE !== 'undefined' && OLLAMA_TLS_STANDALONE ? process.execPath : undefined;
}

let cached: Invocation | undefined;

export function invocation(env: NodeJS.ProcessEnv = process.env): Invocation {
  if (cached) return cached;
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const sudo = !root && process.platform !== 'win32' && onPath('sudo', env) ? 'sudo ' : '';
  const self = standaloneBinary() ?? process.argv[1];
  const selfReal = self ? real(self) : undefined;
  const found = onPath('ollama-tls', env);
  let program: string;
  if (found && selfReal && real(found) === selfReal && env.npm_command !== 'exec') program = 'ollama-tls';
  else if (env.npm_command === 'exec' || env.npm_lifecycle_event === 'npx') program = 'npx ollama-tls';
  else if (self && isExecutableFile(self)) program = path.resolve(self);
  else program = `${process.execPath} ${self ? path.resolve(self) : 'ollama-tls'}`;
  cached = { program, sudo };
  return cached;
}

// Where a command starts in a printed line: its beginning, after a shell operator, after "then:".
const START = String.raw`(^|&&\s*|\|\|\s*|;\s*|\|\s*|\n|then:\s*|\$\s+)`;
const SUDO = new RegExp(`${START}sudo (?=\\S)`, 'g');
const PROGRAM = new RegExp(`${START}(sudo )?ollama-tls(?= |$)`, 'gm');

/** `command` as it runs here. */
export function runnable(command: string, given?: Invocation): string {
  // Nothing to change without either word (and the patterns below cost ~1 ms to compile, the
  // look-ups of invocation() as much again).
  if (!command.includes('ollama-tls') && !command.includes('sudo ')) return command;
  const inv = given ?? invocation();
  const shell = /\s/.test(inv.program) && !inv.program.startsWith('npx ') ? inv.program : inv.program.includes("'") ? `'${inv.program.replace(/'/g, `'\\''`)}'` : inv.program;
  return command
    .replace(PROGRAM, (_m, start: string, sudo: string | undefined) => `${start}${sudo ?? ''}${shell}`)
    .replace(SUDO, (_m, start: string) => `${start}${inv.sudo}`);
}

/** Every `command` field in a report (findings' fixes, at any depth) made runnable here. */
export function runnableReport<T>(value: T, inv?: Invocation): T {
  // Plain loops: this visits every value of a report (a few thousand), once per run.
  const walk = (v: unknown): unknown => {
    if (typeof v !== 'object' || v === null) return v;
    if (Array.isArray(v)) {
      const out = new Array<unknown>(v.length);
      for (let i = 0; i < v.length; i++) out[i] = walk(v[i]);
      return out;
    }
    if (Object.getPrototypeOf(v) !== Object.prototype) return v;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) {
      const x = (v as Record<string, unknown>)[k];
      out[k] = k === 'command' && typeof x === 'string' ? runnable(x, inv) : walk(x);
    }
    return out;
  };
  return walk(value) as T;
}
