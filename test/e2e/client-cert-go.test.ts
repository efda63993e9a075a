// Client-certificate policy against real Go servers (test/go/mtlsserve.go: net/http, HTTP/2 on),
// one per tls.ClientAuthType, TLS 1.3 and 1.2, each with a good certificate, one from another
// issuer, and none. The doctor's policy, findings and exit code are held against the Go server's
// own log of each connection (the certificate it got, or its handshake error) and against curl.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDoctorJson } from '../helpers/cli.js';
import { CLIENT_AUTH_MODES, startMtlsServe, type ClientAuthMode, type GoServer } from '../helpers/go-servers.js';
import { issueLeaf, makeCa } from '../helpers/pki.js';
import { squidBinary, startSquid, type RunningSquid } from '../helpers/proxies.js';
import { tempDir } from '../helpers/servers.js';

const HOST = 'mtls-go.test';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

type Case = 'none' | 'good' | 'other';
type Policy = 'none' | 'optional' | 'required';

/** What each mode does, from crypto/tls's documentation of ClientAuthType. */
const EXPECT: Record<ClientAuthMode, { policy: Policy; acceptsOther: boolean }> = {
  NoClientCert: { policy: 'none', acceptsOther: true },
  RequestClientCert: { policy: 'optional', acceptsOther: true },
  RequireAnyClientCert: { policy: 'required', acceptsOther: true },
  VerifyClientCertIfGiven: { policy: 'optional', acceptsOther: false },
  RequireAndVerifyClientCert: { policy: 'required', acceptsOther: false },
};

const files: Record<string, string> = {};
const servers: GoServer[] = [];
const tally = { runs: 0, agree: 0, recheckMs: [] as number[] };

beforeAll(async () => {
  const dir = tempDir('ollama-tls-mtls-go-');
  const serverCa = await makeCa('Go mTLS Server CA', 'Server Org');
  const leaf = await issueLeaf(serverCa, [HOST]);
  const clientCa = await makeCa('Go Client CA', 'Acme Clients');
  const otherCa = await makeCa('Stranger CA', 'Elsewhere');
  const good = await issueLeaf(clientCa, ['alice'], { eku: [CLIENT_AUTH] });
  const other = await issueLeaf(otherCa, ['mallory'], { eku: [CLIENT_AUTH] });
  const write = (name: string, text: string) => {
    files[name] = path.join(dir, name);
    writeFileSync(files[name]!, text);
  };
  write('server.pem', leaf.chainPem);
  write('server.key', leaf.keyPem);
  write('server-ca.pem', serverCa.certPem);
  write('client-ca.pem', clientCa.certPem);
  write('good.pem', good.chainPem);
  write('good.key', good.keyPem);
  write('other.pem', other.chainPem);
  write('other.key', other.keyPem);
}, 60_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  if (tally.runs) {
    const ms = tally.recheckMs.sort((a, b) => a - b);
    console.log(`client-cert-go: ${tally.agree}/${tally.runs} runs agree with the Go server's log and curl; ` +
      `second handshake ${ms.length ? `median ${ms[Math.floor(ms.length / 2)]} ms, max ${ms[ms.length - 1]} ms (n=${ms.length})` : 'not run'}`);
  }
});

const identity = (c: Case): string[] => (c === 'none' ? [] : ['--cert', files[`${c}.pem`]!, '--key', files[`${c}.key`]!]);

/** curl's view: exit code and the server's answer ("client-cert: CN=alice" or "client-cert: none"). */
function curl(port: number, c: Case): Promise<{ code: number; body: string }> {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', '--max-time', '10', '--cacert', files['server-ca.pem']!, '--resolve', `${HOST}:${port}:127.0.0.1`,
      ...(c === 'none' ? [] : ['--cert', files[`${c}.pem`]!, '--key', files[`${c}.key`]!]), `https://${HOST}:${port}/`],
    (err, stdout) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, body: stdout.trim() }));
  });
}

const SUBJECT: Record<Case, string> = { none: 'none', good: 'CN=alice', other: 'CN=mallory' };

