/**
 * x509/name-key.ts rules names out before their canonical forms are compared: it must never rule
 * out two names OpenSSL holds equal. Judged by the real `openssl x509 -hash` (the digest of the
 * canonical encoding X509_NAME_cmp compares) on names minted with `openssl req` that differ only
 * in case and spacing, and by our canonical form over Node's bundled roots and hand-built names in
 * the encodings `openssl req` does not write (PrintableString against UTF8String, BMPString).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nameFromDer } from '../../../src/x509/certificate.js';
import { certificatesFromPem } from '../../../src/x509/load.js';
import { mayBeSameName, nameKey } from '../../../src/x509/name-key.js';

const run = promisify(execFile);
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'name-key-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A self-signed certificate with this subject, and OpenSSL's subject hash of it. */
async function mint(subject: string, i: number): Promise<{ raw: Buffer; hash: string }> {
  const pem = path.join(dir, `${i}.pem`);
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(dir, `${i}.key`), '-subj', subject, '-days', '1', '-out', pem]);
  const { stdout } = await run('openssl', ['x509', '-in', pem, '-noout', '-hash']);
  const cert = certificatesFromPem(await readFile(pem, 'latin1')).certificates[0]!;
  return { raw: cert.subjectRaw, hash: stdout.trim() };
}

const tlv = (tag: number, body: Buffer) => Buffer.concat([Buffer.from([tag, body.length]), body]);
const CN = Buffer.from([0x55, 0x04, 0x03]);
const O = Buffer.from([0x55, 0x04, 0x0a]);
/** A Name of single-attribute RDNs: [oid, string tag, value bytes]. */
const name = (...rdns: [Buffer, number, Buffer][]) =>
  tlv(0x30, Buffer.concat(rdns.map(([oid, tag, v]) => tlv(0x31, tlv(0x30, Buffer.concat([tlv(0x06, oid), tlv(tag, v)]))))));
const bmp = (s: string) => Buffer.from(s, 'utf16le').swap16();

describe('name key', () => {
  it('never parts names OpenSSL holds equal, and parts the ones it tells apart', async () => {
    const subjects = [
      '/CN=Example Root CA/O=Acme Corp', '/CN=example root ca/O=ACME CORP', '/CN=  Example   Root CA /O=Acme  Corp',
      '/CN=Example Root CA 2/O=Acme Corp', '/CN=Example Root CA/O=Acme Corp/OU=Web', '/O=Acme Corp/CN=Example Root CA',
    ];
    const minted = await Promise.all(subjects.map((s, i) => mint(s, i)));
    let parted = 0;
    for (const a of minted) {
      for (const b of minted) {
        if (a.hash === b.hash) expect(mayBeSameName(a.raw, b.raw), `${a.raw.toString('hex')} / ${b.raw.toString('hex')}`).toBe(true);
        else if (!mayBeSameName(a.raw, b.raw)) parted++;
      }
    }
    // The first three are one name to OpenSSL; every other pair differs and is told apart.
    expect(new Set(minted.slice(0, 3).map((m) => m.hash)).size).toBe(1);
    expect(parted).toBe(minted.length * minted.length - 9 - 3);
  });

  it('agrees with the canonical form over Node\'s bundled roots', () => {
    const names = certificatesFromPem(tls.rootCertificates.join('\n')).certificates.flatMap((c) => [c.subjectRaw, c.issuerRaw]);
    let different = 0;
    let parted = 0;
    for (const a of names) {
      const ca = nameFromDer(a).canonical;
      for (const b of names) {
        if (ca === nameFromDer(b).canonical) expect(mayBeSameName(a, b)).toBe(true);
        else {
          different++;
          if (!mayBeSameName(a, b)) parted++;
        }
      }
    }
    expect(different).toBeGreaterThan(10_000);
    expect(parted / different).toBeGreaterThan(0.95); // a name beyond ASCII has no key
  });

  it('leaves to the canonical form what needs decoding, and folds string types, case and spacing', () => {
    const printable = name([CN, 0x13, Buffer.from('Acme  Root')], [O, 0x13, Buffer.from('Acme')]);
    const utf8 = name([CN, 0x0c, Buffer.from(' acme root ')], [O, 0x0c, Buffer.from('ACME')]);
    expect(nameFromDer(printable).canonical).toBe(nameFromDer(utf8).canonical);
    expect(mayBeSameName(printable, utf8)).toBe(true);
    // BMPString and bytes beyond ASCII: no key, so never ruled out here.
    const wide = name([CN, 0x1e, bmp('Acme Root')], [O, 0x13, Buffer.from('Acme')]);
    expect(nameFromDer(wide).canonical).toBe(nameFromDer(printable).canonical);
    expect(nameKey(wide)).toBeUndefined();
    expect(mayBeSameName(printable, wide)).toBe(true);
    expect(nameKey(name([CN, 0x0c, Buffer.from('Ácme', 'utf8')]))).toBeUndefined();
    // Plainly different names are told apart without decoding.
    expect(mayBeSameName(printable, name([CN, 0x13, Buffer.from('Other Root')], [O, 0x13, Buffer.from('Acme')]))).toBe(false);
    // Damaged DER: no key.
    expect(nameKey(Buffer.from([0x30, 0x05, 0x31]))).toBeUndefined();
  });
});
