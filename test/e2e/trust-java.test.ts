// Java's cacerts on the live system: Debian's ca-certificates-java hook adds the CA when `trust`
// runs update-ca-certificates, and `untrust` must take it out again (the tool never tells its
// hooks about a removed local anchor). Run on the real system's tools, in a private mount
// namespace whose /etc/ssl, /usr/local/share/ca-certificates, /var/lib and /var/log are copies in
// a temp directory: nothing on the host changes (checked), and the keystore is read with keytool.
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readJks } from '../../src/trust/jks.js';
import { BIN } from '../helpers/cli.js';
import { SCENARIOS, tempDir } from '../helpers/servers.js';
import { snapshot, snapshotDiff } from '../helpers/trees.js';

const HOOK = '/etc/ca-certificates/update.d/jks-keystore';
const CA = path.join(SCENARIOS, 'valid-rsa/ca.pem');
/** A private mount namespace can be made here (root, and a container that allows it). */
function canUnshare(): boolean {
  try {
    execFileSync('/usr/bin/unshare', ['-m', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const usable = typeof process.getuid === 'function' && process.getuid() === 0 && existsSync(HOOK) && existsSync('/usr/bin/unshare')
  && existsSync('/usr/bin/keytool') && existsSync('/etc/ssl/certs/java/cacerts') && existsSync('/usr/sbin/update-ca-certificates') && canUnshare();

/** Copies of what the store, the hook and dpkg's trigger write; /etc/ssl/private is not copied (keys). */
function sandbox(): string {
  const d = tempDir('ollama-tls-java-');
  cpSync('/etc/ssl', path.join(d, 'etc-ssl'), { recursive: true, verbatimSymlinks: true, filter: (src) => src !== '/etc/ssl/private' });
  mkdirSync(path.join(d, 'etc-ssl/private'), { mode: 0o700 });
  cpSync('/usr/local/share/ca-certificates', path.join(d, 'local'), { recursive: true, verbatimSymlinks: true });
  mkdirSync(path.join(d, 'var-lib'));
  for (const sub of ['dpkg', 'ca-certificates-java']) {
    if (existsSync(`/var/lib/${sub}`)) cpSync(`/var/lib/${sub}`, path.join(d, 'var-lib', sub), { recursive: true, verbatimSymlinks: true });
  }
  mkdirSync(path.join(d, 'var-log'));
  writeFileSync(path.join(d, 'run.sh'), [
    '#!/bin/sh', 'set -e', 'D=$(dirname "$0")', 'mount --make-rprivate /',
    'mount --bind "$D/etc-ssl" /etc/ssl', 'mount --bind "$D/local" /usr/local/share/ca-certificates',
    'mount --bind "$D/var-lib" /var/lib', 'mount --bind "$D/var-log" /var/log',
    // Java would leave its perf data in the host's /tmp.
    'export JAVA_TOOL_OPTIONS=-XX:-UsePerfData', 'exec "$@"', '',
  ].join('\n'), { mode: 0o755 });
  return d;
}

function inNamespace(d: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('/usr/bin/unshare', ['-m', path.join(d, 'run.sh'), process.execPath, BIN, ...args], { env: { ...process.env, CI: 'true' } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

const caSha = execFileSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-in', CA], { encoding: 'utf8' }).split('=')[1]!.trim();
/** keytool's own listing of the keystore: the real reader. */
const keytoolHas = (d: string) => execFileSync('keytool', ['-list', '-keystore', path.join(d, 'etc-ssl/certs/java/cacerts'), '-storepass', 'changeit'], { encoding: 'utf8', env: { ...process.env, JAVA_TOOL_OPTIONS: '-XX:-UsePerfData' } }).includes(caSha);
const entries = (d: string) => readJks(readFileSync(path.join(d, 'etc-ssl/certs/java/cacerts'))).map((e) => `${e.alias} ${e.sha256.join(',')}`).sort();

describe.skipIf(!usable)("Java's cacerts through Debian's hook, on the live system (in a mount namespace)", () => {
  it('trust puts the CA in Java\'s cacerts and says so; untrust takes it out (the hook is told) and the keystore lists what it did before', async () => {
    const host = { certs: snapshot('/etc/ssl/certs'), local: snapshot('/usr/local/share/ca-certificates') };
    const d = sandbox();
    // Settle the copy first: this machine's own store may have changes its hook has not seen yet.
    execFileSync('/usr/bin/unshare', ['-m', path.join(d, 'run.sh'), '/usr/sbin/update-ca-certificates'], { stdio: 'ignore' });
    const before = entries(d);
    // The rest of the store, for the exact undo (the keystore is rewritten with new dates: compared by entries).
    const store = () => new Map([...snapshot(path.join(d, 'etc-ssl')), ...[...snapshot(path.join(d, 'local'))].map(([k, v]) => [`local/${k}`, v] as const)].filter(([k]) => k !== 'certs/java/cacerts'));
    const storeBefore = store();
    expect(keytoolHas(d)).toBe(false);

    const t = await inNamespace(d, ['trust', '--ca', CA, '--yes']);
    expect(t.code, t.out).toBe(0);
    expect(t.out).toMatch(/ok +Java finds "ollama-tls Test Root CA" in \/etc\/ssl\/certs\/java\/cacerts/);
    expect(keytoolHas(d)).toBe(true);

    const u = await inNamespace(d, ['untrust', '--ca', CA, '--yes']);
    expect(u.code, u.out).toBe(0);
    expect(u.out).toContain(`run    ${HOOK}`);
    expect(u.out).toMatch(/ok +Java's \/etc\/ssl\/certs\/java\/cacerts no longer holds "ollama-tls Test Root CA"/);
    expect(keytoolHas(d)).toBe(false);
    expect(entries(d)).toEqual(before);
    expect(snapshotDiff(storeBefore, store())).toEqual([]);
    expect(existsSync(path.join(d, 'var-lib/ollama-tls'))).toBe(false);

    // The host's own store never saw any of it.
    expect(snapshotDiff(host.certs, snapshot('/etc/ssl/certs'))).toEqual([]);
    expect(snapshotDiff(host.local, snapshot('/usr/local/share/ca-certificates'))).toEqual([]);
    rmSync(d, { recursive: true, force: true });
  }, 120_000);
});

describe.skipIf(!existsSync('/usr/bin/keytool') || !existsSync('/etc/ssl/certs/java/cacerts'))('the JKS reader', () => {
  it('lists the same trusted certificates (alias and SHA-256) as keytool does', () => {
    const listing = execFileSync('keytool', ['-list', '-cacerts', '-storepass', 'changeit'], { encoding: 'utf8', env: { ...process.env, JAVA_TOOL_OPTIONS: '-XX:-UsePerfData' } });
    const fromKeytool = [...listing.matchAll(/^([^,\n]+), [^,\n]+, [^,\n]+, trustedCertEntry,\s*\nCertificate fingerprint \(SHA-256\): ([0-9A-F:]+)/gm)]
      .map((m) => `${m[1]} ${m[2]!.replace(/:/g, '').toLowerCase()}`).sort();
    const ours = readJks(readFileSync('/etc/ssl/certs/java/cacerts')).filter((e) => e.kind === 'trusted').map((e) => `${e.alias} ${e.sha256[0]}`).sort();
    expect(fromKeytool.length).toBeGreaterThan(10);
    expect(ours).toEqual(fromKeytool);
  }, 60_000);
});
