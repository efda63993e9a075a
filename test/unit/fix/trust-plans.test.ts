// Plans for the systems this machine is not (RHEL, SUSE, Arch, Alpine, macOS, Windows, WSL),
// checked as data: the files, the commands with their exact arguments, the rights they need.
// Each is made from a fake tree (an os-release file, the tools present as executables) and the
// platform facts a real machine would give. None of these commands is run here.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { trustContext, type TrustContext } from '../../../src/fix/context.js';
import { DISTRO_TARGETS } from '../../../src/fix/linux-distro.js';
import { appendBlock, fileStem, stripBlock, type Plan, type Step } from '../../../src/fix/plan.js';
import { chooseTargets } from '../../../src/fix/targets.js';
import { macos } from '../../../src/fix/macos.js';
import { windows } from '../../../src/fix/windows.js';
import { wslWindows } from '../../../src/fix/wsl.js';
import { certificatesFromPem } from '../../../src/x509/load.js';
import { opensslSubjectHash } from '../../../src/x509/subject-hash.js';
import { loadScenario, tempDir } from '../../helpers/servers.js';

const ca = certificatesFromPem(loadScenario('valid-rsa').caPem).certificates[0]!;
const stem = fileStem(ca.sha256);
const sha1 = ca.digest('sha1');

function fakeTree(osRelease: string, tools: string[], files: Record<string, string> = {}): string {
  const root = tempDir('ollama-tls-fake-');
  mkdirSync(path.join(root, 'etc'), { recursive: true });
  writeFileSync(path.join(root, 'etc/os-release'), osRelease);
  for (const t of tools) {
    mkdirSync(path.join(root, path.dirname(t)), { recursive: true });
    writeFileSync(path.join(root, t), '#!/bin/sh\nexit 0\n');
    chmodSync(path.join(root, t), 0o755);
  }
  for (const [p, content] of Object.entries(files)) {
    mkdirSync(path.join(root, path.dirname(p)), { recursive: true });
    writeFileSync(path.join(root, p), content);
  }
  return root;
}

/** A context that plans as on a live machine of that kind, reading the fake tree. */
function liveContext(root: string, platform: NodeJS.Platform, overrides: Partial<TrustContext> = {}, env: Record<string, string> = {}): TrustContext {
  return trustContext({ root, platform, env, overrides: { live: true, privileged: true, wsl: false, hostTool: () => false, canWrite: () => true, home: '/home/alice', ...overrides } });
}

const runs = (plan: Plan) => plan.steps.filter((s): s is Extract<Step, { kind: 'run' }> => s.kind === 'run').map((s) => s.argv);
const writes = (plan: Plan) => plan.steps.filter((s): s is Extract<Step, { kind: 'write' }> => s.kind === 'write').map((s) => s.path);

