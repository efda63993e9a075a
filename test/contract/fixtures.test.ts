/**
 * Checks that the committed scenario fixtures (fixtures/scenarios/) really are
 * what their names claim, judged by independent implementations: the openssl
 * CLI, Node's X509Certificate and a real Node TLS handshake.
 */
import { execFile } from 'node:child_process';
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCENARIO_HOST, generateScenario, type Scenario } from '../../fixtures/pki.js';

const run = promisify(execFile);
const OPENSSL = '/usr/bin/openssl';
const SCENARIOS_DIR = fileURLToPath(new URL('../../fixtures/scenarios/', import.meta.url));

// ---------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------

function splitPem(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
}

interface Loaded extends Scenario {
  chain: X509Certificate[];
  anchors: X509Certificate[];
}

function load(name: string): Loaded {
  const dir = path.join(SCENARIOS_DIR, name);
  const read = (f: string) => readFileSync(path.join(dir, f), 'utf8');
  const meta = JSON.parse(read('scenario.json')) as Pick<Scenario, 'name' | 'summary' | 'host'>;
  const s = { ...meta, chainPem: read('chain.pem'), keyPem: read('key.pem'), caPem: read('ca.pem') };
  return {
    ...s,
    chain: splitPem(s.chainPem).map((p) => new X509Certificate(p)),
    anchors: splitPem(s.caPem).map((p) => new X509Certificate(p)),
  };
}

