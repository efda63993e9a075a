// Any certificate file a user gives (doctor --ca/--cert, trust --ca, inspect, verify), read by
// content, never by extension: PEM (with text around it, CRLF, UTF-16, pasted onto one line;
// CERTIFICATE, TRUSTED CERTIFICATE and PKCS7 blocks; key blocks noted and skipped), a DER
// certificate, a DER or BER PKCS#7 bundle, a PKCS#12 (.p12/.pfx) file, or "-" for standard input.
// Every certificate comes out decoded whole and in file order (duplicates kept: inspect shows
// them); a file with any certificate that cannot be read is refused, naming it, with the one
// wording of load.ts. What may be installed or trusted is the callers' business (fix/ca-input.ts).
import { InputFileError, readInputFile, readStandardInput } from '../platform/input-file.js';
import { certificateFromDer, certificateOrReason, unreadableCertificateMessage } from './load.js';
import { TAG, pemBlocks, readTlv } from './der.js';
import { ber, berChildren, integerValue, safeOid, spansFile, trailingIsPadding, type Ber } from './ber.js';
import { CMS_TYPES, OID } from './container-oids.js';
import { pkcs7Certificates } from './pkcs7.js';
import { readPkcs12 } from './pkcs12.js';
import type { Certificate } from './certificate.js';
import { CertificateInputError, keyOnly } from './input-error.js';

export { CertificateInputError, type CertificateInputErrorKind } from './input-error.js';

export type CertificateFileFormat = 'pem' | 'der' | 'pkcs7' | 'pkcs12';

export interface CertificateFileEntry {
  cert: Certificate;
  /** Where in the file, for messages: "PEM block 2 (CERTIFICATE)", "certificate 3". */
  where: string;
  /** An OpenSSL TRUSTED CERTIFICATE whose trust settings were dropped. */
  trustAux?: boolean;
}

export interface CertificateFile {
  /** As given ("-" for standard input). */
  path: string;
  format: CertificateFileFormat;
  /** Every certificate in file order, duplicates included. */
  entries: CertificateFileEntry[];
  /** Private keys seen (PEM labels, "PKCS#12 key bag"): counted, never decoded or kept. */
  keys: string[];
  /** Plain-English remarks (ignored blocks, a PKCS#12 without integrity check). */
  notes: string[];
}

/**
 * Read and decode a certificate file. `flag` prefixes the messages about reading it ("--ca x.pem");
 * "-" reads standard input. Bounded by the 16 MiB input cap.
 */
export async function readCertificateFile(path: string, opts: { password?: string; flag?: string } = {}): Promise<CertificateFile> {
  let bytes: Buffer;
  try {
    bytes = path === '-' ? await readStandardInput(opts.flag ?? 'standard input') : await readInputFile(path, opts.flag ?? path);
  } catch (err) {
    if (err instanceof InputFileError) throw new CertificateInputError(err.kind === 'too-big' ? 'garbage' : 'unreadable', `${err.message}.`);
    throw err;
  }
  return certificateFileFromBytes(path, bytes, opts);
}

