// The CA files `ollama-tls trust --ca FILE` accepts, read by content (never by extension):
// PEM (certificates, TRUSTED CERTIFICATE, PKCS7 blocks; key blocks are noted and skipped), a DER
// certificate, a DER or BER PKCS#7 bundle and a PKCS#12 (.p12/.pfx) file. Then the rules that
// decide what may be installed: CAs and self-signed certificates, in their validity period.
//
// The ASN.1 structure of PKCS#7 and PKCS#12 is walked here (BER-tolerant, so indefinite lengths
// from Windows and Java exports work) so that every certificate comes out byte for byte as it
// was stored. The password-based cryptography is in pkcs12-crypto.ts (node:crypto; node-forge
// only for RC2-40). Key bags are never decoded: the key is never used.
import { createHmac } from 'node:crypto';
import {
  MAX_PBKDF2_ITERATIONS, MAX_PKCS12_KDF_ITERATIONS, PKCS12_HASHES, PKCS12_PBE, Pkcs12CryptoError, bmpPassword, checkPbes2, decryptPbes2, decryptPkcs12Pbe,
  pkcs12Kdf, type Pbes2Params,
} from './pkcs12-crypto.js';
import { InputFileError, readInputFile } from '../platform/input-file.js';
import { certificateFromDer, certificateOrReason, unreadableCertificateMessage } from '../x509/load.js';
import { DerError, TAG, decodeInteger, decodeOid, pemBlocks, readTlv } from '../x509/der.js';
import { formatName, type Certificate } from '../x509/certificate.js';
import { EKU } from '../x509/oids.js';
import { goParseErrors, type GoDebug } from '../trust/go-verify.js';

export type CaInputErrorKind =
  | 'unreadable' | 'empty' | 'garbage' | 'key-only' | 'password-required' | 'bad-password'
  | 'not-a-ca' | 'expired' | 'not-yet-valid' | 'go-unparsable' | 'unsupported';

export class CaInputError extends Error {
  constructor(readonly kind: CaInputErrorKind, message: string) {
    super(message);
    this.name = 'CaInputError';
  }
}

export interface CaFile {
  /** As given. */
  path: string;
  format: 'pem' | 'der' | 'pkcs7' | 'pkcs12';
  /** In file order, duplicates removed. */
  certificates: Certificate[];
  /** The file also held a private key (any PEM key block, a PKCS#12 key bag): never copied. */
  keyIgnored: boolean;
  /** Plain-English remarks for the plan. */
  notes: string[];
}


// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

export async function readCaFile(path: string, opts: { password?: string } = {}): Promise<CaFile> {
  return caFileFromBytes(path, await readBounded(path), opts);
}

/** The same, for bytes already read (`path` names them in messages). */
export async function caFileFromBytes(path: string, bytes: Buffer, opts: { password?: string } = {}): Promise<CaFile> {
  if (bytes.length === 0) throw new CaInputError('empty', `${path} is empty: give a CA certificate file (PEM, DER, PKCS#7 or PKCS#12).`);

  // DER is one element spanning the file; anything else is read as text.
  if (!spansFile(bytes)) {
    const text = asText(bytes);
    if (text.includes('-----BEGIN')) return readPem(path, text);
    if (text.trim() === '') {
      throw new CaInputError('empty', `${path} holds only blank space: give a CA certificate file (PEM, DER, PKCS#7 or PKCS#12).`);
    }
  }
  return readBinary(path, bytes, opts.password);
}

async function readBounded(path: string): Promise<Buffer> {
  try {
    return await readInputFile(path);
  } catch (err) {
    if (err instanceof InputFileError) throw new CaInputError(err.kind === 'too-big' ? 'garbage' : 'unreadable', `${err.message}.`);
    throw err;
  }
}

/** The bytes as text (PEM), including UTF-16 as PowerShell's Out-File writes it. */
function asText(bytes: Buffer): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return bytes.toString('utf16le', 2);
  if (bytes[0] === 0xfe && bytes[1] === 0xff) {
    const swapped = Buffer.from(bytes.subarray(2, bytes.length - (bytes.length % 2)));
    return swapped.swap16().toString('utf16le');
  }
  return bytes.toString('latin1', bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0);
}

/** Whether the bytes are one BER element, give or take trailing line breaks or NUL padding. */
function spansFile(bytes: Buffer): boolean {
  if (bytes[0] !== 0x30) return false;
  try {
    return trailingIsPadding(bytes, ber(bytes, 0, bytes.length).end);
  } catch {
    return false;
  }
}

function trailingIsPadding(bytes: Buffer, from: number): boolean {
  for (let i = from; i < bytes.length; i++) if (![0x00, 0x09, 0x0a, 0x0d, 0x20].includes(bytes[i]!)) return false;
  return true;
}

/** What a file yielded before the CA rules: certificates as DER in file order. */
interface Found {
  format: CaFile['format'];
  ders: { der: Buffer; where: string; trustAux?: boolean }[];
  keys: string[];
  notes: string[];
}

const CERT_LABELS = new Set(['CERTIFICATE', 'X509 CERTIFICATE', 'TRUSTED CERTIFICATE']);
const PKCS7_LABELS = new Set(['PKCS7', 'CMS']);
const SILENT_LABELS = new Set(['EC PARAMETERS', 'DH PARAMETERS', 'X9.42 DH PARAMETERS']);

