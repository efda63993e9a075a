// What Go's x509.ParseCertificate refuses, and which critical extensions it leaves unhandled.
// Go's parser (crypto/x509 parser.go) is far stricter than OpenSSL's: a certificate it refuses
// fails a TLS handshake outright ("tls: failed to parse certificate from server: ...") and, in a
// root pool, is skipped without a word. The rules below follow Go 1.23's parser.go in its order
// (parseCertificate: serial, signature algorithms, public key, extensions, processExtensions);
// only the first refusal is what Go reports.
import { TAG, children, content, ctx, decodeOid, readTlv, type Tlv } from './der.js';
import { EXT } from './oids.js';

/**
 * The Go release whose rules the emulation follows (the version Ollama releases are built with,
 * and the toolchain the conformance test runs). Go 1.24 changed two things this module decides:
 * critical policy extensions became handled, and policy validation joined Verify.
 */
export const GO_RULES_VERSION = '1.23';
const GO_HANDLES_POLICY_EXTENSIONS = false; // true from Go 1.24 (processExtensions cases 33, 36, 54)

// parsePublicKey: the only curves Go's crypto/ecdsa accepts (namedCurveFromOID).
const GO_CURVES: Record<string, number> = {
  '1.3.132.0.33': 28, // P-224
  '1.2.840.10045.3.1.7': 32, // P-256
  '1.3.132.0.34': 48, // P-384
  '1.3.132.0.35': 66, // P-521
};

class Refusal extends Error {}
const refuse = (message: string): never => {
  throw new Refusal(message);
};

/** Read one element or refuse with Go's message for that structure. */
function tlv(buf: Buffer, at: number, limit: number, message: string): Tlv {
  try {
    return readTlv(buf, at, limit);
  } catch {
    return refuse(message);
  }
}

function elements(buf: Buffer, parent: Tlv, message: string): Tlv[] {
  try {
    return children(buf, parent);
  } catch {
    return refuse(message);
  }
}

/** cryptobyte's ReadASN1(tag) over a whole value: exactly one element of that tag. */
function only(buf: Buffer, tag: number, message: string): Tlv {
  const t = tlv(buf, 0, buf.length, message);
  if (t.tag !== tag || t.end !== buf.length) refuse(message);
  return t;
}

const isIa5 = (b: Buffer): boolean => b.every((c) => c < 0x80);

/** Go's domainToReverseLabels (verify.go): no empty labels, no trailing dot, printable ASCII. */
export function goReverseLabels(domain: string): string[] | undefined {
  if (domain.length === 0) return [];
  const labels = domain.split('.').reverse();
  if (labels[0] === '') return undefined;
  for (const l of labels) {
    if (l.length === 0) return undefined;
    for (const ch of l) {
      const c = ch.codePointAt(0)!;
      if (c < 33 || c > 126) return undefined;
    }
  }
  return labels;
}

/** Go's isValidIPMask: ones then zeros. */
function isValidIpMask(mask: Buffer): boolean {
  let seenZero = false;
  for (const b of mask) {
    if (seenZero) {
      if (b !== 0) return false;
      continue;
    }
    switch (b) {
      case 0x00: case 0x80: case 0xc0: case 0xe0: case 0xf0: case 0xf8: case 0xfc: case 0xfe:
        seenZero = true;
        break;
      case 0xff:
        break;
      default:
        return false;
    }
  }
  return true;
}

// ---- parsePublicKey ----

