// OpenSSL 3.0's name-constraint check (crypto/x509/v3_ncons.c NAME_CONSTRAINTS_check and
// NAME_CONSTRAINTS_check_CN), over the facts openssl-parse.ts decodes. Every name of a
// certificate is matched against the CA's permitted subtrees of the same type first, then its
// excluded ones; the first failure is the answer, as an X509_V_ERR_* name.
import type { Certificate } from '../x509/certificate.js';
import { GEN, type OpenSslFacts, type OpenSslGeneralName, type OpenSslNameConstraints } from '../x509/openssl-parse.js';

export type NcResult =
  | 'OK' | 'PERMITTED_VIOLATION' | 'EXCLUDED_VIOLATION' | 'SUBTREE_MINMAX' | 'UNSUPPORTED_CONSTRAINT_TYPE'
  | 'UNSUPPORTED_CONSTRAINT_SYNTAX' | 'UNSUPPORTED_NAME_SYNTAX' | 'UNSPECIFIED';

// NAME_CHECK_MAX: names times constraints beyond this is refused outright (a DoS guard).
const NAME_CHECK_MAX = 1 << 20;
const EMAIL_ADDRESS_OID = '1.2.840.113549.1.9.1';
const IA5_STRING = 0x16;
const SMTP_UTF8_MAILBOX = '1.3.6.1.5.5.7.8.9';

const lower = (b: Buffer) => b.toString('latin1').replace(/[A-Z]/g, (c) => c.toLowerCase());

/** nc_dns: the constraint matches the name's right-hand labels. */
function ncDns(dns: Buffer, base: Buffer): NcResult {
  if (base.length === 0) return 'OK';
  if (dns.length < base.length) return 'PERMITTED_VIOLATION';
  let tail = dns;
  if (dns.length > base.length) {
    tail = dns.subarray(dns.length - base.length);
    if (base[0] !== 0x2e && dns[dns.length - base.length - 1] !== 0x2e) return 'PERMITTED_VIOLATION';
  }
  return lower(base) === lower(tail) ? 'OK' : 'PERMITTED_VIOLATION';
}

/** nc_email: "@host" or "local@host" or ".domain" (a right-hand match). */
function ncEmail(eml: Buffer, base: Buffer): NcResult {
  const e = eml.toString('latin1');
  const b = base.toString('latin1');
  const emlAt = e.lastIndexOf('@');
  const baseAt = b.lastIndexOf('@');
  if (emlAt < 0) return 'UNSUPPORTED_NAME_SYNTAX';
  if (baseAt < 0 && b.startsWith('.')) {
    return e.length > b.length && lower(Buffer.from(e.slice(e.length - b.length), 'latin1')) === lower(base) ? 'OK' : 'PERMITTED_VIOLATION';
  }
  let baseHost = b;
  if (baseAt >= 0) {
    if (baseAt !== 0) {
      if (baseAt !== emlAt) return 'PERMITTED_VIOLATION';
      if (b.slice(0, baseAt).includes('\0') || e.slice(0, emlAt).includes('\0')) return 'UNSUPPORTED_NAME_SYNTAX';
      if (b.slice(0, baseAt) !== e.slice(0, emlAt)) return 'PERMITTED_VIOLATION';
    }
    baseHost = b.slice(baseAt + 1);
  }
  return baseHost.toLowerCase() === e.slice(emlAt + 1).toLowerCase() ? 'OK' : 'PERMITTED_VIOLATION';
}

/** nc_uri (OpenSSL 3.0): the host between "scheme://" and the next ':' or '/'. */
function ncUri(uri: Buffer, base: Buffer): NcResult {
  const u = uri.toString('latin1');
  const colon = u.indexOf(':');
  if (colon < 0 || u.length - colon < 3 || u[colon + 1] !== '/' || u[colon + 2] !== '/') return 'UNSUPPORTED_NAME_SYNTAX';
  const rest = u.slice(colon + 3);
  let end = rest.indexOf(':');
  if (end < 0) end = rest.indexOf('/');
  const host = end < 0 ? rest : rest.slice(0, end);
  if (host.length === 0) return 'UNSUPPORTED_NAME_SYNTAX';
  const b = base.toString('latin1');
  if (b.startsWith('.')) {
    return host.length > b.length && host.slice(host.length - b.length).toLowerCase() === b.toLowerCase() ? 'OK' : 'PERMITTED_VIOLATION';
  }
  return host.toLowerCase() === b.toLowerCase() ? 'OK' : 'PERMITTED_VIOLATION';
}

/** nc_ip: address/mask pairs of the same family; no check that the mask is a prefix. */
function ncIp(ip: Buffer, base: Buffer): NcResult {
  if (ip.length !== 4 && ip.length !== 16) return 'UNSUPPORTED_NAME_SYNTAX';
  if (base.length !== 8 && base.length !== 32) return 'UNSUPPORTED_NAME_SYNTAX';
  if (ip.length * 2 !== base.length) return 'PERMITTED_VIOLATION';
  for (let i = 0; i < ip.length; i++) {
    const mask = base[ip.length + i]!;
    if ((ip[i]! & mask) !== (base[i]! & mask)) return 'PERMITTED_VIOLATION';
  }
  return 'OK';
}

