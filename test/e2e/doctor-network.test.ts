// Failures before any chain exists, against real misbehaving peers on loopback. Each must give its
// finding code, exit 1, and come back within the timeout plus a second.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDoctorJson } from '../helpers/cli.js';
import { closedPort, loadScenario, serveChain, serveFault, serveNxdomainDns, type Running } from '../helpers/servers.js';

const TIMEOUT_MS = 1500;
const servers: Running[] = [];

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function expectFailure(target: string, code: string, extra: string[] = []) {
  const { result, report } = await runDoctorJson([target, '--timeout', String(TIMEOUT_MS), ...extra]);
  const t = report.targets[0]!;
  expect(result.code).toBe(1);
  expect(report.ok).toBe(false);
  expect(t.ok).toBe(false);
  expect(t.verdicts).toEqual([]);
  expect(t.chain).toEqual([]);
  expect(t.findings.map((f) => f.code)).toEqual([code]);
  const f = t.findings[0]!;
  expect(f.severity).toBe('error');
  expect(f.evidence.length).toBeGreaterThan(0);
  // Node start-up and the CLI's own work come on top of the network deadline.
  expect(result.ms).toBeLessThan(TIMEOUT_MS + 1000 + 1500);
  return { result, report, finding: f };
}

describe('network faults', () => {
  it('a closed port is connection-refused', async () => {
    const port = await closedPort();
    const { finding } = await expectFailure(`127.0.0.1:${port}`, 'connection-refused');
    expect(finding.evidence.join(' ')).toContain('ECONNREFUSED');
  });

  it('a server that accepts and never answers is handshake-timeout', async () => {
    const s = await serveFault('silent');
    servers.push(s);
    const { result } = await expectFailure(`127.0.0.1:${s.port}`, 'handshake-timeout');
    expect(result.ms).toBeGreaterThanOrEqual(TIMEOUT_MS);
  });

  it('a server that resets is connection-reset', async () => {
    const s = await serveFault('reset');
    servers.push(s);
    await expectFailure(`127.0.0.1:${s.port}`, 'connection-reset');
  });

  it('a server that hangs up at once is connection-reset', async () => {
    const s = await serveFault('close');
    servers.push(s);
    await expectFailure(`127.0.0.1:${s.port}`, 'connection-reset');
  });

  it('a plain HTTP server is not-tls, and shows what it answered', async () => {
    const s = await serveFault('http');
    servers.push(s);
    const { finding } = await expectFailure(`127.0.0.1:${s.port}`, 'not-tls');
    expect(finding.title).toContain('plain HTTP');
    expect(finding.detail).toContain('HTTP/1.1 400');
  });

  it('an unresolvable name is dns-failure (asked of a loopback DNS server)', async () => {
    const dns = await serveNxdomainDns();
    servers.push(dns);
    const { finding, report } = await expectFailure('no-such-host.ollama-tls.test:443', 'dns-failure', ['--dns-server', `127.0.0.1:${dns.port}`]);
    expect(finding.title).toContain('no-such-host.ollama-tls.test');
    expect(report.targets[0]!.addresses).toEqual([]);
  });
});

describe('targets', () => {
  let v6: Running;
  let v4: Running;
  beforeAll(async () => {
    const s = loadScenario('valid-ip');
    v6 = await serveChain(s, { host: '::1' });
    v4 = await serveChain(s);
    servers.push(v6, v4);
  });

  it('checks an IPv6 literal target ([::1]:port) against IP SANs', async () => {
    const s = loadScenario('valid-ip');
    const { result, report } = await runDoctorJson([`[::1]:${v6.port}`], { SSL_CERT_FILE: `${s.dir}/ca.pem` });
    const t = report.targets[0]!;
    expect(t.target).toBe(`[::1]:${v6.port}`);
    expect(t.host).toBe('::1');
    expect(t.servername).toBeNull(); // no SNI for IP literals
    expect(t.addresses).toEqual([{ address: '::1', family: 6, source: 'literal' }]);
    expect(t.verdicts.find((v) => v.view === 'go')).toMatchObject({ ok: true });
    expect(result.code).toBe(0);
  });

  it('probes several targets at once and reports each', async () => {
    const s = loadScenario('valid-ip');
    const port = await closedPort();
    const { result, report } = await runDoctorJson([`127.0.0.1:${v4.port}`, `https://127.0.0.1:${port}/api/tags`, `[::1]:${v6.port}`], { SSL_CERT_FILE: `${s.dir}/ca.pem` });
    expect(report.targets.map((t) => [t.target, t.ok])).toEqual([
      [`127.0.0.1:${v4.port}`, true],
      [`127.0.0.1:${port}`, false],
      [`[::1]:${v6.port}`, true],
    ]);
    expect(report.ok).toBe(false);
    expect(result.code).toBe(1);
  });
});
