// What OpenSSL 3.0 makes of a certificate's extensions and key when it verifies (crypto/x509
// v3_purp.c ossl_x509v3_cache_extensions, x_pubkey.c). OpenSSL decodes leniently but marks a
// certificate EXFLAG_INVALID when an extension it reads does not decode or occurs twice
// (X509_get_ext_d2i reports a duplicate as -2); such a certificate is never anyone's issuer
// (ossl_x509_likely_issued) and is not a CA (X509_check_ca).
import { createPublicKey } from 'node:crypto';
import type { Certificate } from './certificate.js';
import { nameFromDer } from './certificate.js';
import { TAG, children, content, ctx, decodeInteger, decodeOid, readTlv, type Tlv } from './der.js';
import { EXT } from './oids.js';

/** GENERAL_NAME choices, numbered as OpenSSL's GEN_* are (the context tag). */
export const GEN = { OTHERNAME: 0, EMAIL: 1, DNS: 2, X400: 3, DIRNAME: 4, EDIPARTY: 5, URI: 6, IPADD: 7, RID: 8 } as const;

export interface OpenSslGeneralName {
  type: number;
  /** The content octets (for DIRNAME the Name's DER, for OTHERNAME the whole value). */
  data: Buffer;
  /** otherName type-id. */
  otherNameOid?: string;
  /** directoryName, canonical RDN by RDN. */
  dirName?: string[];
}

export interface OpenSslSubtree {
  base: OpenSslGeneralName;
  /** minimum other than 0, or maximum present: nc_minmax_valid fails. */
  badMinMax: boolean;
}

export interface OpenSslNameConstraints {
  permitted: OpenSslSubtree[];
  excluded: OpenSslSubtree[];
}

export interface OpenSslAkid {
  keyId?: Buffer;
  serialHex?: string;
  /** The first directoryName of authorityCertIssuer, canonical form. */
  issuer?: string;
}

export interface OpenSslFacts {
  /** EXFLAG_INVALID. */
  invalid: boolean;
  akid?: OpenSslAkid;
  altNames?: OpenSslGeneralName[];
  nc?: OpenSslNameConstraints;
  /** X509_get0_pubkey() is NULL: the key does not decode. */
  keyMissing: boolean;
  /** The EC key carries explicit curve parameters (check_curve). */
  explicitCurve: boolean;
  /** EVP_PKEY_get_security_bits. */
  securityBits: number;
}

class Bad extends Error {}

function tlvAt(buf: Buffer, at = 0, limit = buf.length): Tlv {
  try {
    return readTlv(buf, at, limit);
  } catch {
    throw new Bad();
  }
}

function kids(buf: Buffer, t: Tlv): Tlv[] {
  try {
    return children(buf, t);
  } catch {
    throw new Bad();
  }
}

/** d2i of a whole extension value: one element of this tag, nothing after it. */
function top(value: Buffer, tag: number): Tlv {
  const t = tlvAt(value);
  if (t.tag !== tag || t.end !== value.length) throw new Bad();
  return t;
}

function generalName(buf: Buffer, t: Tlv): OpenSslGeneralName {
  const type = t.tag & 0x1f;
  if ((t.tag & 0xc0) !== 0x80 || type > 8) throw new Bad();
  const data = content(buf, t);
  switch (type) {
    case GEN.OTHERNAME: {
      const [oid, value] = kids(buf, t);
      if (!oid || oid.tag !== TAG.OID || !value || value.tag !== ctx(0, true)) throw new Bad();
      return { type, data: Buffer.from(data), otherNameOid: decodeOid(content(buf, oid)) };
    }
    case GEN.DIRNAME: {
      const [name] = kids(buf, t);
      if (!name || name.tag !== TAG.SEQUENCE) throw new Bad();
      try {
        return { type, data: Buffer.from(buf.subarray(name.start, name.end)), dirName: nameFromDer(buf.subarray(name.start, name.end)).canonicalRdns };
      } catch {
        throw new Bad();
      }
    }
    default:
      return { type, data: Buffer.from(data) };
  }
}

function generalNames(buf: Buffer, seq: Tlv): OpenSslGeneralName[] {
  return kids(buf, seq).map((t) => generalName(buf, t));
}

function parseAkid(value: Buffer): OpenSslAkid {
  const out: OpenSslAkid = {};
  for (const t of kids(value, top(value, TAG.SEQUENCE))) {
    if (t.tag === ctx(0, false)) out.keyId = Buffer.from(content(value, t));
    else if (t.tag === ctx(1, true)) {
      const dir = generalNames(value, t).find((g) => g.type === GEN.DIRNAME);
      if (dir?.dirName) out.issuer = dir.dirName.join('/');
    } else if (t.tag === ctx(2, false)) out.serialHex = decodeInteger(content(value, t)).hex;
    else throw new Bad();
  }
  return out;
}

function parseNc(value: Buffer): OpenSslNameConstraints {
  const nc: OpenSslNameConstraints = { permitted: [], excluded: [] };
  for (const part of kids(value, top(value, TAG.SEQUENCE))) {
    const list = part.tag === ctx(0, true) ? nc.permitted : part.tag === ctx(1, true) ? nc.excluded : undefined;
    if (!list) throw new Bad();
    for (const subtree of kids(value, part)) {
      if (subtree.tag !== TAG.SEQUENCE) throw new Bad();
      const [base, ...rest] = kids(value, subtree);
      if (!base) throw new Bad();
      let badMinMax = false;
      for (const r of rest) {
        if (r.tag === ctx(0, false)) badMinMax ||= content(value, r).some((b) => b !== 0);
        else if (r.tag === ctx(1, false)) badMinMax = true;
        else throw new Bad();
      }
      list.push({ base: generalName(value, base), badMinMax });
    }
  }
  return nc;
}