/** The same, for bytes already read (`path` names them in messages). */
export async function certificateFileFromBytes(path: string, bytes: Buffer, opts: { password?: string } = {}): Promise<CertificateFile> {
  if (bytes.length === 0) throw new CertificateInputError('empty', `${path} is empty: give a certificate file (PEM, DER, PKCS#7 or PKCS#12).`);
  // DER is one element spanning the file; anything else is read as text.
  if (!spansFile(bytes)) {
    const text = asText(bytes);
    if (text.includes('-----BEGIN')) return readPem(path, text);
    if (text.trim() === '') {
      throw new CertificateInputError('empty', `${path} holds only blank space: give a certificate file (PEM, DER, PKCS#7 or PKCS#12).`);
    }
  }
  return readBinary(path, bytes, opts.password);
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

/** What a file yielded before the CA rules: certificates as DER in file order. */
interface Found {
  format: CertificateFileFormat;
  ders: { der: Buffer; where: string; trustAux?: boolean }[];
  keys: string[];
  notes: string[];
}

const CERT_LABELS = new Set(['CERTIFICATE', 'X509 CERTIFICATE', 'TRUSTED CERTIFICATE']);
const PKCS7_LABELS = new Set(['PKCS7', 'CMS']);
const SILENT_LABELS = new Set(['EC PARAMETERS', 'DH PARAMETERS', 'X9.42 DH PARAMETERS']);

function readPem(path: string, raw: string): CertificateFile {
  // Blocks pasted onto one line (web forms, chat): put the armour lines on lines of their own.
  // (The lookbehind makes a run of blanks match only from its start: linear, not quadratic.)
  const text = raw.replace(/(-----BEGIN [A-Z0-9 ]+-----)[ \t]+/g, '$1\n').replace(/(?<![ \t])[ \t]+(?=-----END [A-Z0-9 ]+-----)/g, '\n');
  const blocks = pemBlocks(text);
  const begins = text.match(/-----BEGIN [A-Z0-9 ]+-----/g)?.length ?? 0;
  if (blocks.length < begins) {
    const broken = blocks.length === 0 ? 'its PEM block has' : `${begins - blocks.length} of its ${begins} PEM blocks have`;
    throw new CertificateInputError('garbage', `${path} is damaged: ${broken} no matching -----END ...----- line (a truncated copy?).`);
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
    throw new CertificateInputError(
      ignored.length > 0 ? 'unsupported' : 'garbage',
      `${path} holds ${what}, no certificate: give the CA certificate itself (a -----BEGIN CERTIFICATE----- block).`,
    );
  }
  if (pkcs7Blocks > 0 && certBlocks === 0) found.format = 'pkcs7';
  if (pkcs7Blocks > 0 && found.ders.length === 0) {
    throw new CertificateInputError('empty', `${path} holds a PKCS#7 bundle with no certificates in it.`);
  }
  if (ignored.length > 0) found.notes.push(`${path} also holds ${unique(ignored).map(article).join(', ')}; ignored.`);
  return finish(path, found);
}

async function readBinary(path: string, bytes: Buffer, password: string | undefined): Promise<CertificateFile> {
  const notDer = () => new CertificateInputError('garbage',
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
      if (certs.length === 0) throw new CertificateInputError('empty', `${path} holds a PKCS#7 bundle with no certificates in it.`);
      return finish(path, { format: 'pkcs7', ders: certs.map((d, j) => ({ der: d, where: `certificate ${j + 1}` })), keys: [], notes: [] });
    }
    throw new CertificateInputError('unsupported', `${path} is a PKCS#7/CMS ${CMS_TYPES[oid ?? ''] ?? `object (${oid})`}, not a certificate bundle: give the CA certificate as PEM, DER, a .p7b or a .p12.`);
  }
  if (k0?.tag === TAG.INTEGER && k1?.tag === TAG.SEQUENCE && integerValue(der, k0) === 3 && kids.length <= 3) {
    return finish(path, await readPkcs12(path, der, kids, password));
  }
  if (kids.length === 3 && k0?.tag === TAG.SEQUENCE && k1?.tag === TAG.SEQUENCE && k2?.tag === TAG.BIT_STRING) {
    // A signed structure: a certificate, or a certificate request / CRL.
    if (certificateFromDer(Buffer.from(der))) return finish(path, { format: 'der', ders: [{ der, where: 'the certificate' }], keys: [], notes: [] });
    throw new CertificateInputError('unsupported',
      `${path} is a signed DER object but not an X.509 certificate (a certificate request or a CRL?): give the CA certificate itself.`);
  }
  const key = derKeyKind(der, kids);
  if (key) throw keyOnly(path, key);
  throw notDer();
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

/** Turn DER into Certificates, each decoded whole; the first that cannot be read refuses the file. */
function finish(path: string, found: Found): CertificateFile {
  const entries: CertificateFileEntry[] = [];
  for (const { der, where, trustAux } of found.ders) {
    const cert = parseStrict(der);
    if (typeof cert === 'string') throw new CertificateInputError('garbage', unreadableCertificateMessage(path, where, cert));
    entries.push({ cert, where, ...(trustAux ? { trustAux } : {}) });
  }
  return { path, format: found.format, entries, keys: found.keys, notes: found.notes };
}

const unique = <T>(xs: T[]): T[] => [...new Set(xs)];
const article = (l: string): string => `${/^[AEIOUX]/.test(l) ? 'an' : 'a'} ${l} block`;

/** A Certificate only if our reader decodes every field and OpenSSL parses it (load.ts's user-file policy); else why not. */
function parseStrict(der: Buffer): Certificate | string {
  return certificateOrReason(Buffer.from(der), { userFile: true }); // a copy: the cache must not pin the file's buffer
}