/** nc_dn: the constraint's canonical RDNs are a prefix of the name's. */
function ncDn(name: string[], base: string[]): NcResult {
  if (base.length > name.length) return 'PERMITTED_VIOLATION';
  return base.every((rdn, i) => rdn === name[i]) ? 'OK' : 'PERMITTED_VIOLATION';
}

function matchSingle(gen: OpenSslGeneralName, base: OpenSslGeneralName): NcResult {
  switch (gen.type) {
    case GEN.DIRNAME: return ncDn(gen.dirName ?? [], base.dirName ?? []);
    case GEN.DNS: return ncDns(gen.data, base.data);
    case GEN.EMAIL: return ncEmail(gen.data, base.data);
    case GEN.URI: return ncUri(gen.data, base.data);
    case GEN.IPADD: return ncIp(gen.data, base.data);
    default: return 'UNSUPPORTED_CONSTRAINT_TYPE';
  }
}

/** nc_match: permitted subtrees of the name's type (one must match), then excluded (none may). */
function ncMatch(gen: OpenSslGeneralName, nc: OpenSslNameConstraints): NcResult {
  // An SmtpUTF8Mailbox otherName is compared with rfc822Name constraints (RFC 8398); its
  // internationalised matching is not modelled, such names are rare outside e-mail.
  const type = gen.type === GEN.OTHERNAME && gen.otherNameOid === SMTP_UTF8_MAILBOX ? GEN.EMAIL : gen.type;
  const sameType = (base: OpenSslGeneralName) =>
    type === base.type && !(type === GEN.OTHERNAME && gen.otherNameOid !== base.otherNameOid);
  let match = 0;
  for (const sub of nc.permitted) {
    if (!sameType(sub.base)) continue;
    if (sub.badMinMax) return 'SUBTREE_MINMAX';
    if (match === 2) continue;
    if (match === 0) match = 1;
    const r = matchSingle(gen, sub.base);
    if (r === 'OK') match = 2;
    else if (r !== 'PERMITTED_VIOLATION') return r;
  }
  if (match === 1) return 'PERMITTED_VIOLATION';
  for (const sub of nc.excluded) {
    if (!sameType(sub.base)) continue;
    if (sub.badMinMax) return 'SUBTREE_MINMAX';
    const r = matchSingle(gen, sub.base);
    if (r === 'OK') return 'EXCLUDED_VIOLATION';
    if (r !== 'PERMITTED_VIOLATION') return r;
  }
  return 'OK';
}

/** NAME_CONSTRAINTS_check: the subject DN, its emailAddress attributes, then every SAN in order. */
export function nameConstraintsCheck(x: Certificate, facts: OpenSslFacts, nc: OpenSslNameConstraints): NcResult {
  const entries = x.subject.rdns.flat();
  const nameCount = entries.length + (facts.altNames?.length ?? 0);
  const constraintCount = nc.permitted.length + nc.excluded.length;
  if (nameCount > 0 && constraintCount > Math.floor(NAME_CHECK_MAX / nameCount)) return 'UNSPECIFIED';
  if (entries.length > 0) {
    const r = ncMatch({ type: GEN.DIRNAME, data: x.subjectRaw, dirName: x.subject.canonicalRdns }, nc);
    if (r !== 'OK') return r;
    for (const a of entries) {
      if (a.oid !== EMAIL_ADDRESS_OID) continue;
      if (a.tag !== IA5_STRING) return 'UNSUPPORTED_NAME_SYNTAX';
      const e = ncMatch({ type: GEN.EMAIL, data: Buffer.from(a.value, 'latin1') }, nc);
      if (e !== 'OK') return e;
    }
  }
  for (const gen of facts.altNames ?? []) {
    const r = ncMatch(gen, nc);
    if (r !== 'OK') return r;
  }
  return 'OK';
}

/**
 * cn2dnsid: a CN that looks like a host name of two labels or more (letters, digits, '_', inner
 * '-' and '.', no empty label); undefined when it does not, 'bad' for an embedded NUL.
 */
function cnToDnsId(cn: string): string | undefined | 'bad' {
  const v = cn.replace(/\0+$/, '');
  if (v.includes('\0')) return 'bad';
  const bytes = Buffer.from(v, 'utf8');
  let isDns = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f) continue;
    if (i > 0 && i < bytes.length - 1) {
      if (c === 0x2d) continue;
      if (c === 0x2e && bytes[i + 1] !== 0x2e && bytes[i - 1] !== 0x2d && bytes[i + 1] !== 0x2d) {
        isDns = true;
        continue;
      }
    }
    isDns = false;
    break;
  }
  return isDns ? bytes.toString('latin1') : undefined;
}

/** NAME_CONSTRAINTS_check_CN: host-name-like CNs against the DNS constraints. */
export function nameConstraintsCheckCn(x: Certificate, nc: OpenSslNameConstraints): NcResult {
  for (const a of x.subject.rdns.flat()) {
    if (a.type !== 'CN') continue;
    const id = cnToDnsId(a.value);
    if (id === 'bad') return 'UNSUPPORTED_NAME_SYNTAX';
    if (id === undefined) continue;
    const r = ncMatch({ type: GEN.DNS, data: Buffer.from(id, 'latin1') }, nc);
    if (r !== 'OK') return r;
  }
  return 'OK';
}