describe('Linux distributions: anchor directory and update tool, by /etc/os-release and the tool present', () => {
  const cases = [
    { name: 'Ubuntu', release: 'ID=ubuntu\nID_LIKE=debian\nPRETTY_NAME="Ubuntu 24.04 LTS"\n', tool: '/usr/sbin/update-ca-certificates', target: 'debian', anchor: '/usr/local/share/ca-certificates', argv: ['/usr/sbin/update-ca-certificates'] },
    { name: 'Rocky Linux', release: 'ID="rocky"\nID_LIKE="rhel centos fedora"\nPRETTY_NAME="Rocky Linux 9.4"\n', tool: '/usr/bin/update-ca-trust', target: 'rhel', anchor: '/etc/pki/ca-trust/source/anchors', argv: ['/usr/bin/update-ca-trust', 'extract'] },
    { name: 'Amazon Linux', release: 'ID="amzn"\nID_LIKE="fedora"\nPRETTY_NAME="Amazon Linux 2023"\n', tool: '/usr/bin/update-ca-trust', target: 'rhel', anchor: '/etc/pki/ca-trust/source/anchors', argv: ['/usr/bin/update-ca-trust', 'extract'] },
    { name: 'UBI', release: 'ID="rhel"\nPRETTY_NAME="Red Hat Enterprise Linux 9"\n', tool: '/usr/bin/update-ca-trust', target: 'rhel', anchor: '/etc/pki/ca-trust/source/anchors', argv: ['/usr/bin/update-ca-trust', 'extract'] },
    { name: 'openSUSE', release: 'ID="opensuse-leap"\nID_LIKE="suse opensuse"\nPRETTY_NAME="openSUSE Leap 15.6"\n', tool: '/usr/sbin/update-ca-certificates', target: 'suse', anchor: '/etc/pki/trust/anchors', argv: ['/usr/sbin/update-ca-certificates'] },
    { name: 'Arch', release: 'ID=arch\nPRETTY_NAME="Arch Linux"\n', tool: '/usr/bin/update-ca-trust', target: 'arch', anchor: '/etc/ca-certificates/trust-source/anchors', argv: ['/usr/bin/update-ca-trust'] },
    { name: 'Arch without update-ca-trust', release: 'ID=arch\nPRETTY_NAME="Arch Linux"\n', tool: '/usr/bin/trust', target: 'arch', anchor: '/etc/ca-certificates/trust-source/anchors', argv: ['/usr/bin/trust', 'extract-compat'] },
    { name: 'Alpine with ca-certificates', release: 'ID=alpine\nPRETTY_NAME="Alpine Linux v3.20"\n', tool: '/usr/sbin/update-ca-certificates', target: 'alpine', anchor: '/usr/local/share/ca-certificates', argv: ['/usr/sbin/update-ca-certificates'] },
  ];

  it.each(cases)('$name: $target', ({ release, tool, target, anchor, argv }) => {
    const ctx = liveContext(fakeTree(release, [tool]), 'linux');
    const choice = chooseTargets(ctx);
    expect(choice.chosen.map((c) => c.target.id)).toEqual([target]);
    const plan = choice.chosen[0]!.target.plan(ctx, [ca]) as Plan;
    expect(writes(plan)).toEqual([`${anchor}/${stem}.crt`]);
    expect(plan.steps[0]).toMatchObject({ kind: 'write', mode: 0o644, content: ca.toPem() });
    expect(runs(plan)).toEqual([argv]);
    expect(plan.needsPrivilege).toBe(false);

    const undo = choice.chosen[0]!.target.planUndo(ctx, [{ sha256: ca.sha256, cert: ca }]) as Plan;
    // Nothing was written in the fake tree, so there is nothing of ours to remove.
    expect(undo.steps).toEqual([]);
    expect(undo.unchanged[0]).toContain('was not added by ollama-tls');
  });

  it('the same plan for a user who is not root says it needs root', () => {
    const ctx = liveContext(fakeTree(cases[1]!.release, [cases[1]!.tool]), 'linux', { privileged: false, canWrite: () => false });
    const plan = chooseTargets(ctx).chosen[0]!.target.plan(ctx, [ca]) as Plan;
    expect(plan.needsPrivilege).toBe(true);
  });

  it('plain alpine (no update-ca-certificates) falls back to editing the bundle and links directly', () => {
    const root = fakeTree('ID=alpine\nPRETTY_NAME="Alpine Linux v3.20"\n', [], { 'etc/ssl/certs/ca-certificates.crt': '', 'etc/ssl/cert.pem': '' });
    const ctx = liveContext(root, 'linux');
    const choice = chooseTargets(ctx);
    expect(choice.chosen.map((c) => c.target.id)).toEqual(['linux-native']);
    expect(choice.skipped.find((s) => s.id === 'alpine')?.why).toContain('/usr/sbin/update-ca-certificates is not installed');
    const plan = choice.chosen[0]!.target.plan(ctx, [ca]) as Plan;
    // Both bundles are empty here: each is first seeded with Mozilla's roots (seed-roots.ts).
    expect(plan.steps.map((s) => `${s.kind} ${'path' in s ? s.path : ''}`)).toEqual([
      'write /etc/ssl/certs/ca-certificates.crt',
      'write /etc/ssl/cert.pem',
      'append-block /etc/ssl/certs/ca-certificates.crt',
      'append-block /etc/ssl/cert.pem',
      `write /etc/ssl/certs/${stem}.pem`,
      `symlink /etc/ssl/certs/${opensslSubjectHash(ca.subjectRaw)}.0`,
    ]);
    expect(plan.steps[5]).toMatchObject({ kind: 'symlink', target: `${stem}.pem` });
    expect(plan.steps[0]).toMatchObject({ kind: 'write', content: expect.stringContaining('(it was empty)') });
  });

  it('a RHEL image tree mounted elsewhere, as root with its own shell: the tool runs in a chroot', () => {
    const root = fakeTree(cases[1]!.release, [cases[1]!.tool, '/bin/sh'], { 'dev/null': '' });
    const ctx = trustContext({ root, platform: 'linux', env: {}, overrides: { privileged: true, hostTool: (p) => p === '/usr/sbin/chroot' } });
    const plan = DISTRO_TARGETS.find((t) => t.id === 'rhel')!.plan(ctx, [ca]) as Plan;
    expect(runs(plan)).toEqual([['/usr/sbin/chroot', root, '/usr/bin/update-ca-trust', 'extract']]);
  });

  it('the same tree without rights to chroot: anchor plus the bundles updated directly', () => {
    const root = fakeTree(cases[1]!.release, [cases[1]!.tool], { 'etc/pki/tls/certs/ca-bundle.crt': '' });
    const ctx = trustContext({ root, platform: 'linux', env: {}, overrides: { privileged: false, hostTool: () => true } });
    const plan = DISTRO_TARGETS.find((t) => t.id === 'rhel')!.plan(ctx, [ca]) as Plan;
    expect(runs(plan)).toEqual([]);
    // anchor, the empty bundle seeded (seed-roots.ts), the CA appended, its file and hash link
    expect(plan.steps.map((s) => s.kind)).toEqual(['write', 'write', 'append-block', 'write', 'symlink']);
    expect(plan.notes.join('\n')).toContain("the tree's own /usr/bin/update-ca-trust runs only inside a chroot of the tree, never on this machine, and that needs root");
  });
});

