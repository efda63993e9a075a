// A minimal DER reader: just enough ASN.1 to walk certificates on the doctor's hot path.
// @peculiar/x509 costs ~150 ms to load and Node's X509Certificate ~0.2 ms per parse; the doctor
// indexes hundreds of roots per run, so it walks the bytes itself and only builds native
// objects for the handful of certificates a path actually touches.

export class DerError extends Error {}

/** One tag-length-value element, as offsets into the buffer it was read from. */
export interface Tlv {
  /** The identifier octet (class, constructed bit and tag number; tags > 30 are not needed here). */
  tag: number;
  /** Offset of the identifier octet. */
  start: number;
  /** Offset of the first content octet. */
  body: number;
  /** Offset just past the last content octet. */
  end: number;
}

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  SEQUENCE: 0x30,
  SET: 0x31,
  PRINTABLE_STRING: 0x13,
  T61_STRING: 0x14,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  UNIVERSAL_STRING: 0x1c,
  BMP_STRING: 0x1e,
} as const;

/** Context-specific tag [n], constructed or primitive. */
export const ctx = (n: number, constructed: boolean): number => 0x80 | (constructed ? 0x20 : 0) | n;

export function readTlv(buf: Buffer, offset: number, limit = buf.length): Tlv {
  if (offset + 2 > limit) throw new DerError('truncated DER element');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte DER tags are not supported');
  let len = buf[offset + 1]!;
  let body = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new DerError('unsupported DER length');
    if (body + n > limit) throw new DerError('truncated DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[body + i]!;
    body += n;
  }
  const end = body + len;
  if (end > limit) throw new DerError('DER element runs past its container');
  return { tag, start: offset, body, end };
}

/** The elements directly inside a constructed element. */
export function children(buf: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let at = parent.body;
  while (at < parent.end) {
    const t = readTlv(buf, at, parent.end);
    out.push(t);
    at = t.end;
  }
  return out;
}

export const content = (buf: Buffer, t: Tlv): Buffer => buf.subarray(t.body, t.end);
export const whole = (buf: Buffer, t: Tlv): Buffer => buf.subarray(t.start, t.end);

export function expectTag(t: Tlv | undefined, tag: number, what: string): Tlv {
  if (!t || t.tag !== tag) throw new DerError(`expected ${what}`);
  return t;
}

export function decodeOid(bytes: Buffer): string {
  if (bytes.length === 0) throw new DerError('empty OID');
  const parts: number[] = [];
  let value = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    value = value * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      if (parts.length === 0) {
        const first = value < 80 ? Math.floor(value / 40) : 2;
        parts.push(first, value - first * 40);
      } else {
        parts.push(value);
      }
      value = 0;
    }
  }
  return parts.join('.');
}

/** A DER INTEGER as unsigned hex (no leading zero octets), plus whether it was negative. */
export function decodeInteger(bytes: Buffer): { hex: string; negative: boolean } {
  const negative = bytes.length > 0 && (bytes[0]! & 0x80) !== 0;
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  return { hex: bytes.subarray(i).toString('hex'), negative };
}

export function decodeTime(buf: Buffer, t: Tlv): Date {
  const s = buf.toString('latin1', t.body, t.end);
  let m: RegExpMatchArray | null;
  if (t.tag === TAG.UTC_TIME && (m = s.match(/^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)?Z$/))) {
    const yy = Number(m[1]);
    // RFC 5280 4.1.2.5.1: YY >= 50 is 19YY, otherwise 20YY.
    const year = yy >= 50 ? 1900 + yy : 2000 + yy;
    return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)));
  }
  if (t.tag === TAG.GENERALIZED_TIME && (m = s.match(/^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(?:\.\d+)?Z$/))) {
    return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
  }
  throw new DerError(`unreadable time ${JSON.stringify(s)}`);
}

