// Every fixture scenario served by a real TLS server on loopback, checked by the built CLI end to
// end, and the go/node verdicts held against what real Go and real Node.js clients decide.
import { execFile } from 'node:child_process';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateScenario } from '../../fixtures/pki.js';
import { goClientBinary, goSays, runDoctorJson, type DoctorJson } from '../helpers/cli.js';
import { loadScenario, serveChain, tempDir, type LoadedScenario, type Running, onlyCaTree, ONLY_CA_ENV } from '../helpers/servers.js';

interface Case {
  scenario: string;
  /** Connect by IP literal instead of by name. */
  byIp?: boolean;
  exit: 0 | 1;
  /** The go verdict's code (null = Go accepts). */
  go: string | null;
  /** A finding that must be there, with its severity. */
  finding?: [code: string, severity: 'error' | 'warning'];
}

const CASES: Case[] = [
  { scenario: 'valid-rsa', exit: 0, go: null },
  { scenario: 'valid-ecdsa', exit: 0, go: null },
  { scenario: 'valid-ip', byIp: true, exit: 0, go: null },
  { scenario: 'cross-signed', exit: 0, go: null },
  { scenario: 'wrong-order', exit: 0, go: null, finding: ['chain-order', 'warning'] },
  { scenario: 'rsa-1024', exit: 0, go: null, finding: ['weak-key', 'warning'] },
  { scenario: 'expiring-soon', exit: 0, go: null, finding: ['expiring-soon', 'warning'] },
  { scenario: 'missing-intermediate', exit: 1, go: 'unknown-authority', finding: ['missing-intermediate', 'error'] },
  { scenario: 'untrusted-root-sent', exit: 1, go: 'unknown-authority', finding: ['untrusted-root', 'error'] },
  { scenario: 'private-root-not-sent', exit: 1, go: 'unknown-authority', finding: ['untrusted-root', 'error'] },
  { scenario: 'self-signed-leaf', exit: 1, go: 'unknown-authority', finding: ['self-signed-leaf', 'error'] },
  { scenario: 'expired-leaf', exit: 1, go: 'expired', finding: ['expired', 'error'] },
  { scenario: 'expired-intermediate', exit: 1, go: 'expired', finding: ['expired-intermediate', 'error'] },
  { scenario: 'not-yet-valid', exit: 1, go: 'not-yet-valid', finding: ['not-yet-valid', 'error'] },
  { scenario: 'hostname-mismatch', exit: 1, go: 'hostname-mismatch', finding: ['hostname-mismatch', 'error'] },
  { scenario: 'cn-only', exit: 1, go: 'cn-only', finding: ['cn-only', 'error'] },
  { scenario: 'ip-san-missing', byIp: true, exit: 1, go: 'ip-san-missing', finding: ['ip-san-missing', 'error'] },
  { scenario: 'sha1-signed', exit: 1, go: 'weak-signature', finding: ['weak-signature', 'error'] },
  { scenario: 'wrong-eku', exit: 1, go: 'wrong-eku', finding: ['wrong-eku', 'error'] },
  { scenario: 'intermediate-not-ca', exit: 1, go: 'invalid-ca', finding: ['invalid-ca', 'error'] },
  { scenario: 'ca-without-certsign', exit: 1, go: 'invalid-ca', finding: ['invalid-ca', 'error'] },
  { scenario: 'path-length', exit: 1, go: 'invalid-ca', finding: ['invalid-ca', 'error'] },
];

interface Live {
  scenario: LoadedScenario;
  server: Running;
  /** For the reference clients: the scenario's CA is the only root Go sees and an extra root for Node. */
  env: Record<string, string>;
  root: string;
  target: string;
  args: string[];
  report: DoctorJson;
  exit: number;
}

const live = new Map<string, Live>();
const emptyDir = tempDir('ollama-tls-empty-');
const goBin = goClientBinary();
// The same settings seen from inside the --root tree, where the doctor resolves them.
const TREE_ENV = ONLY_CA_ENV;

beforeAll(async () => {
  const scratch = tempDir();
  await Promise.all(CASES.map(async (c) => {
    let scenario = loadScenario(c.scenario);
    if (c.scenario === 'expiring-soon') {
      // Time-relative: made now, so it is always "10 days left" whatever day the tests run.
      const fresh = await generateScenario('expiring-soon');
      const dir = path.join(scratch, 'expiring-soon');
      scenario = { ...scenario, ...fresh, dir };
    }
    const server = await serveChain(scenario);
    const root = onlyCaTree(scenario.caPem);
    const caFile = path.join(root, 'ca.pem');
    const env = { SSL_CERT_FILE: caFile, SSL_CERT_DIR: emptyDir, NODE_EXTRA_CA_CERTS: caFile };
    const target = c.byIp ? `127.0.0.1:${server.port}` : `${scenario.host}:${server.port}`;
    const args = [target, '--root', root, ...(c.byIp ? [] : ['--resolve', `${scenario.host}:${server.port}:127.0.0.1`])];
    const { result, report } = await runDoctorJson(args, TREE_ENV);
    live.set(c.scenario, { scenario, server, env, root, target, args, report, exit: result.code });
  }));
}, 120_000);

afterAll(async () => {
  await Promise.all([...live.values()].map((l) => l.server.close()));
});

const verdict = (l: Live, view: string) => l.report.targets[0]!.verdicts.find((v) => v.view === view)!;