describe('macOS: the System keychain as an administrator, else the login keychain', () => {
  it('machine scope', () => {
    const ctx = liveContext(fakeTree('', []), 'darwin', { scope: 'machine', home: '/Users/alice' });
    const plan = macos.plan(ctx, [ca]) as Plan;
    const copy = `/Library/Application Support/ollama-tls/${stem}.pem`;
    expect(writes(plan)).toEqual([copy]);
    expect(runs(plan)).toEqual([['/usr/bin/security', 'add-trusted-cert', '-d', '-r', 'trustRoot', '-k', '/Library/Keychains/System.keychain', copy]]);
    expect(plan.needsPrivilege).toBe(false);
    expect((macos.planUndo(ctx, [{ sha256: ca.sha256, cert: ca }]) as Plan).steps).toEqual([
      { kind: 'run', argv: ['/usr/bin/security', 'remove-trusted-cert', '-d', copy], why: expect.any(String) },
      { kind: 'run', argv: ['/usr/bin/security', 'delete-certificate', '-Z', sha1.toUpperCase(), '/Library/Keychains/System.keychain'], why: expect.any(String) },
      { kind: 'remove', path: copy, why: expect.any(String) },
    ]);
  });

  it('user scope, not an administrator: the login keychain under the real home (not sudo\'s)', () => {
    const ctx = liveContext(fakeTree('', []), 'darwin', { scope: 'user', privileged: false, home: '/Users/alice' });
    const plan = macos.plan(ctx, [ca]) as Plan;
    expect(runs(plan)).toEqual([['/usr/bin/security', 'add-trusted-cert', '-r', 'trustRoot', '-k', '/Users/alice/Library/Keychains/login.keychain-db', `/Users/alice/Library/Application Support/ollama-tls/${stem}.pem`]]);
    expect(plan.needsPrivilege).toBe(false);
    expect(plan.notes.join(' ')).toContain('--scope machine');
  });

  it('machine scope without admin rights needs them', () => {
    const ctx = liveContext(fakeTree('', []), 'darwin', { scope: 'machine', privileged: false });
    expect((macos.plan(ctx, [ca]) as Plan).needsPrivilege).toBe(true);
  });

  it('the home under sudo is SUDO_USER\'s', () => {
    const ctx = trustContext({ root: fakeTree('', []), platform: 'darwin', env: { SUDO_USER: 'alice' } });
    expect(ctx.home).toBe('/Users/alice');
  });
});

describe('Windows: certutil into the user or the machine Root store', () => {
  const env = { SystemRoot: 'C:\\Windows', ProgramData: 'C:\\ProgramData', LOCALAPPDATA: 'C:\\Users\\alice\\AppData\\Local' };
  it('machine scope from an elevated prompt', () => {
    const ctx = liveContext(fakeTree('', []), 'win32', { scope: 'machine', privileged: true }, env);
    const plan = windows.plan(ctx, [ca]) as Plan;
    const copy = `C:\\ProgramData\\ollama-tls\\${stem}.crt`;
    expect(writes(plan)).toEqual([copy]);
    expect(runs(plan)).toEqual([['C:\\Windows\\System32\\certutil.exe', '-addstore', '-f', 'Root', copy]]);
    expect(plan.needsPrivilege).toBe(false);
    expect(runs(windows.planUndo(ctx, [{ sha256: ca.sha256, cert: ca }]) as Plan)).toEqual([['C:\\Windows\\System32\\certutil.exe', '-delstore', 'Root', sha1]]);
  });

  it('user scope', () => {
    const ctx = liveContext(fakeTree('', []), 'win32', { scope: 'user', privileged: false }, env);
    const plan = windows.plan(ctx, [ca]) as Plan;
    expect(runs(plan)).toEqual([['C:\\Windows\\System32\\certutil.exe', '-user', '-addstore', '-f', 'Root', `C:\\Users\\alice\\AppData\\Local\\ollama-tls\\${stem}.crt`]]);
    expect(plan.needsPrivilege).toBe(false);
  });

  it('machine scope without elevation needs it', () => {
    const ctx = liveContext(fakeTree('', []), 'win32', { scope: 'machine', privileged: false }, env);
    expect((windows.plan(ctx, [ca]) as Plan).needsPrivilege).toBe(true);
  });
});