function readPem(path: string, raw: string): CaFile {
  // Blocks pasted onto one line (web forms, chat): put the armour lines on lines of their own.
  // (The lookbehind makes a run of blanks match only from its start: linear, not quadratic.)
  const text = raw.replace(/(-----BEGIN [A-Z0-9 ]+-----)[ \t]+/g, '$1\n').replace(/(?<![ \t])[ \t]+(?=-----END [A-Z0-9 ]+-----)/g, '\n');
  const blocks = pemBlocks(text);
  const begins = text.match(/-----BEGIN [A-Z0-9 ]+-----/g)?.length ?? 0;
  if (blocks.length < begins) {
    const broken = blocks.length === 0 ? 'its PEM block has' : `${begins - blocks.length} of its ${begins} PEM blocks have`;
    throw new CaInputError('garbage', `${path} is damaged: ${broken} no matching -----END ...----- line (a truncated copy?).`);
  }
  const found: Found = { format: 'pem', ders: [], keys: [], notes: [] };
  const ignored: string[] = [];
  let certBlocks = 0;
  let pkcs7Blocks = 0;
  blocks.forEach((block, i) => {
    const where = `PEM block ${i + 1} (${block.label})`;
    if (CERT_LABELS.has(block.label)) {
      certBlocks++;
      if (block.label === 'TRUSTED CERTIFICATE') {
        // A certificate followed by OpenSSL's trust settings (X509_CERT_AUX).
        let end = block.der.length;
        try { end = readTlv(block.der, 0).end; } catch { /* reported as garbage below */ }
        found.ders.push({ der: block.der.subarray(0, end), where, trustAux: end < block.der.length });
      } else {
        found.ders.push({ der: block.der, where });
      }
    } else if (PKCS7_LABELS.has(block.label)) {
      pkcs7Blocks++;
      for (const [j, der] of pkcs7Certificates(path, block.der, where).entries()) {
        found.ders.push({ der, where: `certificate ${j + 1} of ${where}` });
      }
    } else if (/PRIVATE KEY$/.test(block.label)) {
      found.keys.push(block.label);
    } else if (!SILENT_LABELS.has(block.label)) {
      ignored.push(block.label);
    }
  });
  if (certBlocks === 0 && pkcs7Blocks === 0) {
    if (found.keys.length > 0) throw keyOnly(path, unique(found.keys).map(article).join(', '));
    const what = ignored.length > 0 ? `only ${unique(ignored).map(article).join(', ')}` : 'no certificate';
    throw new CaInputError(
      ignored.length > 0 ? 'unsupported' : 'garbage',
      `${path} holds ${what}, no certificate: give the CA certificate itself (a -----BEGIN CERTIFICATE----- block).`,
    );
  }
  if (pkcs7Blocks > 0 && certBlocks === 0) found.format = 'pkcs7';
  if (pkcs7Blocks > 0 && found.ders.length === 0) {
    throw new CaInputError('empty', `${path} holds a PKCS#7 bundle with no certificates in it.`);
  }
  if (ignored.length > 0) found.notes.push(`${path} also holds ${unique(ignored).map(article).join(', ')}; ignored.`);
  return finish(path, found);
}

async function readBinary(path: string, bytes: Buffer, password: string | undefined): Promise<CaFile> {
  const notDer = () => new CaInputError('garbage',
    `${path} is not a certificate file: no PEM block (-----BEGIN CERTIFICATE-----) and not a DER certificate, PKCS#7 or PKCS#12 file.`);
  if (bytes[0] !== 0x30) throw notDer();
  let top: Ber;
  try {
    top = ber(bytes, 0, bytes.length);
  } catch {
    throw notDer();
  }
  if (!trailingIsPadding(bytes, top.end)) throw notDer();
  const der = bytes.subarray(0, top.end);
  let kids: Ber[];
  try {
    kids = berChildren(der, top);
  } catch {
    throw notDer();
  }
  const [k0, k1, k2] = kids;
  if (k0?.tag === TAG.OID) {
    const oid = safeOid(der, k0);
    if (oid === OID.signedData) {
      const certs = pkcs7Certificates(path, der, 'the PKCS#7 bundle');
      if (certs.length === 0) throw new CaInputError('empty', `${path} holds a PKCS#7 bundle with no certificates in it.`);
      return finish(path, { format: 'pkcs7', ders: certs.map((d, j) => ({ der: d, where: `certificate ${j + 1}` })), keys: [], notes: [] });
    }
    throw new CaInputError('unsupported', `${path} is a PKCS#7/CMS ${CMS_TYPES[oid ?? ''] ?? `object (${oid})`}, not a certificate bundle: give the CA certificate as PEM, DER, a .p7b or a .p12.`);
  }
  if (k0?.tag === TAG.INTEGER && k1?.tag === TAG.SEQUENCE && integerValue(der, k0) === 3 && kids.length <= 3) {
    return finish(path, await readPkcs12(path, der, kids, password));
  }
  if (kids.length === 3 && k0?.tag === TAG.SEQUENCE && k1?.tag === TAG.SEQUENCE && k2?.tag === TAG.BIT_STRING) {
    // A signed structure: a certificate, or a certificate request / CRL.
    if (certificateFromDer(Buffer.from(der))) return finish(path, { format: 'der', ders: [{ der, where: 'the certificate' }], keys: [], notes: [] });
    throw new CaInputError('unsupported',
      `${path} is a signed DER object but not an X.509 certificate (a certificate request or a CRL?): give the CA certificate itself.`);
  }
  const key = derKeyKind(der, kids);
  if (key) throw keyOnly(path, key);
  throw notDer();
}

