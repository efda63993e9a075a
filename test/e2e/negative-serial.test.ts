// A CA with a negative serial number: OpenSSL (curl) accepts it, Go 1.23+ refuses to parse it
// and, in its root store, skips it without a word. Tools built on node-forge (http-mitm-proxy
// among them) mint such CAs half the time. Held against a real Go client built as Ollama is.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { goClientBinary, goSays, runDoctorJson } from '../helpers/cli.js';
import { curlSays } from '../helpers/clients.js';
import { issueLeaf, makeCa, type TestCa } from '../helpers/pki.js';
import { serveChain, tempDir, type Running } from '../helpers/servers.js';

const HOST = 'models.corp.example';
const go = goClientBinary('tlsclient');

let ca: TestCa;
let leafOnly: Running;
let withRoot: Running;
let caFile: string;
let emptyDir: string;

beforeAll(async () => {
  ca = await makeCa('Corp Inspection CA', 'Example Corp', { negativeSerial: true });
  const leaf = await issueLeaf(ca, [HOST]);
  const leafPem = leaf.chainPem.slice(0, leaf.chainPem.indexOf('-----END CERTIFICATE-----') + 26);
  leafOnly = await serveChain({ keyPem: leaf.keyPem, chainPem: leafPem });
  withRoot = await serveChain(leaf);
  const dir = tempDir();
  caFile = path.join(dir, 'corp-ca.pem');
  writeFileSync(caFile, ca.certPem);
  emptyDir = tempDir();
});

afterAll(async () => {
  await leafOnly?.close();
  await withRoot?.close();
});

const env = (extra: Record<string, string> = {}) => ({ SSL_CERT_FILE: caFile, SSL_CERT_DIR: emptyDir, ...extra });
const doctor = (server: Running, extra: Record<string, string> = {}) =>
  runDoctorJson([`${HOST}:${server.port}`, '--resolve', `${HOST}:${server.port}:127.0.0.1`], env(extra));

describe('a trusted CA with a negative serial number', () => {
  it('is ignored by Go: unknown authority, as real Go says, and the doctor names the reason', async () => {
    const { result, report } = await doctor(leafOnly);
    expect(result.code).toBe(1);
    const verdict = report.targets[0]!.verdicts.find((v) => v.view === 'go')!;
    expect(verdict).toMatchObject({ ok: false, code: 'unknown-authority' });
    if (go) expect(verdict.message).toBe(await goSays(go, `127.0.0.1:${leafOnly.port}`, HOST, env()));
    // OpenSSL does not mind: curl trusting the same CA file connects.
    expect(await curlSays({ port: leafOnly.port, name: HOST, caPem: ca.certPem })).toBeUndefined();
    const f = report.targets[0]!.findings.find((x) => x.code === 'malformed-certificate')!;
    expect(f, JSON.stringify(report.targets[0]!.findings.map((x) => x.title))).toBeDefined();
    expect(f.severity).toBe('error');
    expect(f.title).toBe('Go ignores "Corp Inspection CA" in its store: x509: negative serial number');
    expect(f.fixes.map((x) => x.command ?? '').join('\n')).toContain('GODEBUG=x509negativeserial=1');
  });

  it('is accepted again with GODEBUG=x509negativeserial=1, by real Go and by the go view', async () => {
    const { result, report } = await doctor(leafOnly, { GODEBUG: 'x509negativeserial=1' });
    expect(result.code, result.stdout).toBe(0);
    expect(report.targets[0]!.findings.map((x) => x.code)).not.toContain('malformed-certificate');
    if (go) expect(await goSays(go, `127.0.0.1:${leafOnly.port}`, HOST, env({ GODEBUG: 'x509negativeserial=1' }))).toBe('ok');
  });

  it('sent in the chain, it stops Go before any trust decision, as real Go says', async () => {
    const { result, report } = await doctor(withRoot);
    expect(result.code).toBe(1);
    const verdict = report.targets[0]!.verdicts.find((v) => v.view === 'go')!;
    expect(verdict).toMatchObject({ ok: false, code: 'malformed-certificate', message: 'tls: failed to parse certificate from server: x509: negative serial number' });
    if (go) expect(verdict.message).toBe(await goSays(go, `127.0.0.1:${withRoot.port}`, HOST, env()));
  });
});
