// The certificate outline cache (x509/outline-cache.ts): a certificate built from a cached outline
// is the certificate parsed afresh, a damaged or foreign cache file is ignored, and the doctor's
// report is the same with no cache, a warm cache and a damaged one (real loopback server, the
// built CLI), damaged store certificates included.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { Certificate } from '../../src/x509/certificate.js';
import { pemBlocks } from '../../src/x509/der.js';
import { OutlineCache } from '../../src/x509/outline-cache.js';
import { runDoctorJson, type DoctorJson } from '../helpers/cli.js';
import { loadScenario, serveChain, storeTree, tempDir, type Running } from '../helpers/servers.js';

const servers: Running[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

/** Node's own roots and every fixture certificate: real DER of many shapes (v1, v3, EC, RSA). */
function realCertificates(): Buffer[] {
  const pem = [...tls.rootCertificates, readFileSync(path.resolve(import.meta.dirname, '../../fixtures/scenarios/roots.pem'), 'utf8')];
  for (const name of ['valid-rsa', 'valid-ecdsa', 'cn-only', 'sha1-signed', 'wrong-eku', 'path-length']) pem.push(loadScenario(name).chainPem);
  return pem.flatMap((p) => pemBlocks(p).map((b) => b.der));
}

/** Everything a verdict reads from a certificate. */
function facts(c: Certificate): unknown {
  return {
    version: c.version, tbs: c.tbs.toString('hex'), issuer: c.issuer, subject: c.subject, serial: c.serialHex,
    notBefore: c.notBefore.getTime(), notAfter: c.notAfter.getTime(), key: c.publicKey, sig: c.signatureOid,
    extensions: c.extensions, decodeError: c.decodeError ?? null, ski: c.subjectKeyId ?? null, aki: c.authorityKeyId ?? null,
    inner: c.innerSignatureAlgorithmRaw.toString('hex'), outer: c.outerSignatureAlgorithmRaw.toString('hex'),
  };
}

describe('a certificate from its outline', () => {
  it('is the certificate parsed afresh, field for field', () => {
    const ders = realCertificates();
    expect(ders.length).toBeGreaterThan(100);
    for (const der of ders) {
      const parsed = new Certificate(der);
      expect(facts(new Certificate(der, parsed.outline))).toEqual(facts(parsed));
    }
  });
});

describe('the cache file', () => {
  const ders = realCertificates().slice(0, 40);
  const write = (id = 'build-1') => {
    const file = path.join(tempDir('ollama-tls-outlines-'), 'sub', 'outlines.bin');
    const cache = new OutlineCache(file, id);
    for (const der of ders) cache.add(der, new Certificate(der).outline);
    cache.save();
    return file;
  };

  it('gives back each outline for the very same bytes, and nothing for others', () => {
    const file = write();
    const cache = new OutlineCache(file, 'build-1').load();
    for (const der of ders) expect(Array.from(cache.get(der)!)).toEqual(new Certificate(der).outline);
    const other = Buffer.from(ders[0]!);
    other[other.length - 1] ^= 1;
    expect(cache.get(other)).toBeUndefined();
  });

  it('is not rewritten by a run that added nothing', () => {
    const file = write();
    const before = statSync(file).mtimeMs;
    const cache = new OutlineCache(file, 'build-1').load();
    for (const der of ders) cache.add(der, new Certificate(der).outline);
    cache.save();
    expect(statSync(file).mtimeMs).toBe(before);
  });

  it("another build's file, a truncated file and implausible offsets are all ignored", () => {
    expect(new OutlineCache(write('build-1'), 'build-2').load().get(ders[0]!)).toBeUndefined();
    const truncated = write();
    writeFileSync(truncated, readFileSync(truncated).subarray(0, 5000));
    expect(new OutlineCache(truncated, 'build-1').load().get(ders[0]!)).toBeUndefined();
    // The first outline's TBS end moved past its certificate: the whole file is refused.
    const damaged = write();
    const bytes = readFileSync(damaged);
    const tables = (12 + 'build-1'.length + 3) & ~3;
    bytes.writeInt32LE(1 << 30, tables + 8);
    writeFileSync(damaged, bytes);
    const cache = new OutlineCache(damaged, 'build-1').load();
    for (const der of ders) expect(cache.get(der)).toBeUndefined();
  });
});

describe('doctor with the cache', () => {
  /** The report without what differs from run to run (timings). */
  const stable = (r: DoctorJson) => JSON.stringify(r, (k, v: unknown) => (k === 'timings' || k === 'ms' ? undefined : v));

  it('reports the same with no cache, a warm one and a damaged one, damaged store certificates included', async () => {
    const s = loadScenario('valid-rsa');
    const server = await serveChain(s);
    servers.push(server);
    const target = `${s.host}:${server.port}`;
    // A system store without the scenario's root, holding one certificate whose notBefore cannot be
    // read: the unknown-authority finding lists the store, its count and the damaged block.
    const other = loadScenario('valid-ecdsa');
    const broken = pemBlocks(other.caPem)[0]!.der;
    const damaged = Buffer.from(broken);
    const time = damaged.indexOf(Buffer.from([0x17, 0x0d]));
    damaged[time + 2] = 0x58; // 'X' in the year of notBefore
    const root = storeTree(`${other.caPem}-----BEGIN CERTIFICATE-----\n${damaged.toString('base64')}\n-----END CERTIFICATE-----\n`);
    const cacheHome = tempDir('ollama-tls-cache-home-');
    const cacheFile = path.join(cacheHome, 'ollama-tls', 'certificate-outlines.bin');
    const run = async () => {
      const { report } = await runDoctorJson([target, '--resolve', `${target}:127.0.0.1`, '--root', root], { XDG_CACHE_HOME: cacheHome });
      return report;
    };

    const cold = await run();
    const written = statSync(cacheFile).mtimeMs;
    const warm = await run();
    // Untouched: every store certificate was found in it (a miss would have been added and saved).
    expect(statSync(cacheFile).mtimeMs).toBe(written);
    writeFileSync(cacheFile, Buffer.alloc(4096, 0x5a));
    const afterDamage = await run();

    const evidence = cold.targets[0]!.findings.flatMap((f) => f.evidence).join('\n');
    expect(evidence).toMatch(/that cannot be parsed skipped \(unreadable time/);
    expect(stable(warm)).toBe(stable(cold));
    expect(stable(afterDamage)).toBe(stable(cold));
    // The damaged file was replaced by a good one.
    expect(readFileSync(cacheFile).readUInt32LE(0)).not.toBe(0x5a5a5a5a);
  });
});
