// The doctor's command-line behaviour: usage errors, options that change what is judged, and
// files it writes. Every run is the built CLI against real loopback servers.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, runDoctorJson } from '../helpers/cli.js';
import { loadScenario, serveChain, storeTree, tempDir, type LoadedScenario, type Running } from '../helpers/servers.js';

const servers: Running[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function serve(name: string): Promise<{ s: LoadedScenario; target: string; resolve: string[] }> {
  const s = loadScenario(name);
  const server = await serveChain(s);
  servers.push(server);
  const target = `${s.host}:${server.port}`;
  return { s, target, resolve: ['--resolve', `${target}:127.0.0.1`] };
}

const pemBlocks = (text: string) => text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/g) ?? [];

describe('usage errors exit 2 with one clear line and no stack trace', () => {
  const cases: [string, string[], RegExp][] = [
    ['a plain-HTTP URL', ['doctor', 'http://registry.ollama.ai/'], /plain HTTP/],
    ['another scheme', ['doctor', 'ftp://example.com'], /only https:\/\//],
    ['a bad port', ['doctor', 'example.com:99999'], /port must be a number from 1 to 65535/],
    ['garbage for a host', ['doctor', 'exa mple!'], /not a host name/],
    ['a bad --resolve', ['doctor', 'example.com', '--resolve', 'example.com:443'], /expected HOST:PORT:ADDRESS/],
    ['a --resolve address that is not an IP', ['doctor', 'example.com', '--resolve', 'example.com:443:nope'], /not an IP address/],
    ['a bad --timeout', ['doctor', 'example.com', '--timeout', 'soon'], /milliseconds/],
    ['an unknown view in --decide', ['doctor', 'example.com', '--decide', 'go,firefox'], /choose from go, node, system, mozilla, extra/],
    ['--decide extra without --ca', ['doctor', 'example.com', '--decide', 'extra'], /needs at least one --ca/],
    ['a missing --ca file', ['doctor', 'example.com', '--ca', '/nonexistent/ca.pem'], /--ca \/nonexistent\/ca.pem: cannot read it \(no such file\)/],
    ['--servername with two targets', ['doctor', 'a.example:443', 'b.example:443', '--servername', 'x'], /single target/],
    ['an unknown option', ['doctor', '--frobnicate'], /unknown option/],
    ['an unknown command', ['frobnicate'], /unknown command/],
  ];
  for (const [what, args, message] of cases) {
    it(what, async () => {
      const r = await runCli(args);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  }
});

describe('help and version', () => {
  it('--version prints the package version', async () => {
    const r = await runCli(['--version']);
    const pkg = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string };
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it('doctor --help speaks curl and openssl', async () => {
    const r = await runCli(['doctor', '--help']);
    expect(r.code).toBe(0);
    const text = r.stdout.replace(/\s+/g, ' ');
    expect(text).toContain('like curl --resolve');
    expect(text).toContain('like openssl s_client -servername');
    expect(r.stdout).toMatch(/Exit status: 0 every target passes, 1 a problem was found, 2 usage error/);
  });
});

describe('options', () => {
  it('--save-chain writes exactly what the server sent, in its order', async () => {
    const { s, target, resolve } = await serve('wrong-order');
    const file = path.join(tempDir(), 'chain.pem');
    const r = await runCli(['doctor', target, ...resolve, '--save-chain', file, '--json']);
    expect(r.code).toBe(1); // the test root is not trusted here; the chain is saved all the same
    expect(pemBlocks(readFileSync(file, 'utf8'))).toEqual(pemBlocks(s.chainPem));
  });

  it('--ca adds the extra view: it shows that trusting that CA would fix Ollama, and --decide extra decides on it', async () => {
    const { s, target, resolve } = await serve('untrusted-root-sent');
    const rogueRoot = path.join(tempDir(), 'rogue-root.pem');
    writeFileSync(rogueRoot, pemBlocks(s.chainPem).at(-1)!);
    const without = await runDoctorJson([target, ...resolve]);
    expect(without.result.code).toBe(1);
    expect(without.report.targets[0]!.verdicts.map((v) => v.view)).not.toContain('extra');

    const withCa = await runDoctorJson([target, ...resolve, '--ca', rogueRoot]);
    const verdicts = withCa.report.targets[0]!.verdicts;
    expect(verdicts.find((v) => v.view === 'go')!.ok).toBe(false);
    expect(verdicts.find((v) => v.view === 'extra')).toMatchObject({ ok: true, code: null });
    expect(withCa.result.code).toBe(1);

    const decided = await runDoctorJson([target, ...resolve, '--ca', rogueRoot, '--decide', 'extra']);
    expect(decided.result.code).toBe(0);
    expect(decided.report.ok).toBe(true);
    // The go view still disagrees, and says so as a warning.
    const warning = decided.report.targets[0]!.findings.find((f) => f.code === 'untrusted-root');
    expect(warning?.severity).toBe('warning');
  });

  it('--decide node,go makes a Node-only failure count', async () => {
    const { s, target, resolve } = await serve('valid-rsa');
    const root = storeTree(s.caPem);
    writeFileSync(path.join(root, 'ca.pem'), s.caPem);
    const env = { SSL_CERT_FILE: '/ca.pem' }; // Go trusts the CA; Node (no NODE_EXTRA_CA_CERTS) does not
    const goOnly = await runDoctorJson([target, ...resolve, '--root', root], env);
    expect(goOnly.result.code).toBe(0);
    const nodeWarning = goOnly.report.targets[0]!.findings.find((f) => f.severity === 'warning' && f.title.startsWith('Node.js'));
    expect(nodeWarning, JSON.stringify(goOnly.report.targets[0]!.findings.map((f) => f.title))).toBeDefined();
    const both = await runDoctorJson([target, ...resolve, '--root', root, '--decide', 'node,go'], env);
    expect(both.result.code).toBe(1);
    expect(both.report.targets[0]!.findings.some((f) => f.severity === 'error')).toBe(true);
  });

  it('--servername sends that SNI and verifies that name', async () => {
    const { target, resolve } = await serve('hostname-mismatch');
    const other = 'other.ollama-tls.test';
    const { report } = await runDoctorJson([target, ...resolve, '--servername', other]);
    const t = report.targets[0]!;
    expect(t.servername).toBe(other);
    // The name now matches; what remains is the private root.
    expect(t.verdicts.find((v) => v.view === 'go')!.code).toBe('unknown-authority');
  });
});

describe('trusted by the OS store but not by Go', () => {
  let scenario: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    scenario = await serve('valid-rsa');
  });

  it('names SSL_CERT_FILE and SSL_CERT_DIR when they point Go away from the CA', async () => {
    // SSL_CERT_FILE alone would not do it on Debian: Go's scan of /etc/ssl/certs reads the bundle too.
    const root = storeTree(scenario.s.caPem);
    writeFileSync(path.join(root, 'other.pem'), loadScenario('valid-ecdsa').caPem);
    const { result, report } = await runDoctorJson([scenario.target, ...scenario.resolve, '--root', root], { SSL_CERT_FILE: '/other.pem', SSL_CERT_DIR: '/nowhere' });
    expect(result.code).toBe(1);
    const t = report.targets[0]!;
    expect(t.verdicts.find((v) => v.view === 'system')!.ok).toBe(true);
    const f = t.findings.find((x) => x.code === 'trusted-by-system-not-go');
    expect(f?.severity).toBe('error');
    expect(f!.detail).toContain('SSL_CERT_FILE=/other.pem');
    expect(f!.fixes.map((x) => x.command)).toContain('unset SSL_CERT_FILE');
  });

  it('explains a CA stored as a "TRUSTED CERTIFICATE" block, which OpenSSL reads and Go ignores', async () => {
    const root = storeTree('');
    const der = Buffer.from(scenario.s.caPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    const trusted = `-----BEGIN TRUSTED CERTIFICATE-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END TRUSTED CERTIFICATE-----\n`;
    writeFileSync(path.join(root, 'etc/ssl/certs/ca-certificates.crt'), trusted);
    const { report } = await runDoctorJson([scenario.target, ...scenario.resolve, '--root', root]);
    const t = report.targets[0]!;
    expect(t.verdicts.find((v) => v.view === 'system')!.ok).toBe(true);
    expect(t.verdicts.find((v) => v.view === 'go')!.ok).toBe(false);
    const f = t.findings.find((x) => x.code === 'trusted-by-system-not-go');
    expect(f!.detail).toContain('TRUSTED CERTIFICATE');
  });

  it('explains that Go reads only the first bundle file it finds', async () => {
    // On openSUSE, OpenSSL reads /etc/ssl/ca-bundle.pem; a stale Debian-path bundle comes first in Go's list.
    const root = storeTree(loadScenario('valid-ecdsa').caPem);
    writeFileSync(path.join(root, 'etc/os-release'), 'ID="opensuse-leap"\nID_LIKE="suse opensuse"\n');
    writeFileSync(path.join(root, 'etc/ssl/ca-bundle.pem'), scenario.s.caPem);
    const { report } = await runDoctorJson([scenario.target, ...scenario.resolve, '--root', root]);
    const t = report.targets[0]!;
    expect(t.verdicts.find((v) => v.view === 'go')!.ok).toBe(false);
    const f = t.findings.find((x) => x.code === 'trusted-by-system-not-go');
    expect(f, JSON.stringify(t.findings.map((x) => [x.code, x.detail]), null, 1)).toBeDefined();
    expect(f!.detail).toContain('first bundle file');
  });
});
