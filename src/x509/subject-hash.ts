// OpenSSL's subject-name hashes: the names of the links in a hashed certificate directory
// (`openssl rehash`, c_rehash, SSL_CERT_DIR), which OpenSSL's by_dir lookup opens as <hash>.<n>.
// Walked from the DER here (no certificate library): the doctor hashes every root it indexes.
import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { DerError, TAG, children, content, expectTag, readTlv, whole, type Tlv } from './der.js';

/**
 * What `openssl x509 -hash -noout` prints (OpenSSL >= 1.0, X509_NAME_hash_ex): SHA-1 of the
 * canonical encoding of the name, first four digest bytes as a little-endian uint32, %08lx.
 * Throws DerError for names OpenSSL itself refuses to decode (so it could not load the
 * certificate at all): value types outside its DirectoryString-ish set, malformed text.
 */
export function opensslSubjectHash(nameDer: Buffer): string {
  return hash32('sha1', opensslCanonicalName(nameDer));
}

/** What `openssl x509 -subject_hash_old` prints (X509_NAME_hash_old): MD5 of the name's DER as-is. */
export function opensslSubjectHashOld(nameDer: Buffer): string {
  const seq = expectTag(readTlv(nameDer, 0), TAG.SEQUENCE, 'Name');
  return hash32('md5', whole(nameDer, seq));
}

function hash32(alg: 'sha1' | 'md5', data: Buffer): string {
  return createHash(alg).update(data).digest().readUInt32LE(0).toString(16).padStart(8, '0');
}

/**
 * x509_name_canon (crypto/x509/x_name.c): the RDN SETs re-encoded with canonical values and
 * without the outer SEQUENCE header (so a dirName name constraint compares with a memcmp). This
 * is also what X509_NAME_cmp compares, so equal canonical encodings mean OpenSSL-equal names.
 */
export function opensslCanonicalName(nameDer: Buffer): Buffer {
  const seq = expectTag(readTlv(nameDer, 0), TAG.SEQUENCE, 'Name');
  const sets: Buffer[] = [];
  for (const set of children(nameDer, seq)) {
    expectTag(set, TAG.SET, 'RDN');
    // OpenSSL flattens the name into entries tagged with their RDN index and regroups them, so
    // an empty SET leaves no trace (and a name of empty SETs hashes like the empty name).
    const entries = children(nameDer, set).map((atv) => canonicalEntry(nameDer, atv));
    if (entries.length === 0) continue;
    // The SET OF encoder sorts its members by their (canonical) DER, whatever the input order:
    // a multi-valued RDN can come out in a different order than the certificate carries it.
    // Buffer.compare is der_cmp: memcmp over the common length, then the shorter first.
    entries.sort(Buffer.compare);
    sets.push(tlv(TAG.SET, Buffer.concat(entries)));
  }
  return Buffer.concat(sets);
}

// ASN1_MASK_CANON, as bytes per character for ASN1_STRING_to_UTF8 (tag2nbyte in a_strex.c):
// 0 is UTF-8; the one-byte types (T61String included) are read as Latin-1, byte = code point.
// VisibleString is in the mask too, but never gets here: the entry decoder refuses it (below).
const CANON_WIDTH = new Map<number, number>([
  [TAG.UTF8_STRING, 0],
  [TAG.PRINTABLE_STRING, 1],
  [TAG.T61_STRING, 1],
  [TAG.IA5_STRING, 1],
  [TAG.UNIVERSAL_STRING, 4],
  [TAG.BMP_STRING, 2],
]);

// The rest of B_ASN1_PRINTABLE, the value types X509_NAME_ENTRY decodes at all, kept as they
// are: BIT STRING, NumericString (not canonicalised: no case folding, spaces kept), the tags
// ASN1_tag2bit calls "unknown" (and SEQUENCE, handled first). VisibleString, the times, Videotex/Graphic/
// GeneralString, INTEGER, OCTET STRING... make OpenSSL reject the whole certificate.
const KEPT = new Set<number>([TAG.BIT_STRING, 0x12, 0x07, 0x08, 0x09, 0x0b, 0x0d, 0x0e, 0x0f, 0x1d]);

function canonicalEntry(der: Buffer, atv: Tlv): Buffer {
  const parts = children(der, expectTag(atv, TAG.SEQUENCE, 'AttributeTypeAndValue'));
  const type = expectTag(parts[0], TAG.OID, 'attribute type');
  const value = parts[1];
  if (!value || parts.length > 2) throw new DerError('malformed AttributeTypeAndValue');
  return tlv(TAG.SEQUENCE, Buffer.concat([tlv(TAG.OID, content(der, type)), canonicalValue(der, value)]));
}

