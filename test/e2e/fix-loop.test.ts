// doctor --fix end to end: a private root served for a public host name (what a TLS-inspecting
// proxy does), a Debian tree whose store Debian's own update-ca-certificates built, and the built
// CLI going from FAIL to ok in one command. A real Go client reading the tree's bundle is the judge
// of the result, not only the doctor's own re-check.
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trustContext } from '../../src/fix/context.js';
import { DISTRO_TARGETS } from '../../src/fix/linux-distro.js';
import type { Plan } from '../../src/fix/plan.js';
import { certificatesFromPem } from '../../src/x509/load.js';
import { goClientBinary, goSays, runCli } from '../helpers/cli.js';
import { issueLeaf, makeCa, type TestCa } from '../helpers/pki.js';
import { SCENARIOS, serveChain, tempDir, type Running } from '../helpers/servers.js';
import { debianTree, haveDebianTool, snapshot, snapshotDiff } from '../helpers/trees.js';

const go = goClientBinary('tlsclient');
const HOST = 'downloads.acme-models.com';
let corpRoot: TestCa;
let rootFp: string;
let server: Running;
let target: string;
beforeAll(async () => {
  corpRoot = await makeCa('Example Corp Inspection Root', 'Example Corp');
  rootFp = new X509Certificate(corpRoot.certPem).fingerprint256.replace(/:/g, '').toLowerCase();
  server = await serveChain(await issueLeaf(corpRoot, [HOST]));
  target = `${HOST}:${server.port}`;
});
afterAll(async () => server?.close());

const args = (root: string, ...more: string[]) => ['doctor', target, '--resolve', `${target}:127.0.0.1`, '--root', root, '--fix', ...more];
const goInTree = (root: string) =>
  go ? goSays(go, `127.0.0.1:${server.port}`, HOST, { SSL_CERT_FILE: path.join(root, 'etc/ssl/certs/ca-certificates.crt'), SSL_CERT_DIR: path.join(root, 'etc/ssl/certs') }) : Promise.resolve('skipped');

interface FixJson {
  ok: boolean;
  before: { ok: boolean; targets: { target: string; ok: boolean }[] };
  plans: { target: string; steps: { kind: string }[] }[];
  results: { target: string; checks: { ok: boolean }[] }[];
  after: { ok: boolean; targets: { target: string; ok: boolean; findings: { code: string; severity: string }[] }[] } | null;
  targets?: { target: string; before: boolean; after: boolean }[];
}

describe.skipIf(!haveDebianTool())('doctor --fix on a Debian tree', () => {
  it('without a terminal and without --yes: exit 2 naming --yes, nothing changed', async () => {
    const root = debianTree({ withTool: true });
    const before = snapshot(root);
    const r = await runCli(args(root));
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('--yes');
    expect(r.stdout).toContain('FAIL');
    expect(snapshotDiff(before, snapshot(root))).toEqual([]);
  });

  it('--yes without the fingerprint of a CA taken from the network: exit 2 naming --fingerprint and its value', async () => {
    const root = debianTree({ withTool: true });
    const before = snapshot(root);
    const r = await runCli(args(root, '--yes'));
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`--fingerprint ${rootFp}`);
    expect(r.stderr).toContain('IT team');
    expect(snapshotDiff(before, snapshot(root))).toEqual([]);
  });

  it('--dry-run prints the plan and changes nothing (exit 1: the problem remains)', async () => {
    const root = debianTree({ withTool: true });
    const before = snapshot(root);
    const r = await runCli(args(root, '--dry-run'));
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toContain(rootFp);
    expect(r.stdout).toContain('Debian');
    expect(r.stdout).toContain('nothing changed');
    expect(snapshotDiff(before, snapshot(root))).toEqual([]);
    if (go) expect(await goInTree(root)).toMatch(/certificate signed by unknown authority/);
  });

  it('--yes --fingerprint FP: from FAIL to ok in one command, and a real Go client agrees', async () => {
    const root = debianTree({ withTool: true });
    if (go) expect(await goInTree(root)).toMatch(/certificate signed by unknown authority/);
    const r = await runCli(args(root, '--yes', '--fingerprint', rootFp, '--json'));
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as FixJson;
    expect(out.before.ok).toBe(false);
    expect(out.plans.map((p) => p.target)).toEqual(['debian']);
    expect(out.results[0]!.checks.every((c) => c.ok)).toBe(true);
    expect(out.after!.ok).toBe(true);
    expect(out.targets).toEqual([{ target, before: false, after: true }]);
    // The installed root is the one served, in the bundle Go reads.
    expect(readFileSync(path.join(root, 'etc/ssl/certs/ca-certificates.crt'), 'utf8')).toContain(corpRoot.certPem.trim().split('\n')[1]!);
    if (go) expect(await goInTree(root)).toBe('ok');

    // The same command again: nothing to fix, exit 0, nothing changed.
    const snap = snapshot(root);
    const again = await runCli(args(root, '--yes', '--fingerprint', rootFp));
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('Nothing to fix');
    expect(snapshotDiff(snap, snapshot(root))).toEqual([]);
  });

  it('text output: the report, the plan, the re-check and before -> after per target', async () => {
    const root = debianTree({ withTool: true });
    const r = await runCli(args(root, '--yes', '--fingerprint', rootFp));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('After the fix');
    expect(r.stdout).toMatch(new RegExp(`FAIL -> ok\\s+${target.replace(/\./g, '\\.')}`));
  });

  it('a --ca file the user gave needs no fingerprint', async () => {
    const root = debianTree({ withTool: true });
    const dir = tempDir('ollama-tls-fixca-');
    writeFileSync(path.join(dir, 'corp-ca.pem'), corpRoot.certPem);
    const r = await runCli(args(root, '--yes', '--ca', path.join(dir, 'corp-ca.pem')));
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toContain('from your --ca file');
    if (go) expect(await goInTree(root)).toBe('ok');
  });

  it('finishes a trust that was killed half-way first (as trust and untrust do), then applies its own plan', async () => {
    const root = debianTree({ withTool: false });
    const otherPem = readFileSync(path.join(SCENARIOS, 'valid-rsa/ca.pem'), 'utf8');
    const other = certificatesFromPem(otherPem).certificates[0]!;
    const debian = DISTRO_TARGETS.find((t) => t.id === 'debian')!;
    const steps = ((await debian.plan(trustContext({ root, platform: 'linux', env: {} }), [other])) as Plan).steps;
    // A trust of another CA killed before its first step: its journal is all that is there.
    const deadPid = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
    mkdirSync(path.join(root, 'var/lib/ollama-tls/tmp'), { recursive: true });
    writeFileSync(path.join(root, 'var/lib/ollama-tls/journal.json'), JSON.stringify({
      schema: 1, started: '2026-01-01T00:00:00.000Z', before: {}, createdDirs: [], pid: deadPid, action: 'trust', target: 'debian', title: 'Debian', steps,
    }));
    const r = await runCli(args(root, '--yes', '--fingerprint', rootFp));
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/An earlier trust of 2026-01-01T00:00:00.000Z \(pid \d+\) was interrupted: finished it first/);
    const bundle = readFileSync(path.join(root, 'etc/ssl/certs/ca-certificates.crt'), 'utf8');
    expect(bundle).toContain(otherPem.trim().split('\n')[1]!);
    expect(bundle).toContain(corpRoot.certPem.trim().split('\n')[1]!);
    expect(existsSync(path.join(root, 'var/lib/ollama-tls/journal.json'))).toBe(false);
  });
});
