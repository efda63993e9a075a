// Client certificates (mutual TLS), against real Node TLS servers on 127.0.0.1 that request or
// require one, through the real CLI: no certificate, a valid one, and ones the server refuses
// (wrong issuer, no clientAuth EKU, expired), in TLS 1.3 (the verdict comes after the handshake)
// and TLS 1.2 (the handshake fails); PEM (RSA, EC, key in the certificate file) and PKCS#12.
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handshake, HandshakeFailure } from '../../src/probe/handshake.js';
import { loadClientIdentity, ClientCertError } from '../../src/probe/client-identity.js';
import { runCli, runDoctorJson } from '../helpers/cli.js';
import { issueLeaf, makeCa, type TestCa, type TestLeaf } from '../helpers/pki.js';
import { serveChain, tempDir, type Running } from '../helpers/servers.js';

const HOST = 'mtls.test';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

let dir: string;
let serverCa: TestCa;
let serverLeaf: TestLeaf;
let clientCa: TestCa;
const files: Record<string, string> = {};
const servers: Running[] = [];

/** Write a client leaf as cert (leaf + its CA) and key files; returns their paths. */
function writeClient(name: string, leaf: TestLeaf): { cert: string; key: string } {
  const cert = path.join(dir, `${name}.pem`);
  const key = path.join(dir, `${name}.key`);
  writeFileSync(cert, leaf.chainPem);
  writeFileSync(key, leaf.keyPem);
  return { cert, key };
}

