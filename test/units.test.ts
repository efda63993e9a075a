// The parts under the CLI, each against an independent reference: Node's native certificate
// parser, Go's documented store rules, and plain tables of inputs.
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { runDoctor } from '../src/diagnose/doctor.js';
import { RootFs } from '../src/platform/rootfs.js';
import { parseOsRelease } from '../src/platform/os-release.js';
import { parseResolveOption } from '../src/probe/resolve.js';
import { parseTarget } from '../src/probe/target.js';
import { goMatchHostnames } from '../src/trust/go-verify.js';
import { loadUnixRoots } from '../src/trust/stores.js';
import { parseIp } from '../src/platform/ip.js';
import { certificatesFromPem } from '../src/x509/load.js';
import { formatName, type Certificate } from '../src/x509/certificate.js';
import { loadScenario, SCENARIOS, serveChain, tempDir } from './helpers/servers.js';

function everyTestCertificate(): Certificate[] {
  const fromFixtures = readdirSync(SCENARIOS, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => certificatesFromPem(readFileSync(path.join(SCENARIOS, d.name, 'chain.pem'), 'utf8') + readFileSync(path.join(SCENARIOS, d.name, 'ca.pem'), 'utf8')).certificates);
  return [...fromFixtures, ...certificatesFromPem(tls.rootCertificates.join('\n')).certificates];
}