function checkPublicKey(cert: GoParseInput): void {
  const der = cert.publicKey.spki;
  const spki = only(der, TAG.SEQUENCE, 'x509: malformed spki');
  const [algTlv, keyTlv] = elements(der, spki, 'x509: malformed spki');
  if (!algTlv || algTlv.tag !== TAG.SEQUENCE) refuse('x509: malformed public key algorithm identifier');
  if (!keyTlv || keyTlv.tag !== TAG.BIT_STRING) refuse('x509: malformed subjectPublicKey');
  const alg = elements(der, algTlv!, 'x509: malformed public key algorithm identifier');
  // parseAI: ReadASN1ObjectIdentifier.
  if (!alg[0] || alg[0].tag !== TAG.OID || alg[0].end === alg[0].body) refuse('x509: malformed OID');
  const oid = decodeOid(content(der, alg[0]!));
  const params = alg[1] ? der.subarray(alg[1].start, alg[1].end) : Buffer.alloc(0);
  const key = content(der, keyTlv!).subarray(1);
  switch (oid) {
    case '1.2.840.113549.1.1.1': { // RSA
      if (!params.equals(Buffer.from([0x05, 0x00]))) refuse('x509: RSA key missing NULL parameters');
      const seq = tlv(key, 0, key.length, 'x509: invalid RSA public key');
      if (seq.tag !== TAG.SEQUENCE) refuse('x509: invalid RSA public key');
      const [n, e] = elements(key, seq, 'x509: invalid RSA modulus');
      if (!n || n.tag !== TAG.INTEGER) refuse('x509: invalid RSA modulus');
      if (!e || e.tag !== TAG.INTEGER) refuse('x509: invalid RSA public exponent');
      const nb = content(key, n!);
      if (nb.length === 0 || nb[0]! & 0x80 || nb.every((b) => b === 0)) refuse('x509: RSA modulus is not a positive number');
      const eb = content(key, e!);
      if (eb.length === 0 || eb[0]! & 0x80 || eb.every((b) => b === 0)) refuse('x509: RSA public exponent is not a positive number');
      return;
    }
    case '1.2.840.10045.2.1': { // ECDSA: a named curve only, one Go implements
      if (!alg[1] || alg[1].tag !== TAG.OID) refuse('x509: invalid ECDSA parameters');
      const size = GO_CURVES[decodeOid(content(der, alg[1]!))];
      if (!size) refuse('x509: unsupported elliptic curve');
      // elliptic.Unmarshal: the uncompressed form only.
      if (key.length !== 1 + 2 * size! || key[0] !== 4) refuse('x509: failed to unmarshal elliptic curve point');
      return;
    }
    case '1.3.101.112': // Ed25519
      if (params.length !== 0) refuse('x509: Ed25519 key encoded with illegal parameters');
      if (key.length !== 32) refuse('x509: wrong Ed25519 public key size');
      return;
    default:
      return; // DSA and X25519 parse; unknown algorithms are kept with a nil key
  }
}

// ---- processExtensions ----

/** forEachSAN: the GeneralNames of a SAN extension, as (tag number, bytes). */
export function goSanEntries(value: Buffer): { tag: number; data: Buffer }[] {
  const seq = only(value, TAG.SEQUENCE, 'x509: invalid subject alternative names');
  return elements(value, seq, 'x509: invalid subject alternative name').map((t) => ({ tag: t.tag & 0x1f, data: content(value, t) }));
}

/** parseSANExtension; true when no name of a kind Go keeps was found (then a critical SAN is unhandled). */
function checkSan(value: Buffer): boolean {
  let kept = 0;
  for (const { tag, data } of goSanEntries(value)) {
    switch (tag) {
      case 1:
        if (!isIa5(data)) refuse('x509: SAN rfc822Name is malformed');
        kept++;
        break;
      case 2:
        if (!isIa5(data)) refuse('x509: SAN dNSName is malformed');
        kept++;
        break;
      case 6: {
        if (!isIa5(data)) refuse('x509: SAN uniformResourceIdentifier is malformed');
        const uri = data.toString('latin1');
        const host = uriHost(uri);
        if (host && !goReverseLabels(host)) refuse(`x509: cannot parse URI ${goQuoteText(uri)}: invalid domain`);
        kept++;
        break;
      }
      case 7:
        if (data.length !== 4 && data.length !== 16) refuse(`x509: cannot parse IP address of length ${data.length}`);
        kept++;
        break;
    }
  }
  return kept === 0;
}

/** url.Parse's Host for the URIs certificates carry (scheme://[userinfo@]host[:port]/...). */
export function uriHost(uri: string): string {
  const m = uri.match(/^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/);
  if (!m) return '';
  return m[1]!.replace(/^.*@/, '');
}

