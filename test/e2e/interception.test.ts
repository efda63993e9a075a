// Interception heuristics, end to end: chains shaped like the ones inspection products mint,
// served by real TLS servers on loopback under public and private host names, judged by the
// built CLI. (Real intercepting proxies, Squid and http-mitm-proxy, are in proxy.test.ts.)
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, runDoctorJson, type DoctorJson } from '../helpers/cli.js';
import { issueLeaf, makeCa, type TestCa } from '../helpers/pki.js';
import { serveChain, storeTree, tempDir, type Running } from '../helpers/servers.js';

type Finding = DoctorJson['targets'][number]['findings'][number];
const interception = (r: DoctorJson): Finding | undefined => r.targets[0]!.findings.find((f) => f.code.startsWith('interception-'));

/** A server's chain minus its last certificate (the root): most servers, and appliances, leave it out. */
const withoutRoot = (chainPem: string) => chainPem.slice(0, chainPem.lastIndexOf('-----BEGIN CERTIFICATE-----'));

const servers: Running[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

/** Serve `chainPem` for `host` and run the doctor against it (by --resolve, so nothing leaves loopback). */
async function doctorFor(host: string, leaf: { chainPem: string; keyPem: string }, args: string[] = [], env: Record<string, string> = {}) {
  const server = await serveChain(leaf);
  servers.push(server);
  const target = `${host}:${server.port}`;
  return { target, ...(await runDoctorJson([target, '--resolve', `${target}:127.0.0.1`, ...args], env)) };
}

describe('a product named in the chain', () => {
  let root: TestCa;
  let intermediate: TestCa;
  beforeAll(async () => {
    root = await makeCa('Zscaler Root CA', 'Zscaler Inc.');
    intermediate = await makeCa('Zscaler Intermediate Root CA (zscaler.net)', 'Zscaler Inc.', { issuer: root });
  });

  it('confirms interception of registry.ollama.ai and names Zscaler; only the intermediate was sent', async () => {
    const leaf = await issueLeaf(intermediate, ['registry.ollama.ai'], { issuedHoursAgo: 3 });
    const { result, report } = await doctorFor('registry.ollama.ai', { chainPem: withoutRoot(leaf.chainPem), keyPem: leaf.keyPem });
    expect(result.code).toBe(1);
    const f = interception(report)!;
    expect(f).toMatchObject({ code: 'interception-confirmed', severity: 'error' });
    expect(f.title).toContain('Zscaler');
    const evidence = f.evidence.join('\n');
    expect(evidence).toContain('the chain names Zscaler');
    expect(evidence).toContain('registry.ollama.ai is always served with a publicly trusted certificate');
    expect(evidence).toContain('no Certificate Transparency timestamps');
    expect(evidence).toMatch(/issued 3 hour\(s\) ago: minted on the fly/);
    // The root was not sent and is not installed: the intermediate is what there is, and the root comes from IT.
    expect(f.detail).toContain('Only the intermediate "Zscaler Intermediate Root CA (zscaler.net)"');
    expect(f.fixes.map((x) => x.title).join('\n')).toMatch(/Confirm with your IT team that SHA-256 [0-9a-f]{64}/);
  });

  it('when the root is installed in the OS store, names it there and says Ollama will work', async () => {
    const leaf = await issueLeaf(intermediate, ['registry.ollama.ai']);
    const tree = storeTree(root.certPem);
    const { result, report } = await doctorFor('registry.ollama.ai', { chainPem: withoutRoot(leaf.chainPem), keyPem: leaf.keyPem }, ['--root', tree]);
    expect(result.code, result.stdout).toBe(0);
    const f = interception(report)!;
    expect(f.severity).toBe('info');
    expect(f.title).toContain('trusts its CA');
    expect(f.detail).toContain('Ollama will work');
    expect(f.detail).toContain('Its root, "Zscaler Root CA", is already installed here');
  });
});

describe('no product name: the signals are weighed', () => {
  let corpRoot: TestCa;
  beforeAll(async () => {
    corpRoot = await makeCa('Example Corp Root', 'Example Corp');
  });

  it('a private root sent for a public host name: suspected, with the evidence listed', async () => {
    const { result, report } = await doctorFor('downloads.acme-models.com', await issueLeaf(corpRoot, ['downloads.acme-models.com']));
    expect(result.code).toBe(1);
    const f = interception(report)!;
    expect(f).toMatchObject({ code: 'interception-suspected', severity: 'error' });
    expect(f.title).toContain('looks intercepted by a TLS-inspecting proxy or security product');
    const evidence = f.evidence.join('\n');
    expect(evidence).toContain("its chain does not lead to a root in the public web PKI (Mozilla's list)");
    expect(evidence).toContain('a self-signed root, "Example Corp Root", was sent with the chain');
    expect(f.detail).toContain(`The root to trust is "Example Corp Root" (sent with the chain)`);
  });

  it('the same private PKI on an internal name is just a private CA, not interception', async () => {
    const { report } = await doctorFor('ollama.corp.internal', await issueLeaf(corpRoot, ['ollama.corp.internal']));
    expect(interception(report)).toBeUndefined();
    expect(report.targets[0]!.findings.map((f) => f.code)).toContain('untrusted-root');
  });

  it('an appliance-style name is evidence', async () => {
    const decorated = await makeCa('Example Corp SSL Inspection CA', 'Example Corp');
    const { report } = await doctorFor('downloads.acme-models.com', await issueLeaf(decorated, ['downloads.acme-models.com']));
    expect(interception(report)!.evidence.join('\n')).toContain('a certificate name reads like an inspection appliance: "Example Corp SSL Inspection CA"');
  });
});

describe('--save-ca', () => {
  it('writes the root to trust, with its fingerprint, and the report still comes first', async () => {
    const root = await makeCa('Netskope Root CA', 'Netskope Inc');
    const dir = tempDir();
    const file = path.join(dir, 'corp-ca.pem');
    const leaf = await issueLeaf(root, ['registry.ollama.ai']);
    const server = await serveChain(leaf);
    servers.push(server);
    const target = `registry.ollama.ai:${server.port}`;
    const r = await runCli(['doctor', target, '--resolve', `${target}:127.0.0.1`, '--save-ca', file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('intercepted by Netskope');
    const saved = readFileSync(file, 'utf8');
    expect(saved).toContain(root.certPem.trim());
    expect(saved.match(/BEGIN CERTIFICATE/g)).toHaveLength(1);
    expect(r.stderr).toMatch(/Saved "Netskope Root CA" to .*; SHA-256 [0-9a-f]{64}: confirm it with your IT team/);
  });

  it('with no interception there is nothing to save: the report, then exit 2 saying so', async () => {
    const root = await makeCa('Example Internal Root', 'Example Corp');
    const caFile = path.join(tempDir(), 'ca.pem');
    writeFileSync(caFile, root.certPem);
    const leaf = await issueLeaf(root, ['ollama.corp.internal']);
    const server = await serveChain(leaf);
    servers.push(server);
    const target = `ollama.corp.internal:${server.port}`;
    const file = path.join(tempDir(), 'none.pem');
    const r = await runCli(['doctor', target, '--resolve', `${target}:127.0.0.1`, '--save-ca', file], { env: { SSL_CERT_FILE: caFile } });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(target);
    expect(r.stderr).toContain('no interception CA was found, nothing to save');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
