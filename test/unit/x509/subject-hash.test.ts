/**
 * opensslSubjectHash / opensslSubjectHashOld against the real `openssl x509 -hash` and
 * `-subject_hash_old`: Node's bundled roots, the scenario fixtures, certificates minted here with
 * `openssl req` (string types, whitespace, case, multi-valued RDNs...) and hand-built names spliced
 * into a certificate for the encodings `openssl req` will not produce (including names OpenSSL
 * refuses to decode, where ours must throw rather than invent a hash).
 */
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DerError, children, pemBlocks, readTlv, whole } from '../../../src/x509/der.js';
import { certificateFromDer } from '../../../src/x509/load.js';
import { opensslSubjectHash, opensslSubjectHashOld } from '../../../src/x509/subject-hash.js';

const OPENSSL = 'openssl';
const run = promisify(execFile);
const SCENARIOS_DIR = fileURLToPath(new URL('../../../fixtures/scenarios/', import.meta.url));

interface Hashes { hash: string; old: string }

/** One `openssl x509` per certificate; undefined when OpenSSL cannot load the certificate. */
function opensslHashes(certDer: Buffer): Promise<Hashes | undefined> {
  return new Promise((resolve) => {
    const child = execFile(OPENSSL, ['x509', '-inform', 'DER', '-noout', '-hash', '-subject_hash_old'], (err, stdout) => {
      if (err) return resolve(undefined);
      const [hash, old] = stdout.trim().split('\n');
      resolve({ hash: hash!, old: old! });
    });
    child.stdin!.end(certDer);
  });
}

/** Map with at most `limit` promises in flight: enough parallelism, no process storm. */
async function mapLimit<T, R>(items: T[], fn: (item: T) => Promise<R>, limit = Math.max(4, os.availableParallelism())): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function subjectOf(der: Buffer): Buffer {
  const cert = certificateFromDer(der);
  expect(cert, 'certificate parses').toBeDefined();
  return cert!.subjectRaw;
}

/** Hash every certificate with both implementations; returns the mismatches (empty when all agree). */
async function compareAll(certs: Buffer[]): Promise<string[]> {
  const real = await mapLimit(certs, opensslHashes);
  const bad: string[] = [];
  certs.forEach((der, i) => {
    const want = real[i];
    const subject = subjectOf(der);
    const got = { hash: opensslSubjectHash(subject), old: opensslSubjectHashOld(subject) };
    if (!want) bad.push(`#${i}: openssl could not load it`);
    else if (got.hash !== want.hash || got.old !== want.old) {
      bad.push(`#${i} ${certificateFromDer(der)!.subject.canonical}: ${JSON.stringify(got)} != ${JSON.stringify(want)}`);
    }
  });
  return bad;
}

function uniqueDers(pems: string[]): Buffer[] {
  const seen = new Map<string, Buffer>();
  for (const pem of pems) for (const b of pemBlocks(pem)) if (b.label === 'CERTIFICATE') seen.set(b.der.toString('base64'), b.der);
  return [...seen.values()];
}

// Minimal DER writer for the hand-built names.
function tlv(tag: number, body: Buffer): Buffer {
  const octets: number[] = [];
  for (let l = body.length; l > 0; l = Math.floor(l / 256)) octets.unshift(l & 0xff);
  return Buffer.concat([Buffer.from(body.length < 0x80 ? [tag, body.length] : [tag, 0x80 | octets.length, ...octets]), body]);
}
const hex = (h: string) => Buffer.from(h, 'hex');
const CN = hex('0603550403');
const O = hex('060355040a');
const atv = (type: Buffer, tag: number, value: Buffer | string) =>
  tlv(0x30, Buffer.concat([type, tlv(tag, typeof value === 'string' ? Buffer.from(value, 'utf8') : value)]));
const rdn = (...atvs: Buffer[]) => tlv(0x31, Buffer.concat(atvs));
const name = (...rdns: Buffer[]) => tlv(0x30, Buffer.concat(rdns));

/** The certificate with its subject replaced (the signature no longer verifies; -hash does not care). */
function withSubject(certDer: Buffer, subject: Buffer): Buffer {
  const [tbs, ...rest] = children(certDer, readTlv(certDer, 0));
  const fields = children(certDer, tbs!).map((t) => whole(certDer, t));
  fields[fields[0]![0] === 0xa0 ? 5 : 4] = subject;
  return tlv(0x30, Buffer.concat([tlv(0x30, Buffer.concat(fields)), ...rest.map((t) => whole(certDer, t))]));
}

