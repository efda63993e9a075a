// The journal, case by case (the kill test covers random moments): a run killed half-way is
// finished by the next one, which says so and removes only what it can prove the killed run or
// its tool left; a run still in progress is not trampled; "already trusted" is a property of the
// bundle Go reads, not of the anchor file.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { trustContext } from '../../src/fix/context.js';
import type { Journal } from '../../src/fix/journal.js';
import { DISTRO_TARGETS } from '../../src/fix/linux-distro.js';
import type { Plan, TrustTarget } from '../../src/fix/plan.js';
import { certificatesFromPem } from '../../src/x509/load.js';
import { runCli } from '../helpers/cli.js';
import { SCENARIOS } from '../helpers/servers.js';
import { canChroot, debianTree, haveDebianTool, snapshot, snapshotDiff } from '../helpers/trees.js';

const CA = path.join(SCENARIOS, 'valid-rsa/ca.pem');
const caPem = readFileSync(CA, 'utf8');
const BUNDLE = 'etc/ssl/certs/ca-certificates.crt';
const ca = certificatesFromPem(caPem).certificates[0]!;

/** The steps `trust` would take on this tree now: what the killed run had journaled. */
const stepsFor = async (target: TrustTarget, root: string) => ((await target.plan(trustContext({ root, platform: 'linux', env: {} }), [ca])) as Plan).steps;

/** A pid that was used and is gone: the process ran and exited. */
const deadPid = (): number => Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);

function plantJournal(root: string, j: Partial<Journal>): void {
  mkdirSync(path.join(root, 'var/lib/ollama-tls/tmp'), { recursive: true });
  writeFileSync(path.join(root, 'var/lib/ollama-tls/journal.json'), JSON.stringify({ schema: 1, started: '2026-01-01T00:00:00.000Z', before: {}, createdDirs: [], ...j }));
}

describe.skipIf(!haveDebianTool())('a run killed half-way, finished by the next one', () => {
  it.skipIf(!canChroot())("Debian's tool killed after its links, before its bundle rename: the next trust re-runs it with --fresh, removes its ca-certificates.crt.new, and says so", async () => {
    const root = debianTree({ withTool: true, shell: true });
    const before = snapshot(root);
    const steps = await stepsFor(DISTRO_TARGETS.find((t) => t.id === 'debian')!, root);
    expect(steps.map((s) => s.kind)).toEqual(['write', 'run']);
    const r1 = await runCli(['trust', '--ca', CA, '--root', root, '--yes']);
    expect(r1.code, r1.stderr).toBe(0);
    // Back to the moment of the kill: the anchor and the tool's links are there, the bundle is the
    // old one, and half a new bundle lies beside it.
    writeFileSync(path.join(root, BUNDLE), readFileSync(path.join(root, BUNDLE), 'latin1').replace(caPem, ''), 'latin1');
    expect(readFileSync(path.join(root, BUNDLE), 'latin1')).not.toContain(caPem.trim());
    writeFileSync(path.join(root, `${BUNDLE}.new`), caPem.slice(0, 200));
    plantJournal(root, { pid: Number(deadPid()), action: 'trust', target: 'debian', title: 'Debian', steps });

    const r2 = await runCli(['trust', '--ca', CA, '--root', root, '--yes']);
    expect(r2.code, r2.stdout + r2.stderr).toBe(0);
    expect(r2.stdout).toMatch(/An earlier trust of 2026-01-01T00:00:00.000Z \(pid \d+\) was interrupted: finished it first \(2 steps again; removed what it left half-written: \/etc\/ssl\/certs\/ca-certificates\.crt\.new\)/);
    expect(r2.stdout).toContain('Nothing to do: already trusted.');
    expect(readFileSync(path.join(root, BUNDLE), 'latin1')).toContain(caPem.trim());
    expect(existsSync(path.join(root, `${BUNDLE}.new`))).toBe(false);
    expect(existsSync(path.join(root, 'var/lib/ollama-tls'))).toBe(false);

    const r3 = await runCli(['untrust', '--ca', CA, '--root', root, '--yes']);
    expect(r3.code, r3.stdout + r3.stderr).toBe(0);
    expect(snapshotDiff(before, snapshot(root))).toEqual([]);
  });

  it.skipIf(!canChroot())('"already trusted" reads the bundle: an anchor and a link without the CA in the bundle (no journal) is not trusted, and trust repairs it', async () => {
    const root = debianTree({ withTool: true, shell: true });
    expect((await runCli(['trust', '--ca', CA, '--root', root, '--yes'])).code).toBe(0);
    writeFileSync(path.join(root, BUNDLE), readFileSync(path.join(root, BUNDLE), 'latin1').replace(caPem, ''), 'latin1');
    const r = await runCli(['trust', '--ca', CA, '--root', root, '--yes']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).not.toContain('Nothing to do');
    expect(r.stdout).toMatch(/run +\/usr\/sbin\/chroot/);
    expect(readFileSync(path.join(root, BUNDLE), 'latin1')).toContain(caPem.trim());
  });

  it("the native method: our own temp file from the killed run is removed, the steps finished, the tree restored by untrust", async () => {
    const root = debianTree({ withTool: false });
    const before = snapshot(root);
    const steps = await stepsFor(DISTRO_TARGETS.find((t) => t.id === 'debian')!, root);
    expect(steps.map((s) => s.kind)).toEqual(['write', 'append-block', 'write', 'symlink']);
    const pid = Number(deadPid());
    // Killed while writing the bundle: only its temp file exists.
    const tmp = path.join(root, `etc/ssl/certs/.ca-certificates.crt.ollama-tls-${pid}-0a1b2c3d`);
    writeFileSync(tmp, 'half');
    // A temp file of another (live) run is not ours to remove.
    const other = path.join(root, `etc/ssl/certs/.ca-certificates.crt.ollama-tls-${process.pid}-00000000`);
    writeFileSync(other, 'someone else');
    plantJournal(root, { pid, action: 'trust', target: 'debian', title: 'Debian', steps });
    const r = await runCli(['untrust', '--ca', CA, '--root', root, '--yes']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/An earlier trust .* was interrupted: finished it first \(\d+ steps again; removed what it left half-written: \/etc\/ssl\/certs\/\.ca-certificates\.crt\.ollama-tls-\d+-0a1b2c3d\)/);
    expect(existsSync(tmp)).toBe(false);
    expect(existsSync(other)).toBe(true);
    expect(snapshotDiff(before, snapshot(root)).filter((d) => !d.includes(`ollama-tls-${process.pid}-`))).toEqual([]);
  });

  it('a journal this version did not write: exit 2 naming the file, nothing changed', async () => {
    const root = debianTree({ withTool: false });
    mkdirSync(path.join(root, 'var/lib/ollama-tls'), { recursive: true });
    writeFileSync(path.join(root, 'var/lib/ollama-tls/journal.json'), '{"schema": 7}');
    const before = snapshot(root);
    const r = await runCli(['trust', '--ca', CA, '--root', root, '--yes']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('journal.json is not a journal this version of ollama-tls wrote');
    expect(snapshotDiff(before, snapshot(root))).toEqual([]);
  });

  it('a run that is still going (its pid alive): exit 2 naming it, nothing changed', async () => {
    const root = debianTree({ withTool: false });
    plantJournal(root, { pid: process.pid, action: 'trust', target: 'linux-native', title: 'native', steps: [] });
    const before = snapshot(root);
    const r = await runCli(['trust', '--ca', CA, '--root', root, '--yes']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`another ollama-tls (pid ${process.pid}`);
    expect(snapshotDiff(before, snapshot(root))).toEqual([]);
  });
});
