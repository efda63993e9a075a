// The standalone executable (npm run standalone: Node's single executable application support)
// runs with no Node.js and an empty environment, as in an image without Node: against real TLS
// servers on loopback it gives the doctor's verdicts and exit codes, and the commands it prints
// name the binary itself. Built once; cached by a digest of its inputs between runs.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildStandalone } from '../../scripts/standalone.js';
import { loadScenario, serveChain, type Running } from '../helpers/servers.js';

let binary: string;
const servers: Running[] = [];
afterAll(async () => Promise.all(servers.map((s) => s.close())));
beforeAll(async () => {
  ({ path: binary } = await buildStandalone({ quiet: true }));
}, 600_000);

/** Run with an empty environment (env -i): no PATH, no Node, no proxy variables. */
function bare(args: string[]): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    execFile(binary, args, { env: {}, cwd: '/', timeout: 60_000, maxBuffer: 16 << 20 }, (e, stdout, stderr) => {
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : 99) : 0, stdout, stderr, ms: performance.now() - t0 });
    });
  });
}

interface Report {
  ok: boolean;
  targets: { verdicts: { view: string; ok: boolean }[]; findings: { code: string; fixes: { command?: string }[] }[] }[];
}

describe('build/ollama-tls with an empty environment', () => {
  it('prints its version', async () => {
    const r = await bare(['--version']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('a chain whose root the server sends: FAIL under Go, exit 1, and the fix names the binary by its path', async () => {
    const s = loadScenario('untrusted-root-sent');
    const server = await serveChain(s);
    servers.push(server);
    const target = `${s.host}:${server.port}`;
    const r = await bare(['doctor', '--json', target, '--resolve', `${target}:127.0.0.1`]);
    expect(r.code, r.stderr).toBe(1);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.ok).toBe(false);
    expect(report.targets[0]!.verdicts.find((v) => v.view === 'go')!.ok).toBe(false);
    const commands = report.targets[0]!.findings.flatMap((f) => f.fixes.map((x) => x.command ?? ''));
    expect(commands, commands.join('\n')).toContain(`${binary} trust --ca corp-ca.pem`);
  });

  it('a valid chain from a private CA, judged with that CA as --ca (--decide extra): ok, exit 0', async () => {
    const s = loadScenario('valid-rsa');
    const server = await serveChain(s);
    servers.push(server);
    const target = `${s.host}:${server.port}`;
    const r = await bare(['doctor', target, '--resolve', `${target}:127.0.0.1`, '--ca', path.join(s.dir, 'ca.pem'), '--decide', 'extra']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\bOK\b|\bok\b/);
  });
});
