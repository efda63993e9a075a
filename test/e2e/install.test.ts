// Installed as users install CLIs: `npm pack`, then `npm install -g --prefix TMP` of the tarball,
// offline (the dependencies travel in the tarball: bundleDependencies), then the installed
// command, run from another directory by its name on the PATH. The commands it prints name it
// `ollama-tls`, as it is now on the PATH.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv } from '../helpers/cli.js';
import { loadScenario, ROOT, serveChain, tempDir, type Running } from '../helpers/servers.js';

function run(file: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { ...opts, timeout: 180_000, maxBuffer: 16 << 20 }, (e, stdout, stderr) => {
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : 99) : 0, stdout, stderr });
    });
  });
}

// The npm beside this node, else the one on the PATH (`npx -p node@24` brings a node without npm).
const besideNode = path.join(path.dirname(process.execPath), 'npm');
const npm = existsSync(besideNode) ? besideNode : 'npm';
let prefix: string;
let env: NodeJS.ProcessEnv;
let server: Running;
const elsewhere = tempDir('ollama-tls-cwd-');

beforeAll(async () => {
  const dir = tempDir('ollama-tls-pack-');
  // dist/ is built before the suite (npm test builds it); --ignore-scripts keeps pack from building again.
  const pack = await run(npm, ['pack', '--pack-destination', dir, '--ignore-scripts', '--silent'], { cwd: ROOT, env: process.env });
  expect(pack.code, pack.stderr).toBe(0);
  const tarball = path.join(dir, readdirSync(dir).find((f) => f.endsWith('.tgz'))!);
  prefix = path.join(dir, 'prefix');
  const install = await run(npm, ['install', '-g', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball], { cwd: elsewhere, env: process.env });
  expect(install.code, install.stderr).toBe(0);
  env = { ...cliEnv(), PATH: `${path.join(prefix, 'bin')}${path.delimiter}${path.dirname(process.execPath)}:/usr/bin:/bin` };
  server = await serveChain(loadScenario('untrusted-root-sent'));
}, 300_000);
afterAll(async () => server?.close());

describe('npm pack + npm install -g --offline', () => {
  it('puts ollama-tls on the PATH; it runs from any directory', async () => {
    expect(existsSync(path.join(prefix, 'bin', 'ollama-tls'))).toBe(true);
    const v = await run('ollama-tls', ['--version'], { cwd: elsewhere, env });
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const help = await run('ollama-tls', ['doctor', '--help'], { cwd: '/', env });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--fix');
  });

  it('the installed command diagnoses a served chain and names itself ollama-tls in its fixes', async () => {
    const s = loadScenario('untrusted-root-sent');
    const target = `${s.host}:${server.port}`;
    const r = await run('ollama-tls', ['doctor', '--json', target, '--resolve', `${target}:127.0.0.1`], { cwd: elsewhere, env });
    expect(r.code, r.stderr).toBe(1);
    const report = JSON.parse(r.stdout) as { targets: { verdicts: { view: string; ok: boolean }[]; findings: { fixes: { command?: string }[] }[] }[] };
    expect(report.targets[0]!.verdicts.find((v) => v.view === 'go')!.ok).toBe(false);
    const commands = report.targets[0]!.findings.flatMap((f) => f.fixes.map((x) => x.command ?? ''));
    expect(commands.some((c) => /^(?:sudo )?ollama-tls trust --ca /.test(c)), commands.join('\n')).toBe(true);
  });
});