const goQuoteText = (s: string) => JSON.stringify(s);

/** parseNameConstraintsExtension; true when a constraint of a kind Go does not handle is present. */
function checkNameConstraints(value: Buffer): boolean {
  const outer = only(value, TAG.SEQUENCE, 'x509: invalid NameConstraints extension');
  const parts = elements(value, outer, 'x509: invalid NameConstraints extension');
  let permitted: Tlv | undefined, excluded: Tlv | undefined;
  let i = 0;
  if (parts[i]?.tag === ctx(0, true)) permitted = parts[i++];
  if (parts[i]?.tag === ctx(1, true)) excluded = parts[i++];
  if (i !== parts.length) refuse('x509: invalid NameConstraints extension');
  const empty = (t?: Tlv) => !t || t.end === t.body;
  if (empty(permitted) && empty(excluded)) refuse('x509: empty name constraints extension');
  let unhandled = false;
  for (const subtrees of [permitted, excluded]) {
    if (!subtrees) continue;
    for (const subtree of elements(value, subtrees, 'x509: invalid NameConstraints extension')) {
      if (subtree.tag !== TAG.SEQUENCE) refuse('x509: invalid NameConstraints extension');
      const base = elements(value, subtree, 'x509: invalid NameConstraints extension')[0];
      if (!base) refuse('x509: invalid NameConstraints extension');
      const data = content(value, base!);
      const text = data.toString('latin1');
      switch (base!.tag) {
        case ctx(2, false): {
          if (!isIa5(data)) refuse('x509: invalid constraint value: asn1: invalid IA5String');
          if (!goReverseLabels(text.replace(/^\./, ''))) refuse(`x509: failed to parse dnsName constraint ${goQuoteText(text)}`);
          break;
        }
        case ctx(7, false):
          if (data.length !== 8 && data.length !== 32) refuse(`x509: IP constraint contained value of length ${data.length}`);
          if (!isValidIpMask(data.subarray(data.length / 2))) refuse(`x509: IP constraint contained invalid mask ${data.subarray(data.length / 2).toString('hex')}`);
          break;
        case ctx(1, false):
          if (!isIa5(data)) refuse('x509: invalid constraint value: asn1: invalid IA5String');
          if (!text.includes('@') && !goReverseLabels(text.replace(/^\./, ''))) refuse(`x509: failed to parse rfc822Name constraint ${goQuoteText(text)}`);
          break;
        case ctx(6, false):
          if (!isIa5(data)) refuse('x509: invalid constraint value: asn1: invalid IA5String');
          if (/^[\d.]+$/.test(text) || text.includes(':')) refuse(`x509: failed to parse URI constraint ${goQuoteText(text)}: cannot be IP address`);
          if (!goReverseLabels(text.replace(/^\./, ''))) refuse(`x509: failed to parse URI constraint ${goQuoteText(text)}`);
          break;
        default:
          unhandled = true;
      }
    }
  }
  return unhandled;
}

function checkAki(critical: boolean, value: Buffer): void {
  if (critical) refuse('x509: authority key identifier incorrectly marked critical');
  const seq = only(value, TAG.SEQUENCE, 'x509: invalid authority key identifier');
  elements(value, seq, 'x509: invalid authority key identifier');
}

function checkAia(critical: boolean, value: Buffer): void {
  if (critical) refuse('x509: authority info access incorrectly marked critical');
  const seq = only(value, TAG.SEQUENCE, 'x509: invalid authority info access');
  for (const ad of elements(value, seq, 'x509: invalid authority info access')) {
    if (ad.tag !== TAG.SEQUENCE) refuse('x509: invalid authority info access');
    const [method, location] = elements(value, ad, 'x509: invalid authority info access');
    if (!method || method.tag !== TAG.OID || method.end === method.body) refuse('x509: invalid authority info access');
    if (location && location.tag === ctx(6, false)) continue;
  }
}