function keyOnly(path: string, what: string): CaInputError {
  return new CaInputError('key-only',
    `${path} holds only a private key (${what}), no certificate: give the CA certificate (a -----BEGIN CERTIFICATE----- block, .crt/.cer, .p7b or .p12). A CA's private key is never needed to trust it; keep it secret.`);
}

/** The shapes of DER private keys: PKCS#8, encrypted PKCS#8, PKCS#1 RSA, SEC1 EC. */
function derKeyKind(der: Buffer, kids: Ber[]): string | undefined {
  const [k0, k1, k2] = kids;
  if (k0?.tag === TAG.INTEGER && k1?.tag === TAG.SEQUENCE && k2?.tag === TAG.OCTET_STRING) return 'a PKCS#8 private key in DER';
  if (kids.length === 2 && k0?.tag === TAG.SEQUENCE && k1?.tag === TAG.OCTET_STRING) {
    try {
      const alg = berChildren(der, k0)[0];
      if (alg?.tag === TAG.OID && /^1\.2\.840\.113549\.1\.(5|12\.1)\./.test(safeOid(der, alg) ?? '')) return 'an encrypted PKCS#8 private key in DER';
    } catch { /* not a key */ }
  }
  if (k0?.tag === TAG.INTEGER && integerValue(der, k0) === 0 && kids.length >= 9 && kids.every((k) => k.tag === TAG.INTEGER)) return 'an RSA private key in DER';
  if (k0?.tag === TAG.INTEGER && integerValue(der, k0) === 1 && k1?.tag === TAG.OCTET_STRING) return 'an EC private key in DER';
  return undefined;
}

/** Turn DER into Certificates, check they parse everywhere, and write the notes. */
function finish(path: string, found: Found): CaFile {
  const certificates: Certificate[] = [];
  const seen = new Set<string>();
  const notes = [...found.notes];
  let duplicates = 0;
  for (const { der, where, trustAux } of found.ders) {
    const cert = parseStrict(der);
    if (typeof cert === 'string') throw new CaInputError('garbage', `${unreadableCertificateMessage(path, where, cert)}; nothing was changed.`);
    if (seen.has(cert.sha256)) { duplicates++; continue; }
    seen.add(cert.sha256);
    certificates.push(cert);
    if (trustAux) {
      notes.push(`${path}: "${label(cert)}" is an OpenSSL TRUSTED CERTIFICATE; its OpenSSL-only trust settings are dropped and it is installed as a plain CA certificate.`);
    }
  }
  if (duplicates > 0) notes.push(`${path} lists the same certificate more than once; each is used once.`);
  if (found.keys.length > 0) {
    notes.push(`${path} also holds a private key; only the certificates are used (the key is never copied).`);
  }
  // How many certificates of the file bear each subject: "is its issuer here?" without a scan per certificate.
  const subjects = new Map<string, number>();
  for (const c of certificates) subjects.set(c.subjectRaw.toString('latin1'), (subjects.get(c.subjectRaw.toString('latin1')) ?? 0) + 1);
  const issuerHere = (cert: Certificate) => (subjects.get(cert.issuerRaw.toString('latin1')) ?? 0) - (cert.subjectRaw.equals(cert.issuerRaw) ? 1 : 0) > 0;
  for (const cert of certificates) {
    if (cert.isCA && !cert.selfSigned && !issuerHere(cert)) {
      notes.push(
        `${path} holds an intermediate CA "${label(cert)}" (issued by "${issuerLabel(cert)}") without its root: Go (Ollama) and curl accept it as a trust anchor, ` +
        'but Node.js, most Python tools and `openssl s_client` need its root too; add the root certificate if you have it.',
      );
    }
    // A self-signed v1 certificate (no extensions) is an old-style root; one that says cA:FALSE
    // or names servers is a server's own certificate.
    if (!cert.isCA && cert.selfSigned && (cert.basicConstraints || cert.san)) {
      notes.push(`${path}: "${label(cert)}" is a self-signed server certificate, not a CA: trusting it trusts that one certificate only (it must be renewed by hand when it changes).`);
    }
    if (cert.goParseErrors.length > 0) {
      const negative = cert.serialNegative ? ' (GODEBUG=x509negativeserial=1 makes Go accept a negative serial number)' : '';
      notes.push(`${path}: Go (Ollama) cannot parse "${label(cert)}" (${cert.goParseErrors.join('; ')}) and skips it without a word, so it will not help Ollama${negative}.`);
    }
  }
  return { path, format: found.format, certificates, keyIgnored: found.keys.length > 0, notes };
}

/** A Certificate only if our reader decodes every field and OpenSSL (through Node) parses it; else why not. */
function parseStrict(der: Buffer): Certificate | string {
  const cert = certificateOrReason(Buffer.from(der), { decoded: true }); // a copy: the cache must not pin the file's buffer
  if (typeof cert === 'string') return cert;
  try {
    cert.x509();
    return cert;
  } catch (err) {
    return `OpenSSL cannot parse it: ${(err as Error).message}`;
  }
}

// ---------------------------------------------------------------------------------------------
// The CA rules
// ---------------------------------------------------------------------------------------------

