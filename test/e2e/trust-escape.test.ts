// `trust --root` on a hostile tree: links that lead out of it and programs of its own. Every
// case puts an OUTSIDE directory beside the tree (in the same temp directory) that would visibly
// change if anything escaped, and holds the host's own store to a snapshot too (read only).
// Nothing here writes outside its temp directories: the cases only pass when nothing escapes.
import { chmodSync, cpSync, existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TreeEscapeError, RootFs } from '../../src/platform/rootfs.js';
import { runCli } from '../helpers/cli.js';
import { SCENARIOS, tempDir } from '../helpers/servers.js';
import { addDevNull, canChroot, debianTree, haveDebianTool, snapshot, snapshotDiff } from '../helpers/trees.js';

const CA = path.join(SCENARIOS, 'valid-rsa/ca.pem');

/** A Debian tree and an OUTSIDE directory beside it, in one temp directory. */
function hostile(opts: { withTool: boolean; shell?: boolean }): { tree: string; outside: string; top: string } {
  const top = tempDir('ollama-tls-escape-');
  const built = debianTree(opts);
  const tree = path.join(top, 'TREE');
  cpSync(built, tree, { recursive: true, verbatimSymlinks: true });
  rmSync(built, { recursive: true, force: true });
  if (opts.shell) addDevNull(tree);
  const outside = path.join(top, 'OUTSIDE');
  mkdirSync(outside);
  // What a tool following the link would find there: a copy of the tree's store.
  cpSync(path.join(tree, 'etc/ssl/certs'), path.join(outside, 'certs'), { recursive: true, verbatimSymlinks: true });
  mkdirSync(path.join(outside, 'anchors'));
  return { tree, outside, top };
}

/** Move a tree directory out and leave a link in its place. */
function linkOut(tree: string, inTree: string, target: string): void {
  rmSync(path.join(tree, inTree), { recursive: true, force: true });
  symlinkSync(target, path.join(tree, inTree));
}

const HOST_STORE = '/etc/ssl/certs';

describe('RootFs: every path resolved inside the tree', () => {
  it('keeps relative links that stay inside, re-roots absolute ones, refuses relative ones that climb out (naming the link)', () => {
    const top = tempDir('ollama-tls-rootfs-');
    const tree = path.join(top, 'TREE');
    mkdirSync(path.join(tree, 'usr/bin'), { recursive: true });
    mkdirSync(path.join(tree, 'etc/ssl'), { recursive: true });
    writeFileSync(path.join(tree, 'usr/bin/x'), 'in tree');
    mkdirSync(path.join(top, 'OUTSIDE'));
    writeFileSync(path.join(top, 'OUTSIDE/x'), 'outside');
    symlinkSync('usr/bin', path.join(tree, 'bin'));
    symlinkSync('/usr/bin', path.join(tree, 'etc/abs'));
    symlinkSync('../../OUTSIDE', path.join(tree, 'etc/out'));
    symlinkSync('../../../OUTSIDE', path.join(tree, 'etc/ssl/out'));
    symlinkSync('../..', path.join(tree, 'etc/ssl/top'));
    const fs = new RootFs(tree);
    expect(fs.readFile('/bin/x').toString()).toBe('in tree');
    expect(fs.readFile('/etc/abs/x').toString()).toBe('in tree');
    expect(fs.readFile('/etc/ssl/top/usr/bin/x').toString()).toBe('in tree');
    expect(() => fs.readFile('/etc/out/x')).toThrow(TreeEscapeError);
    expect(() => fs.resolve('/etc/ssl/out/x')).toThrow(`${path.join(tree, 'etc/ssl/out')} is a link to ../../../OUTSIDE, which leaves the tree`);
    expect(fs.exists('/etc/out/x')).toBe(false);
    expect(fs.escape('/etc/ssl/out/x')).toBeInstanceOf(TreeEscapeError);
    expect(fs.escape('/bin/x')).toBeUndefined();
  });
});