beforeAll(async () => {
  dir = tempDir('ollama-tls-mtls-');
  serverCa = await makeCa('mTLS Test Server CA', 'Server Org');
  serverLeaf = await issueLeaf(serverCa, [HOST]);
  clientCa = await makeCa('Client CA', 'Acme Clients');
  const otherCa = await makeCa('Other CA', 'Elsewhere');
  files.serverCa = path.join(dir, 'server-ca.pem');
  writeFileSync(files.serverCa, serverCa.certPem);

  const good = writeClient('good', await issueLeaf(clientCa, ['alice'], { eku: [CLIENT_AUTH] }));
  const ec = writeClient('ec', await issueLeaf(clientCa, ['erin'], { eku: [CLIENT_AUTH], key: 'ec' }));
  const wrong = writeClient('wrong-issuer', await issueLeaf(otherCa, ['mallory'], { eku: [CLIENT_AUTH] }));
  const noEku = writeClient('no-eku', await issueLeaf(clientCa, ['bob'], { eku: [SERVER_AUTH] }));
  // 200 days ago, valid for 90: expired.
  const expired = writeClient('expired', await issueLeaf(clientCa, ['carol'], { eku: [CLIENT_AUTH], issuedHoursAgo: 200 * 24 }));
  Object.assign(files, {
    goodCert: good.cert, goodKey: good.key, ecCert: ec.cert, ecKey: ec.key, wrongCert: wrong.cert, wrongKey: wrong.key,
    noEkuCert: noEku.cert, noEkuKey: noEku.key, expiredCert: expired.cert, expiredKey: expired.key,
  });
  // The certificate and its key in one PEM file, as curl --cert accepts.
  files.combined = path.join(dir, 'combined.pem');
  writeFileSync(files.combined, readFileSync(good.cert, 'utf8') + readFileSync(good.key, 'utf8'));
  files.p12 = path.join(dir, 'good.p12');
  execFileSync('openssl', ['pkcs12', '-export', '-in', good.cert, '-inkey', good.key, '-out', files.p12, '-passout', 'pass:s3cret'], { stdio: 'ignore' });
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

/** A server that asks for a client certificate issued by clientCa; `require` refuses without a valid one. */
async function mtlsServer(version: 'TLSv1.3' | 'TLSv1.2', require: boolean): Promise<Running> {
  const s = await serveChain(serverLeaf, {
    http: true,
    tls: { ca: clientCa.certPem, requestCert: true, rejectUnauthorized: require, minVersion: version, maxVersion: version },
  });
  servers.push(s);
  return s;
}

function doctor(port: number, extra: string[] = [], target = `${HOST}:${port}`) {
  return runDoctorJson([target, '--resolve', `${HOST}:${port}:127.0.0.1`, '--ca', files.serverCa!, '--decide', 'extra', '--timeout', '8000', ...extra]);
}

const clientCertFinding = (report: Awaited<ReturnType<typeof doctor>>['report']) =>
  report.targets[0]!.findings.find((f) => f.code === 'client-cert-required');

describe.each(['TLSv1.3', 'TLSv1.2'] as const)('a server that requires a client certificate (%s)', (version) => {
  let port: number;
  beforeAll(async () => {
    port = (await mtlsServer(version, true)).port;
  });

  it('without a certificate: client-cert-required, naming the CA it accepts', async () => {
    const { result, report } = await doctor(port);
    expect(result.code).toBe(1);
    expect(report.ok).toBe(false);
    const f = clientCertFinding(report);
    expect(f, JSON.stringify(report.targets[0]!.findings, null, 2)).toBeDefined();
    expect(f!.severity).toBe('error');
    expect(f!.title).toMatch(/requires a client certificate/);
    expect(f!.detail).toMatch(/CN=Client CA/);
    expect(f!.detail).toMatch(/Acme Clients/);
    expect(f!.detail).toMatch(/Ollama itself cannot present a client certificate/);
    expect(f!.detail).toMatch(version === 'TLSv1.3' ? /certificate_required \(116\) right after the handshake/ : /ended the handshake with the alert handshake_failure \(40\)/);
    expect(f!.fixes.map((x) => x.command ?? '')).toContain(`ollama-tls doctor ${HOST}:${port} --cert client.pem --key client.key`);
    // The server sent its own chain before refusing the client: it is still shown and judged.
    const t = report.targets[0]!;
    expect(t.chain[0]!.san).toContain(`DNS:${HOST}`);
    expect(t.verdicts.find((v) => v.view === 'extra')).toMatchObject({ ok: true });
    expect(t.verdicts.find((v) => v.view === 'go')).toMatchObject({ ok: false });
    expect((t as unknown as { clientCert: unknown }).clientCert).toMatchObject({ requested: true, sent: null, authorities: [expect.stringMatching(/CN=Client CA/)], refused: expect.any(String) });
  });

  it('with a valid certificate: no finding, ok', async () => {
    const { result, report } = await doctor(port, ['--cert', files.goodCert!, '--key', files.goodKey!]);
    expect(clientCertFinding(report)).toBeUndefined();
    expect(report.targets[0]!.tls?.protocol).toBe(version);
    expect(result.code, JSON.stringify(report.targets[0]!.findings, null, 2)).toBe(0);
    expect(report.ok).toBe(true);
  });

  it('with a certificate from another issuer: says the issuer is not accepted', async () => {
    const { result, report } = await doctor(port, ['--cert', files.wrongCert!, '--key', files.wrongKey!]);
    expect(result.code).toBe(1);
    const f = clientCertFinding(report);
    expect(f?.severity).toBe('error');
    expect(f!.title).toMatch(/refused the client certificate "CN=mallory"/);
    expect(f!.detail).toMatch(/issued by "O=Elsewhere,CN=Other CA", which is not among the CAs the server accepts/);
    expect(f!.detail).not.toMatch(/expired|clientAuth \(/);
  });

  it('with a certificate without the clientAuth EKU: says so', async () => {
    const { result, report } = await doctor(port, ['--cert', files.noEkuCert!, '--key', files.noEkuKey!]);
    expect(result.code).toBe(1);
    const f = clientCertFinding(report);
    expect(f?.severity).toBe('error');
    expect(f!.detail).toMatch(/allows serverAuth but not clientAuth \(1\.3\.6\.1\.5\.5\.7\.3\.2\)/);
    expect(f!.detail).not.toMatch(/not among the CAs/);
  });

  it('with an expired certificate: says when it expired', async () => {
    const { result, report } = await doctor(port, ['--cert', files.expiredCert!, '--key', files.expiredKey!]);
    expect(result.code).toBe(1);
    const f = clientCertFinding(report);
    expect(f?.severity).toBe('error');
    expect(f!.detail).toMatch(/it expired on \d{4}-\d{2}-\d{2}/);
  });

  it('with an EC key, and with the key inside the certificate file', async () => {
    const ec = await doctor(port, ['--cert', files.ecCert!, '--key', files.ecKey!]);
    expect(clientCertFinding(ec.report)).toBeUndefined();
    expect(ec.result.code).toBe(0);
    const combined = await doctor(port, ['--cert', files.combined!]);
    expect(clientCertFinding(combined.report)).toBeUndefined();
    expect(combined.result.code).toBe(0);
  });

  it('with PKCS#12: the right password works, a wrong one is a usage error', async () => {
    const good = await doctor(port, ['--pkcs12', files.p12!, '--password', 's3cret']);
    expect(clientCertFinding(good.report)).toBeUndefined();
    expect(good.result.code).toBe(0);
    const bad = await runCli(['doctor', `${HOST}:${port}`, '--resolve', `${HOST}:${port}:127.0.0.1`, '--pkcs12', files.p12!, '--password', 'nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--pkcs12 .*good\.p12: wrong --password/);
  });
});

describe.each(['TLSv1.3', 'TLSv1.2'] as const)('a server that requests but does not require one (%s)', (version) => {
  it('notes the policy and stays ok; a certificate sent is accepted silently', async () => {
    const { port } = await mtlsServer(version, false);
    const { result, report } = await doctor(port);
    const f = clientCertFinding(report);
    expect(f?.severity).toBe('info');
    expect(f!.title).toMatch(/asks for a client certificate but does not require one/);
    expect(f!.detail).toMatch(/requests but does not require/);
    expect(f!.detail).toMatch(/CN=Client CA/);
    expect(report.ok).toBe(true);
    expect(result.code).toBe(0);
    const sent = await doctor(port, ['--cert', files.goodCert!, '--key', files.goodKey!]);
    expect(clientCertFinding(sent.report)).toBeUndefined();
    expect(sent.result.code).toBe(0);
  });
});

describe('other paths', () => {
  it('an https:// URL target (its own HTTP checks) still reports the TLS 1.3 refusal', async () => {
    const { port } = await mtlsServer('TLSv1.3', true);
    const { result, report } = await doctor(port, [], `https://${HOST}:${port}/`);
    expect(result.code).toBe(1);
    expect(clientCertFinding(report)?.severity).toBe('error');
  });

  it('a server that does not ask: client-cert-not-requested (a warning), policy none', async () => {
    const s = await serveChain(serverLeaf, { http: true });
    servers.push(s);
    const { result, report } = await doctor(s.port, ['--cert', files.goodCert!, '--key', files.goodKey!]);
    expect(clientCertFinding(report)).toBeUndefined();
    const f = report.targets[0]!.findings.find((x) => x.code === 'client-cert-not-requested');
    expect(f?.severity).toBe('warning');
    expect(f!.detail).toMatch(/X-Forwarded-Tls-Client-Cert/);
    expect(f!.detail).toMatch(/tls\.RequestClientCert or stronger/);
    expect((report.targets[0] as unknown as { clientCert: unknown }).clientCert).toMatchObject({ requested: false, sent: null, policy: 'none' });
    expect(result.code).toBe(0);
  });

  it('records the CertificateRequest and what was sent (TLS 1.3 and a TLS 1.2 failure)', async () => {
    const identity = await loadClientIdentity({ cert: files.goodCert!, key: files.goodKey! });
    const tls13 = await mtlsServer('TLSv1.3', true);
    const socket = net.connect(tls13.port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    const hs = await handshake({ socket, host: HOST, timeoutMs: 5000, clientIdentity: identity });
    expect(hs.certificateRequest?.authorities).toEqual(['O=Acme Clients,CN=Client CA']);
    expect(hs.clientCertificateSent).toBe(true);
    hs.tlsSocket.destroy();

    const tls12 = await mtlsServer('TLSv1.2', true);
    const socket2 = net.connect(tls12.port, '127.0.0.1');
    await new Promise((r) => socket2.once('connect', r));
    const failure = await handshake({ socket: socket2, host: HOST, timeoutMs: 5000 }).then(() => undefined, (e: unknown) => e);
    expect(failure).toBeInstanceOf(HandshakeFailure);
    expect((failure as HandshakeFailure).certificateRequest?.authorities).toEqual(['O=Acme Clients,CN=Client CA']);
    expect((failure as HandshakeFailure).clientCertificateSent).toBe(false);
    expect((failure as HandshakeFailure).alert?.description).toBe(40);
  });

  it('loads RSA and EC PEM keys and PKCS#12, and refuses what does not fit', async () => {
    expect((await loadClientIdentity({ cert: files.goodCert!, key: files.goodKey! })).certificate.commonName).toBe('alice');
    expect((await loadClientIdentity({ cert: files.ecCert!, key: files.ecKey! })).certificate.publicKey.type).toBe('EC');
    const p12 = await loadClientIdentity({ pkcs12: files.p12!, password: 's3cret' });
    expect(p12.certificate.commonName).toBe('alice');
    expect(p12.tls.pfx).toBeDefined();
    await expect(loadClientIdentity({ cert: files.goodCert!, key: files.ecKey! })).rejects.toThrow(/does not belong to the certificate/);
    await expect(loadClientIdentity({ cert: files.goodCert! })).rejects.toThrow(/holds no private key: give it with --key/);
    await expect(loadClientIdentity({ cert: path.join(dir, 'missing.pem'), key: files.goodKey! })).rejects.toThrow(/no such file/);
    await expect(loadClientIdentity({ pkcs12: files.p12!, password: 'nope' })).rejects.toThrow(ClientCertError);
    await expect(loadClientIdentity({ pkcs12: files.p12! })).rejects.toThrow(/password-protected/);
    await expect(loadClientIdentity({ cert: files.goodKey!, key: files.goodKey! })).rejects.toThrow(/no certificate/);
  });

  it.each([
    ['--pkcs12 with --cert', ['--pkcs12', 'x.p12', '--cert', 'y.pem'], /--pkcs12 replaces --cert and --key/],
    ['--key without --cert', ['--key', 'k.pem'], /--key needs --cert/],
    ['--cert without a key', ['--cert', 'CERT'], /holds no private key: give it with --key/],
    ['a key that is not the certificate\'s', ['--cert', 'CERT', '--key', 'ECKEY'], /does not belong to the certificate/],
  ])('usage error (exit 2): %s', async (_name, args, message) => {
    const real = args.map((a) => (a === 'CERT' ? files.goodCert! : a === 'ECKEY' ? files.ecKey! : a));
    const r = await runCli(['doctor', 'example.test:443', ...real]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});
