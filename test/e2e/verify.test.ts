// `verify` holds to `doctor`: every fixture scenario is served by a real TLS server on loopback and
// judged by the doctor, and the same chain file is judged by verify with the same stores (--root
// tree, same environment); verdicts (view, ok, code, the client's words), finding codes and
// severities, and exit status must be the same. Then --roots, --at and --view, and the one
// certificate-file reader seen from doctor --ca (PKCS#7, PKCS#12) and from all five commands.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateScenario } from '../../fixtures/pki.js';
import { runCli, runDoctorJson, runJson, type DoctorJson } from '../helpers/cli.js';
import { loadScenario, serveChain, SCENARIOS, storeTree, tempDir, type LoadedScenario, type Running, onlyCaTree, ONLY_CA_ENV } from '../helpers/servers.js';

interface VerifyJson {
  schema: number; host: string; at: string; ok: boolean;
  chain: { sha256: string; pem: string }[];
  verdicts: { view: string; ok: boolean; code: string | null; message: string }[];
  findings: { code: string; severity: string; title: string }[];
}

const NAMES = readdirSync(SCENARIOS, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
const BY_IP = new Set(['valid-ip', 'ip-san-missing']);
// As the doctor sees it from inside the --root tree.
const TREE_ENV = ONLY_CA_ENV;

interface Live {
  scenario: LoadedScenario;
  server: Running;
  root: string;
  chainFile: string;
  host: string;
  doctor: { report: DoctorJson; exit: number };
}
const live = new Map<string, Live>();
const scratch = tempDir('ollama-tls-verify-');

async function verifyJson(args: string[], env: Record<string, string> = TREE_ENV): Promise<{ exit: number; report: VerifyJson; stderr: string }> {
  const { result, report } = await runJson<VerifyJson>('verify', args, env);
  return { exit: result.code, report, stderr: result.stderr };
}

beforeAll(async () => {
  await Promise.all(NAMES.map(async (name) => {
    let scenario = loadScenario(name);
    if (name === 'expiring-soon') {
      // Time-relative: made now, so it is always "10 days left".
      scenario = { ...scenario, ...(await generateScenario('expiring-soon')), dir: path.join(scratch, name) };
    }
    const server = await serveChain(scenario);
    const root = onlyCaTree(scenario.caPem);
    const chainFile = path.join(scratch, `${name}.chain.pem`);
    writeFileSync(chainFile, scenario.chainPem);
    const byIp = BY_IP.has(name);
    const host = byIp ? '127.0.0.1' : scenario.host;
    const target = `${host}:${server.port}`;
    const args = [target, '--root', root, ...(byIp ? [] : ['--resolve', `${scenario.host}:${server.port}:127.0.0.1`])];
    const { result, report } = await runDoctorJson(args, TREE_ENV);
    live.set(name, { scenario, server, root, chainFile, host, doctor: { report, exit: result.code } });
  }));
}, 180_000);

afterAll(async () => {
  await Promise.all([...live.values()].map((l) => l.server.close()));
});

/** The clients' words, with the clock each run read taken out (the runs are seconds apart). */
const clockless = (vs: { message: string }[]) => vs.map((v) => ({ ...v, message: v.message.replace(/current time \S+ is/, 'current time T is') }));
const findingKeys = (fs: { code: string; severity: string }[]) => fs.map((f) => `${f.code}/${f.severity}`).sort();

describe('verify equals doctor on every fixture scenario', () => {
  it.each(NAMES)('%s', async (name) => {
    const l = live.get(name)!;
    const t = l.doctor.report.targets[0]!;
    expect(t.chain.length, JSON.stringify(t.findings)).toBeGreaterThan(0);
    const v = await verifyJson([l.chainFile, '--host', l.host, '--root', l.root]);
    expect(v.report.schema).toBe(1);
    expect(v.report.host).toBe(l.host);
    expect(v.report.chain.map((c) => c.pem).join('')).toBe(t.chain.map((c) => c.pem).join(''));
    expect(clockless(v.report.verdicts)).toEqual(clockless(t.verdicts));
    expect(findingKeys(v.report.findings)).toEqual(findingKeys(t.findings));
    expect(v.report.ok).toBe(t.ok);
    expect(v.exit).toBe(l.doctor.exit);
  });

  it('counts', () => {
    let verdicts = 0;
    let findings = 0;
    for (const l of live.values()) {
      verdicts += l.doctor.report.targets[0]!.verdicts.length;
      findings += l.doctor.report.targets[0]!.findings.length;
    }
    console.log(`verify == doctor: ${live.size} scenarios, ${verdicts} verdicts, ${findings} findings`);
    expect(live.size).toBeGreaterThanOrEqual(22);
  });
});

describe('verify --roots, --at, --view', () => {
  it('--roots FILE: the go verdict is the doctor\'s (whose Go store is that file) on every scenario', async () => {
    for (const name of NAMES) {
      const l = live.get(name)!;
      const v = await verifyJson([l.chainFile, '--host', l.host, '--roots', path.join(l.root, 'ca.pem'), '--view', 'go'], {});
      const go = l.doctor.report.targets[0]!.verdicts.find((x) => x.view === 'go')!;
      expect(clockless(v.report.verdicts), name).toEqual(clockless([go]));
    }
  });

  it('--at moves the clock for every view: a valid chain fails before and after its validity and passes inside it', async () => {
    // valid-rsa's leaf is valid 2025-01-01 to 2045-01-01, its intermediate and root from 2024.
    const valid = live.get('valid-rsa')!;
    const early = await verifyJson([valid.chainFile, '--host', valid.host, '--root', valid.root, '--at', '2024-06-01T00:00:00Z']);
    expect(early.report.at).toBe('2024-06-01T00:00:00.000Z');
    expect(early.report.verdicts.find((x) => x.view === 'go')).toMatchObject({ ok: false, code: 'not-yet-valid' });
    expect(early.exit).toBe(1);
    const inside = await verifyJson([valid.chainFile, '--host', valid.host, '--root', valid.root, '--at', '2030-01-01']);
    expect(inside.report.verdicts.filter((x) => x.view !== 'mozilla').every((x) => x.ok), JSON.stringify(inside.report.verdicts)).toBe(true);
    expect(inside.exit).toBe(0);
    const later = await verifyJson([valid.chainFile, '--root', valid.root, '--at', '2100-01-01T00:00:00Z']);
    expect(later.report.host).toBe(valid.host); // the leaf's own name by default
    expect(later.report.verdicts.find((x) => x.view === 'go')).toMatchObject({ ok: false, code: 'expired' });
    expect(later.report.findings.map((f) => f.code)).toContain('expired');
    // A chosen time is not a wrong clock.
    expect(later.report.findings.map((f) => f.code)).not.toContain('clock-skew');
    expect(later.exit).toBe(1);
  });

  it('--view node decides alone; a bad --at or --view is exit 2', async () => {
    const l = live.get('rsa-1024')!;
    const v = await verifyJson([l.chainFile, '--host', l.host, '--root', l.root, '--view', 'node']);
    expect(v.report.verdicts.map((x) => x.view)).toEqual(['node']);
    expect((await runCli(['verify', l.chainFile, '--at', 'yesterday'])).code).toBe(2);
    expect((await runCli(['verify', l.chainFile, '--view', 'chrome'])).code).toBe(2);
  });
});

describe('the one certificate-file reader, seen from the commands', () => {
  it('doctor --ca FILE.p7b and FILE.p12 (with and without password) give the extra view its root', async () => {
    const l = live.get('valid-rsa')!;
    const ca = path.join(l.scenario.dir, 'ca.pem');
    const p7b = path.join(scratch, 'ca.p7b');
    execFileSync('openssl', ['crl2pkcs7', '-nocrl', '-certfile', ca, '-outform', 'DER', '-out', p7b]);
    const p12 = path.join(scratch, 'ca.p12');
    execFileSync('openssl', ['pkcs12', '-export', '-nokeys', '-in', ca, '-passout', 'pass:', '-out', p12]);
    const p12pw = path.join(scratch, 'ca-pw.p12');
    execFileSync('openssl', ['pkcs12', '-export', '-nokeys', '-in', ca, '-passout', 'pass:s3cret', '-out', p12pw]);
    const empty = storeTree('');
    const target = `${l.scenario.host}:${l.server.port}`;
    const base = [target, '--root', empty, '--resolve', `${l.scenario.host}:${l.server.port}:127.0.0.1`, '--decide', 'extra'];
    for (const [file, extra] of [[p7b, []], [p12, []], [p12pw, ['--password', 's3cret']]] as [string, string[]][]) {
      const { result, report } = await runDoctorJson([...base, '--ca', file, ...extra], {});
      expect(result.code, `${file}: ${result.stderr}`).not.toBe(2);
      const verdicts = report.targets[0]!.verdicts;
      expect(verdicts.find((x) => x.view === 'extra'), file).toMatchObject({ ok: true });
      // The file really is what made it pass: Go alone, without it, does not trust the chain.
      expect(verdicts.find((x) => x.view === 'go'), file).toMatchObject({ ok: false });
    }
    const noPassword = await runCli(['doctor', ...base, '--ca', p12pw]);
    expect(noPassword.code).toBe(2);
    expect(noPassword.stderr).toMatch(/password-protected PKCS#12/);
  });

  it('a damaged certificate gets the same message from doctor --ca, doctor --cert, trust --ca, inspect and verify', async () => {
    const l = live.get('valid-rsa')!;
    // The leaf's notBefore UTCTime (17 0d) turned into a PrintableString: the outline parses, the field does not.
    const pem = readFileSync(path.join(SCENARIOS, 'valid-rsa', 'chain.pem'), 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/)![0];
    const der = Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
    const at = der.indexOf(Buffer.from([0x17, 0x0d]));
    der[at] = 0x13;
    const bad = path.join(scratch, 'damaged.pem');
    writeFileSync(bad, `-----BEGIN CERTIFICATE-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`);
    const key = path.join(l.scenario.dir, 'key.pem');
    const runs = {
      'doctor --ca': await runCli(['doctor', '127.0.0.1:1', '--ca', bad, '--timeout', '1000']),
      'doctor --cert': await runCli(['doctor', '127.0.0.1:1', '--cert', bad, '--key', key, '--timeout', '1000']),
      'trust --ca': await runCli(['trust', '--ca', bad, '--dry-run', '--root', tempDir()]),
      inspect: await runCli(['inspect', bad]),
      verify: await runCli(['verify', bad, '--host', 'x.example']),
      'verify --roots': await runCli(['verify', l.chainFile, '--roots', bad]),
    };
    const said = new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: PEM block 1 \\(CERTIFICATE\\) is not a valid X\\.509 certificate \\([^)]+\\): damaged, or not a certificate`);
    const messages = new Set<string>();
    for (const [what, r] of Object.entries(runs)) {
      expect(r.code, `${what}: ${r.stderr}`).toBe(2);
      const m = r.stderr.match(said);
      expect(m, `${what}: ${r.stderr}`).not.toBeNull();
      messages.add(m![0]);
      expect(r.stderr, what).not.toMatch(/internal error|\n\s+at /);
    }
    expect([...messages]).toHaveLength(1);
  });
});