/**
 * The CA certificates to install, de-duplicated across files (first occurrence wins). A file or
 * a set with any certificate that may not be installed is refused as a whole, naming each one.
 */
export function checkCas(files: CaFile[], opts: { now: Date; force: boolean; godebug?: GoDebug }): Certificate[] {
  const out = new Map<string, Certificate>();
  const problems: { kind: 'not-a-ca' | 'expired' | 'not-yet-valid' | 'go-unparsable'; text: string }[] = [];
  for (const file of files) {
    for (const cert of file.certificates) {
      const who = `${file.path}: "${label(cert)}" (SHA-256 ${colonHex(cert.sha256)})`;
      if (!cert.isCA && !cert.selfSigned) {
        problems.push({ kind: 'not-a-ca', text: `${who} is ${endEntityWords(cert)} issued by "${issuerLabel(cert)}", not a CA; give the CA certificate instead (the last certificate of a chain file, or ask your IT team).` });
        continue;
      }
      if (opts.now.getTime() > cert.notAfter.getTime()) {
        if (!opts.force) problems.push({ kind: 'expired', text: `${who} expired on ${day(cert.notAfter)}; get a current one from its owner (--force installs it anyway).` });
      } else if (opts.now.getTime() < cert.notBefore.getTime()) {
        if (!opts.force) problems.push({ kind: 'not-yet-valid', text: `${who} is not valid until ${day(cert.notBefore)} (check this computer's clock; --force installs it anyway).` });
      }
      // Go's AppendCertsFromPEM drops what its parser rejects: installed, the CA would do
      // nothing for Ollama. --force installs it anyway (for a GODEBUG setting the service has).
      const goErrors = goParseErrors(cert, opts.godebug);
      if (goErrors.length > 0 && !opts.force) {
        const negative = cert.serialNegative ? '; GODEBUG=x509negativeserial=1 in Ollama\'s environment makes Go accept a negative serial' : '';
        problems.push({ kind: 'go-unparsable', text: `${who} cannot be parsed by Go (Ollama): ${goErrors.join('; ')}. Go skips it without a word, so installing it would not help Ollama; get it reissued (--force installs it anyway${negative}).` });
      }
      if (!out.has(cert.sha256)) out.set(cert.sha256, cert);
    }
  }
  if (problems.length > 0) {
    const order = ['not-a-ca', 'expired', 'not-yet-valid', 'go-unparsable'] as const;
    const kind = order.find((k) => problems.some((p) => p.kind === k))!;
    const head = problems.length === 1 ? 'Refusing this CA input, nothing was changed:' : `Refusing this CA input (${problems.length} problems), nothing was changed:`;
    throw new CaInputError(kind, `${head}\n${problems.map((p) => `  - ${p.text}`).join('\n')}`);
  }
  return [...out.values()];
}

function label(cert: Certificate): string {
  return cert.commonName ?? (formatName(cert.subject) || `serial ${cert.serialHex}`);
}

function issuerLabel(cert: Certificate): string {
  const cn = cert.issuer.rdns.flat().find((a) => a.type === 'CN')?.value;
  return cn ?? (formatName(cert.issuer) || 'an empty name');
}

function endEntityWords(cert: Certificate): string {
  const names = [...(cert.san?.dns ?? []), ...(cert.san?.ip ?? [])];
  const server = names.length > 0 || cert.extKeyUsage?.includes(EKU.serverAuth);
  if (!server) return 'an end-entity certificate';
  const shown = names.length > 0 ? names.slice(0, 3).join(', ') + (names.length > 3 ? ` and ${names.length - 3} more` : '') : label(cert);
  return `a server certificate for ${shown}`;
}

const colonHex = (hex: string): string => hex.toUpperCase().match(/../g)!.join(':');
const day = (d: Date): string => d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
const unique = <T>(xs: T[]): T[] => [...new Set(xs)];
const article = (l: string): string => `${/^[AEIOUX]/.test(l) ? 'an' : 'a'} ${l} block`;

// ---------------------------------------------------------------------------------------------
// BER (DER plus indefinite lengths), with exact offsets
// ---------------------------------------------------------------------------------------------

interface Ber {
  tag: number;
  start: number;
  body: number;
  /** End of the content (before the end-of-contents octets of an indefinite length). */
  contentEnd: number;
  /** End of the element. */
  end: number;
}

// Where each indefinite-length element ends, per buffer: reading a child re-reads its subtree,
// and without this a deep nest of indefinite lengths would be walked once per level.
const indefiniteEnds = new WeakMap<Buffer, Map<number, Ber>>();