describe.skipIf(!haveDebianTool())('trust --root on a hostile tree writes nothing outside it', () => {
  const cases: [string, (t: { tree: string; outside: string }) => void, RegExp][] = [
    ['(a) etc/ssl/certs -> ../../../OUTSIDE/certs (relative, climbs out)', ({ tree }) => linkOut(tree, 'etc/ssl/certs', '../../../OUTSIDE/certs'), /etc\/ssl\/certs is a link to \.\.\/\.\.\/\.\.\/OUTSIDE\/certs, which leaves the tree/],
    ['(a) the anchor directory -> ../../../../OUTSIDE/anchors', ({ tree }) => linkOut(tree, 'usr/local/share/ca-certificates', '../../../../OUTSIDE/anchors'), /ca-certificates is a link to \.\.\/\.\.\/\.\.\/\.\.\/OUTSIDE\/anchors, which leaves the tree/],
    ['(a) the bundle itself -> ../../../../OUTSIDE/certs/ca-certificates.crt', ({ tree }) => linkOut(tree, 'etc/ssl/certs/ca-certificates.crt', '../../../../OUTSIDE/certs/ca-certificates.crt'), /ca-certificates\.crt is a link to .*, which leaves the tree/],
    ['(b) etc/ssl/certs -> /etc/ssl/certs (the host store, were it followed from outside)', ({ tree }) => linkOut(tree, 'etc/ssl/certs', '/etc/ssl/certs'), /too many levels of symbolic links/],
    ['the journal directory var/lib -> ../../OUTSIDE', ({ tree }) => linkOut(tree, 'var/lib', '../../OUTSIDE'), /var\/lib is a link to \.\.\/\.\.\/OUTSIDE, which leaves the tree/],
  ];
  it.each(cases)('%s: refused, exit 2 naming the link; OUTSIDE, the tree and the host store unchanged', async (_name, arrange, message) => {
    const { tree, outside } = hostile({ withTool: true });
    arrange({ tree, outside });
    const before = { tree: snapshot(tree), outside: snapshot(outside), host: snapshot(HOST_STORE) };
    const r = await runCli(['trust', '--ca', CA, '--root', tree, '--yes']);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(snapshotDiff(before.outside, snapshot(outside))).toEqual([]);
    expect(snapshotDiff(before.tree, snapshot(tree))).toEqual([]);
    expect(snapshotDiff(before.host, snapshot(HOST_STORE))).toEqual([]);
  });

  it('a dangling link inside the tree (var/lib -> ../data): the journal goes where it points, inside; undo leaves the tree as it was', async () => {
    const { tree, outside } = hostile({ withTool: true });
    linkOut(tree, 'var/lib', '../data');
    const before = { tree: snapshot(tree), outside: snapshot(outside) };
    const r = await runCli(['trust', '--ca', CA, '--root', tree, '--yes']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const undo = await runCli(['untrust', '--ca', CA, '--root', tree, '--yes']);
    expect(undo.code, undo.stdout + undo.stderr).toBe(0);
    expect(snapshotDiff(before.outside, snapshot(outside))).toEqual([]);
    expect(snapshotDiff(before.tree, snapshot(tree)).filter((d) => !d.startsWith('data'))).toEqual([]);
  });

  it('(b) an absolute link to the OUTSIDE directory is taken inside the tree: OUTSIDE stays as it was', async () => {
    const { tree, outside } = hostile({ withTool: true });
    linkOut(tree, 'etc/ssl/certs', path.join(outside, 'certs'));
    const before = snapshot(outside);
    const r = await runCli(['trust', '--ca', CA, '--root', tree, '--yes']);
    expect([0, 1, 2]).toContain(r.code);
    expect(snapshotDiff(before, snapshot(outside))).toEqual([]);
  });

  it("(c) the tree's own update-ca-certificates and hooks never run on this machine: the bundles are written directly, and the plan says why", async () => {
    const { tree, top } = hostile({ withTool: true });
    const marker = path.join(top, 'MARKER');
    const evil = `#!/bin/sh\necho ran > ${marker}\n`;
    writeFileSync(path.join(tree, 'usr/sbin/update-ca-certificates'), evil);
    chmodSync(path.join(tree, 'usr/sbin/update-ca-certificates'), 0o755);
    writeFileSync(path.join(tree, 'etc/ca-certificates/update.d/evil'), evil);
    chmodSync(path.join(tree, 'etc/ca-certificates/update.d/evil'), 0o755);
    const r = await runCli(['trust', '--ca', CA, '--root', tree, '--yes']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/runs only inside a chroot of the tree, never on this machine, and (the tree has no \/bin\/sh|that needs root)/);
    expect(r.stdout).not.toMatch(/run +\S*update-ca-certificates/);
    expect(r.stdout).toMatch(/ok +Go \(Ollama\) loads "ollama-tls Test Root CA"/);
    expect(existsSync(marker)).toBe(false);
    const undo = await runCli(['untrust', '--ca', CA, '--root', tree, '--yes']);
    expect(undo.code, undo.stdout + undo.stderr).toBe(0);
    expect(existsSync(marker)).toBe(false);
  });

  it.skipIf(!canChroot())('(c) with a shell of its own, the tree\'s tool runs inside a chroot of it: its writes land in the tree', async () => {
    const { tree, top } = hostile({ withTool: true, shell: true });
    const marker = path.join(top, 'MARKER');
    writeFileSync(path.join(tree, 'usr/sbin/update-ca-certificates'), `#!/bin/sh\necho ran > ${marker} 2>/dev/null\necho ran > /ran-here\n`);
    chmodSync(path.join(tree, 'usr/sbin/update-ca-certificates'), 0o755);
    const r = await runCli(['trust', '--ca', CA, '--root', tree, '--yes']);
    expect(r.stdout).toContain(`run    /usr/sbin/chroot ${tree} /usr/sbin/update-ca-certificates`);
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(path.join(tree, 'ran-here'))).toBe(true);
    // The fake tool built no bundle: the read-back says so rather than "ok".
    expect(r.code).toBe(1);
  });
});
