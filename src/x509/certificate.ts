// The certificate model every other module reads: one parse of the DER, decoded into the
// facts Go, OpenSSL and the findings need. Native objects (X509Certificate, KeyObject) are
// built lazily, only for certificates a path actually touches.
import { createHash, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import {
  TAG, ctx, children, content, decodeInteger, decodeOid, decodeString, decodeTime, DerError, expectTag, readTlv, whole,
  type Tlv,
} from './der.js';
import {
  EXT, HASH_OIDS, KEY_USAGE_BITS, NAME_ATTRIBUTES, NAMED_CURVES, PUBLIC_KEY_ALGORITHMS, SIGNATURE_ALGORITHMS, UNKNOWN_SIGNATURE,
  type KeyUsageName, type SignatureAlgorithm,
} from './oids.js';
import { goParse } from './go-parse.js';
import { mayBeSameName } from './name-key.js';

export interface NameAttribute {
  oid: string;
  /** Short name (CN, O, ...) or the dotted OID when unknown. */
  type: string;
  value: string;
  /** ASN.1 tag of the value; OpenSSL only case-folds string types when comparing names. */
  tag: number;
}

export interface Name {
  /** Relative distinguished names in encoding order (country first, usually). */
  rdns: NameAttribute[][];
  /** The DER of the Name: Go compares names byte for byte. */
  raw: Buffer;
  /** Comparison key with OpenSSL's canonical form (case-folded, whitespace-collapsed strings). */
  canonical: string;
  /** The canonical form RDN by RDN (OpenSSL's directoryName constraints compare prefixes of it). */
  canonicalRdns: string[];
}

export interface PublicKeyInfo {
  type: 'RSA' | 'RSA-PSS' | 'EC' | 'Ed25519' | 'Ed448' | 'DSA' | 'unknown';
  bits: number;
  curve?: string;
  /** DER of the SubjectPublicKeyInfo: equal keys have equal bytes. */
  spki: Buffer;
}

export interface SubjectAltNames {
  dns: string[];
  ip: string[];
  email: string[];
  uri: string[];
  /** Entries of other kinds (directory names, other names...). */
  other: number;
}

export interface NameConstraints {
  permittedDns: string[];
  excludedDns: string[];
  permittedIp: { ip: Buffer; mask: Buffer }[];
  excludedIp: { ip: Buffer; mask: Buffer }[];
  permittedEmail: string[];
  excludedEmail: string[];
  permittedUri: string[];
  excludedUri: string[];
}

export interface Extension {
  oid: string;
  critical: boolean;
  value: Buffer;
}

/** The TBSCertificate fields an outline records, in its order (extensions: tag 0 when absent). */
export const OUTLINE_FIELDS = ['serial', 'innerSigAlg', 'issuer', 'validity', 'subject', 'spki', 'sigAlg', 'extensions'] as const;

const AT_ISSUER = OUTLINE_FIELDS.indexOf('issuer');
const AT_SUBJECT = OUTLINE_FIELDS.indexOf('subject');

/** version, TBS start and end, then tag/start/body/end of each of OUTLINE_FIELDS: 35 numbers. */
export type CertificateOutline = ArrayLike<number>;

/** Where each TBSCertificate field is in the DER. */
interface Fields { serial: Tlv; innerSigAlg: Tlv; issuer: Tlv; validity: Tlv; subject: Tlv; spki: Tlv; extensions?: Tlv; sigAlg: Tlv }

export class Certificate {
  readonly der: Buffer;
  readonly version: number;
  /** DER of the issuer and subject Names: Go compares names byte for byte. */
  readonly issuerRaw: Buffer;
  readonly subjectRaw: Buffer;
  // Offsets recorded by the one eager walk; everything else is decoded on first use, because
  // a trust store holds hundreds of roots of which a run looks at a handful.
  private fields?: Fields;
  /** The outline given for these bytes, until `at` reads the fields from it. */
  private readonly given?: CertificateOutline;
  private tbsBytes?: Buffer;
  private memo = new Map<string, unknown>();
  private subjectText?: string;
  private issuerText?: string;
  private native?: X509Certificate;
  private key?: KeyObject;

  /**
   * `outline`: where this very DER's fields are, as `outline` gave it for the same bytes in an
   * earlier run (x509/outline-cache.ts): the walk and the structural checks below passed then and
   * would pass again, so they are skipped. `known`: fields that run decoded from the same bytes.
   */
  constructor(der: Buffer, outline?: CertificateOutline, known?: { notBefore: Date }) {
    this.der = der;
    // Read from the same bytes by an earlier run (trust/store-snapshot.ts), with the outline.
    if (known) this.memo.set('notBefore', known.notBefore);
    if (outline) {
      // The names now (every store indexes by them); the other fields when first asked for
      // (`at`, `tbs`): of the hundreds of roots a run loads, it reads a handful.
      this.version = outline[0]!;
      this.given = outline;
      this.issuerRaw = der.subarray(outline[4 + 4 * AT_ISSUER]!, outline[6 + 4 * AT_ISSUER]!);
      this.subjectRaw = der.subarray(outline[4 + 4 * AT_SUBJECT]!, outline[6 + 4 * AT_SUBJECT]!);
      return;
    }
    const outer = expectTag(readTlv(der, 0), TAG.SEQUENCE, 'Certificate SEQUENCE');
    if (outer.end !== der.length) throw new DerError('trailing data after certificate');
    const [tbsTlv, sigAlgTlv] = children(der, outer);
    expectTag(tbsTlv, TAG.SEQUENCE, 'TBSCertificate');
    expectTag(sigAlgTlv, TAG.SEQUENCE, 'signatureAlgorithm');
    this.tbsBytes = whole(der, tbsTlv!);
    const fields = children(der, tbsTlv!);
    let i = 0;
    let version = 1;
    if (fields[0]?.tag === ctx(0, true)) {
      const v = expectTag(children(der, fields[0])[0], TAG.INTEGER, 'version');
      version = der[v.body]! + 1;
      i++;
    }
    this.version = version;
    const serial = expectTag(fields[i++], TAG.INTEGER, 'serialNumber');
    // The inner signature AlgorithmIdentifier: Go refuses a certificate where it differs from the
    // outer one; OpenSSL compares them only in strict mode.
    const innerSigAlg = expectTag(fields[i++], TAG.SEQUENCE, 'signature');
    const issuer = expectTag(fields[i++], TAG.SEQUENCE, 'issuer');
    const validity = expectTag(fields[i++], TAG.SEQUENCE, 'validity');
    const subject = expectTag(fields[i++], TAG.SEQUENCE, 'subject');
    const spki = expectTag(fields[i++], TAG.SEQUENCE, 'subjectPublicKeyInfo');
    const extensions = fields.slice(i).find((t) => t.tag === ctx(3, true));
    this.fields = { serial, innerSigAlg, issuer, validity, subject, spki, sigAlg: sigAlgTlv!, ...(extensions ? { extensions } : {}) };
    this.issuerRaw = whole(der, issuer);
    this.subjectRaw = whole(der, subject);
    // What OpenSSL's d2i_X509 and Go's parser both refuse, checked by structure only (decoding
    // every root's names up front would cost the doctor's start-up): names made of SETs of
    // (OID, value), two readable times, a signature algorithm OID.
    for (const name of [issuer, subject]) checkNameStructure(der, name);
    const times = children(der, validity);
    if (times.length !== 2) throw new DerError('expected notBefore and notAfter');
    for (const t of times) decodeTime(der, t);
    const sigOid = children(der, sigAlgTlv!)[0];
    if (!sigOid || sigOid.tag !== TAG.OID || sigOid.end === sigOid.body) throw new DerError('expected signature OID');
  }

  /**
   * The subject and issuer Names' bytes as strings: the keys stores index by (Go's CertPool and
   * OpenSSL's X509_STORE look up by name), made once per certificate, not once per store.
   */
  get subjectKey(): string {
    return (this.subjectText ??= this.subjectRaw.toString('latin1'));
  }

  get issuerKey(): string {
    return (this.issuerText ??= this.issuerRaw.toString('latin1'));
  }

  /** The TBSCertificate's bytes (what the issuer signed). */
  get tbs(): Buffer {
    return (this.tbsBytes ??= this.der.subarray(this.given![1]!, this.given![2]!));
  }

  /** Where each field is. */
  private get at(): Fields {
    if (!this.fields) {
      const o = this.given!;
      const fields: Partial<Fields> = {};
      OUTLINE_FIELDS.forEach((name, k) => {
        // Extensions are absent when their tag is 0.
        if (o[3 + 4 * k]) fields[name] = { tag: o[3 + 4 * k]!, start: o[4 + 4 * k]!, body: o[5 + 4 * k]!, end: o[6 + 4 * k]! };
      });
      this.fields = fields as Fields;
    }
    return this.fields;
  }

  /** Where the fields are, as numbers (the constructor takes them back for the same DER). */
  get outline(): number[] {
    const tbsStart = this.tbs.byteOffset - this.der.byteOffset;
    const out = [this.version, tbsStart, tbsStart + this.tbs.length];
    for (const field of OUTLINE_FIELDS) {
      const t = this.at[field];
      out.push(t?.tag ?? 0, t?.start ?? 0, t?.body ?? 0, t?.end ?? 0);
    }
    return out;
  }

  private lazy<T>(name: string, compute: () => T): T {
    if (this.memo.has(name)) return this.memo.get(name) as T;
    const v = compute();
    this.memo.set(name, v);
    return v;
  }

  private get serial(): { hex: string; negative: boolean } {
    return this.lazy('serial', () => decodeInteger(content(this.der, this.at.serial)));
  }

  get serialHex(): string {
    return this.serial.hex;
  }

  get serialNegative(): boolean {
    return this.serial.negative;
  }

  get issuer(): Name {
    return this.lazy('issuer', () => parseName(this.der, this.at.issuer));
  }

  get subject(): Name {
    return this.lazy('subject', () => parseName(this.der, this.at.subject));
  }

  get notBefore(): Date {
    return this.lazy('notBefore', () => decodeTime(this.der, expectTime(children(this.der, this.at.validity)[0], 'notBefore')));
  }

  get notAfter(): Date {
    return this.lazy('notAfter', () => decodeTime(this.der, expectTime(children(this.der, this.at.validity)[1], 'notAfter')));
  }

  get publicKey(): PublicKeyInfo {
    return this.lazy('publicKey', () => parsePublicKey(this.der, this.at.spki));
  }

  get signatureOid(): string {
    return this.lazy('signatureOid', () => decodeOid(content(this.der, expectTag(children(this.der, this.at.sigAlg)[0], TAG.OID, 'signature OID'))));
  }

  /** DER of the AlgorithmIdentifier inside the TBSCertificate and of the outer one. */
  get innerSignatureAlgorithmRaw(): Buffer { return whole(this.der, this.at.innerSigAlg); }
  get outerSignatureAlgorithmRaw(): Buffer { return whole(this.der, this.at.sigAlg); }

  get signature(): SignatureAlgorithm {
    return this.lazy('signature', () => describeSignature(this.der, this.signatureOid, children(this.der, this.at.sigAlg)[1]));
  }

  /** The extensions as encoded; empty (and extensionsMalformed set) when the list does not decode. */
  get extensions(): Extension[] {
    return this.extensionList.list;
  }

  /** The extensions field does not decode: Go refuses the certificate, OpenSSL cannot load it. */
  get extensionsMalformed(): boolean {
    return this.extensionList.malformed;
  }

  /**
   * Go's parseCertificate refusal for an extension list that does not decode, in Go's words
   * (parser.go: "malformed extensions" for the list, "malformed extension" for an element,
   * parseExtension's field texts); undefined when the list decodes.
   */
  get extensionsGoError(): string | undefined {
    return this.extensionList.goError;
  }

  /** OIDs of the extensions read before the list broke: Go refuses a duplicate among them first. */
  get extensionOidsBeforeError(): string[] {
    return this.extensionList.before;
  }

  private get extensionList(): { list: Extension[]; malformed: boolean; error?: string; goError?: string; before: string[] } {
    return this.lazy('extensions', () => {
      const out: Extension[] = [];
      if (!this.at.extensions) return { list: out, malformed: false, before: [] };
      const der = this.der;
      let goError = 'x509: malformed extensions';
      try {
        const list = expectTag(children(der, this.at.extensions)[0], TAG.SEQUENCE, 'extensions');
        goError = 'x509: malformed extension';
        for (const e of children(der, list)) {
          goError = 'x509: malformed extension';
          const parts = children(der, expectTag(e, TAG.SEQUENCE, 'extension'));
          goError = 'x509: malformed extension OID field';
          const oid = decodeOid(content(der, expectTag(parts[0], TAG.OID, 'extnID')));
          goError = 'x509: malformed extension value field';
          const critical = parts[1]?.tag === TAG.BOOLEAN ? der[parts[1].body] !== 0 : false;
          const value = content(der, expectTag(parts[parts.length - 1], TAG.OCTET_STRING, 'extnValue'));
          out.push({ oid, critical, value });
        }
      } catch (err) {
        if (!(err instanceof DerError)) throw err;
        return { list: [], malformed: true, error: err.message, goError, before: out.map((e) => e.oid) };
      }
      return { list: out, malformed: false, before: [] };
    });
  }

  /** Decoded extensions, plus the reasons Go's stricter parser would reject the certificate. */
  private get decoded(): Decoded {
    return this.lazy('decoded', () => decodeExtensions(this));
  }

  get basicConstraints(): Decoded['basicConstraints'] { return this.decoded.basicConstraints; }
  /** Undefined when the certificate has no keyUsage extension. */
  get keyUsage(): Set<KeyUsageName> | undefined { return this.decoded.keyUsage; }
  /** EKU OIDs; undefined when the certificate has no extKeyUsage extension. */
  get extKeyUsage(): string[] | undefined { return this.decoded.extKeyUsage; }
  /** Undefined when the certificate has no subjectAltName extension at all. */
  get san(): SubjectAltNames | undefined { return this.decoded.san; }
  get subjectKeyId(): Buffer | undefined { return this.decoded.subjectKeyId; }
  get authorityKeyId(): Buffer | undefined { return this.decoded.authorityKeyId; }
  get authorityCertSerialHex(): string | undefined { return this.decoded.authorityCertSerialHex; }
  get aia(): { ocsp: string[]; caIssuers: string[] } { return this.decoded.aia; }
  /** Number of embedded Signed Certificate Timestamps (Certificate Transparency), 0 when none. */
  get sctCount(): number { return this.decoded.sctCount; }
  get nameConstraints(): NameConstraints | undefined { return this.decoded.nameConstraints; }
  /** Go's x509.ParseCertificate refusal, if any, as a list (Go is stricter than OpenSSL). */
  get goParseErrors(): string[] {
    const error = this.goParsed.error;
    if (error) return [error];
    // Fields go-parse does not look at but that cannot be decoded: Go's parser refuses those too.
    const undecodable = this.decodeError;
    return undecodable ? [`x509: malformed certificate (${undecodable})`] : [];
  }

  /** Go leaves a critical extension unhandled (Certificate.UnhandledCriticalExtensions). */
  get goUnhandledCritical(): boolean { return this.goParsed.unhandledCritical; }

  private get goParsed(): ReturnType<typeof goParse> {
    return this.lazy('goParse', () => {
      try {
        return goParse(this);
      } catch (err) {
        // A field go-parse reads cannot be decoded at all: Go's parser stops there too.
        const undecodable = this.decodeError;
        if (undecodable) return { error: `x509: malformed certificate (${undecodable})`, unhandledCritical: false };
        throw err;
      }
    });
  }

  /**
   * Why this certificate's fields cannot be decoded, or undefined when they all can. The
   * constructor only finds the fields' boundaries (cheap, for stores of hundreds of roots); this
   * decodes every field once, and is what must be asked before a certificate is judged.
   */
  get decodeError(): string | undefined {
    return this.lazy('decodeError', () => {
      try {
        void this.serialHex; void this.issuer; void this.subject; void this.notBefore; void this.notAfter;
        void this.publicKey; void this.signature; void this.decoded;
        // The key is read leniently (OpenSSL parses a certificate whose key bits do not decode);
        // its outline is not: both d2i_X509 and Go's parser refuse a certificate without one.
        checkSpkiStructure(this.der, this.at.spki);
        // The extension list is read leniently (Go and OpenSSL each refuse it in their own words);
        // for a file a user gave us it is as undecodable as any other field.
        return this.extensionList.error;
      } catch (err) {
        if (err instanceof DerError) return err.message;
        // Missing fields surface as reads of undefined, bad code points as RangeError.
        if (err instanceof TypeError || err instanceof RangeError) return 'a field is missing or malformed';
        throw err;
      }
    });
  }

  /** Hex digest of the DER, lower case, no colons (what the JSON and fingerprints use). */
  digest(algorithm: 'sha256' | 'sha1'): string {
    return this.lazy(`digest:${algorithm}`, () => createHash(algorithm).update(this.der).digest('hex'));
  }

  get sha256(): string {
    return this.digest('sha256');
  }

  get isCA(): boolean {
    return this.basicConstraints?.ca === true;
  }

  /** Subject and issuer are the same name (RFC 5280 "self-issued"), compared as OpenSSL does. */
  get selfIssued(): boolean {
    return this.subjectRaw.equals(this.issuerRaw) || (mayBeSameName(this.subjectRaw, this.issuerRaw) && this.subject.canonical === this.issuer.canonical);
  }

  /**
   * OpenSSL's EXFLAG_SS: self-issued, and any authority key id matches the subject key id.
   * Neither Go nor OpenSSL checks the self-signature of a root; this is a structural fact.
   */
  get selfSigned(): boolean {
    if (!this.selfIssued) return false;
    if (this.authorityKeyId && this.subjectKeyId && !this.authorityKeyId.equals(this.subjectKeyId)) return false;
    return true;
  }

  get commonName(): string | undefined {
    return firstAttribute(this.subject, 'CN');
  }

  /** Node's native certificate object (OpenSSL underneath), built on first use. */
  x509(): X509Certificate {
    return (this.native ??= new X509Certificate(this.der));
  }

  publicKeyObject(): KeyObject {
    return (this.key ??= createPublicKey({ key: this.publicKey.spki, format: 'der', type: 'spki' }));
  }

  /** Whether `issuer`'s key produced this certificate's signature (native OpenSSL check). */
  signedBy(issuer: Certificate): boolean {
    return this.lazy(`signedBy:${issuer.sha256}`, () => {
      try {
        return this.x509().verify(issuer.publicKeyObject());
      } catch {
        return false;
      }
    });
  }

  toPem(): string {
    const lines = this.der.toString('base64').match(/.{1,64}/g) ?? [];
    return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
  }
}

interface Decoded {
  basicConstraints?: { critical: boolean; ca: boolean; pathLen: number | null };
  keyUsage?: Set<KeyUsageName>;
  extKeyUsage?: string[];
  san?: SubjectAltNames;
  subjectKeyId?: Buffer;
  authorityKeyId?: Buffer;
  authorityCertSerialHex?: string;
  aia: { ocsp: string[]; caIssuers: string[] };
  sctCount: number;
  nameConstraints?: NameConstraints;
}

function decodeExtensions(cert: Certificate): Decoded {
  const out: Decoded = { aia: { ocsp: [], caIssuers: [] }, sctCount: 0 };
  for (const e of cert.extensions) {
    try {
      switch (e.oid) {
        case EXT.basicConstraints: out.basicConstraints = { critical: e.critical, ...parseBasicConstraints(e.value) }; break;
        case EXT.keyUsage: out.keyUsage = parseKeyUsage(e.value); break;
        case EXT.extKeyUsage: out.extKeyUsage = parseOidList(e.value); break;
        case EXT.subjectAltName: out.san = parseSan(e.value); break;
        case EXT.subjectKeyIdentifier: out.subjectKeyId = content(e.value, readTlv(e.value, 0)); break;
        case EXT.authorityKeyIdentifier: {
          const aki = parseAki(e.value);
          if (aki.keyId) out.authorityKeyId = aki.keyId;
          if (aki.serialHex) out.authorityCertSerialHex = aki.serialHex;
          break;
        }
        case EXT.authorityInfoAccess: out.aia = parseAia(e.value); break;
        case EXT.sctList: out.sctCount = countScts(e.value); break;
        case EXT.nameConstraints: out.nameConstraints = parseNameConstraints(e.value); break;
      }
    } catch (err) {
      // An undecodable extension gives no facts; what each verifier makes of it is its own rule
      // (go-parse.ts for Go).
      if (!(err instanceof DerError)) throw err;
    }
  }
  return out;
}

function expectTime(t: Tlv | undefined, what: string): Tlv {
  if (!t || (t.tag !== TAG.UTC_TIME && t.tag !== TAG.GENERALIZED_TIME)) throw new DerError(`expected ${what} time`);
  return t;
}

export function firstAttribute(name: Name, type: string): string | undefined {
  for (const rdn of name.rdns) for (const a of rdn) if (a.type === type) return a.value;
  return undefined;
}

/** Every value of one attribute type, in encoding order. */
export function attributes(name: Name, type: string): string[] {
  return name.rdns.flatMap((rdn) => rdn.filter((a) => a.type === type).map((a) => a.value));
}

// RFC 4514 escaping, most specific RDN first, as Go's pkix.Name.String() and the contract print it.
export function formatName(name: Name): string {
  return name.rdns
    .slice()
    .reverse()
    .map((rdn) => rdn.map((a) => `${a.type}=${escapeDnValue(a.value)}`).join('+'))
    .join(',');
}

function escapeDnValue(v: string): string {
  let out = v.replace(/([,+"\\<>;])/g, '\\$1');
  if (out.startsWith('#') || out.startsWith(' ')) out = `\\${out}`;
  if (out.endsWith(' ') && out.length > 1) out = `${out.slice(0, -1)}\\ `;
  return out;
}

const STRING_TAGS = new Set<number>([
  TAG.UTF8_STRING, TAG.PRINTABLE_STRING, TAG.T61_STRING, TAG.IA5_STRING, TAG.BMP_STRING, TAG.UNIVERSAL_STRING, 0x1a /* Visible */,
]);

/** A DER Name on its own (a CA name from a TLS CertificateRequest); throws DerError on garbage. */
export function nameFromDer(der: Buffer): Name {
  return parseName(der, expectTag(readTlv(der, 0), TAG.SEQUENCE, 'Name'));
}

function checkNameStructure(der: Buffer, seq: Tlv): void {
  for (const set of children(der, seq)) {
    for (const atv of children(der, expectTag(set, TAG.SET, 'RDN'))) {
      const [typeTlv, valueTlv] = children(der, expectTag(atv, TAG.SEQUENCE, 'attribute'));
      const type = expectTag(typeTlv, TAG.OID, 'attribute type');
      if (type.end === type.body || !valueTlv) throw new DerError('expected attribute type and value');
    }
  }
}

function parseName(der: Buffer, seq: Tlv): Name {
  const rdns: NameAttribute[][] = [];
  const canon: string[] = [];
  for (const set of children(der, seq)) {
    const rdn: NameAttribute[] = [];
    const canonRdn: string[] = [];
    for (const atv of children(der, expectTag(set, TAG.SET, 'RDN'))) {
      const [typeTlv, valueTlv] = children(der, atv);
      const oid = decodeOid(content(der, expectTag(typeTlv, TAG.OID, 'attribute type')));
      const value = valueTlv ? decodeString(der, valueTlv) : '';
      rdn.push({ oid, type: NAME_ATTRIBUTES[oid] ?? oid, value, tag: valueTlv?.tag ?? 0 });
      // X509_NAME_cmp compares a canonical encoding: string values converted to UTF-8, ASCII
      // lower-cased, outer whitespace dropped and inner runs collapsed; other values as bytes.
      const canonValue = valueTlv && STRING_TAGS.has(valueTlv.tag)
        ? value.replace(/[A-Z]/g, (c) => c.toLowerCase()).trim().replace(/\s+/g, ' ')
        : `#${valueTlv ? content(der, valueTlv).toString('hex') : ''}`;
      canonRdn.push(`${oid}=${canonValue}`);
    }
    rdns.push(rdn);
    canon.push(canonRdn.sort().join('+'));
  }
  return { rdns, raw: Buffer.from(whole(der, seq)), canonical: canon.join('/'), canonicalRdns: canon };
}

function parsePublicKey(der: Buffer, seq: Tlv): PublicKeyInfo {
  try {
    return decodePublicKey(der, seq);
  } catch (err) {
    // A key whose fields do not decode: no verifier can use it (Go refuses the certificate,
    // OpenSSL fails the signature check), so it is a key of unknown strength.
    if (!(err instanceof DerError) && !(err instanceof RangeError)) throw err;
    const oid = (() => {
      try {
        return decodeOid(content(der, children(der, children(der, seq)[0]!)[0]!));
      } catch {
        return '';
      }
    })();
    return { type: PUBLIC_KEY_ALGORITHMS[oid] ?? 'unknown', bits: 0, spki: Buffer.from(whole(der, seq)) };
  }
}

/** SubjectPublicKeyInfo ::= SEQUENCE { SEQUENCE { algorithm OID, parameters ANY OPTIONAL }, BIT STRING }. */
function checkSpkiStructure(der: Buffer, seq: Tlv): void {
  const [algTlv, keyTlv] = children(der, seq);
  const alg = children(der, expectTag(algTlv, TAG.SEQUENCE, 'key algorithm'));
  const oid = expectTag(alg[0], TAG.OID, 'key algorithm OID');
  if (oid.end === oid.body) throw new DerError('expected key algorithm OID');
  expectTag(keyTlv, TAG.BIT_STRING, 'subjectPublicKey');
}

function decodePublicKey(der: Buffer, seq: Tlv): PublicKeyInfo {
  const [algTlv, keyTlv] = children(der, seq);
  const alg = children(der, expectTag(algTlv, TAG.SEQUENCE, 'key algorithm'));
  const oid = decodeOid(content(der, expectTag(alg[0], TAG.OID, 'key algorithm OID')));
  const type = PUBLIC_KEY_ALGORITHMS[oid] ?? 'unknown';
  const spki = Buffer.from(whole(der, seq));
  const bits = content(der, expectTag(keyTlv, TAG.BIT_STRING, 'subjectPublicKey')).subarray(1);
  switch (type) {
    case 'RSA':
    case 'RSA-PSS': {
      const rsa = readTlv(bits, 0);
      const modulus = content(bits, expectTag(children(bits, rsa)[0], TAG.INTEGER, 'RSA modulus'));
      let k = 0;
      while (k < modulus.length - 1 && modulus[k] === 0) k++;
      const top = modulus[k]!;
      const bitLength = (modulus.length - k - 1) * 8 + (top === 0 ? 0 : 32 - Math.clz32(top));
      return { type, bits: bitLength, spki };
    }
    case 'EC': {
      const param = alg[1];
      const curve = param?.tag === TAG.OID ? NAMED_CURVES[decodeOid(content(der, param))] : undefined;
      return { type, bits: curve?.bits ?? 0, curve: curve?.name ?? 'explicit or unknown curve', spki };
    }
    case 'Ed25519':
      return { type, bits: 256, spki };
    case 'Ed448':
      return { type, bits: 456, spki };
    default:
      return { type, bits: 0, spki };
  }
}

function describeSignature(der: Buffer, oid: string, params: Tlv | undefined): SignatureAlgorithm {
  const known = SIGNATURE_ALGORITHMS[oid];
  if (!known) return { ...UNKNOWN_SIGNATURE, name: oid };
  if (known.key !== 'RSA-PSS' || !params || params.tag !== TAG.SEQUENCE) return known;
  // RSASSA-PSS-params: hashAlgorithm [0] EXPLICIT AlgorithmIdentifier DEFAULT sha1.
  let hash: SignatureAlgorithm['hash'] = 'sha1';
  const hashTlv = children(der, params).find((t) => t.tag === ctx(0, true));
  if (hashTlv) {
    const algId = children(der, children(der, hashTlv)[0]!);
    hash = HASH_OIDS[decodeOid(content(der, algId[0]!))] ?? 'unknown';
  }
  const bits = { sha1: 63, sha256: 128, sha384: 192, sha512: 256 } as Record<string, number>;
  return {
    ...known,
    hash,
    goName: hash === 'sha1' ? '0' : `${hash.toUpperCase()}-RSAPSS`,
    secBits: bits[hash] ?? 0,
    goUnsupported: !['sha256', 'sha384', 'sha512'].includes(hash),
  };
}

function parseBasicConstraints(value: Buffer): { ca: boolean; pathLen: number | null } {
  const seq = expectTag(readTlv(value, 0), TAG.SEQUENCE, 'BasicConstraints');
  let ca = false;
  let pathLen: number | null = null;
  for (const t of children(value, seq)) {
    if (t.tag === TAG.BOOLEAN) ca = value[t.body] !== 0;
    if (t.tag === TAG.INTEGER) pathLen = parseInt(decodeInteger(content(value, t)).hex || '0', 16);
  }
  return { ca, pathLen };
}

function parseKeyUsage(value: Buffer): Set<KeyUsageName> {
  const bits = content(value, expectTag(readTlv(value, 0), TAG.BIT_STRING, 'KeyUsage')).subarray(1);
  const out = new Set<KeyUsageName>();
  KEY_USAGE_BITS.forEach((name, i) => {
    const byte = bits[i >> 3];
    if (byte !== undefined && byte & (0x80 >> (i & 7))) out.add(name);
  });
  return out;
}

function parseOidList(value: Buffer): string[] {
  const seq = expectTag(readTlv(value, 0), TAG.SEQUENCE, 'OID list');
  return children(value, seq).map((t) => decodeOid(content(value, expectTag(t, TAG.OID, 'OID'))));
}

function ipToString(b: Buffer): string {
  if (b.length === 4) return Array.from(b).join('.');
  if (b.length === 16) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
    // Compress the longest run of zero groups, as inet_ntop does.
    let best = -1, bestLen = 0;
    for (let i = 0; i < 8; ) {
      if (groups[i] !== '0') { i++; continue; }
      let j = i;
      while (j < 8 && groups[j] === '0') j++;
      if (j - i > bestLen && j - i > 1) { best = i; bestLen = j - i; }
      i = j;
    }
    if (best < 0) return groups.join(':');
    return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
  }
  return b.toString('hex');
}

function parseSan(value: Buffer): SubjectAltNames {
  const san: SubjectAltNames = { dns: [], ip: [], email: [], uri: [], other: 0 };
  for (const t of children(value, expectTag(readTlv(value, 0), TAG.SEQUENCE, 'GeneralNames'))) {
    const text = () => value.toString('latin1', t.body, t.end);
    switch (t.tag) {
      case ctx(1, false): san.email.push(text()); break;
      case ctx(2, false): {
        san.dns.push(text());
        break;
      }
      case ctx(6, false): san.uri.push(text()); break;
      case ctx(7, false): {
        san.ip.push(ipToString(content(value, t)));
        break;
      }
      default: san.other++;
    }
  }
  return san;
}

export { ipToString };

function parseAki(value: Buffer): { keyId?: Buffer; serialHex?: string } {
  const out: { keyId?: Buffer; serialHex?: string } = {};
  for (const t of children(value, expectTag(readTlv(value, 0), TAG.SEQUENCE, 'AuthorityKeyIdentifier'))) {
    if (t.tag === ctx(0, false)) out.keyId = Buffer.from(content(value, t));
    if (t.tag === ctx(2, false)) out.serialHex = decodeInteger(content(value, t)).hex;
  }
  return out;
}

function parseAia(value: Buffer): { ocsp: string[]; caIssuers: string[] } {
  const out = { ocsp: [] as string[], caIssuers: [] as string[] };
  for (const ad of children(value, expectTag(readTlv(value, 0), TAG.SEQUENCE, 'AuthorityInfoAccess'))) {
    const [method, location] = children(value, ad);
    if (!method || !location || location.tag !== ctx(6, false)) continue;
    const oid = decodeOid(content(value, method));
    const url = value.toString('latin1', location.body, location.end);
    if (oid === '1.3.6.1.5.5.7.48.1') out.ocsp.push(url);
    if (oid === '1.3.6.1.5.5.7.48.2') out.caIssuers.push(url);
  }
  return out;
}

// RFC 6962 3.3: the extension holds an OCTET STRING with a TLS-encoded SignedCertificateTimestampList.
function countScts(value: Buffer): number {
  const list = content(value, expectTag(readTlv(value, 0), TAG.OCTET_STRING, 'SCT list'));
  if (list.length < 2) return 0;
  const total = list.readUInt16BE(0);
  let at = 2, n = 0;
  while (at + 2 <= Math.min(list.length, 2 + total)) {
    at += 2 + list.readUInt16BE(at);
    n++;
  }
  return n;
}

function parseNameConstraints(value: Buffer): NameConstraints {
  const nc: NameConstraints = {
    permittedDns: [], excludedDns: [], permittedIp: [], excludedIp: [],
    permittedEmail: [], excludedEmail: [], permittedUri: [], excludedUri: [],
  };
  for (const subtrees of children(value, expectTag(readTlv(value, 0), TAG.SEQUENCE, 'NameConstraints'))) {
    const permitted = subtrees.tag === ctx(0, true);
    for (const subtree of children(value, subtrees)) {
      const base = children(value, subtree)[0];
      if (!base) continue;
      const text = value.toString('latin1', base.body, base.end);
      if (base.tag === ctx(2, false)) (permitted ? nc.permittedDns : nc.excludedDns).push(text);
      else if (base.tag === ctx(1, false)) (permitted ? nc.permittedEmail : nc.excludedEmail).push(text);
      else if (base.tag === ctx(6, false)) (permitted ? nc.permittedUri : nc.excludedUri).push(text);
      else if (base.tag === ctx(7, false)) {
        const b = content(value, base);
        const half = b.length / 2;
        (permitted ? nc.permittedIp : nc.excludedIp).push({ ip: Buffer.from(b.subarray(0, half)), mask: Buffer.from(b.subarray(half)) });
      }
    }
  }
  return nc;
}

/** Parse one DER certificate; throws DerError (or Node's) on garbage. */
export function parseCertificate(der: Buffer): Certificate {
  return new Certificate(der);
}