function ber(buf: Buffer, offset: number, limit: number, depth = 0): Ber {
  if (depth > 32) throw new DerError('ASN.1 nested too deeply');
  const known = indefiniteEnds.get(buf)?.get(offset);
  if (known && known.end <= limit) return known;
  if (offset + 2 > limit) throw new DerError('truncated element');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tags are not supported');
  const first = buf[offset + 1]!;
  let body = offset + 2;
  if (first === 0x80) {
    if (!(tag & 0x20)) throw new DerError('indefinite length on a primitive element');
    let at = body;
    for (;;) {
      if (at + 2 > limit) throw new DerError('missing end-of-contents');
      if (buf[at] === 0 && buf[at + 1] === 0) {
        const found: Ber = { tag, start: offset, body, contentEnd: at, end: at + 2 };
        let perBuf = indefiniteEnds.get(buf);
        if (!perBuf) indefiniteEnds.set(buf, (perBuf = new Map()));
        perBuf.set(offset, found);
        return found;
      }
      at = ber(buf, at, limit, depth + 1).end;
    }
  }
  let len = first;
  if (first & 0x80) {
    const n = first & 0x7f;
    if (n > 4) throw new DerError('length too long');
    if (body + n > limit) throw new DerError('truncated length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[body + i]!;
    body += n;
  }
  const end = body + len;
  if (end > limit) throw new DerError('element runs past its container');
  return { tag, start: offset, body, contentEnd: end, end };
}

function berChildren(buf: Buffer, parent: Ber): Ber[] {
  const out: Ber[] = [];
  for (let at = parent.body; at < parent.contentEnd; ) {
    const t = ber(buf, at, parent.contentEnd);
    out.push(t);
    at = t.end;
  }
  return out;
}

function expect(t: Ber | undefined, tag: number, what: string): Ber {
  if (!t || t.tag !== tag) throw new DerError(`expected ${what}`);
  return t;
}

/** An OCTET STRING, primitive (DER) or constructed (BER). */
function expectOctetString(t: Ber | undefined, what: string): Ber {
  if (!t || (t.tag !== TAG.OCTET_STRING && t.tag !== (TAG.OCTET_STRING | 0x20))) throw new DerError(`expected ${what} OCTET STRING`);
  return t;
}

/** The octets of an OCTET STRING (or [n] IMPLICIT one), primitive or BER-constructed. */
function octets(buf: Buffer, t: Ber, depth = 0): Buffer {
  if (!(t.tag & 0x20)) return buf.subarray(t.body, t.contentEnd);
  if (depth > 32) throw new DerError('OCTET STRING nested too deeply');
  return Buffer.concat(berChildren(buf, t).map((c) => octets(buf, c, depth + 1)));
}

function oidOf(buf: Buffer, t: Ber | undefined, what: string): string {
  return decodeOid(buf.subarray(expect(t, TAG.OID, what).body, t!.contentEnd));
}

function safeOid(buf: Buffer, t: Ber): string | undefined {
  try { return oidOf(buf, t, 'OID'); } catch { return undefined; }
}

function integerValue(buf: Buffer, t: Ber): number {
  const { hex, negative } = decodeInteger(buf.subarray(t.body, t.contentEnd));
  if (negative || hex.length > 12) return -1;
  return parseInt(hex || '0', 16);
}

const OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  envelopedData: '1.2.840.113549.1.7.3',
  encryptedData: '1.2.840.113549.1.7.6',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  crlBag: '1.2.840.113549.1.12.10.1.4',
  secretBag: '1.2.840.113549.1.12.10.1.5',
  safeContentsBag: '1.2.840.113549.1.12.10.1.6',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  pbes2: '1.2.840.113549.1.5.13',
  pbmac1: '1.2.840.113549.1.5.14',
  pbkdf2: '1.2.840.113549.1.5.12',
} as const;

const CMS_TYPES: Record<string, string> = {
  [OID.data]: 'data object',
  [OID.envelopedData]: 'encrypted (enveloped) message',
  [OID.encryptedData]: 'encrypted data object',
  '1.2.840.113549.1.9.16.1.2': 'authenticated data object',
};

const LEGACY_PBE_NAMES: Record<string, string> = {
  '1.2.840.113549.1.12.1.1': 'pbeWithSHAAnd128BitRC4',
  '1.2.840.113549.1.12.1.2': 'pbeWithSHAAnd40BitRC4',
  '1.2.840.113549.1.12.1.4': 'pbeWithSHAAnd2-KeyTripleDES-CBC',
  '1.2.840.113549.1.12.1.5': 'pbeWithSHAAnd128BitRC2-CBC',
};

// ---------------------------------------------------------------------------------------------
// PKCS#7 (SignedData "certs-only" bundles: .p7b, .p7c, openssl crl2pkcs7)
// ---------------------------------------------------------------------------------------------

function pkcs7Certificates(path: string, der: Buffer, where: string): Buffer[] {
  try {
    const top = expect(ber(der, 0, der.length), TAG.SEQUENCE, 'ContentInfo');
    const [typeT, explicit] = berChildren(der, top);
    const type = oidOf(der, typeT, 'contentType');
    if (type !== OID.signedData) {
      throw new CaInputError('unsupported', `${path}: ${where} is a PKCS#7/CMS ${CMS_TYPES[type] ?? `object (${type})`}, not a certificate bundle.`);
    }
    const signedData = expect(berChildren(der, expect(explicit, 0xa0, '[0] content'))[0], TAG.SEQUENCE, 'SignedData');
    // version, digestAlgorithms, encapContentInfo, [0] IMPLICIT certificates OPTIONAL, [1] crls, signerInfos
    const certSet = berChildren(der, signedData).find((t) => t.tag === 0xa0);
    if (!certSet) return [];
    // CertificateChoices: plain certificates are SEQUENCEs; attribute certificates etc. are tagged.
    return berChildren(der, certSet).filter((t) => t.tag === TAG.SEQUENCE).map((t) => der.subarray(t.start, t.end));
  } catch (err) {
    if (err instanceof CaInputError) throw err;
    throw new CaInputError('garbage', `${path}: ${where} is a damaged PKCS#7 file (${(err as Error).message}).`);
  }
}