/** BN_security_bits (crypto/bn/bn_lib.c): L is the modulus size, N the subgroup size (-1 for RSA). */
function bnSecurityBits(l: number, n: number): number {
  let bits: number;
  if (l >= 15360) bits = 256;
  else if (l >= 7680) bits = 192;
  else if (l >= 3072) bits = 128;
  else if (l >= 2048) bits = 112;
  else if (l >= 1024) bits = 80;
  else return 0;
  if (n === -1) return bits;
  return Math.min(Math.floor(n / 2), bits);
}

/** ec_key_security_bits (crypto/ec/ec_ameth.c) from the group order's size. */
function ecSecurityBits(orderBits: number): number {
  if (orderBits >= 512) return 256;
  if (orderBits >= 384) return 192;
  if (orderBits >= 256) return 128;
  if (orderBits >= 224) return 112;
  if (orderBits >= 160) return 80;
  return Math.floor(orderBits / 2);
}

function bitLength(b: Buffer): number {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  const first = b[i] ?? 0;
  return (b.length - i - 1) * 8 + (first === 0 ? 0 : 32 - Math.clz32(first));
}

/** The key as OpenSSL's decoder sees it: whether it decodes, explicit curve, security bits. */
function keyFacts(cert: Certificate): Pick<OpenSslFacts, 'keyMissing' | 'explicitCurve' | 'securityBits'> {
  const spki = cert.publicKey.spki;
  let explicitCurve = false;
  let orderBits = 0;
  let dsa: { l: number; n: number } | undefined;
  try {
    const [alg] = children(spki, readTlv(spki, 0));
    const [, params] = children(spki, alg!);
    if (cert.publicKey.type === 'EC' && params?.tag === TAG.SEQUENCE) {
      // ECParameters: version, fieldID, curve, base, order, cofactor.
      explicitCurve = true;
      const order = children(spki, params)[4];
      if (order) orderBits = bitLength(content(spki, order));
    }
    if (cert.publicKey.type === 'DSA' && params?.tag === TAG.SEQUENCE) {
      const [p, q] = children(spki, params);
      if (p && q) dsa = { l: bitLength(content(spki, p)), n: bitLength(content(spki, q)) };
    }
  } catch {
    // the structure itself is broken: the decoder below says so
  }
  let keyMissing = false;
  try {
    createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch {
    keyMissing = true;
  }
  const { type, bits } = cert.publicKey;
  let securityBits = 0;
  if (!keyMissing) {
    switch (type) {
      case 'RSA': case 'RSA-PSS': securityBits = bnSecurityBits(bits, -1); break;
      case 'DSA': securityBits = dsa ? bnSecurityBits(dsa.l, dsa.n) : 0; break;
      case 'EC': securityBits = ecSecurityBits(explicitCurve ? orderBits : bits); break;
      case 'Ed25519': securityBits = 128; break;
      case 'Ed448': securityBits = 224; break;
    }
  }
  return { keyMissing, explicitCurve, securityBits };
}

// Extensions ossl_x509v3_cache_extensions reads with X509_get_ext_d2i (a duplicate is an error).
const D2I_READ = new Set<string>([
  EXT.basicConstraints, EXT.keyUsage, EXT.extKeyUsage, '2.16.840.1.113730.1.1', EXT.subjectKeyIdentifier,
  EXT.authorityKeyIdentifier, EXT.subjectAltName, EXT.nameConstraints, EXT.crlDistributionPoints,
  '1.3.6.1.5.5.7.1.7', '1.3.6.1.5.5.7.1.8', '1.3.6.1.5.5.7.1.14',
]);

export function opensslFacts(cert: Certificate): OpenSslFacts {
  let invalid = cert.extensionsMalformed;
  const out: Omit<OpenSslFacts, 'invalid'> = { ...keyFacts(cert) };
  const counts = new Map<string, number>();
  for (const e of cert.extensions) counts.set(e.oid, (counts.get(e.oid) ?? 0) + 1);
  for (const [oid, n] of counts) if (n > 1 && D2I_READ.has(oid)) invalid = true;
  for (const e of cert.extensions) {
    if ((counts.get(e.oid) ?? 0) > 1) continue;
    try {
      switch (e.oid) {
        case EXT.basicConstraints: {
          const seq = top(e.value, TAG.SEQUENCE);
          for (const t of kids(e.value, seq)) {
            // A negative pathLenConstraint (X509V3_R_NEGATIVE_PATHLEN).
            if (t.tag === TAG.INTEGER && (e.value[t.body]! & 0x80) !== 0) invalid = true;
          }
          break;
        }
        case EXT.keyUsage: {
          const t = top(e.value, TAG.BIT_STRING);
          // An empty key usage (X509V3_R_EMPTY_KEY_USAGE): no bit in the first two octets.
          const bits = content(e.value, t).subarray(1, 3);
          if (!bits.some((b) => b !== 0)) invalid = true;
          break;
        }
        case EXT.extKeyUsage:
        case EXT.crlDistributionPoints:
          kids(e.value, top(e.value, TAG.SEQUENCE));
          break;
        case EXT.subjectKeyIdentifier:
          top(e.value, TAG.OCTET_STRING);
          break;
        case EXT.authorityKeyIdentifier:
          out.akid = parseAkid(e.value);
          break;
        case EXT.subjectAltName:
          out.altNames = generalNames(e.value, top(e.value, TAG.SEQUENCE));
          break;
        case EXT.nameConstraints:
          out.nc = parseNc(e.value);
          break;
      }
    } catch (err) {
      if (!(err instanceof Bad)) throw err;
      invalid = true;
    }
  }
  return { invalid, ...out };
}
