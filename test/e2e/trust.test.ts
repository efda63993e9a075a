// `trust` and `untrust` end to end, through the built CLI: Debian's real update-ca-certificates
// on a tree via --root, the native fallback on a tree without it, refusals that leave the tree
// untouched, exact undo, a bundle file, --from-host against a real TLS server, and what a user
// without root is told. Plans for other systems are checked as data (see trust-plans.test.ts).
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cliEnv, goClientBinary, haveSudo, goSays, runCli, runDoctorJson } from '../helpers/cli.js';
import { issueLeaf, makeCa } from '../helpers/pki.js';
import { loadScenario, serveChain, tempDir, type Running } from '../helpers/servers.js';
import { canChroot, debianTree, haveDebianTool, snapshot, snapshotDiff } from '../helpers/trees.js';

const scenario = loadScenario('valid-rsa');
const go = goClientBinary('tlsclient');
const pemBlocks = (text: string) => text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
const caSha256 = execFileSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-in', path.join(scenario.dir, 'ca.pem')], { encoding: 'utf8' })
  .split('=')[1]!.trim().replace(/:/g, '').toLowerCase();
const caHash = execFileSync('openssl', ['x509', '-noout', '-hash', '-in', path.join(scenario.dir, 'ca.pem')], { encoding: 'utf8' }).trim();

let server: Running;
let inputs: string;
beforeAll(async () => {
  server = await serveChain(scenario);
  inputs = tempDir('ollama-tls-inputs-');
  const [leaf, intermediate] = pemBlocks(scenario.chainPem);
  writeFileSync(path.join(inputs, 'leaf.pem'), leaf!);
  writeFileSync(path.join(inputs, 'intermediate.pem'), intermediate!);
  writeFileSync(path.join(inputs, 'key.pem'), scenario.keyPem);
  writeFileSync(path.join(inputs, 'garbage.bin'), Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131 + 7) % 256)));
  writeFileSync(path.join(inputs, 'expired-ca.pem'), pemBlocks(loadScenario('expired-intermediate').chainPem)[1]!);
});
afterAll(async () => server?.close());

const caFile = () => path.join(scenario.dir, 'ca.pem');

function opensslVerify(certsDir: string): Promise<string> {
  return new Promise((resolve) => {
    execFile('openssl', ['verify', '-CApath', certsDir, '-untrusted', path.join(inputs, 'intermediate.pem'), path.join(inputs, 'leaf.pem')], (_e, out, err) => resolve(`${out}${err}`.trim()));
  });
}

/**
 * OpenSSL's -CApath lookup inside a tree whose links hold in-tree paths (as in an image): the
 * tree's own openssl in a chroot of it, on copies of the inputs that are removed afterwards.
 */