describe.each(CASES)('$scenario', (c) => {
  it(`exits ${c.exit} with go verdict ${c.go ?? 'ok'}${c.finding ? ` and finding ${c.finding[0]}` : ''}`, () => {
    const l = live.get(c.scenario)!;
    const t = l.report.targets[0]!;
    expect(l.exit, JSON.stringify(t.findings, null, 1)).toBe(c.exit);
    expect(l.report.ok).toBe(c.exit === 0);
    expect(t.ok).toBe(c.exit === 0);
    expect(verdict(l, 'go').ok).toBe(c.go === null);
    expect(verdict(l, 'go').code).toBe(c.go);
    if (c.finding) {
      const f = t.findings.find((x) => x.code === c.finding![0]);
      expect(f, `findings: ${t.findings.map((x) => x.code).join(', ')}`).toBeDefined();
      expect(f!.severity).toBe(c.finding[1]);
      expect(f!.title.length).toBeGreaterThan(10);
      expect(f!.detail.length).toBeGreaterThan(40);
      if (c.finding[1] === 'error') expect(f!.fixes.length).toBeGreaterThan(0);
    }
    if (c.exit === 0) expect(t.findings.filter((f) => f.severity === 'error')).toEqual([]);
    // The presented chain is reported exactly as served, in order.
    expect(t.chain.map((e) => e.pem).join('')).toBe(l.scenario.chainPem.replace(/\r\n/g, '\n'));
  });

  it.skipIf(!goBin)('go view prints what a real Go client prints', async () => {
    const l = live.get(c.scenario)!;
    const address = `127.0.0.1:${l.server.port}`;
    const name = c.byIp ? '127.0.0.1' : l.scenario.host;
    const real = await goSays(goBin!, address, name, l.env);
    const ours = verdict(l, 'go');
    // Go 1.23 still appends the GODEBUG hint that Go 1.24 dropped; times are "now" on each side.
    const norm = (s: string) => s.replace(' (temporarily override with GODEBUG=x509sha1=1)', '').replace(/current time \S+/, 'current time T');
    expect(norm(ours.ok ? 'ok' : ours.message)).toBe(norm(real));
  });

  it('node view says what a real Node.js client says', async () => {
    const l = live.get(c.scenario)!;
    const name = c.byIp ? '127.0.0.1' : l.scenario.host;
    const real = await new Promise<string>((resolve) => {
      const socket = tls.connect({
        host: '127.0.0.1', port: l.server.port, ...(c.byIp ? {} : { servername: name }),
        ca: [...tls.rootCertificates, l.scenario.caPem], rejectUnauthorized: false,
        checkServerIdentity: (_h, cert) => tls.checkServerIdentity(name, cert),
      }, () => {
        resolve(socket.authorized ? 'ok' : String(socket.authorizationError));
        socket.destroy();
      });
      socket.on('error', (e) => resolve(`error ${e.message}`));
    });
    const ours = verdict(l, 'node');
    expect(ours.ok ? 'ok' : ours.message.split(':')[0]).toBe(real);
  });

  it('system view says what curl (OpenSSL, the OS store) says', async () => {
    const l = live.get(c.scenario)!;
    const name = c.byIp ? '127.0.0.1' : l.scenario.host;
    const url = `https://${name}:${l.server.port}/`;
    const curl = await new Promise<string>((resolve) => {
      execFile('curl', ['-sS', '-o', '/dev/null', '--cacert', path.join(l.root, 'etc/ssl/certs/ca-certificates.crt'), '--capath', emptyDir,
        ...(c.byIp ? [] : ['--resolve', `${name}:${l.server.port}:127.0.0.1`]), url], { timeout: 20_000 }, (err, _out, stderr) => resolve(err ? stderr.trim() : 'ok'));
    });
    const ours = verdict(l, 'system');
    if (ours.ok) {
      expect(curl).toBe('ok');
    } else if (ours.code === 'hostname-mismatch' || ours.code === 'ip-san-missing') {
      // curl checks names itself and words it its own way.
      expect(curl).toMatch(/SSL: (no alternative certificate subject name matches|certificate subject name .* does not match)/);
    } else {
      // "verify error:num=20:unable to get local issuer certificate" vs curl's "SSL certificate problem: unable to get local issuer certificate"
      expect(curl).toContain(`SSL certificate problem: ${ours.message.replace(/^verify error:num=\d+:/, '')}`);
    }
  });
});

describe('the contract shape', () => {
  it('reports targets, chain entries and verdicts with the contract fields', () => {
    const l = live.get('valid-rsa')!;
    const r = l.report;
    expect(r.schema).toBe(1);
    expect(r.tool.name).toBe('ollama-tls');
    const t = r.targets[0]!;
    expect(t).toMatchObject({ host: l.scenario.host, port: l.server.port, servername: l.scenario.host, address: '127.0.0.1', proxy: null });
    expect(t.addresses).toEqual([{ address: '127.0.0.1', family: 4, source: 'resolve' }]);
    expect(t.tls!.protocol).toBe('TLSv1.3');
    const leaf = t.chain[0]!;
    expect(leaf).toMatchObject({ index: 0, subject: `CN=${l.scenario.host}`, isCA: false, selfSigned: false, keyType: 'RSA', keyBits: 2048, signatureAlgorithm: 'sha256WithRSAEncryption' });
    expect(leaf.san).toEqual([`DNS:${l.scenario.host}`]);
    expect(leaf.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(t.verdicts.map((v) => v.view)).toEqual(['go', 'node', 'system', 'mozilla']);
  });
});
