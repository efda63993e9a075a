// Certificate lists between OpenSSL's 100 KiB and Go's 256 KiB, served by a real Go server
// (test/go/mtlsserve.go, no client authentication) with a leaf padded by thousands of SANs.
// Node's own handshake stops at OpenSSL's limit; the doctor reads the chain off the wire and must
// reach the verdict the real Go client (Ollama's runtime) reaches: ok up to 256 KiB, refused above.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { goClientBinary, goSays, runDoctorJson } from '../helpers/cli.js';
import { startMtlsServe, type GoServer } from '../helpers/go-servers.js';
import { issueLeaf, makeCa } from '../helpers/pki.js';
import { tempDir } from '../helpers/servers.js';

const HOST = 'big-chain.test';
const go = goClientBinary('tlsclient');

/** Sizes of the leaf's padding, in KiB of SANs: under OpenSSL's limit, between the two, over Go's. */
const SIZES = { small: 90, between: 150, over: 300 } as const;
type Size = keyof typeof SIZES;

const files: Record<string, string> = {};
const servers: GoServer[] = [];

beforeAll(async () => {
  const dir = tempDir('ollama-tls-big-chain-');
  const ca = await makeCa('Big Chain Test CA', 'Padding Org');
  files.ca = path.join(dir, 'ca.pem');
  writeFileSync(files.ca, ca.certPem);
  for (const [size, kib] of Object.entries(SIZES)) {
    // "h00001.padding.big-chain.test" is 29 bytes, 31 with its SAN tag and length.
    const names = Array.from({ length: Math.ceil((kib * 1024) / 31) }, (_, i) => `h${String(i).padStart(5, '0')}.padding.${HOST}`);
    const leaf = await issueLeaf(ca, [HOST, ...names]);
    files[`${size}.pem`] = path.join(dir, `${size}.pem`);
    files[`${size}.key`] = path.join(dir, `${size}.key`);
    writeFileSync(files[`${size}.pem`]!, leaf.chainPem);
    writeFileSync(files[`${size}.key`]!, leaf.keyPem);
  }
}, 120_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

function curl(port: number): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', '--max-time', '10', '--cacert', files.ca!, '--resolve', `${HOST}:${port}:127.0.0.1`, `https://${HOST}:${port}/`],
      (err, _stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stderr }));
  });
}

describe.runIf(go).each(['1.3', '1.2'] as const)('a Go server sending a large certificate list, TLS %s', (version) => {
  it.each(Object.keys(SIZES) as Size[])('%s: the doctor agrees with the Go client', async (size) => {
    const server = await startMtlsServe({ cert: files[`${size}.pem`]!, key: files[`${size}.key`]!, mode: 'NoClientCert', maxVersion: version });
    servers.push(server);
    const env = { SSL_CERT_FILE: files.ca!, SSL_CERT_DIR: '/nonexistent' };
    const goSaid = await goSays(go!, `127.0.0.1:${server.port}`, HOST, env);
    const t0 = performance.now();
    const { result, report } = await runDoctorJson([`${HOST}:${server.port}`, '--resolve', `${HOST}:${server.port}:127.0.0.1`, '--timeout', '8000'], env);
    const ms = Math.round(performance.now() - t0);
    const t = report.targets[0]!;
    const why = JSON.stringify({ goSaid, findings: t.findings.map((f) => [f.code, f.severity, f.title]), verdicts: t.verdicts }, null, 2);
    const finding = t.findings.find((f) => f.code === ('certificate-list-too-large' as string));

    if (size === 'over') {
      // Go refuses the list itself; so does the doctor, in Go's words.
      expect(goSaid).toMatch(/tls: handshake message of length \d+ bytes exceeds maximum of 262144 bytes/);
      expect(result.code, why).toBe(1);
      expect(finding?.severity, why).toBe('error');
      expect(finding!.detail).toContain(goSaid.match(/handshake message of length \d+ bytes exceeds maximum of 262144 bytes/)![0]);
    } else {
      // Go reads it and trusts it: the doctor's verdict is the same, from the chain read off the wire.
      expect(goSaid).toBe('ok');
      expect(result.code, why).toBe(0);
      expect(report.ok).toBe(true);
      expect(t.verdicts.find((v) => v.view === 'go')?.ok, why).toBe(true);
      expect(t.chain[0]!.san).toContain(`DNS:${HOST}`);
      if (size === 'between') {
        expect(finding?.severity, why).toBe('info');
        expect(finding!.detail).toMatch(/Node's and OpenSSL's, not Ollama's/);
        // The limit is real: curl (OpenSSL) cannot read this list.
        const c = await curl(server.port);
        expect(c.code).not.toBe(0);
        expect(c.stderr).toMatch(/excessive message size/);
      } else {
        expect(finding, why).toBeUndefined();
      }
    }
    console.log(`big-chain TLS ${version} ${size} (${SIZES[size]} KiB of SANs): Go "${goSaid.slice(0, 80)}", doctor exit ${result.code} in ${ms} ms`);
  }, 60_000);
});