function canonicalValue(der: Buffer, t: Tlv): Buffer {
  // A SEQUENCE value is kept with its header byte for byte (OpenSSL stores it whole).
  if (t.tag === TAG.SEQUENCE) return whole(der, t);
  let tag = t.tag;
  let bytes = content(der, t);
  // BER constructed strings (never in DER, but OpenSSL reads them) count as their joined pieces.
  if ((tag & 0xe0) === 0x20) {
    tag &= 0x1f;
    bytes = joinPieces(der, t, 0);
  }
  const width = CANON_WIDTH.get(tag);
  if (width !== undefined) return tlv(TAG.UTF8_STRING, canonText(toUtf8(bytes, width)));
  if (!KEPT.has(tag)) throw new DerError(`OpenSSL rejects name values with tag 0x${t.tag.toString(16)}`);
  // c2i_ASN1_BIT_STRING clears the unused bits of the last octet; i2c writes them back as zeros.
  if (tag === TAG.BIT_STRING && bytes.length > 1) {
    bytes = Buffer.from(bytes);
    bytes[bytes.length - 1]! &= 0xff << (bytes[0]! & 7);
  }
  return tlv(tag, bytes);
}

/** asn1_collect: the contents of every primitive piece, whatever their tags, at most 5 deep. */
function joinPieces(der: Buffer, t: Tlv, depth: number): Buffer {
  if (depth > 5) throw new DerError('constructed string nested too deeply');
  return Buffer.concat(children(der, t).map((c) => (c.tag & 0x20 ? joinPieces(der, c, depth + 1) : content(der, c))));
}

/** ASN1_STRING_to_UTF8, including the inputs it refuses (then d2i, and the certificate, fail). */
function toUtf8(bytes: Buffer, width: number): Buffer {
  if (width === 0) {
    // UTF8_getc plus is_unicode_valid is exactly strict UTF-8: no overlongs, no surrogates, no
    // code points past U+10FFFF. Valid input is copied as it is.
    if (!isUtf8(bytes)) throw new DerError('invalid UTF8String in name');
    return bytes;
  }
  if (width === 1) return Buffer.from(bytes.toString('latin1'), 'utf8');
  if (bytes.length % width !== 0) throw new DerError('BMPString/UniversalString length is not a whole number of characters');
  let text = '';
  for (let i = 0; i < bytes.length; i += width) {
    const cp = width === 2 ? bytes.readUInt16BE(i) : bytes.readUInt32BE(i);
    // Each unit is one character: a BMPString surrogate pair is two invalid characters to
    // OpenSSL, not one astral one, so the name does not decode at all.
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) throw new DerError('invalid character in name');
    text += String.fromCodePoint(cp);
  }
  return Buffer.from(text, 'utf8');
}

// ossl_isspace: the C locale's whitespace, tab through carriage return and space; never a byte of
// a multi-byte UTF-8 character (so U+00A0 and other Unicode spaces are left alone).
const isSpace = (b: number): boolean => b === 0x20 || (b >= 0x09 && b <= 0x0d);

/** asn1_string_canon: trim, collapse inner whitespace runs to one space, lower-case ASCII only. */
function canonText(s: Buffer): Buffer {
  let start = 0;
  let end = s.length;
  while (start < end && isSpace(s[start]!)) start++;
  while (end > start && isSpace(s[end - 1]!)) end--;
  const out = Buffer.allocUnsafe(end - start);
  let n = 0;
  for (let i = start; i < end; ) {
    const b = s[i]!;
    if (isSpace(b)) {
      out[n++] = 0x20;
      while (isSpace(s[i]!)) i++; // stops before `end`: the last byte is not a space
    } else {
      out[n++] = b >= 0x41 && b <= 0x5a ? b + 0x20 : b;
      i++;
    }
  }
  return out.subarray(0, n);
}

/** A DER element with a minimal definite length, as OpenSSL's encoder writes it. */
function tlv(tag: number, body: Buffer): Buffer {
  const len = body.length;
  let header: number[];
  if (len < 0x80) header = [tag, len];
  else {
    const octets: number[] = [];
    for (let l = len; l > 0; l = Math.floor(l / 256)) octets.unshift(l & 0xff);
    header = [tag, 0x80 | octets.length, ...octets];
  }
  return Buffer.concat([Buffer.from(header), body]);
}