// ---------------------------------------------------------------------------------------------
// PKCS#12
// ---------------------------------------------------------------------------------------------

/**
 * One way to present a password. The PKCS#12 KDF (MAC, legacy ciphers) takes it as UTF-16 with
 * a terminator (or nothing at all for a NULL password); PBES2 (OpenSSL 3's AES) as UTF-8 bytes.
 */
interface Credential { given: boolean; kdf12: Buffer; pbes2: Buffer }

function credentials(password: string | undefined): Credential[] {
  const out: Credential[] = [];
  if (password !== undefined && password !== '') {
    const utf8 = Buffer.from(password, 'utf8');
    out.push({ given: true, kdf12: bmpPassword(password), pbes2: utf8 });
    // OpenSSL 1.x derived the MAC key from the UTF-8 bytes one by one; OpenSSL 3 retries so too.
    const bytewise = utf8.toString('latin1');
    if (bytewise !== password) out.push({ given: true, kdf12: bmpPassword(bytewise), pbes2: utf8 });
  }
  // No password: "" (a terminator only) as OpenSSL's -passout pass: writes, or a NULL password.
  out.push({ given: false, kdf12: bmpPassword(''), pbes2: Buffer.alloc(0) }, { given: false, kdf12: bmpPassword(null), pbes2: Buffer.alloc(0) });
  return out;
}

interface Bags { ders: Buffer[]; keys: number; other: string[] }

async function readPkcs12(path: string, der: Buffer, kids: Ber[], password: string | undefined): Promise<Found> {
  const damaged = (why: string) => new CaInputError('garbage', `${path} is a damaged PKCS#12 file (${why}).`);
  const given = password !== undefined && password !== '';
  const needPassword = () => given
    ? new CaInputError('bad-password', `${path}: wrong password for this PKCS#12 file (its integrity check fails with it); nothing was changed.`)
    : new CaInputError('password-required', `${path} is a password-protected PKCS#12 file: give its password (--password, or type it when asked).`);

  // PFX ::= SEQUENCE { version 3, authSafe ContentInfo, macData MacData OPTIONAL }
  let authData: Buffer;
  let mac: { oid: string; digest: Buffer; salt: Buffer; iterations: number } | undefined;
  try {
    const [, authSafe, macData] = kids;
    const [typeT, explicit] = berChildren(der, authSafe!);
    const type = oidOf(der, typeT, 'authSafe contentType');
    if (type === OID.signedData) {
      throw new CaInputError('unsupported', `${path} is a PKCS#12 file in public-key integrity mode, which this tool does not read: export it again with a password, or give the CA certificate as PEM.`);
    }
    if (type !== OID.data) throw damaged(`authSafe of type ${type}`);
    authData = octets(der, expectOctetString(berChildren(der, expect(explicit, 0xa0, 'authSafe content'))[0], 'authSafe data'));
    if (macData) {
      const [digestInfo, saltT, iterT] = berChildren(der, expect(macData, TAG.SEQUENCE, 'MacData'));
      const [algId, digestT] = berChildren(der, expect(digestInfo, TAG.SEQUENCE, 'DigestInfo'));
      const oid = oidOf(der, berChildren(der, expect(algId, TAG.SEQUENCE, 'digestAlgorithm'))[0], 'MAC digest');
      mac = {
        oid,
        digest: octets(der, expect(digestT, TAG.OCTET_STRING, 'MAC digest')),
        salt: octets(der, expect(saltT, TAG.OCTET_STRING, 'MAC salt')),
        iterations: iterT ? integerValue(der, expect(iterT, TAG.INTEGER, 'MAC iterations')) : 1,
      };
    }
  } catch (err) {
    if (err instanceof CaInputError) throw err;
    throw damaged((err as Error).message);
  }

  // Each ContentInfo of the AuthenticatedSafe: plain data, or password-encrypted data.
  type Part = { plain: Buffer } | { alg: string; params: Buffer; encrypted: Buffer };
  const parts: Part[] = [];
  try {
    const seq = expect(ber(authData, 0, authData.length), TAG.SEQUENCE, 'AuthenticatedSafe');
    for (const ci of berChildren(authData, seq)) {
      const [typeT, explicit] = berChildren(authData, expect(ci, TAG.SEQUENCE, 'ContentInfo'));
      const type = oidOf(authData, typeT, 'contentType');
      const inner = berChildren(authData, expect(explicit, 0xa0, 'content'))[0];
      if (type === OID.data) {
        parts.push({ plain: octets(authData, expectOctetString(inner, 'data')) });
      } else if (type === OID.encryptedData) {
        // EncryptedData ::= SEQUENCE { version, EncryptedContentInfo { contentType, algorithm, [0] IMPLICIT encryptedContent } }
        const eci = expect(berChildren(authData, expect(inner, TAG.SEQUENCE, 'EncryptedData'))[1], TAG.SEQUENCE, 'EncryptedContentInfo');
        const [, algT, contentT] = berChildren(authData, eci);
        const [algOidT, paramsT] = berChildren(authData, expect(algT, TAG.SEQUENCE, 'encryption algorithm'));
        if (!contentT || (contentT.tag & 0xdf) !== 0x80) throw new DerError('missing encrypted content');
        parts.push({
          alg: oidOf(authData, algOidT, 'encryption algorithm'),
          params: paramsT ? authData.subarray(paramsT.start, paramsT.end) : Buffer.alloc(0),
          encrypted: octets(authData, contentT),
        });
      } else if (type === OID.envelopedData) {
        throw new CaInputError('unsupported', `${path} is a PKCS#12 file encrypted to a public key (public-key privacy mode), which this tool does not read: export it again with a password.`);
      } else {
        throw damaged(`content of type ${type}`);
      }
    }
  } catch (err) {
    if (err instanceof CaInputError) throw err;
    // The MAC covers these bytes; a wrong password cannot produce this.
    throw damaged((err as Error).message);
  }

  const candidates = credentials(password);
  let verified: Credential | undefined;
  if (mac) {
    const digest = PKCS12_HASHES[mac.oid];
    if (!digest) {
      const what = mac.oid === OID.pbmac1 ? 'PBMAC1 (OpenSSL 3.4+ -pbmac1_pbkdf2)' : `the MAC algorithm ${mac.oid}`;
      throw new CaInputError('unsupported', `${path} is a PKCS#12 file protected with ${what}, which this tool does not read yet: export the certificates as PEM (openssl pkcs12 -in ${path} -nokeys -out ca.pem) and give that file.`);
    }
    if (!(mac.iterations >= 1 && mac.iterations <= MAX_PKCS12_KDF_ITERATIONS)) throw tooManyIterations(path, 'MAC', mac.iterations, MAX_PKCS12_KDF_ITERATIONS);
    for (const cred of candidates) {
      const key = pkcs12Kdf(cred.kdf12, mac.salt, 3, mac.iterations, digest.bytes, digest);
      const got = createHmac(digest.node, key).update(authData).digest();
      if (got.equals(mac.digest)) { verified = cred; break; }
    }
    if (!verified) throw needPassword();
  }

  const found: Bags = { ders: [], keys: 0, other: [] };
  let encryptedParts = 0;
  for (const part of parts) {
    if ('plain' in part) {
      try {
        mergeBags(found, walkBags(part.plain));
      } catch (err) {
        throw damaged((err as Error).message);
      }
      continue;
    }
    encryptedParts++;
    const order = verified ? [verified, ...candidates.filter((c) => c !== verified)] : candidates;
    let bags: Bags | undefined;
    for (const cred of order) {
      const plain = await decrypt(path, part, cred);
      if (!plain) continue;
      try {
        bags = walkBags(plain);
        break;
      } catch {
        // A wrong key that happened to leave valid padding: try the next way.
      }
    }
    if (!bags) {
      if (verified) {
        throw new CaInputError('bad-password', `${path}: the password checks out but does not decrypt the certificates (the file uses a second, different encryption password?); nothing was changed.`);
      }
      throw needPassword();
    }
    mergeBags(found, bags);
  }

  if (found.ders.length === 0) {
    if (found.keys > 0) throw keyOnly(path, 'a PKCS#12 file with a key and no certificate');
    throw new CaInputError('empty', `${path} is a PKCS#12 file with no certificates in it.`);
  }
  const notes: string[] = [];
  if (found.other.length > 0) notes.push(`${path} also holds ${unique(found.other).join(', ')}; ignored.`);
  if (!mac && encryptedParts === 0) notes.push(`${path} is a PKCS#12 file without any integrity check (no MAC); make sure it came from your IT team.`);
  return {
    format: 'pkcs12',
    ders: found.ders.map((d, i) => ({ der: d, where: `certificate ${i + 1}` })),
    keys: found.keys > 0 ? ['PKCS#12 key bag'] : [],
    notes,
  };
}