interface Minted {
  label: string;
  subj: string;
  /** The req string_mask: which ASN.1 string types OpenSSL may pick. */
  mask?: string;
  multivalue?: boolean;
  /** Value tags the subject must contain, so the case really covers what it claims. */
  tags?: number[];
  /** An attribute type the subject must contain. */
  oid?: string;
}

const MINTED: Minted[] = [
  { label: 'mixed case, leading/trailing/double spaces and tabs', subj: '/CN=  Mixed\t CASE   Name  /O=\tTabbed\t\tOrg\t/OU=ALL CAPS', tags: [0x0c] },
  { label: 'non-ASCII UTF-8 (only ASCII is lower-cased)', subj: '/CN=Café  日本 ÉCOLE/O= Ünïcode  GmbH ', tags: [0x0c] },
  { label: 'T61String (Latin-1) and BMPString from string_mask=default', subj: '/O=Café  CRÈME/CN=  日本 Tokyo  ', mask: 'default', tags: [0x14, 0x1e] },
  { label: 'BMPString for ASCII text (MASK:0x800)', subj: '/CN=  UPPER  lower  /O=Plain Org', mask: 'MASK:0x800', tags: [0x1e] },
  { label: 'BMPString from string_mask=pkix', subj: '/CN=Résumé  Ünïcode', mask: 'pkix', tags: [0x1e] },
  {
    // CN "  x  " sorts after O "yy" in the certificate but before it once canonicalised.
    label: 'multi-valued RDNs', subj: '/C=DE/CN=  x  +O=yy/OU=Zeta+OU=alpha+OU=  Beta', multivalue: true, tags: [0x13, 0x0c],
  },
  { label: 'IA5String emailAddress and DC components', subj: '/DC=COM/DC=Example/emailAddress=Admin@Example.COM/CN=Mail  Box', tags: [0x16] },
  { label: 'PrintableString C and serialNumber', subj: '/C=us/serialNumber=AB  12 cd/CN=Printable', tags: [0x13] },
  { label: 'attribute with a numeric OID', subj: '/myAttr=Some  VALUE/CN=x', tags: [0x0c], oid: '1.2.3.4.5' },
  { label: 'empty subject', subj: '/' },
];