const committed = readdirSync(SCENARIOS_DIR, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();
const loaded = new Map<string, Loaded>();
function scenario(name: string): Loaded {
  let s = loaded.get(name);
  if (!s) loaded.set(name, (s = load(name)));
  return s;
}

// ---------------------------------------------------------------------------
// openssl verify
// ---------------------------------------------------------------------------

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'ollama-tls-fixtures-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

interface VerifyResult {
  ok: boolean;
  output: string;
}

let seq = 0;
/** `openssl verify -CAfile ca -untrusted <rest of chain> leaf`, as a client holding caPem would. */
async function opensslVerify(s: Pick<Scenario, 'chainPem' | 'caPem'>, extra: string[] = []): Promise<VerifyResult> {
  const dir = path.join(tmp, String(seq++));
  await mkdir(dir);
  const [leaf, ...rest] = splitPem(s.chainPem);
  const leafFile = path.join(dir, 'leaf.pem');
  const caFile = path.join(dir, 'ca.pem');
  await writeFile(leafFile, leaf!);
  await writeFile(caFile, s.caPem);
  const args = ['verify', '-CAfile', caFile];
  if (rest.length > 0) {
    const restFile = path.join(dir, 'untrusted.pem');
    await writeFile(restFile, rest.join(''));
    args.push('-untrusted', restFile);
  }
  args.push(...extra, leafFile);
  try {
    const { stdout, stderr } = await run(OPENSSL, args);
    return { ok: true, output: stdout + stderr };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** Hostname (or IP) check plus the TLS-server purpose: what a TLS client asks of the chain. */
function asTlsClient(host: string): string[] {
  const nameCheck = host === '127.0.0.1' || host === '::1' ? ['-verify_ip', host] : ['-verify_hostname', host];
  return ['-purpose', 'sslserver', ...nameCheck];
}

/** 'OK' or the OpenSSL 3 error text, with the chain depth it is reported at. */
type Outcome = 'OK' | { depth: number; error: string };
const fail = (depth: number, error: string): Outcome => ({ depth, error });

function expectOutcome(r: VerifyResult, want: Outcome): void {
  if (want === 'OK') {
    expect(r.output, r.output).toMatch(/: OK\s*$/);
    expect(r.ok).toBe(true);
  } else {
    expect(r.ok, r.output).toBe(false);
    expect(r.output).toMatch(new RegExp(`error \\d+ at ${want.depth} depth lookup: ${escape(want.error)}`));
  }
}
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Expected OpenSSL verdicts. `chain`: chain building only; `client`: with
 * -purpose sslserver and the host check. `-auth_level 0` keeps a distro's
 * security level out of these; the weak-crypto scenarios are probed with
 * explicit levels below.
 */
const VERDICTS: Record<string, { chain: Outcome; client: Outcome }> = {
  'valid-rsa': { chain: 'OK', client: 'OK' },
  'valid-ecdsa': { chain: 'OK', client: 'OK' },
  'valid-ip': { chain: 'OK', client: 'OK' },
  'missing-intermediate': { chain: fail(0, 'unable to get local issuer certificate'), client: fail(0, 'unable to get local issuer certificate') },
  'wrong-order': { chain: 'OK', client: 'OK' }, // OpenSSL reorders; the fault is in what is sent
  'untrusted-root-sent': { chain: fail(2, 'self-signed certificate in certificate chain'), client: fail(2, 'self-signed certificate in certificate chain') },
  'private-root-not-sent': { chain: fail(1, 'unable to get local issuer certificate'), client: fail(1, 'unable to get local issuer certificate') },
  'expired-leaf': { chain: fail(0, 'certificate has expired'), client: fail(0, 'certificate has expired') },
  'expired-intermediate': { chain: fail(1, 'certificate has expired'), client: fail(1, 'certificate has expired') },
  'not-yet-valid': { chain: fail(0, 'certificate is not yet valid'), client: fail(0, 'certificate is not yet valid') },
  'hostname-mismatch': { chain: 'OK', client: fail(0, 'hostname mismatch') },
  'self-signed-leaf': { chain: fail(0, 'self-signed certificate'), client: fail(0, 'self-signed certificate') },
  'cn-only': { chain: 'OK', client: 'OK' }, // OpenSSL still falls back to the CN; Go does not
  'ip-san-missing': { chain: 'OK', client: fail(0, 'IP address mismatch') },
  'sha1-signed': { chain: 'OK', client: 'OK' },
  'rsa-1024': { chain: 'OK', client: 'OK' },
  'wrong-eku': { chain: 'OK', client: fail(0, 'unsuitable certificate purpose') },
  'intermediate-not-ca': { chain: fail(1, 'invalid CA certificate'), client: fail(1, 'invalid CA certificate') },
  'ca-without-certsign': { chain: fail(1, 'invalid CA certificate'), client: fail(1, 'invalid CA certificate') },
  'path-length': { chain: fail(2, 'path length constraint exceeded'), client: fail(2, 'path length constraint exceeded') },
  'cross-signed': { chain: 'OK', client: 'OK' },
  // Time-relative: the committed copy goes stale; it is regenerated below instead.
  'expiring-soon': { chain: 'OK', client: 'OK' },
};
const TIME_RELATIVE = new Set(['expiring-soon']);

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

describe('committed fixtures', () => {
  it('contain exactly the expected scenarios', () => {
    expect(committed).toEqual(Object.keys(VERDICTS).sort());
  });

  it('roots.pem holds the three test roots, and every scenario anchor is one of them', () => {
    const roots = splitPem(readFileSync(path.join(SCENARIOS_DIR, 'roots.pem'), 'utf8')).map((p) => new X509Certificate(p));
    expect(roots.map((r) => cn(r.subject)).sort()).toEqual(
      ['ollama-tls Old Root CA', 'ollama-tls Test EC Root CA', 'ollama-tls Test Root CA'],
    );
    for (const r of roots) {
      expect(r.ca).toBe(true);
      expect(r.checkIssued(r)).toBe(true);
      expect(r.verify(r.publicKey)).toBe(true);
    }
    const rootPrints = new Set(roots.map((r) => r.fingerprint256));
    for (const name of committed) {
      for (const a of scenario(name).anchors) expect(rootPrints.has(a.fingerprint256), name).toBe(true);
    }
  });

  describe.each(committed)('%s', (name) => {
    const s = scenario(name);

    it('has metadata, a chain, a PKCS#8 key matching the leaf, and anchors', () => {
      expect(s.name).toBe(name);
      expect(s.summary.length).toBeGreaterThan(0);
      expect(s.host).toBe(['valid-ip', 'ip-san-missing'].includes(name) ? '127.0.0.1' : SCENARIO_HOST);
      expect(s.chain.length).toBeGreaterThan(0);
      expect(s.anchors.length).toBeGreaterThan(0);
      expect(s.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
      const fromKey = createPublicKey(createPrivateKey(s.keyPem)).export({ type: 'spki', format: 'der' });
      const fromLeaf = s.chain[0]!.publicKey.export({ type: 'spki', format: 'der' });
      expect(Buffer.compare(fromKey, fromLeaf)).toBe(0);
    });

    it('has SKI on every certificate and AKI on every non-self-signed one', async () => {
      for (const cert of [...s.chain, ...s.anchors]) {
        const text = await certText(cert);
        expect(text, cert.subject).toContain('X509v3 Subject Key Identifier');
        // Not checkIssued(): OpenSSL's X509_check_issued also demands keyCertSign, which a self-signed leaf lacks.
        const selfSigned = cert.issuer === cert.subject && cert.verify(cert.publicKey);
        expect(text.includes('X509v3 Authority Key Identifier'), cert.subject).toBe(!selfSigned);
      }
    });

    it.skipIf(TIME_RELATIVE.has(name))('openssl verify: chain verdict', async () => {
      expectOutcome(await opensslVerify(s, ['-auth_level', '0']), VERDICTS[name]!.chain);
    });

    it.skipIf(TIME_RELATIVE.has(name))('openssl verify: TLS client verdict (purpose + host)', async () => {
      expectOutcome(await opensslVerify(s, ['-auth_level', '0', ...asTlsClient(s.host)]), VERDICTS[name]!.client);
    });
  });
});

describe('scenario-specific facts', () => {
  it('valid-ecdsa: P-256 leaf under a P-384 root, ECDSA signatures', async () => {
    const s = scenario('valid-ecdsa');
    expect(s.chain[0]!.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(s.anchors[0]!.publicKey.asymmetricKeyDetails?.namedCurve).toBe('secp384r1');
    expect(await sigAlg(s.chain[0]!)).toBe('ecdsa-with-SHA256');
    expect(await sigAlg(s.chain[1]!)).toBe('ecdsa-with-SHA384');
  });

  it('valid-ip / ip-san-missing: IP SANs', () => {
    const ok = scenario('valid-ip').chain[0]!;
    expect(ok.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(ok.checkIP('::1')).toBeDefined();
    expect(ok.checkHost('localhost')).toBe('localhost');
    const missing = scenario('ip-san-missing').chain[0]!;
    expect(missing.checkIP('127.0.0.1')).toBeUndefined();
    expect(missing.subjectAltName).toBe(`DNS:${SCENARIO_HOST}`);
  });

  it('missing-intermediate: only the leaf is sent, and the root did not issue it', () => {
    const s = scenario('missing-intermediate');
    expect(s.chain).toHaveLength(1);
    expect(s.chain[0]!.checkIssued(s.anchors[0]!)).toBe(false);
  });

  it('wrong-order: leaf, root, intermediate', () => {
    const s = scenario('wrong-order');
    expect(s.chain.map((c) => cn(c.subject))).toEqual([SCENARIO_HOST, 'ollama-tls Test Root CA', 'ollama-tls Test Intermediate CA']);
    expect(s.chain[1]!.fingerprint256).toBe(s.anchors[0]!.fingerprint256);
    expect(s.chain[0]!.checkIssued(s.chain[2]!)).toBe(true);
  });

  it('untrusted-root-sent / private-root-not-sent: rogue PKI, not anchored', () => {
    const sent = scenario('untrusted-root-sent');
    expect(sent.chain.map((c) => cn(c.subject))).toEqual([SCENARIO_HOST, 'Rogue Intermediate CA', 'Rogue Root CA']);
    const rogueRoot = sent.chain[2]!;
    expect(rogueRoot.checkIssued(rogueRoot)).toBe(true);
    expect(rogueRoot.subject).toContain('O=Untrusted Example');
    expect(sent.anchors.map((a) => cn(a.subject))).toEqual(['ollama-tls Test Root CA']);

    const notSent = scenario('private-root-not-sent');
    expect(notSent.chain.map((c) => cn(c.subject))).toEqual([SCENARIO_HOST, 'Rogue Intermediate CA']);
  });

  it('expired-leaf / expired-intermediate / not-yet-valid: validity windows', () => {
    const expired = scenario('expired-leaf').chain[0]!;
    expect(new Date(expired.validTo).toISOString()).toBe('2021-01-01T00:00:00.000Z');
    const int = scenario('expired-intermediate').chain[1]!;
    expect(cn(int.subject)).toBe('ollama-tls Expired Intermediate CA');
    expect(new Date(int.validTo).toISOString()).toBe('2021-01-01T00:00:00.000Z');
    const future = scenario('not-yet-valid').chain[0]!;
    expect(new Date(future.validFrom).toISOString()).toBe('2099-01-01T00:00:00.000Z');
    expect(new Date(future.validTo).toISOString()).toBe('2100-01-01T00:00:00.000Z');
  });

  it('not-yet-valid: dates after 2049 are GeneralizedTime', async () => {
    const der = new X509Certificate(splitPem(scenario('not-yet-valid').chainPem)[0]!).raw;
    const file = path.join(tmp, 'future.der');
    await writeFile(file, der);
    const { stdout } = await run(OPENSSL, ['asn1parse', '-inform', 'DER', '-in', file]);
    expect(stdout).toMatch(/GENERALIZEDTIME\s*:20990101000000Z/);
    expect(stdout).toMatch(/GENERALIZEDTIME\s*:21000101000000Z/);
  });

  it('hostname-mismatch: leaf is for another name', () => {
    const leaf = scenario('hostname-mismatch').chain[0]!;
    expect(leaf.checkHost(SCENARIO_HOST)).toBeUndefined();
    expect(leaf.checkHost('other.ollama-tls.test')).toBe('other.ollama-tls.test');
  });

  it('self-signed-leaf: issuer = subject, not a CA, only cert sent', () => {
    const s = scenario('self-signed-leaf');
    expect(s.chain).toHaveLength(1);
    const leaf = s.chain[0]!;
    expect(leaf.issuer).toBe(leaf.subject);
    expect(leaf.verify(leaf.publicKey)).toBe(true);
    expect(leaf.ca).toBe(false);
    expect(leaf.subjectAltName).toBe(`DNS:${SCENARIO_HOST}`);
  });

  it('cn-only: no subjectAltName at all, host only in the CN', async () => {
    const leaf = scenario('cn-only').chain[0]!;
    expect(leaf.subjectAltName).toBeUndefined();
    expect(leaf.subject).toBe(`CN=${SCENARIO_HOST}`);
    expect(await certText(leaf)).not.toContain('Subject Alternative Name');
  });

  it('sha1-signed: leaf signed with sha1WithRSAEncryption, rejected from auth level 1', async () => {
    const s = scenario('sha1-signed');
    expect(await sigAlg(s.chain[0]!)).toBe('sha1WithRSAEncryption');
    expect(await sigAlg(s.chain[1]!)).toBe('sha256WithRSAEncryption');
    expectOutcome(await opensslVerify(s, ['-auth_level', '1']), fail(0, 'CA signature digest algorithm too weak'));
  });

  it('rsa-1024: 1024-bit leaf key, rejected at auth level 2', async () => {
    const s = scenario('rsa-1024');
    expect(s.chain[0]!.publicKey.asymmetricKeyDetails?.modulusLength).toBe(1024);
    expect(createPrivateKey(s.keyPem).asymmetricKeyDetails?.modulusLength).toBe(1024);
    expect(await sigAlg(s.chain[0]!)).toBe('sha256WithRSAEncryption');
    expectOutcome(await opensslVerify(s, ['-auth_level', '2']), fail(0, 'EE certificate key too weak'));
  });

  it('wrong-eku: clientAuth only', () => {
    // Node names the extendedKeyUsage list `keyUsage`.
    expect(scenario('wrong-eku').chain[0]!.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(scenario('valid-rsa').chain[0]!.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
  });

  it('intermediate-not-ca / ca-without-certsign: issuer flags', async () => {
    const notCa = scenario('intermediate-not-ca').chain[1]!;
    expect(notCa.ca).toBe(false);
    expect(await certText(notCa)).not.toContain('X509v3 Key Usage');
    const noCertSign = scenario('ca-without-certsign').chain[1]!;
    const text = await certText(noCertSign);
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE\n/);
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature\n/);
    // Node's `ca` is OpenSSL's X509_check_ca(), which also wants keyCertSign.
    expect(noCertSign.ca).toBe(false);
  });

  it('path-length: sub CA below a pathLen:0 CA', async () => {
    const s = scenario('path-length');
    expect(s.chain.map((c) => cn(c.subject))).toEqual([SCENARIO_HOST, 'ollama-tls Sub CA', 'ollama-tls PathLen0 CA']);
    expect(await certText(s.chain[2]!)).toContain('CA:TRUE, pathlen:0');
  });

  it('cross-signed: new root key certified by the old root is the only bridge', async () => {
    const s = scenario('cross-signed');
    const [leaf, newInt, cross] = s.chain;
    const oldRoot = s.anchors[0]!;
    expect(s.anchors).toHaveLength(1);
    expect(cn(oldRoot.subject)).toBe('ollama-tls Old Root CA');
    expect(cn(cross!.subject)).toBe('ollama-tls New Root CA');
    expect(cross!.checkIssued(oldRoot)).toBe(true);
    expect(cross!.verify(oldRoot.publicKey)).toBe(true);
    expect(cross!.ca).toBe(true);
    expect(newInt!.verify(cross!.publicKey)).toBe(true); // same key as the self-signed New Root
    expect(leaf!.verify(newInt!.publicKey)).toBe(true);
    // Without the cross certificate there is no path to the old root.
    expectOutcome(
      await opensslVerify({ chainPem: s.chain.slice(0, 2).map((c) => c.toString()).join(''), caPem: s.caPem }),
      fail(1, 'unable to get local issuer certificate'),
    );
  });

  it('expiring-soon: regenerated leaf runs from now-80d to now+10d', async () => {
    const DAY = 86_400_000;
    const now = new Date('2031-05-06T07:08:09Z');
    const s = await generateScenario('expiring-soon', { now });
    expect(s.name).toBe('expiring-soon');
    expect(s.host).toBe(SCENARIO_HOST);
    const leaf = new X509Certificate(splitPem(s.chainPem)[0]!);
    expect(new Date(leaf.validTo).getTime()).toBe(now.getTime() + 10 * DAY);
    expect(new Date(leaf.validFrom).getTime()).toBe(now.getTime() - 80 * DAY);
  });

  it('expiring-soon: with the default now it verifies today and expires in 10 days', async () => {
    const before = Date.now();
    const s = await generateScenario('expiring-soon');
    const validTo = new Date(new X509Certificate(splitPem(s.chainPem)[0]!).validTo).getTime();
    // Certificate times have whole seconds.
    expect(validTo).toBeGreaterThanOrEqual(before + 10 * 86_400_000 - 1000);
    expect(validTo).toBeLessThanOrEqual(Date.now() + 10 * 86_400_000);
    expectOutcome(await opensslVerify(s, asTlsClient(s.host)), 'OK');
  });

  it('generateScenario rejects unknown names', async () => {
    await expect(generateScenario('no-such-scenario')).rejects.toThrow(/unknown scenario/);
  });
});

// ---------------------------------------------------------------------------
// A real TLS handshake with the committed files
// ---------------------------------------------------------------------------

describe('served by a Node TLS server', () => {
  const servers: tls.Server[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((srv) => new Promise<void>((resolve) => srv.close(() => resolve()))));
  });

  async function serve(name: string): Promise<number> {
    const s = scenario(name);
    const server = tls.createServer({ key: s.keyPem, cert: s.chainPem }, (sock) => sock.end());
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }

  /** Handshake as a client trusting caPem; reports instead of rejecting so failures can be asserted. */
  function handshake(port: number, ca: string, servername: string) {
    return new Promise<{ authorized: boolean; error: string | undefined }>((resolve, reject) => {
      const sock = tls.connect({ host: '127.0.0.1', port, ca, servername, rejectUnauthorized: false }, () => {
        const error = sock.authorizationError;
        resolve({ authorized: sock.authorized, error: error === null || error === undefined ? undefined : String(error) });
        sock.end();
      });
      sock.on('error', reject);
    });
  }

  it('valid-rsa is authorized for SCENARIO_HOST', async () => {
    const port = await serve('valid-rsa');
    const r = await handshake(port, scenario('valid-rsa').caPem, SCENARIO_HOST);
    expect(r).toEqual({ authorized: true, error: undefined });
  });

  it('missing-intermediate is not authorized (leaf signature cannot be verified)', async () => {
    const port = await serve('missing-intermediate');
    const r = await handshake(port, scenario('missing-intermediate').caPem, SCENARIO_HOST);
    expect(r).toEqual({ authorized: false, error: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
  });

  it('hostname-mismatch fails only the name check', async () => {
    const port = await serve('hostname-mismatch');
    const r = await handshake(port, scenario('hostname-mismatch').caPem, SCENARIO_HOST);
    expect(r).toEqual({ authorized: false, error: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  });
});

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/** CN from Node's newline-separated subject. */
function cn(subject: string): string | undefined {
  return subject.split('\n').find((l) => l.startsWith('CN='))?.slice(3);
}

const textCache = new Map<string, Promise<string>>();
/** `openssl x509 -text` of one certificate (Node does not expose SKI/AKI or the signature algorithm). */
function certText(cert: X509Certificate): Promise<string> {
  let p = textCache.get(cert.fingerprint256);
  if (!p) {
    p = (async () => {
      const file = path.join(tmp, `${cert.fingerprint256.replace(/:/g, '')}.pem`);
      if (!existsSync(file)) await writeFile(file, cert.toString());
      return (await run(OPENSSL, ['x509', '-noout', '-text', '-in', file])).stdout;
    })();
    textCache.set(cert.fingerprint256, p);
  }
  return p;
}

async function sigAlg(cert: X509Certificate): Promise<string | undefined> {
  return /Signature Algorithm: (\S+)/.exec(await certText(cert))?.[1];
}
