// The Linux families table (src/platform/linux-families.ts) against the real things this machine
// has: Go's own certFiles list in the installed toolchain's source, this Debian's OpenSSL
// defaults (`openssl version -d`), the package that ships the tool (dpkg), its os-release, and
// Debian's update-ca-certificates run over a tree with an anchor named as the table says. The
// other families' tools are not installed here; their rows carry their sources in comments.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { trustCaFixes } from '../../../src/diagnose/fixes.js';
import { trustContext } from '../../../src/fix/context.js';
import { dockerfileSnippet } from '../../../src/fix/dockerfile.js';
import { hashDirFingerprints } from '../../../src/fix/linux-checks.js';
import { chooseTargets } from '../../../src/fix/targets.js';
import { fileStem } from '../../../src/fix/plan.js';
import { LINUX_FAMILIES, LINUX_FAMILY_NAMES } from '../../../src/platform/linux-families.js';
import { parseOsRelease } from '../../../src/platform/os-release.js';
import { RootFs } from '../../../src/platform/rootfs.js';
import { GO_CERT_FILES } from '../../../src/trust/store-paths.js';
import { certificatesFromPem } from '../../../src/x509/load.js';
import { opensslSubjectHash } from '../../../src/x509/subject-hash.js';
import { loadScenario, tempDir } from '../../helpers/servers.js';
import { debianTree, debianTreeArgs, haveDebianTool } from '../../helpers/trees.js';

const ca = certificatesFromPem(loadScenario('valid-rsa').caPem).certificates[0]!;
const debian = LINUX_FAMILIES.debian;

const goRoot = (): string | undefined => {
  try {
    return execFileSync('go', ['env', 'GOROOT'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
};
const goSource = goRoot() && path.join(goRoot()!, 'src/crypto/x509/root_linux.go');
const thisOs = existsSync('/etc/os-release') ? parseOsRelease(readFileSync('/etc/os-release', 'utf8')) : undefined;

describe("Go's bundle per family", () => {
  it.skipIf(!goSource || !existsSync(goSource))("GO_CERT_FILES is the installed Go's certFiles, in Go's order", () => {
    const text = readFileSync(goSource!, 'utf8');
    const list = /var certFiles = \[\]string\{([\s\S]*?)\}/.exec(text)![1]!;
    expect([...list.matchAll(/"([^"]+)"/g)].map((m) => m[1])).toEqual(GO_CERT_FILES);
  });

  it.each(LINUX_FAMILY_NAMES)('%s: its Go bundle is one of the files Go tries', (f) => {
    expect(GO_CERT_FILES).toContain(LINUX_FAMILIES[f].goBundle);
    // The OpenSSL bundle is either the same file or one Go would only reach later.
    const o = LINUX_FAMILIES[f].openssl.file;
    if (GO_CERT_FILES.includes(o)) expect(GO_CERT_FILES.indexOf(o)).toBeGreaterThanOrEqual(GO_CERT_FILES.indexOf(LINUX_FAMILIES[f].goBundle));
  });
});

// A dpkg system is of Debian's family whatever its os-release says; the row must select it.
describe.skipIf(!existsSync('/var/lib/dpkg/status') || !thisOs)("Debian's row on this Debian machine", () => {
  it("this machine's os-release ID or ID_LIKE selects the family", () => {
    expect(thisOs!.family).toBe('debian');
  });

  it("OpenSSL's compiled-in default file and directory are the row's, once links are followed", () => {
    const dir = /OPENSSLDIR: "([^"]+)"/.exec(execFileSync('openssl', ['version', '-d'], { encoding: 'utf8' }))![1]!;
    expect(realpathSync(path.join(dir, 'cert.pem'))).toBe(realpathSync(debian.openssl.file));
    expect(realpathSync(path.join(dir, 'certs'))).toBe(realpathSync(debian.openssl.dir));
  });

  it.skipIf(!existsSync(debian.tools[0]!.path))('the tool is where the row says, from the package it names', () => {
    expect(execFileSync('dpkg', ['-S', debian.tools[0]!.path], { encoding: 'utf8' }).split(':')[0]).toBe(debian.package);
  });
});

describe.skipIf(!haveDebianTool())("Debian's update-ca-certificates over a tree: the row's anchor, links and bundle", () => {
  it('an anchor named as the row says reaches the Go bundle, the tool link and a hash link; another suffix is skipped', () => {
    const root = debianTree({ withTool: true });
    const fs = new RootFs(root);
    const other = certificatesFromPem(loadScenario('valid-ecdsa').caPem).certificates[0]!;
    writeFileSync(path.join(root, debian.anchorDir, `${fileStem(ca.sha256)}${debian.anchorSuffix}`), ca.toPem());
    writeFileSync(path.join(root, debian.anchorDir, `${fileStem(other.sha256)}.pem`), other.toPem());
    execFileSync(path.join(root, debian.tools[0]!.path), [...debian.tools[0]!.args, ...debianTreeArgs(root)], { stdio: 'ignore' });

    const bundle = certificatesFromPem(fs.readFile(debian.goBundle).toString('latin1')).certificates.map((c) => c.sha256);
    expect(bundle).toContain(ca.sha256);
    expect(bundle).not.toContain(other.sha256);
    expect(fs.exists(`${debian.toolLinkDir}/${fileStem(ca.sha256)}.pem`)).toBe(true);
    expect(hashDirFingerprints(fs, debian.openssl.dir, opensslSubjectHash(ca.subjectRaw)).has(ca.sha256)).toBe(true);
  });
});

describe('every consumer says the same thing per family', () => {
  it.each(LINUX_FAMILY_NAMES)('%s: the by-hand fix, the Dockerfile block and the target name one anchor directory, one tool, one bundle', async (f) => {
    const row = LINUX_FAMILIES[f];
    const tool = row.tools[0]!;
    const toolWords = [path.posix.basename(tool.path), ...tool.args].join(' ');

    const byHand = trustCaFixes({ platform: 'linux', family: f }, 'corp.pem').find((x) => x.title === 'Or by hand')!.command;
    expect(byHand).toBe(`sudo cp corp.pem ${row.anchorDir}/corp-ca${row.anchorSuffix} && sudo ${toolWords}`);

    const block = dockerfileSnippet({ cas: [ca], family: f });
    expect(block).toContain(`COPY ${fileStem(ca.sha256)}${row.anchorSuffix} ${row.anchorDir}/${fileStem(ca.sha256)}${row.anchorSuffix}`);
    expect(block).toContain(`then ${toolWords};`);
    expect(block).toContain(`>> ${row.goBundle}`);

    const root = tempDir('ollama-tls-family-');
    mkdirSync(path.join(root, 'etc'), { recursive: true });
    writeFileSync(path.join(root, 'etc/os-release'), `ID=${row.ids[0]}\n`);
    mkdirSync(path.join(root, path.dirname(tool.path)), { recursive: true });
    writeFileSync(path.join(root, tool.path), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const ctx = trustContext({ root, platform: 'linux', env: {}, overrides: { live: true, privileged: true, wsl: false, hostTool: () => false, canWrite: () => true } });
    const target = chooseTargets(ctx).chosen.map((c) => c.target);
    expect(target.map((t) => t.id)).toEqual([f]);
    const plan = await target[0]!.plan(ctx, [ca]);
    expect(plan.steps.map((s) => (s.kind === 'run' ? s.argv.join(' ') : `${s.kind} ${'path' in s ? s.path : ''}`))).toEqual([
      `write ${row.anchorDir}/${fileStem(ca.sha256)}${row.anchorSuffix}`,
      [tool.path, ...tool.args].join(' '),
    ]);
  });
});