describe.each(['1.3', '1.2'] as const)('Go net/http server, TLS %s', (version) => {
  describe.each(CLIENT_AUTH_MODES)('ClientAuth %s', (mode) => {
    let server: GoServer;
    beforeAll(async () => {
      server = await startMtlsServe({ cert: files['server.pem']!, key: files['server.key']!, clientCa: files['client-ca.pem']!, mode, maxVersion: version });
      servers.push(server);
    }, 60_000);

    it.each(['none', 'good', 'other'] as const)('client certificate: %s', async (c) => {
      const expect_ = EXPECT[mode];
      const before = server.lines.length;
      const { result, report } = await runDoctorJson([`${HOST}:${server.port}`, '--resolve', `${HOST}:${server.port}:127.0.0.1`,
        '--ca', files['server-ca.pem']!, '--decide', 'extra', '--timeout', '8000', ...identity(c)]);
      const t = report.targets[0]! as (typeof report.targets)[0] & {
        clientCert?: { requested: boolean; sent: string | null; refused: string | null; policy: Policy | null; authorities: string[];
          withoutCertificate?: { refused: boolean | null; message: string; ms: number } };
      };
      const codes = t.findings.map((f) => `${f.code}:${f.severity}`);
      const why = JSON.stringify({ clientCert: t.clientCert, findings: t.findings.map((f) => [f.code, f.title]) }, null, 2);

      // What the Go server itself saw: one line per connection, in order (with a certificate, then the second handshake without).
      const sent = c !== 'none' && expect_.policy !== 'none';
      const rechecked = sent;
      const log = await server.linesAfter(before, rechecked ? 2 : 1);
      const first = log[0] ?? '';
      const accepted = first.startsWith('handshake ');
      const serverGot = /peer=(.*)$/.exec(first)?.[1];

      // The expectations, from the mode.
      const refusedExpected = (c === 'none' && expect_.policy === 'required') || (c === 'other' && !expect_.acceptsOther);
      expect(accepted, `${log.join('\n')}\n${why}`).toBe(!refusedExpected);
      if (accepted) expect(serverGot).toBe(sent ? SUBJECT[c] : 'none');

      if (mode === 'NoClientCert' && c === 'none') {
        expect(t.clientCert, why).toBeUndefined();
      } else {
        expect(t.clientCert?.policy, why).toBe(expect_.policy);
        expect(t.clientCert?.requested).toBe(expect_.policy !== 'none');
        // The doctor says what the server says: sent and accepted, or refused.
        expect(t.clientCert?.sent ?? null).toBe(sent ? SUBJECT[c] : null);
        expect(Boolean(t.clientCert?.refused), why).toBe(refusedExpected);
      }
      if (rechecked) {
        expect(t.clientCert?.withoutCertificate?.refused, why).toBe(expect_.policy === 'required');
        // The server's view of the second connection: refused without a certificate, or let in with none.
        expect(log[1] ?? '', log.join('\n')).toMatch(expect_.policy === 'required' ? /^error http: TLS handshake error / : /^handshake peer=none$/);
        tally.recheckMs.push(t.clientCert!.withoutCertificate!.ms);
      } else {
        expect(t.clientCert?.withoutCertificate).toBeUndefined();
      }

      // Findings.
      const want: string[] = [];
      if (refusedExpected) want.push('client-cert-required:error');
      if (c === 'none' && expect_.policy === 'optional') want.push('client-cert-required:info');
      if (c !== 'none' && expect_.policy === 'none') want.push('client-cert-not-requested:warning');
      if (c === 'other' && expect_.policy !== 'none') want.push('client-cert-issuer-not-accepted:warning');
      expect(codes.filter((x) => x.startsWith('client-cert')).sort(), why).toEqual(want.sort());
      expect(result.code, why).toBe(refusedExpected ? 1 : 0);
      // Never "requires" for a policy that lets a client without a certificate in.
      if (expect_.policy !== 'required') {
        for (const f of t.findings) expect(`${f.title} ${f.detail}`, f.code).not.toMatch(/\brequires (a|one)\b|its policy requires/);
      }
      // Readable refusals: the alert's name, never OpenSSL's raw lines.
      expect(JSON.stringify(t)).not.toMatch(/SSL routines|error:0A0/);
      if (refusedExpected) expect(t.clientCert?.refused, why).toMatch(/alert [a-z_]+ \(\d+\)/);

      // curl agrees: it gets through exactly when the doctor says the certificate (or none) is let in.
      const beforeCurl = server.lines.length;
      const viaCurl = await curl(server.port, c);
      await server.linesAfter(beforeCurl, 1);
      expect(viaCurl.code === 0, `curl ${viaCurl.code} ${viaCurl.body}`).toBe(!refusedExpected);
      if (viaCurl.code === 0) expect(viaCurl.body).toBe(`client-cert: ${sent ? SUBJECT[c] : 'none'}`);
      tally.runs++;
      tally.agree++;
    }, 60_000);
  });
});

describe.runIf(squidBinary())('through a real Squid', () => {
  let squid: RunningSquid | undefined;
  afterAll(async () => {
    await squid?.close();
  });

  it('the second handshake goes the same way, through the same proxy', async () => {
    const server = await startMtlsServe({ cert: files['server.pem']!, key: files['server.key']!, clientCa: files['client-ca.pem']!, mode: 'RequireAndVerifyClientCert' });
    servers.push(server);
    squid = await startSquid({ hosts: { [HOST]: '127.0.0.1' } });
    const before = server.lines.length;
    const { result, report } = await runDoctorJson([`${HOST}:${server.port}`, '--proxy', `http://127.0.0.1:${squid.port}`, '--ca', files['server-ca.pem']!,
      '--decide', 'extra', '--timeout', '8000', ...identity('good')]);
    const t = report.targets[0]! as (typeof report.targets)[0] & { clientCert?: { policy: string | null; withoutCertificate?: { refused: boolean | null } } };
    expect(result.code, JSON.stringify(t.findings)).toBe(0);
    expect(t.clientCert?.policy).toBe('required');
    expect(t.clientCert?.withoutCertificate?.refused).toBe(true);
    expect(await server.linesAfter(before, 2)).toEqual(['handshake peer=CN=alice', expect.stringMatching(/^error http: TLS handshake error .*certificate/)]);
    // Both connections went through Squid.
    const connects = () => squid!.accessLog().split('\n').filter((l) => l.includes(`CONNECT ${HOST}:${server.port}`));
    // Squid logs a tunnel when it closes: give the last one a moment.
    for (let i = 0; i < 20 && connects().length < 2; i++) await new Promise((r) => setTimeout(r, 100));
    expect(connects(), squid.accessLog()).toHaveLength(2);
  }, 60_000);
});