/** The text of a directory string, whatever ASN.1 string type carries it. */
export function decodeString(buf: Buffer, t: Tlv): string {
  const bytes = content(buf, t);
  switch (t.tag) {
    case TAG.BMP_STRING: {
      let out = '';
      for (let i = 0; i + 1 < bytes.length; i += 2) out += String.fromCharCode(bytes.readUInt16BE(i));
      return out;
    }
    case TAG.UNIVERSAL_STRING: {
      let out = '';
      for (let i = 0; i + 3 < bytes.length; i += 4) {
        const cp = bytes.readUInt32BE(i);
        // Beyond Unicode (or a lone surrogate): the replacement character, as a UTF-8 decoder would.
        out += cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff) ? String.fromCodePoint(cp) : '\ufffd';
      }
      return out;
    }
    case TAG.UTF8_STRING:
      return bytes.toString('utf8');
    default:
      return bytes.toString('latin1');
  }
}

export interface PemBlock {
  label: string;
  der: Buffer;
  /** PEM headers (Proc-Type etc.); Go's AppendCertsFromPEM skips blocks that have any. */
  hasHeaders: boolean;
}

const BEGIN = '-----BEGIN ';
const END = '-----END ';
const DASHES = '-----';

/** The label of an armour line at `at` ("-----BEGIN LABEL-----"), or undefined; `end` just past it. */
function armourLabel(text: string, at: number, prefix: string): { label: string; end: number } | undefined {
  let i = at + prefix.length;
  const start = i;
  // [A-Z0-9 ]+ : labels never contain '-', so the scan stops at the closing dashes.
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (!((c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x20)) break;
  }
  if (i === start || !text.startsWith(DASHES, i)) return undefined;
  return { label: text.slice(start, i), end: i + DASHES.length };
}

/**
 * Every PEM block in a text, in order: "-----BEGIN L-----", a line break, then everything up to
 * the first "-----END L-----" with the same label. One pass finds every END line and indexes it
 * by label, so a text of BEGIN lines without ENDs costs linear time, not a rescan per BEGIN.
 */
export function pemBlocks(text: string): PemBlock[] {
  const ends = new Map<string, number[]>();
  for (let at = text.indexOf(END); at >= 0; at = text.indexOf(END, at + 1)) {
    const a = armourLabel(text, at, END);
    if (!a) continue;
    const list = ends.get(a.label);
    if (list) list.push(at);
    else ends.set(a.label, [at]);
  }
  // Per label, how far into its END list earlier blocks have consumed (positions only grow).
  const cursor = new Map<string, number>();
  const out: PemBlock[] = [];
  let from = 0;
  for (let at = text.indexOf(BEGIN, from); at >= 0; at = text.indexOf(BEGIN, from)) {
    const a = armourLabel(text, at, BEGIN);
    let bodyStart = a ? a.end : -1;
    if (a && text.charCodeAt(bodyStart) === 0x0d) bodyStart++;
    if (!a || text.charCodeAt(bodyStart) !== 0x0a) { from = at + 1; continue; }
    bodyStart++;
    const list = ends.get(a.label) ?? [];
    let k = cursor.get(a.label) ?? 0;
    while (k < list.length && list[k]! < bodyStart) k++;
    cursor.set(a.label, k);
    if (k === list.length) { from = at + 1; continue; }
    const endAt = list[k]!;
    const body = text.slice(bodyStart, endAt);
    // Base64 has no colon, so only bodies with one need the (slower) header check.
    const hasHeaders = body.includes(':') && /^[A-Za-z-]+:/m.test(body);
    const b64 = hasHeaders ? body.slice(body.search(/\r?\n\r?\n/) + 1) : body;
    // Node's base64 decoder skips line breaks and spaces by itself.
    out.push({ label: a.label, der: Buffer.from(b64, 'base64'), hasHeaders });
    from = endAt + END.length + a.label.length + DASHES.length;
  }
  return out;
}

export function toPem(der: Buffer, label = 'CERTIFICATE'): string {
  const b64 = der.toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