async function opensslVerifyInTree(root: string): Promise<string> {
  const dir = path.join(root, 'tmp/verify');
  mkdirSync(dir, { recursive: true });
  for (const f of ['intermediate.pem', 'leaf.pem']) writeFileSync(path.join(dir, f), readFileSync(path.join(inputs, f)));
  try {
    return await new Promise((resolve) => {
      execFile('/usr/sbin/chroot', [root, '/usr/bin/openssl', 'verify', '-CApath', '/etc/ssl/certs', '-untrusted', '/tmp/verify/intermediate.pem', '/tmp/verify/leaf.pem'], (_e, out, err) => resolve(`${out}${err}`.trim()));
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What Go (Ollama) decides with the tree's bundle and directory. */
const goInTree = (root: string) =>
  go ? goSays(go, `127.0.0.1:${server.port}`, scenario.host, { SSL_CERT_FILE: path.join(root, 'etc/ssl/certs/ca-certificates.crt'), SSL_CERT_DIR: path.join(root, 'etc/ssl/certs') }) : Promise.resolve('skipped');

describe.skipIf(!haveDebianTool() || !canChroot())("trust --root on a Debian tree, with the tree's own update-ca-certificates in a chroot of it", () => {
  let root: string;
  let before: Map<string, string>;
  let afterTrust: Map<string, string>;
  beforeAll(() => {
    root = debianTree({ withTool: true, shell: true });
    before = snapshot(root);
  });

  it('installs the CA: the bundle holds it, openssl -CApath and a real Go client accept a chain under it', async () => {
    expect(await opensslVerifyInTree(root)).toMatch(/unable to get local issuer certificate/);
    if (go) expect(await goInTree(root)).toMatch(/certificate signed by unknown authority/);

    const r = await runCli(['trust', '--ca', caFile(), '--root', root, '--yes']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`run    /usr/sbin/chroot ${root} /usr/sbin/update-ca-certificates`);
    expect(r.stdout).toMatch(/ok +Go \(Ollama\) loads "ollama-tls Test Root CA"/);
    const anchor = `usr/local/share/ca-certificates/ollama-tls-${caSha256.slice(0, 16)}.crt`;
    expect(readFileSync(path.join(root, anchor), 'utf8')).toBe(scenario.caPem.trim() + '\n');
    expect(snapshot(root).get(anchor)).toMatch(/^file 644 /);
    const bundle = readFileSync(path.join(root, 'etc/ssl/certs/ca-certificates.crt'), 'utf8');
    expect(bundle).toContain(scenario.caPem.trim());
    expect(await opensslVerifyInTree(root)).toMatch(/leaf\.pem: OK$/);
    if (go) expect(await goInTree(root)).toBe('ok');
    // The doctor reading the same tree agrees.
    const { report } = await runDoctorJson([`${scenario.host}:${server.port}`, '--resolve', `${scenario.host}:${server.port}:127.0.0.1`, '--root', root]);
    expect(report.targets[0]!.verdicts.find((v) => v.view === 'go')).toMatchObject({ ok: true });
    afterTrust = snapshot(root);
  });

  it('trusting again changes nothing, and says so', async () => {
    const r = await runCli(['trust', '--ca', caFile(), '--root', root, '--yes']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Nothing to do: already trusted.');
    expect(snapshotDiff(afterTrust, snapshot(root))).toEqual([]);
  });

  it.each([
    ['a server certificate', 'leaf.pem', [], /is a server certificate for scenario\.ollama-tls\.test.*give the CA certificate instead/],
    ['a private key alone', 'key.pem', [], /private key/],
    ['garbage', 'garbage.bin', [], /not a certificate|garbage|cannot be read as/i],
    ['an expired CA', 'expired-ca.pem', [], /expired on 2021-01-01.*--force/],
    ['a missing file', 'nope.pem', [], /cannot read/],
    ['a wrong --fingerprint', 'ca', ['--fingerprint', '00'.repeat(32)], /--fingerprint does not match/],
  ] as const)('refuses %s with exit 2, changing nothing', async (_what, file, extra, message) => {
    const arg = file === 'ca' ? caFile() : path.join(inputs, file);
    const r = await runCli(['trust', '--ca', arg, ...extra, '--root', root, '--yes']);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(snapshotDiff(afterTrust, snapshot(root))).toEqual([]);
  });

  it('untrust removes exactly what trust added: the tree is as it was, entry for entry', async () => {
    const r = await runCli(['untrust', '--ca', caFile(), '--root', root, '--yes']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/ok +Go \(Ollama\) no longer finds/);
    expect(snapshotDiff(before, snapshot(root))).toEqual([]);
    expect(await opensslVerifyInTree(root)).toMatch(/unable to get local issuer certificate/);
  });

  it('untrust again has nothing to remove', async () => {
    const r = await runCli(['untrust', '--fingerprint', caSha256, '--root', root, '--yes']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Nothing to do');
    expect(snapshotDiff(before, snapshot(root))).toEqual([]);
  });

  it('without a terminal and without --yes: exit 2 naming --yes, nothing changed; --dry-run prints the plan only', async () => {
    const r = await runCli(['trust', '--ca', caFile(), '--root', root]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--yes');
    expect(r.stdout).toContain('write  ');
    const dry = await runCli(['trust', '--ca', caFile(), '--root', root, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('--dry-run: nothing changed.');
    expect(snapshotDiff(before, snapshot(root))).toEqual([]);
  });

  it('--json: the plan and the checks as data on stdout', async () => {
    const r = await runCli(['trust', '--ca', caFile(), '--root', root, '--yes', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { action: string; ok: boolean; cas: { sha256: string }[]; plans: { target: string; steps: { kind: string }[] }[]; results: { checks: { ok: boolean }[] }[] };
    expect(out).toMatchObject({ action: 'trust', ok: true, cas: [{ sha256: caSha256 }] });
    expect(out.plans[0]).toMatchObject({ target: 'debian', steps: [{ kind: 'write' }, { kind: 'run' }] });
    expect(out.results[0]!.checks.length).toBeGreaterThan(0);
    expect(out.results[0]!.checks.every((c) => c.ok)).toBe(true);
    const undo = await runCli(['untrust', '--ca', caFile(), '--root', root, '--yes', '--json']);
    expect(JSON.parse(undo.stdout)).toMatchObject({ action: 'untrust', ok: true });
    expect(snapshotDiff(before, snapshot(root))).toEqual([]);
  });
});

describe.skipIf(!haveDebianTool())('the native fallback, on a tree without the update tool', () => {
  it('appends to the bundles, links by subject hash as openssl does, and untrust restores the tree exactly', async () => {
    const root = debianTree({ withTool: false });
    const before = snapshot(root);
    const bundle = path.join(root, 'etc/ssl/certs/ca-certificates.crt');
    const bundleBefore = readFileSync(bundle, 'utf8');
    const r = await runCli(['trust', '--ca', caFile(), '--root', root, '--yes']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('is not installed: the bundles and links are written directly');
    expect(r.stdout).not.toContain('seeded');
    // A bundle with certificates gets only the CA's marked block, after its own text.
    const added = readFileSync(bundle, 'utf8');
    expect(added.startsWith(bundleBefore)).toBe(true);
    expect(pemBlocks(added.slice(bundleBefore.length)).map((b) => b.trim())).toEqual([scenario.caPem.trim()]);
    const certs = path.join(root, 'etc/ssl/certs');
    expect(readdirSync(certs).filter((n) => n.startsWith(`${caHash}.`))).toEqual([`${caHash}.0`]);
    expect(await opensslVerify(certs)).toMatch(/leaf\.pem: OK$/);
    if (go) expect(await goInTree(root)).toBe('ok');
    // The anchor is there too, so the image's own tool keeps the CA when it runs one day.
    expect(existsSync(path.join(root, `usr/local/share/ca-certificates/ollama-tls-${caSha256.slice(0, 16)}.crt`))).toBe(true);

    const again = await runCli(['trust', '--ca', caFile(), '--root', root, '--yes']);
    expect(again.stdout).toContain('Nothing to do');

    const undo = await runCli(['untrust', '--fingerprint', caSha256, '--root', root, '--yes']);
    expect(undo.code, undo.stdout + undo.stderr).toBe(0);
    expect(snapshotDiff(before, snapshot(root))).toEqual([]);
  });

  // seed-roots.ts's rule: a missing or empty bundle is first seeded with Mozilla's roots (Node's
  // tls.rootCertificates), then the CA appended; untrust gives back the file as it was.
  const bareTree = (bundle?: { mode: number }) => {
    const root = tempDir('ollama-tls-bare-');
    mkdirSync(path.join(root, 'etc/ssl/certs'), { recursive: true });
    writeFileSync(path.join(root, 'etc/os-release'), 'ID=wolfi\nPRETTY_NAME="Wolfi"\n');
    if (bundle) {
      writeFileSync(path.join(root, 'etc/ssl/certs/ca-certificates.crt'), '');
      chmodSync(path.join(root, 'etc/ssl/certs/ca-certificates.crt'), bundle.mode);
    }
    return root;
  };
  for (const was of ['absent', 'empty'] as const) {
    it(`a tree whose CA bundle is ${was} gets Mozilla's roots plus the CA, and untrust makes it ${was} again`, async () => {
      const root = bareTree(was === 'empty' ? { mode: 0o640 } : undefined);
      const before = snapshot(root);
      const bundle = path.join(root, 'etc/ssl/certs/ca-certificates.crt');
      const r = await runCli(['trust', '--ca', caFile(), '--root', root, '--yes']);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain('Linux CA bundle and certificate directory, edited directly');
      expect(r.stdout).toContain(`is ${was} in this tree: it is seeded with Node.js`);
      expect(r.stdout).not.toContain('trust no public');
      const blocks = pemBlocks(readFileSync(bundle, 'utf8')).map((b) => b.trim());
      expect(blocks).toHaveLength(tls.rootCertificates.length + 1);
      expect(blocks.slice(0, -1)).toEqual(tls.rootCertificates.map((c) => c.trim()));
      expect(blocks.at(-1)).toBe(scenario.caPem.trim());
      if (go) expect(await goInTree(root)).toBe('ok');
      const again = await runCli(['trust', '--ca', caFile(), '--root', root, '--yes']);
      expect(again.stdout).toContain('Nothing to do');

      const undo = await runCli(['untrust', '--ca', caFile(), '--root', root, '--yes']);
      expect(undo.code, undo.stdout + undo.stderr).toBe(0);
      expect(snapshotDiff(before, snapshot(root))).toEqual([]);
    });
  }

  it('a seeded bundle stays while another CA ollama-tls added is still in it', async () => {
    const root = bareTree();
    const other = await makeCa('Second Corp Root', 'Second Corp');
    const otherFile = path.join(tempDir(), 'other.pem');
    writeFileSync(otherFile, other.certPem);
    const bundle = path.join(root, 'etc/ssl/certs/ca-certificates.crt');
    expect((await runCli(['trust', '--ca', caFile(), '--root', root, '--yes'])).code).toBe(0);
    const seeded = readFileSync(bundle, 'utf8');
    expect((await runCli(['trust', '--ca', otherFile, '--root', root, '--yes'])).code).toBe(0);
    expect(pemBlocks(readFileSync(bundle, 'utf8'))).toHaveLength(tls.rootCertificates.length + 2);
    expect((await runCli(['untrust', '--ca', otherFile, '--root', root, '--yes'])).code).toBe(0);
    expect(readFileSync(bundle, 'utf8')).toBe(seeded);
    if (go) expect(await goInTree(root)).toBe('ok');
  });
});

describe.skipIf(!haveDebianTool())('input formats through the CLI', () => {
  it('a PKCS#12 with --password, and a PEM holding a key (used for its certificate only, and said so)', async () => {
    const root = debianTree({ withTool: true });
    const p12 = path.join(inputs, 'corp.p12');
    execFileSync('openssl', ['pkcs12', '-export', '-nokeys', '-in', caFile(), '-out', p12, '-passout', 'pass:s3cret']);
    const missing = await runCli(['trust', '--ca', p12, '--root', root, '--yes']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--password');
    const r = await runCli(['trust', '--ca', p12, '--password', 's3cret', '--root', root, '--yes']);
    expect(r.code, r.stdout + r.stderr).toBe(0);

    const withKey = path.join(inputs, 'ca-and-key.pem');
    writeFileSync(withKey, scenario.caPem + scenario.keyPem);
    const again = await runCli(['trust', '--ca', withKey, '--root', root, '--dry-run']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/private key; only the certificates are used/);
    expect(again.stdout).toContain('Nothing to do');
    const anchor = readFileSync(path.join(root, `usr/local/share/ca-certificates/ollama-tls-${caSha256.slice(0, 16)}.crt`), 'utf8');
    expect(anchor).not.toContain('PRIVATE KEY');
  });
});

describe('--bundle-out: the OS roots plus the CA, for SSL_CERT_FILE', () => {
  it('writes a bundle Go accepts the server with, and untrust takes the CA out again', async () => {
    const dir = tempDir();
    const out = path.join(dir, 'ca-bundle.pem');
    const r = await runCli(['trust', '--ca', caFile(), '--bundle-out', out, '--yes']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const text = readFileSync(out, 'utf8');
    expect(pemBlocks(text).length).toBeGreaterThan(50);
    expect(text).toContain(scenario.caPem.trim());
    if (go) expect(await goSays(go, `127.0.0.1:${server.port}`, scenario.host, { SSL_CERT_FILE: out, SSL_CERT_DIR: dir })).toBe('ok');
    const undo = await runCli(['untrust', '--ca', caFile(), '--bundle-out', out, '--yes']);
    expect(undo.code).toBe(0);
    expect(readFileSync(out, 'utf8')).not.toContain(scenario.caPem.trim());
    if (go) expect(await goSays(go, `127.0.0.1:${server.port}`, scenario.host, { SSL_CERT_FILE: out, SSL_CERT_DIR: dir })).toMatch(/unknown authority/);
  });
});

describe.skipIf(!haveDebianTool())('--from-host: the CA an inspection proxy presents', () => {
  let mitm: Running;
  let target: string;
  let rootFp: string;
  let rootPem: string;
  beforeAll(async () => {
    const root = await makeCa('Zscaler Root CA', 'Zscaler Inc.');
    rootPem = root.certPem;
    rootFp = execFileSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256'], { input: root.certPem, encoding: 'utf8' }).split('=')[1]!.trim().replace(/:/g, '').toLowerCase();
    mitm = await serveChain(await issueLeaf(root, ['registry.ollama.ai'], { issuedHoursAgo: 1 }));
    target = `registry.ollama.ai:${mitm.port}`;
  });
  afterAll(async () => mitm?.close());
  const args = (root: string) => ['trust', '--from-host', target, '--resolve', `${target}:127.0.0.1`, '--root', root, '--yes'];

  it('without a terminal it needs --fingerprint, and says which value the host presents', async () => {
    const root = debianTree({ withTool: true });
    const before = snapshot(root);
    const r = await runCli(args(root));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`needs --fingerprint ${rootFp}`);
    expect(r.stdout).toContain('"Zscaler Root CA"');
    const wrong = await runCli([...args(root), '--fingerprint', 'ab'.repeat(32)]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('does not match');
    expect(snapshotDiff(before, snapshot(root))).toEqual([]);
  });

  it('with the matching fingerprint it trusts that root, and the doctor then passes through the same tree', async () => {
    const root = debianTree({ withTool: true });
    const r = await runCli([...args(root), '--fingerprint', rootFp.replace(/(..)(?!$)/g, '$1:').toUpperCase()]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(readFileSync(path.join(root, 'etc/ssl/certs/ca-certificates.crt'), 'utf8')).toContain(rootPem.trim());
    const { result, report } = await runDoctorJson([target, '--resolve', `${target}:127.0.0.1`, '--root', root]);
    expect(result.code).toBe(0);
    expect(report.targets[0]!.findings.find((f) => f.code.startsWith('interception-'))?.severity).toBe('info');
  });
});

describe.skipIf(typeof process.getuid !== 'function' || process.getuid() !== 0 || !existsSync('/usr/bin/setpriv') || !haveDebianTool())('a user without root, on the live system', () => {
  it('gets the plan, then exit 2 with the exact sudo command; nothing is written', async () => {
    const dir = tempDir();
    chmodSync(dir, 0o755);
    const file = path.join(dir, 'corp-root.pem');
    writeFileSync(file, scenario.caPem, { mode: 0o644 });
    const anchor = `/usr/local/share/ca-certificates/ollama-tls-${caSha256.slice(0, 16)}.crt`;
    const r = await new Promise<{ code: number; out: string; err: string }>((resolve) => {
      execFile('/usr/bin/setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, BIN, 'trust', '--ca', file, '--yes'], { env: { ...cliEnv(), HOME: '/tmp' } }, (e, out, err) => {
        resolve({ code: e ? (typeof e.code === 'number' ? e.code : 99) : 0, out, err });
      });
    });
    expect(r.code, r.out + r.err).toBe(2);
    expect(r.out).toContain('needs root (sudo)');
    // As it runs here: sudo when there is one, else the words "as root"; the program by its name on the PATH.
    expect(r.err).toContain(`${haveSudo ? 'sudo ' : 'as root: '}ollama-tls trust --ca ${file} --yes`);
    expect(existsSync(anchor)).toBe(false);
  });
});