let dir: string;
let keyPath: string;
const minted = new Map<string, Buffer>();

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'subject-hash-'));
  keyPath = path.join(dir, 'key.pem');
  await run(OPENSSL, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyPath]);
  await mapLimit(MINTED.map((m, i) => ({ m, i })), async ({ m, i }) => {
    const config = path.join(dir, `${i}.cnf`);
    // oid_section must sit in the default section for -subj to know myAttr.
    await writeFile(config, `oid_section = oids\n[oids]\nmyAttr = 1.2.3.4.5\n[req]\ndistinguished_name = dn\nstring_mask = ${m.mask ?? 'utf8only'}\n[dn]\n`);
    const out = path.join(dir, `${i}.der`);
    await run(OPENSSL, [
      'req', '-x509', '-config', config, '-key', keyPath, '-utf8', '-days', '1', '-outform', 'DER', '-out', out,
      '-subj', m.subj, ...(m.multivalue ? ['-multivalue-rdn'] : []),
    ]);
    minted.set(m.label, await readFile(out));
  });
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('opensslSubjectHash matches openssl x509 -hash / -subject_hash_old', () => {
  it("every certificate in Node's tls.rootCertificates", async () => {
    const certs = uniqueDers([...tls.rootCertificates]);
    expect(certs.length).toBeGreaterThan(100);
    expect(await compareAll(certs)).toEqual([]);
  });

  it('every certificate in the scenario fixtures (chain.pem, ca.pem)', async () => {
    const pems = readdirSync(SCENARIOS_DIR, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .flatMap((d) => ['chain.pem', 'ca.pem'].map((f) => readFileSync(path.join(SCENARIOS_DIR, d.name, f), 'utf8')));
    const certs = uniqueDers(pems);
    expect(certs.length).toBeGreaterThan(20);
    expect(await compareAll(certs)).toEqual([]);
  });

  for (const m of MINTED) {
    it(`openssl req: ${m.label}`, async () => {
      const der = minted.get(m.label)!;
      const subject = certificateFromDer(der)!.subject;
      const tags = new Set(subject.rdns.flat().map((a) => a.tag));
      for (const t of m.tags ?? []) expect(tags, `value tag 0x${t.toString(16)}`).toContain(t);
      if (m.oid) expect(subject.rdns.flat().map((a) => a.oid)).toContain(m.oid);
      if (m.multivalue) expect(subject.rdns.some((r) => r.length > 1)).toBe(true);
      if (m.subj === '/') expect(subject.rdns).toEqual([]);
      expect(await compareAll([der])).toEqual([]);
    });
  }

  // Encodings `openssl req` does not write. `null`: OpenSSL refuses the certificate, and so must we.
  const HAND_BUILT: [string, Buffer, 'hash' | 'rejected'][] = [
    ['T61String with Latin-1 bytes', name(rdn(atv(CN, 0x14, Buffer.from('Caf\xc9  \xa0Cr\xe8me ', 'latin1')))), 'hash'],
    ['UniversalString, astral character', name(rdn(atv(CN, 0x1c, hex('00000041000000200001f600000000e9')))), 'hash'],
    ['C0 whitespace (\\v \\f \\r \\n) and a no-break space', name(rdn(atv(CN, 0x0c, '\v\fA\r\n\tB \u00a0 C\t'))), 'hash'],
    ['UTF-8 byte order mark kept', name(rdn(atv(CN, 0x0c, '\ufeffBOM'))), 'hash'],
    ['unsorted multi-valued RDN', name(rdn(atv(O, 0x13, 'Zed'), atv(CN, 0x13, '  A  '), atv(CN, 0x0c, 'a'))), 'hash'],
    ['empty SET between RDNs', name(rdn(atv(CN, 0x13, 'X')), rdn(), rdn(atv(O, 0x13, 'Y'))), 'hash'],
    ['only an empty SET', name(rdn()), 'hash'],
    ['empty and all-space values', name(rdn(atv(CN, 0x0c, '')), rdn(atv(O, 0x13, ' \t '))), 'hash'],
    ['value over 127 bytes', name(rdn(atv(CN, 0x0c, `${'Long '.repeat(40)}  `))), 'hash'],
    ['NumericString is not canonicalised', name(rdn(atv(CN, 0x12, ' 12  34 '))), 'hash'],
    ['PrintableString with bytes outside its alphabet', name(rdn(atv(CN, 0x13, Buffer.from('a@B*\0\xff', 'latin1')))), 'hash'],
    ['SEQUENCE value kept whole', name(rdn(atv(CN, 0x30, hex('0201ff')))), 'hash'],
    ['BIT STRING with set unused bits', name(rdn(atv(CN, 0x03, hex('03ff')))), 'hash'],
    ['ObjectDescriptor ("unknown" tag) kept', name(rdn(atv(CN, 0x07, 'Ab  C'))), 'hash'],
    ['BER constructed UTF8String', name(rdn(atv(CN, 0x2c, Buffer.concat([tlv(0x24, tlv(0x04, Buffer.from('  X'))), tlv(0x16, Buffer.from('Y  Z '))])))), 'hash'],
    ['BER non-minimal length', name(rdn(hex('300b0603550403138103416243'))), 'hash'],
    ['VisibleString', name(rdn(atv(CN, 0x1a, 'Visible'))), 'rejected'],
    ['UTCTime value', name(rdn(atv(CN, 0x17, '250101000000Z'))), 'rejected'],
    ['OCTET STRING value', name(rdn(atv(CN, 0x04, hex('ab')))), 'rejected'],
    ['BMPString surrogate pair', name(rdn(atv(CN, 0x1e, hex('d83dde00')))), 'rejected'],
    ['BMPString of odd length', name(rdn(atv(CN, 0x1e, hex('004100')))), 'rejected'],
    ['UniversalString past U+10FFFF', name(rdn(atv(CN, 0x1c, hex('00110000')))), 'rejected'],
    ['overlong UTF-8', name(rdn(atv(CN, 0x0c, hex('c0af')))), 'rejected'],
    ['AttributeTypeAndValue with three parts', name(rdn(tlv(0x30, Buffer.concat([CN, tlv(0x13, Buffer.from('a')), tlv(0x13, Buffer.from('b'))])))), 'rejected'],
  ];

  it('hand-built names spliced into a certificate', async () => {
    const base = minted.get(MINTED[0]!.label)!;
    const real = await mapLimit(HAND_BUILT, ([, subject]) => opensslHashes(withSubject(base, subject)));
    HAND_BUILT.forEach(([label, subject, outcome], i) => {
      const want = real[i];
      if (outcome === 'rejected') {
        expect(want, `${label}: openssl refuses it`).toBeUndefined();
        expect(() => opensslSubjectHash(subject), label).toThrow(DerError);
      } else {
        expect(want, `${label}: openssl loads it`).toBeDefined();
        expect({ hash: opensslSubjectHash(subject), old: opensslSubjectHashOld(subject) }, label).toEqual(want);
      }
    });
  });
});