describe('WSL: the Linux store and the Windows store, each named for the Ollama that reads it', () => {
  it('plans both, certutil.exe through the C: drive with a Windows path, and finds both Ollamas', () => {
    const root = fakeTree('ID=ubuntu\nID_LIKE=debian\nPRETTY_NAME="Ubuntu 22.04"\n', ['/usr/sbin/update-ca-certificates', '/usr/local/bin/ollama', '/mnt/c/Users/alice/AppData/Local/Programs/Ollama/ollama.exe']);
    const ctx = liveContext(root, 'linux', { wsl: true, scope: 'user', hostTool: (p) => p === '/mnt/c/Windows/System32/certutil.exe' });
    const choice = chooseTargets(ctx);
    expect(choice.chosen.map((c) => c.target.id)).toEqual(['debian', 'wsl-windows']);
    const plan = wslWindows.plan(ctx, [ca]) as Plan;
    expect(writes(plan)).toEqual([`/mnt/c/ProgramData/ollama-tls/${stem}.crt`]);
    expect(runs(plan)).toEqual([['/mnt/c/Windows/System32/certutil.exe', '-user', '-addstore', '-f', 'Root', `C:\\ProgramData\\ollama-tls\\${stem}.crt`]]);
    const notes = plan.notes.join('\n');
    expect(notes).toContain('Ollama for Windows is installed (/mnt/c/Users/alice/AppData/Local/Programs/Ollama/ollama.exe): it reads this Windows store.');
    expect(notes).toContain('An ollama inside WSL (/usr/local/bin/ollama) reads the Linux store instead.');
  });

  it('a custom automount root from /etc/wsl.conf', () => {
    const root = fakeTree('ID=ubuntu\nPRETTY_NAME="Ubuntu"\n', [], { 'etc/wsl.conf': '[automount]\nroot = /win/\n' });
    const ctx = liveContext(root, 'linux', { wsl: true, scope: 'user', hostTool: (p) => p === '/win/c/Windows/System32/certutil.exe' });
    expect(runs(wslWindows.plan(ctx, [ca]) as Plan)[0]![0]).toBe('/win/c/Windows/System32/certutil.exe');
  });

  it('without interop the Windows store is skipped, with the reason', () => {
    const root = fakeTree('ID=ubuntu\nPRETTY_NAME="Ubuntu"\n', ['/usr/sbin/update-ca-certificates']);
    const ctx = liveContext(root, 'linux', { wsl: true, hostTool: () => false });
    const choice = chooseTargets(ctx);
    expect(choice.chosen.map((c) => c.target.id)).toEqual(['debian']);
    expect(choice.skipped.find((s) => s.id === 'wsl-windows')?.why).toContain('not reachable');
  });
});

describe('marked blocks in bundle files: append and strip are exact inverses', () => {
  const pem = ca.toPem();
  it.each([
    ['ends with a newline', 'X\n-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n'],
    ['no final newline', 'X\n-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----'],
    ['empty', ''],
    ['CRLF', 'X\r\n-----BEGIN CERTIFICATE-----\r\nAAA\r\n-----END CERTIFICATE-----\r\n'],
  ])('%s', (_name, text) => {
    const added = appendBlock(text, ca.sha256, pem, 'Test Root');
    expect(added).not.toBe(text);
    expect(added).toContain(pem);
    expect(appendBlock(added, ca.sha256, pem, 'Test Root')).toBe(added);
    expect(stripBlock(added, ca.sha256)).toBe(text);
    expect(stripBlock(text, ca.sha256)).toBe(text);
  });

  it('strips only its own block when two CAs were added', () => {
    const other = 'f'.repeat(64);
    const both = appendBlock(appendBlock('base\n', ca.sha256, pem, 'A'), other, pem, 'B');
    expect(stripBlock(both, ca.sha256)).toBe(appendBlock('base\n', other, pem, 'B'));
  });
});