function checkSimple(value: Buffer, tag: number, message: string): void {
  const t = only(value, tag, message);
  if (tag === TAG.SEQUENCE) elements(value, t, message);
}

const POLICY_EXTENSIONS = new Set<string>([EXT.policyConstraints, EXT.inhibitAnyPolicy, EXT.policyMappings]);

interface GoParse {
  /** The first refusal of x509.ParseCertificate, if any. */
  error?: string;
  /** Certificate.UnhandledCriticalExtensions is non-empty. */
  unhandledCritical: boolean;
}

/**
 * The fields of a decoded certificate Go's parser looks at. `Certificate` (certificate.ts) passes
 * itself; declared here so that this module does not import the class that calls it.
 */
export interface GoParseInput {
  readonly serialNegative: boolean;
  readonly innerSignatureAlgorithmRaw: Buffer;
  readonly outerSignatureAlgorithmRaw: Buffer;
  readonly publicKey: { readonly spki: Buffer };
  readonly extensionsMalformed: boolean;
  readonly extensionOidsBeforeError: readonly string[];
  readonly extensionsGoError: string | undefined;
  readonly extensions: readonly { readonly oid: string; readonly critical: boolean; readonly value: Buffer }[];
}

export function goParse(cert: GoParseInput): GoParse {
  let unhandledCritical = false;
  try {
    if (cert.serialNegative) refuse('x509: negative serial number');
    if (!cert.innerSignatureAlgorithmRaw.equals(cert.outerSignatureAlgorithmRaw)) {
      refuse("x509: inner and outer signature algorithm identifiers don't match");
    }
    checkPublicKey(cert);
    if (cert.extensionsMalformed) {
      // parseCertificate reads the list element by element, refusing a duplicate as it goes: one
      // before the broken element is what Go reports.
      const before = new Set<string>();
      for (const oid of cert.extensionOidsBeforeError) {
        if (before.has(oid)) refuse(`x509: certificate contains duplicate extension with OID ${goQuoteText(oid)}`);
        before.add(oid);
      }
      refuse(cert.extensionsGoError!);
    }
    const seen = new Set<string>();
    for (const e of cert.extensions) {
      if (seen.has(e.oid)) refuse(`x509: certificate contains duplicate extension with OID ${goQuoteText(e.oid)}`);
      seen.add(e.oid);
    }
    for (const e of cert.extensions) {
      let unhandled = false;
      switch (e.oid) {
        case EXT.keyUsage: checkSimple(e.value, TAG.BIT_STRING, 'x509: invalid key usage'); break;
        case EXT.basicConstraints: checkSimple(e.value, TAG.SEQUENCE, 'x509: invalid basic constraints'); break;
        case EXT.subjectAltName: unhandled = checkSan(e.value); break;
        case EXT.nameConstraints: unhandled = checkNameConstraints(e.value); break;
        case EXT.crlDistributionPoints: checkSimple(e.value, TAG.SEQUENCE, 'x509: invalid CRL distribution points'); break;
        case EXT.authorityKeyIdentifier: checkAki(e.critical, e.value); break;
        case EXT.extKeyUsage: checkSimple(e.value, TAG.SEQUENCE, 'x509: invalid extended key usages'); break;
        case EXT.subjectKeyIdentifier:
          if (e.critical) refuse('x509: subject key identifier incorrectly marked critical');
          checkSimple(e.value, TAG.OCTET_STRING, 'x509: invalid subject key identifier');
          break;
        case EXT.certificatePolicies: checkSimple(e.value, TAG.SEQUENCE, 'x509: invalid certificate policies'); break;
        case EXT.authorityInfoAccess: checkAia(e.critical, e.value); break;
        default:
          unhandled = !(GO_HANDLES_POLICY_EXTENSIONS && POLICY_EXTENSIONS.has(e.oid));
      }
      if (e.critical && unhandled) unhandledCritical = true;
    }
  } catch (err) {
    if (err instanceof Refusal) return { error: err.message, unhandledCritical };
    throw err;
  }
  return { unhandledCritical };
}
