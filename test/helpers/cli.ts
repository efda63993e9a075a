// Run the built CLI the way a user does: a child process, real arguments, real exit code.
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DoctorReport } from '../../src/diagnose/report.js';
import { ROOT } from './servers.js';

export const BIN = path.join(ROOT, 'bin/ollama-tls.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

// Variables that change what the CLI trusts or how it talks; tests set them explicitly.
const SCRUB = ['SSL_CERT_FILE', 'SSL_CERT_DIR', 'NODE_EXTRA_CA_CERTS', 'NODE_OPTIONS', 'NODE_USE_SYSTEM_CA',
  'HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy', 'FORCE_COLOR', 'GODEBUG'];

/**
 * A directory holding `ollama-tls` (a link to the launcher), put first on the CLI's PATH: the
 * program is installed, as for a user, so the commands it prints name it `ollama-tls`.
 */
export const INSTALLED_BIN_DIR: string = (() => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ollama-tls-path-'));
  chmodSync(dir, 0o755);
  symlinkSync(BIN, path.join(dir, 'ollama-tls'));
  return dir;
})();

/** Whether a sudo is on this machine's PATH (the CLI prints `sudo ` only then, and only when not root). */
export const haveSudo = (process.env.PATH ?? '').split(path.delimiter).some((d) => d && existsSync(path.join(d, 'sudo')));

/** What the CLI puts before a command that needs root, for a process with this uid. */
export const printedSudo = (uid: number = process.getuid?.() ?? 1000): string => (uid !== 0 && haveSudo ? 'sudo ' : '');

export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of SCRUB) delete env[k];
  // npx/npm run leave these behind; the CLI would take itself for an npx run.
  for (const k of Object.keys(env)) if (k.startsWith('npm_')) delete env[k];
  return { ...env, PATH: `${INSTALLED_BIN_DIR}${path.delimiter}${env.PATH ?? ''}`, NO_COLOR: '1', ...extra };
}

export function runCli(args: string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: cliEnv(opts.env), timeout: opts.timeoutMs ?? 60_000, maxBuffer: 32 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 99) : 0;
      resolve({ code, stdout, stderr, ms: performance.now() - t0 });
    });
  });
}

/** Run `command --json ...args` and parse what it printed; a run that printed no JSON fails loudly. */
export async function runJson<T>(command: string, args: string[], env: Record<string, string> = {}): Promise<{ result: CliResult; report: T }> {
  const result = await runCli([command, '--json', ...args], { env });
  let report: T;
  try {
    report = JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`${command} --json printed no JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  }
  return { result, report };
}

export const runDoctorJson = (args: string[], env: Record<string, string> = {}): Promise<{ result: CliResult; report: DoctorJson }> =>
  runJson<DoctorJson>('doctor', args, env);

/** What `doctor --json` prints: the report type itself (JSON.stringify of a `DoctorReport`). */
export type DoctorJson = DoctorReport;

/** The Go reference programs, test/go/<name>.go. */
export const GO_PROGRAMS = ['tlsclient', 'httpsget', 'mtlsserve', 'httpsserve', 'limboverify', 'ipclass'] as const;
export type GoProgram = (typeof GO_PROGRAMS)[number];

/**
 * Build a Go reference program from test/go once; undefined when Go is not installed. It is built
 * as a module whose go line is the toolchain's own version, as Ollama is built from its go.mod:
 * GODEBUG defaults follow that line (outside a module Go falls back to old defaults, e.g. it
 * accepts negative serial numbers, which Go 1.23+ programs reject).
 */
export function goClientBinary(program: GoProgram = 'tlsclient'): string | undefined {
  const version = spawnSync('go', ['env', 'GOVERSION'], { encoding: 'utf8' });
  if (version.status !== 0) return undefined;
  const goLine = version.stdout.trim().replace(/^go/, '').match(/^\d+\.\d+(?:\.\d+)?/)?.[0];
  if (!goLine) return undefined;
  const source = readFileSync(path.join(ROOT, `test/go/${program}.go`));
  const tag = createHash('sha256').update(source).update(goLine).digest('hex').slice(0, 12);
  const dir = path.join(os.tmpdir(), 'ollama-tls-go-ref');
  const bin = path.join(dir, `${program}-${tag}`);
  if (!existsSync(bin)) {
    const work = path.join(dir, `src-${program}-${tag}-${process.pid}`);
    mkdirSync(work, { recursive: true });
    writeFileSync(path.join(work, 'go.mod'), `module ollamatlsref\n\ngo ${goLine}\n`);
    writeFileSync(path.join(work, 'main.go'), source);
    // Build beside the target and rename, so parallel test files never run a half-written binary.
    const partial = `${bin}.${process.pid}`;
    const built = spawnSync('go', ['build', '-o', partial, '.'], {
      cwd: work,
      env: { ...process.env, GO111MODULE: 'on', GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local', GOPROXY: 'off', GOCACHE: path.join(dir, 'cache') },
      encoding: 'utf8',
    });
    if (built.status !== 0) throw new Error(`could not build the Go reference client:\n${built.stderr}`);
    renameSync(partial, bin);
  }
  return bin;
}

/** What Go's net/http (Ollama's registry client) says when it GETs url, proxy from the environment. */
export function goGetSays(bin: string, url: string, env: Record<string, string>): Promise<string> {
  return new Promise((resolve) => {
    execFile(bin, [url], { env: cliEnv(env), timeout: 30_000 }, (_err, stdout) => resolve(stdout.trim()));
  });
}

/** What a real Go client (Ollama's runtime) says about host:port; 'ok' on success. */
export function goSays(bin: string, address: string, servername: string, env: Record<string, string>): Promise<string> {
  return new Promise((resolve) => {
    execFile(bin, [address, servername], { env: cliEnv(env), timeout: 20_000 }, (_err, stdout) => resolve(stdout.trim()));
  });
}