function mergeBags(into: Bags, from: Bags): void {
  into.ders.push(...from.ders);
  into.keys += from.keys;
  into.other.push(...from.other);
}

function tooManyIterations(path: string, what: string, count: number, max: number): CaInputError {
  return new CaInputError('unsupported',
    `${path} is a PKCS#12 file with a ${what} iteration count of ${count}, outside what this tool accepts (1 to ${max}; OpenSSL writes 2048, Java 10000): ` +
    `export the certificates as PEM (openssl pkcs12 -in ${path} -nokeys -out ca.pem) and give that file.`);
}

/** PBES2 or PKCS#12 PBE parameters, read (and their work factor bounded) before any work. */
type Cipher = { kind: 'pbes2'; params: Pbes2Params } | { kind: 'pkcs12'; salt: Buffer; iterations: number };

function cipherParams(path: string, part: { alg: string; params: Buffer }): Cipher {
  const unsupported = (what: string) => new CaInputError('unsupported',
    `${path} is a PKCS#12 file encrypted with ${what}, which this tool cannot read: export the certificates as PEM (openssl pkcs12 -in ${path} -nokeys -out ca.pem) and give that file.`);
  if (part.alg !== OID.pbes2 && part.alg !== PKCS12_PBE.sha3Des && part.alg !== PKCS12_PBE.shaRc2_40) {
    throw unsupported(LEGACY_PBE_NAMES[part.alg] ?? `the algorithm ${part.alg}`);
  }
  const p = part.params;
  let cipher: Cipher;
  try {
    const top = berChildren(p, expect(ber(p, 0, p.length), TAG.SEQUENCE, 'parameters'));
    if (part.alg === OID.pbes2) {
      // PBES2-params ::= SEQUENCE { keyDerivationFunc, encryptionScheme }
      const [kdfOidT, kdfParamsT] = berChildren(p, expect(top[0], TAG.SEQUENCE, 'keyDerivationFunc'));
      const [encOidT, ivT] = berChildren(p, expect(top[1], TAG.SEQUENCE, 'encryptionScheme'));
      const kdfOid = oidOf(p, kdfOidT, 'KDF');
      const cipherOid = oidOf(p, encOidT, 'cipher');
      // PBKDF2-params ::= SEQUENCE { salt OCTET STRING, iterationCount, keyLength OPTIONAL, prf DEFAULT hmacWithSHA1 }
      let salt: Buffer = Buffer.alloc(0), iterations = 0, keyLength: number | undefined, prfOid = '1.2.840.113549.2.7';
      if (kdfOid === OID.pbkdf2) {
        const kp = berChildren(p, expect(kdfParamsT, TAG.SEQUENCE, 'PBKDF2-params'));
        salt = octets(p, expectOctetString(kp[0], 'salt'));
        iterations = integerValue(p, expect(kp[1], TAG.INTEGER, 'iterationCount'));
        for (const t of kp.slice(2)) {
          if (t.tag === TAG.INTEGER) keyLength = integerValue(p, t);
          if (t.tag === TAG.SEQUENCE) prfOid = oidOf(p, berChildren(p, t)[0], 'PRF');
        }
      }
      const iv = ivT && (ivT.tag === TAG.OCTET_STRING) ? octets(p, ivT) : Buffer.alloc(0);
      cipher = { kind: 'pbes2', params: { kdfOid, salt, iterations, ...(keyLength !== undefined ? { keyLength } : {}), prfOid, cipherOid, iv } };
    } else {
      // pkcs-12PbeParams ::= SEQUENCE { salt OCTET STRING, iterations INTEGER }
      cipher = { kind: 'pkcs12', salt: octets(p, expectOctetString(top[0], 'salt')), iterations: integerValue(p, expect(top[1], TAG.INTEGER, 'iterations')) };
    }
  } catch (err) {
    throw new CaInputError('garbage', `${path} is a damaged PKCS#12 file (encryption parameters: ${(err as Error).message}).`);
  }
  if (cipher.kind === 'pbes2') {
    const iterations = cipher.params.iterations;
    if (cipher.params.kdfOid === OID.pbkdf2 && !(iterations >= 1 && iterations <= MAX_PBKDF2_ITERATIONS)) {
      throw tooManyIterations(path, 'PBKDF2', iterations, MAX_PBKDF2_ITERATIONS);
    }
    try {
      checkPbes2(cipher.params);
    } catch (err) {
      if (err instanceof Pkcs12CryptoError) throw unsupported(err.message);
      throw err;
    }
  } else if (!(cipher.iterations >= 1 && cipher.iterations <= MAX_PKCS12_KDF_ITERATIONS)) {
    throw tooManyIterations(path, 'encryption', cipher.iterations, MAX_PKCS12_KDF_ITERATIONS);
  }
  return cipher;
}

