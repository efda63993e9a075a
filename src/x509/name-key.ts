// A cheap test that two DER Names cannot be equal in OpenSSL's canonical form (Name.canonical in
// certificate.ts), read from the raw bytes without decoding the names. Issuer lookups compare a
// certificate's issuer with every root of a store (~150): the raw bytes nearly always settle it,
// and when they differ, the canonical comparison used to decode every root's subject (~4 ms of a
// doctor run). This key rules nearly all of them out first.
//
// The key is the canonical string with every whitespace character removed: the same RDN order and
// separators, `oid=value` per attribute, ASCII letters lower-cased, non-string values as #hex.
// Equal canonical strings therefore give equal keys; keys that differ prove the names differ.
// Where computing it from the bytes would need the decoding after all (values in BMPString or
// UniversalString, bytes beyond ASCII, multi-valued RDNs whose sort order whitespace could change,
// damaged DER), there is no key and the caller compares canonical forms as before.
import { decodeOid, readTlv, TAG } from './der.js';

const STRING_TAGS = new Set<number>([TAG.UTF8_STRING, TAG.PRINTABLE_STRING, TAG.T61_STRING, TAG.IA5_STRING, 0x1a /* Visible */]);
const WIDE_STRING_TAGS = new Set<number>([TAG.BMP_STRING, TAG.UNIVERSAL_STRING]);
const oidNames = new Map<string, string>();
const keys = new WeakMap<Buffer, string | null>();

/** The key of one DER Name (a certificate's subjectRaw or issuerRaw), or undefined. Kept per buffer. */
export function nameKey(raw: Buffer): string | undefined {
  let key = keys.get(raw);
  if (key === undefined) {
    key = computeKey(raw);
    keys.set(raw, key);
  }
  return key ?? undefined;
}

/** The key an earlier run computed for these very bytes (trust/store-snapshot.ts). */
export function rememberNameKey(raw: Buffer, key: string): void {
  if (!keys.has(raw)) keys.set(raw, key);
}

/** False only when the two Names certainly differ in canonical form. */
export function mayBeSameName(a: Buffer, b: Buffer): boolean {
  const ka = nameKey(a);
  if (ka === undefined) return true;
  const kb = nameKey(b);
  return kb === undefined || ka === kb;
}

function computeKey(der: Buffer): string | null {
  try {
    const seq = readTlv(der, 0);
    if (seq.tag !== TAG.SEQUENCE) return null;
    const rdns: string[] = [];
    for (let at = seq.body; at < seq.end;) {
      const set = readTlv(der, at, seq.end);
      at = set.end;
      if (set.tag !== TAG.SET) return null;
      const atv = readTlv(der, set.body, set.end);
      if (atv.end !== set.end || atv.tag !== TAG.SEQUENCE) return null; // empty or multi-valued
      const type = readTlv(der, atv.body, atv.end);
      if (type.tag !== TAG.OID || type.end >= atv.end) return null;
      const value = readTlv(der, type.end, atv.end);
      if (value.end !== atv.end) return null;
      const v = valueKey(der, value.tag, value.body, value.end);
      if (v === undefined) return null;
      rdns.push(`${oidName(der, type.body, type.end)}=${v}`);
    }
    return rdns.join('/');
  } catch {
    return null;
  }
}

function oidName(der: Buffer, start: number, end: number): string {
  const hex = der.toString('hex', start, end);
  let name = oidNames.get(hex);
  if (name === undefined) {
    name = decodeOid(der.subarray(start, end));
    oidNames.set(hex, name);
  }
  return name;
}

/** The value as the canonical form has it, less whitespace; undefined where it needs decoding. */
function valueKey(der: Buffer, tag: number, start: number, end: number): string | undefined {
  if (WIDE_STRING_TAGS.has(tag)) return undefined;
  if (!STRING_TAGS.has(tag)) return `#${der.toString('hex', start, end)}`;
  let out = '';
  for (let i = start; i < end; i++) {
    const b = der[i]!;
    if (b >= 0x80) return undefined;
    // JavaScript's \s within ASCII: tab, line feed, vertical tab, form feed, carriage return, space.
    if (b === 0x20 || (b >= 0x09 && b <= 0x0d)) continue;
    out += String.fromCharCode(b >= 0x41 && b <= 0x5a ? b + 0x20 : b);
  }
  return out;
}
