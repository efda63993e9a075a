// Client-certificate policy against nginx (Debian's 1.22): `ssl_verify_client on`, `optional` and
// `optional_no_ca`, each with a good certificate, one from another issuer, and none. nginx finishes
// the handshake in every case and refuses at the HTTP layer (400), so the policy shows there. Held
// against nginx's own answer ($ssl_client_verify) and what curl gets.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDoctorJson } from '../helpers/cli.js';
import { haveNginx, startNginx, type RunningNginx } from '../helpers/nginx.js';
import { issueLeaf, makeCa } from '../helpers/pki.js';
import { tempDir } from '../helpers/servers.js';

const HOST = 'mtls-nginx.test';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const MODES = ['on', 'optional', 'optional_no_ca'] as const;
type Mode = (typeof MODES)[number];
type Case = 'none' | 'good' | 'other';

/** nginx's documented behaviour (ngx_http_ssl_module ssl_verify_client). */
const EXPECT: Record<Mode, { policy: 'optional' | 'required'; refusesOther: boolean }> = {
  on: { policy: 'required', refusesOther: true },
  optional: { policy: 'optional', refusesOther: true },
  optional_no_ca: { policy: 'optional', refusesOther: false },
};

const files: Record<string, string> = {};
let nginx: RunningNginx<Mode> | undefined;

beforeAll(async () => {
  if (!haveNginx()) return;
  const dir = tempDir('ollama-tls-mtls-nginx-');
  const clientCa = await makeCa('Nginx Client CA', 'Acme Clients');
  const otherCa = await makeCa('Stranger CA', 'Elsewhere');
  const good = await issueLeaf(clientCa, ['alice'], { eku: [CLIENT_AUTH] });
  const other = await issueLeaf(otherCa, ['mallory'], { eku: [CLIENT_AUTH] });
  for (const [name, text] of [['client-ca.pem', clientCa.certPem], ['good.pem', good.chainPem], ['good.key', good.keyPem], ['other.pem', other.chainPem], ['other.key', other.keyPem]] as const) {
    files[name] = path.join(dir, name);
    writeFileSync(files[name]!, text);
  }
  nginx = await startNginx({
    ports: MODES, hosts: [HOST],
    config: ({ port }) => MODES.map((m) => [
      'server {',
      `  listen 127.0.0.1:${port[m]} ssl;`,
      `  ssl_client_certificate ${files['client-ca.pem']};`,
      `  ssl_verify_client ${m};`,
      '  location / { return 200 "verify=$ssl_client_verify subject=$ssl_client_s_dn\\n"; }',
      '}',
    ].join('\n')).join('\n'),
  });
  files['server-ca.pem'] = path.join(dir, 'server-ca.pem');
  writeFileSync(files['server-ca.pem'], nginx.ca.certPem);
}, 60_000);

afterAll(async () => {
  await nginx?.close();
});

function curl(port: number, c: Case): Promise<{ code: number; status: string; body: string }> {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', '--max-time', '10', '-w', '\n%{http_code}', '--cacert', files['server-ca.pem']!, '--resolve', `${HOST}:${port}:127.0.0.1`,
      ...(c === 'none' ? [] : ['--cert', files[`${c}.pem`]!, '--key', files[`${c}.key`]!]), `https://${HOST}:${port}/`],
    (err, stdout) => {
      const lines = stdout.trim().split('\n');
      resolve({ code: err ? 1 : 0, status: lines.pop() ?? '', body: lines.join('\n') });
    });
  });
}

describe.runIf(haveNginx()).each(MODES)('nginx ssl_verify_client %s', (mode) => {
  it.each(['none', 'good', 'other'] as const)('client certificate: %s', async (c) => {
    const port = nginx!.ports[mode];
    const { result, report } = await runDoctorJson([`${HOST}:${port}`, '--resolve', `${HOST}:${port}:127.0.0.1`, '--ca', files['server-ca.pem']!,
      '--decide', 'extra', '--timeout', '8000', ...(c === 'none' ? [] : ['--cert', files[`${c}.pem`]!, '--key', files[`${c}.key`]!])]);
    const t = report.targets[0]! as (typeof report.targets)[0] & { clientCert?: { policy: string | null; refused: string | null; sent: string | null } };
    const why = JSON.stringify({ clientCert: t.clientCert, findings: t.findings.map((f) => [f.code, f.severity, f.title]) }, null, 2);
    const e = EXPECT[mode];
    const refused = (c === 'none' && e.policy === 'required') || (c === 'other' && e.refusesOther);

    // nginx's own answer, through curl: 400 when it refuses, else its view of the certificate.
    const viaCurl = await curl(port, c);
    expect(viaCurl.status, viaCurl.body).toBe(refused ? '400' : '200');
    if (!refused) expect(viaCurl.body).toMatch(c === 'none' ? /^verify=NONE / : c === 'good' ? /^verify=SUCCESS subject=CN=alice/ : /^verify=FAILED:.* subject=CN=mallory/);

    expect(t.clientCert?.policy, why).toBe(e.policy);
    expect(Boolean(t.clientCert?.refused), why).toBe(refused);
    const codes = t.findings.filter((f) => f.code.startsWith('client-cert')).map((f) => `${f.code}:${f.severity}`).sort();
    const want = [
      ...(refused ? ['client-cert-required:error'] : []),
      ...(c === 'none' && !refused ? ['client-cert-required:info'] : []),
      ...(c === 'other' ? ['client-cert-issuer-not-accepted:warning'] : []),
    ].sort();
    expect(codes, why).toEqual(want);
    expect(result.code, why).toBe(refused ? 1 : 0);
    if (e.policy === 'optional') {
      for (const f of t.findings) expect(`${f.title} ${f.detail}`, f.code).not.toMatch(/\brequires (a|one)\b|its policy requires/);
    }
  }, 60_000);
});
