// bin/ollama-tls.js answers --version and piped --help itself (the help as the bundle rendered it
// at build time); everything else, and help that commander would colour, goes to the bundle.
// doctor's bundle is compiled with a V8 code cache kept in the cache directory: the report is the
// same cold, warm, with a damaged cache and with none that can be written.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, runCli, runDoctorJson, type DoctorJson } from '../helpers/cli.js';
import { loadScenario, serveChain, tempDir, type Running } from '../helpers/servers.js';

const servers: Running[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

const ROOT = path.resolve(import.meta.dirname, '../..');
const BUNDLE = path.join(ROOT, 'dist/bundle/cli.js');

/** The bundle's own --help, rendered now on a pipe. */
function bundleHelp(env: NodeJS.ProcessEnv): string {
  const code = `const m = await import(${JSON.stringify(BUNDLE)}); await m.main([process.argv[0], 'ollama-tls', '--help']);`;
  return execFileSync(process.execPath, ['--input-type=module', '-e', code], { env, encoding: 'utf8' });
}

describe('launcher', () => {
  it('--version is the package version', async () => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${(JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version}\n`);
  });

  it('--help and -h on a pipe: byte for byte what the bundle prints', async () => {
    const env = { ...process.env };
    for (const k of ['FORCE_COLOR', 'CLICOLOR_FORCE', 'NO_COLOR']) delete env[k];
    const want = bundleHelp(env);
    expect(want).toMatch(/^Usage: ollama-tls \[options\] \[command\]/);
    for (const flag of ['--help', '-h']) {
      expect(execFileSync(process.execPath, [BIN, flag], { env, encoding: 'utf8' })).toBe(want);
    }
  });

  it('with FORCE_COLOR the bundle renders the help itself (commander may colour it)', () => {
    const env = { ...process.env, FORCE_COLOR: '1' };
    expect(execFileSync(process.execPath, [BIN, '--help'], { env, encoding: 'utf8' })).toBe(bundleHelp(env));
  });
});

describe("doctor's code cache", () => {
  /** The report without what differs from run to run (timings). */
  const stable = (r: DoctorJson) => JSON.stringify(r, (k, v: unknown) => (k === 'timings' || k === 'ms' ? undefined : v));

  it('is written by the first run, used as it is by the next, replaced when damaged, and never needed', async () => {
    const s = loadScenario('valid-rsa');
    const server = await serveChain(s);
    servers.push(server);
    const target = `${s.host}:${server.port}`;
    const cacheHome = tempDir('ollama-tls-code-cache-');
    const dir = path.join(cacheHome, 'ollama-tls', 'code-cache');
    const run = async (home: string) => {
      const { result, report } = await runDoctorJson([target, '--resolve', `${target}:127.0.0.1`], { XDG_CACHE_HOME: home, SSL_CERT_FILE: path.join(s.dir, 'ca.pem') });
      expect(result.stderr).toBe('');
      expect(report.ok).toBe(true);
      return report;
    };

    const cold = await run(cacheHome);
    const [file, ...more] = readdirSync(dir);
    expect(more).toEqual([]);
    // Named by the bundle's hash (its first line), this Node, and its flags when it has some.
    const hash = /^\/\/ sha256:([0-9a-f]{32})\n/.exec(readFileSync(path.join(ROOT, 'dist/bundle/doctor.cjs'), 'utf8'))![1]!;
    expect(file!.startsWith(`doctor-${hash}-${process.version}-${process.arch}`)).toBe(true);
    expect(file).toMatch(/^doctor-[0-9a-f]{32}-v[\d.]+-\w+(?:-[0-9a-f]+)?\.bin$/);
    const cache = path.join(dir, file!);
    const written = statSync(cache).mtimeMs;
    const warm = await run(cacheHome);
    // Not rewritten: V8 took it (a rejected cache is written again).
    expect(statSync(cache).mtimeMs).toBe(written);
    writeFileSync(cache, Buffer.alloc(4096, 0x5a));
    const damaged = await run(cacheHome);
    expect(readFileSync(cache).subarray(0, 4)).not.toEqual(Buffer.alloc(4, 0x5a));
    // A cache home that is a file: nothing can be written, the run is the same.
    const blocked = path.join(cacheHome, 'a-file');
    writeFileSync(blocked, '');
    const unwritable = await run(blocked);

    for (const r of [warm, damaged, unwritable]) expect(stable(r)).toBe(stable(cold));
  });
});
