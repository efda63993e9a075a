// BER (DER plus indefinite lengths, as Windows and Java exports write PKCS#7 and PKCS#12), with
// exact offsets, so every certificate inside comes out byte for byte as it was stored. Built on
// der.ts's tags and decoders; der.ts itself reads strict DER (certificates).
import { DerError, TAG, decodeInteger, decodeOid, readTlv } from './der.js';

export interface Ber {
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

export function ber(buf: Buffer, offset: number, limit: number, depth = 0): Ber {
  if (depth > 32) throw new DerError('ASN.1 nested too deeply');
  const known = indefiniteEnds.get(buf)?.get(offset);
  if (known && known.end <= limit) return known;
  if (offset + 2 > limit) throw new DerError('truncated element');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tags are not supported');
  const first = buf[offset + 1]!;
  const body = offset + 2;
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
  // A definite length is read exactly as DER reads it (one long-form reader: der.ts readTlv).
  const t = readTlv(buf, offset, limit);
  return { tag, start: offset, body: t.body, contentEnd: t.end, end: t.end };
}

export function berChildren(buf: Buffer, parent: Ber): Ber[] {
  const out: Ber[] = [];
  for (let at = parent.body; at < parent.contentEnd; ) {
    const t = ber(buf, at, parent.contentEnd);
    out.push(t);
    at = t.end;
  }
  return out;
}

export function expect(t: Ber | undefined, tag: number, what: string): Ber {
  if (!t || t.tag !== tag) throw new DerError(`expected ${what}`);
  return t;
}

/** An OCTET STRING, primitive (DER) or constructed (BER). */
export function expectOctetString(t: Ber | undefined, what: string): Ber {
  if (!t || (t.tag !== TAG.OCTET_STRING && t.tag !== (TAG.OCTET_STRING | 0x20))) throw new DerError(`expected ${what} OCTET STRING`);
  return t;
}

/** The octets of an OCTET STRING (or [n] IMPLICIT one), primitive or BER-constructed. */
export function octets(buf: Buffer, t: Ber, depth = 0): Buffer {
  if (!(t.tag & 0x20)) return buf.subarray(t.body, t.contentEnd);
  if (depth > 32) throw new DerError('OCTET STRING nested too deeply');
  return Buffer.concat(berChildren(buf, t).map((c) => octets(buf, c, depth + 1)));
}

export function oidOf(buf: Buffer, t: Ber | undefined, what: string): string {
  return decodeOid(buf.subarray(expect(t, TAG.OID, what).body, t!.contentEnd));
}

export function safeOid(buf: Buffer, t: Ber): string | undefined {
  try { return oidOf(buf, t, 'OID'); } catch { return undefined; }
}

export function integerValue(buf: Buffer, t: Ber): number {
  const { hex, negative } = decodeInteger(buf.subarray(t.body, t.contentEnd));
  if (negative || hex.length > 12) return -1;
  return parseInt(hex || '0', 16);
}

/** Whether the bytes are one BER element, give or take trailing line breaks or NUL padding. */
export function spansFile(bytes: Buffer): boolean {
  if (bytes[0] !== 0x30) return false;
  try {
    return trailingIsPadding(bytes, ber(bytes, 0, bytes.length).end);
  } catch {
    return false;
  }
}

export function trailingIsPadding(bytes: Buffer, from: number): boolean {
  for (let i = from; i < bytes.length; i++) if (![0x00, 0x09, 0x0a, 0x0d, 0x20].includes(bytes[i]!)) return false;
  return true;
}