async function decrypt(path: string, part: { alg: string; params: Buffer; encrypted: Buffer }, cred: Credential): Promise<Buffer | undefined> {
  const cipher = cipherParams(path, part);
  if (cipher.kind === 'pbes2') return decryptPbes2(cipher.params, cred.pbes2, part.encrypted);
  return decryptPkcs12Pbe(part.alg, cipher.salt, cipher.iterations, cred.kdf12, part.encrypted);
}

/** SafeContents ::= SEQUENCE OF SafeBag. Key bags are counted, never decoded or decrypted. */
function walkBags(buf: Buffer, depth = 0): Bags {
  const out: Bags = { ders: [], keys: 0, other: [] };
  const top = expect(ber(buf, 0, buf.length), TAG.SEQUENCE, 'SafeContents');
  if (depth === 0 && top.end !== buf.length) throw new DerError('trailing data after SafeContents');
  for (const bag of berChildren(buf, top)) {
    const [idT, valueT] = berChildren(buf, expect(bag, TAG.SEQUENCE, 'SafeBag'));
    const id = oidOf(buf, idT, 'bagId');
    const value = berChildren(buf, expect(valueT, 0xa0, 'bagValue'))[0];
    switch (id) {
      case OID.keyBag:
      case OID.shroudedKeyBag:
        out.keys++;
        break;
      case OID.certBag: {
        const [certIdT, certValueT] = berChildren(buf, expect(value, TAG.SEQUENCE, 'CertBag'));
        const certId = oidOf(buf, certIdT, 'certId');
        const inner = berChildren(buf, expect(certValueT, 0xa0, 'certValue'))[0];
        if (certId === OID.x509Certificate) out.ders.push(Buffer.from(octets(buf, expectOctetString(inner, 'certificate'))));
        else out.other.push('a non-X.509 (SDSI) certificate');
        break;
      }
      case OID.crlBag: out.other.push('a CRL'); break;
      case OID.secretBag: out.other.push('a secret'); break;
      case OID.safeContentsBag: {
        if (depth > 4) throw new DerError('SafeContents nested too deeply');
        const sub = buf.subarray(value!.start, value!.end);
        mergeBags(out, walkBags(sub, depth + 1));
        break;
      }
      default: throw new DerError(`unknown bag type ${id}`);
    }
  }
  return out;
}