describe('the DER reader agrees with Node\'s native parser', () => {
  const certs = everyTestCertificate();

  it(`on all ${certs.length} fixture and bundled root certificates`, () => {
    expect(certs.length).toBeGreaterThan(150);
    for (const c of certs) {
      const n = new X509Certificate(c.der);
      const where = `${c.commonName ?? formatName(c.subject)}`;
      expect(c.sha256, where).toBe(n.fingerprint256.replace(/:/g, '').toLowerCase());
      expect(c.serialHex.toUpperCase().replace(/^0+(?=.)/, ''), where).toBe(n.serialNumber.replace(/^0+(?=.)/, ''));
      expect(c.notBefore.getTime(), where).toBe(new Date(n.validFrom).getTime());
      expect(c.notAfter.getTime(), where).toBe(new Date(n.validTo).getTime());
      // Node prints subject attributes one per line, in encoding order.
      const nodeSubject = n.subject.split('\n').map((l) => l.split('=')[0]);
      expect(c.subject.rdns.flat().map((a) => a.type), where).toEqual(nodeSubject);
      const details = n.publicKey.asymmetricKeyDetails ?? {};
      if (c.publicKey.type === 'RSA') expect(c.publicKey.bits, where).toBe(details.modulusLength);
      if (c.publicKey.type === 'EC') expect(c.publicKey.curve, where).toBe({ prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' }[details.namedCurve as string]);
      // Node writes IPv6 SANs uncompressed; compare addresses as bytes.
      const canon = (x: string) => (x.startsWith('IP Address:') ? `IP:${parseIp(x.slice(11))!.toString('hex')}` : x);
      const nodeSan = (n.subjectAltName ?? '').split(', ').filter((x) => x.startsWith('DNS:') || x.startsWith('IP Address:')).map(canon);
      const ours = [...(c.san?.dns ?? []).map((d) => `DNS:${d}`), ...(c.san?.ip ?? []).map((d) => `IP:${parseIp(d)!.toString('hex')}`)];
      expect(ours.sort(), where).toEqual(nodeSan.sort());
      // Node's "ca" needs CA:TRUE and, when key usage is present, keyCertSign.
      expect(c.isCA && (!c.keyUsage || c.keyUsage.has('keyCertSign')), where).toBe(n.ca);
      if (c.selfSigned && c.subjectRaw.equals(c.issuerRaw) && n.checkIssued(n)) expect(c.signedBy(c), where).toBe(true);
    }
  });

  it('finds the facts the fixtures were built with', () => {
    const chain = (name: string) => certificatesFromPem(loadScenario(name).chainPem).certificates;
    expect(chain('sha1-signed')[0]!.signature.name).toBe('sha1WithRSAEncryption');
    expect(chain('sha1-signed')[0]!.signature.goName).toBe('SHA1-RSA');
    expect(chain('rsa-1024')[0]!.publicKey.bits).toBe(1024);
    expect(chain('cn-only')[0]!.san).toBeUndefined();
    expect(chain('wrong-eku')[0]!.extKeyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(chain('path-length')[2]!.basicConstraints).toMatchObject({ ca: true, pathLen: 0 });
    expect(chain('valid-ip')[0]!.san!.ip).toEqual(['127.0.0.1', '::1']);
    expect(chain('not-yet-valid')[0]!.notBefore.toISOString()).toBe('2099-01-01T00:00:00.000Z');
  });
});

describe('targets', () => {
  const ok: [string, { host: string; port: number; label: string; path?: string }][] = [
    ['registry.ollama.ai', { host: 'registry.ollama.ai', port: 443, label: 'registry.ollama.ai:443' }],
    ['Registry.Ollama.AI.:8443', { host: 'registry.ollama.ai', port: 8443, label: 'registry.ollama.ai:8443' }],
    ['10.0.0.5:11434', { host: '10.0.0.5', port: 11434, label: '10.0.0.5:11434' }],
    ['[::1]:8443', { host: '::1', port: 8443, label: '[::1]:8443' }],
    ['[2001:db8::1]', { host: '2001:db8::1', port: 443, label: '[2001:db8::1]:443' }],
    ['2001:db8::1', { host: '2001:db8::1', port: 443, label: '[2001:db8::1]:443' }],
    ['https://ollama.example.com/api/tags?x=1', { host: 'ollama.example.com', port: 443, label: 'ollama.example.com:443', path: '/api/tags?x=1' }],
    ['https://[::1]:9443/', { host: '::1', port: 9443, label: '[::1]:9443' }],
  ];
  for (const [input, want] of ok) {
    it(`parses ${input}`, () => {
      expect(parseTarget(input)).toMatchObject(want);
    });
  }
  for (const bad of ['', 'http://x', 'host:0', 'host:abc', '[1.2.3.4]:443', 'a b', 'host/path']) {
    it(`refuses ${JSON.stringify(bad)}`, () => {
      expect(() => parseTarget(bad)).toThrow();
    });
  }
});

describe('--resolve', () => {
  it('reads curl\'s HOST:PORT:ADDR forms', () => {
    expect(parseResolveOption('Example.com:443:127.0.0.1')).toEqual({ host: 'example.com', port: 443, addresses: ['127.0.0.1'] });
    expect(parseResolveOption('example.com:443:[::1],127.0.0.2')).toEqual({ host: 'example.com', port: 443, addresses: ['::1', '127.0.0.2'] });
    expect(parseResolveOption('*:*:10.0.0.1')).toEqual({ host: '*', port: '*', addresses: ['10.0.0.1'] });
    expect(() => parseResolveOption('example.com:443')).toThrow();
  });
});

describe('Go\'s Linux root loading', () => {
  const [a, b, c] = ['valid-rsa', 'valid-ecdsa', 'cross-signed'].map((n) => loadScenario(n).caPem);

  function tree(files: Record<string, string>, links: Record<string, string> = {}): RootFs {
    const root = tempDir('ollama-tls-go-roots-');
    for (const [p, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
      writeFileSync(path.join(root, p), text);
    }
    for (const [p, target] of Object.entries(links)) symlinkSync(target, path.join(root, p));
    return new RootFs(root);
  }
  const subjects = async (fs: RootFs, env: Record<string, string> = {}) =>
    (await loadUnixRoots(fs, env)).certificates.map((x) => x.commonName).sort();

  it('reads only the first bundle in its list, then every directory', async () => {
    const fs = tree({ '/etc/pki/tls/certs/ca-bundle.crt': a!, '/etc/ssl/cert.pem': b!, '/etc/ssl/certs/extra.pem': c! });
    // No Debian bundle, so the RHEL one is first; Alpine's is never read; both directories are.
    expect(await subjects(fs)).toEqual(['ollama-tls Old Root CA', 'ollama-tls Test Root CA']);
  });

  it('SSL_CERT_FILE replaces the bundle list and SSL_CERT_DIR (colon-separated) the directories', async () => {
    const fs = tree({ '/etc/ssl/certs/ca-certificates.crt': a!, '/opt/one.pem': b!, '/d1/x.pem': c!, '/d2/y.pem': a! });
    expect(await subjects(fs, { SSL_CERT_FILE: '/opt/one.pem', SSL_CERT_DIR: '/d1:/d2' })).toEqual(['ollama-tls Old Root CA', 'ollama-tls Test EC Root CA', 'ollama-tls Test Root CA']);
    expect(await subjects(fs, { SSL_CERT_FILE: '/opt/missing.pem', SSL_CERT_DIR: '/d1' })).toEqual(['ollama-tls Old Root CA']);
  });

  it('skips same-directory symlinks but follows links that leave the directory, inside the tree', async () => {
    const fs = tree({ '/usr/share/ca/x.crt': a!, '/etc/ssl/certs/real.pem': b! }, { '/etc/ssl/certs/abcd1234.0': 'real.pem', '/etc/ssl/certs/x.pem': '/usr/share/ca/x.crt' });
    const store = await loadUnixRoots(fs, {});
    expect(store.certificates.map((x) => x.commonName).sort()).toEqual(['ollama-tls Test EC Root CA', 'ollama-tls Test Root CA']);
    expect(store.sources.find((s) => s.path === '/etc/ssl/certs')!.note).toContain('1 same-directory links skipped');
  });

  it('ignores "TRUSTED CERTIFICATE" blocks, as AppendCertsFromPEM does, where OpenSSL reads them', async () => {
    const trusted = a!.replace(/CERTIFICATE-----/g, 'TRUSTED CERTIFICATE-----');
    const fs = tree({ '/etc/ssl/certs/ca-certificates.crt': trusted });
    expect((await loadUnixRoots(fs, {}, 'go')).certificates).toEqual([]);
    expect((await loadUnixRoots(fs, {}, 'openssl')).certificates.map((x) => x.commonName)).toEqual(['ollama-tls Test Root CA']);
  });
});

describe('host names as Go matches them', () => {
  it.each([
    ['*.example.com', 'a.example.com', true],
    ['*.example.com', 'example.com', false],
    ['*.example.com', 'a.b.example.com', false],
    ['Example.COM', 'example.com.', true],
    ['a*.example.com', 'ab.example.com', false],
  ])('%s vs %s', (pattern, host, want) => {
    expect(goMatchHostnames(pattern, host)).toBe(want);
  });
});

describe('os-release', () => {
  it.each([
    ['ID=ubuntu\nID_LIKE=debian', 'debian'],
    ['ID="rocky"\nID_LIKE="rhel centos fedora"', 'rhel'],
    ['ID=amzn\nID_LIKE="centos rhel fedora"', 'rhel'],
    ['ID="opensuse-tumbleweed"\nID_LIKE="opensuse suse"', 'suse'],
    ['ID=alpine', 'alpine'],
    ['ID=arch', 'arch'],
    ['ID=nixos', 'unknown'],
  ])('%s', (text, family) => {
    expect(parseOsRelease(text).family).toBe(family);
  });
});

describe('the clock', () => {
  it('calls a clock earlier than the newest bundled root wrong, and says so with not-yet-valid', async () => {
    const s = loadScenario('valid-rsa');
    const server = await serveChain(s);
    try {
      const root = tempDir();
      writeFileSync(path.join(root, 'ca.pem'), s.caPem);
      const run = await runDoctor({
        targets: [parseTarget(`${s.host}:${server.port}`)], timeoutMs: 5000,
        overrides: [{ host: s.host, port: server.port, addresses: ['127.0.0.1'] }], extraCaFiles: [], deciding: ['go'],
        fs: new RootFs(root), env: { SSL_CERT_FILE: '/ca.pem' }, platform: 'linux', version: 'test',
        now: new Date('2019-06-01T00:00:00Z'),
      });
      const t = run.report.targets[0]!;
      expect(t.verdicts.find((v) => v.view === 'go')!.code).toBe('not-yet-valid');
      const skew = t.findings.find((f) => f.code === 'clock-skew');
      expect(skew?.severity).toBe('error');
      expect(t.findings.find((f) => f.code === 'not-yet-valid')!.detail).toContain('clock is behind');
    } finally {
      await server.close();
    }
  });
});
