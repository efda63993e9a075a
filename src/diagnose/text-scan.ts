// Many literal texts looked for at once in raw bytes, the way grep does it (Wu-Manber): a window
// of M bytes slides over the input, and a table says from the window's last two bytes how far it
// may jump without stepping over any text's anchor (an M-byte stretch of it). Where the table says
// 0, the texts anchored there are compared in full. On ordinary input the window jumps M-1 bytes
// at a time, so most bytes are never looked at.

export interface ScanText {
  text: string;
  /** ASCII letters match either case (the text itself must then be ASCII). */
  ignoreCase: boolean;
}

interface Anchored {
  /** The text's bytes, lower-cased when ignoreCase, and their upper-case twins. */
  lower: Uint8Array;
  upper: Uint8Array;
  /** Where the anchor starts inside the text. */
  offset: number;
}

const lowerByte = (b: number) => (b >= 0x41 && b <= 0x5a ? b + 32 : b);
const upperByte = (b: number) => (b >= 0x61 && b <= 0x7a ? b - 32 : b);

/**
 * How often each byte pair occurs: counted in a sample of the input when there is one, else a
 * guess (pairs of lower-case letters and spaces are what running text is made of).
 */
function pairCounts(sample: Uint8Array | undefined): Uint32Array {
  const counts = new Uint32Array(65536);
  if (sample && sample.length > 1) {
    for (let i = 1; i < sample.length; i++) counts[(sample[i - 1]! << 8) | sample[i]!]!++;
    return counts;
  }
  const plain = (b: number) => (b >= 0x61 && b <= 0x7a) || b === 0x20;
  for (let h = 0; h < 65536; h++) counts[h] = plain(h >> 8) && plain(h & 0xff) ? 1 : 0;
  return counts;
}

/**
 * The anchor inside a text: the M bytes whose pairs are rarest in the input, above all the last
 * pair (where it occurs, the texts anchored there are compared in full).
 */
function anchorOffset(lower: Uint8Array, upper: Uint8Array, m: number, counts: Uint32Array): number {
  const count = (j: number) => {
    let n = 0;
    for (const a of new Set([lower[j - 1]!, upper[j - 1]!])) for (const b of new Set([lower[j]!, upper[j]!])) n += counts[(a << 8) | b]!;
    return n;
  };
  let best = 0;
  let bestCost = Infinity;
  for (let k = 0; k + m <= lower.length; k++) {
    let cost = 4 * count(k + m - 1);
    for (let j = k + 1; j < k + m - 1; j++) cost += count(j);
    if (cost < bestCost) [best, bestCost] = [k, cost];
  }
  return best;
}

export class TextScanner {
  /** The window: the shortest text's length, at most 8 bytes. */
  readonly m: number;
  private readonly shift = new Uint8Array(65536);
  private readonly at: (Anchored[] | undefined)[] = new Array(65536);

  /** `sample`: a stretch of the input, to choose anchors that are rare in it. */
  constructor(texts: readonly ScanText[], sample?: Uint8Array) {
    const encoded = texts.map((t) => {
      const bytes = Buffer.from(t.text, 'utf8');
      if (t.ignoreCase && bytes.some((b) => b >= 0x80)) throw new Error(`a case-insensitive scan text must be ASCII: ${t.text}`);
      if (bytes.includes(0x0a)) throw new Error('a scan text holds no line end');
      return { bytes, ignoreCase: t.ignoreCase };
    });
    this.m = Math.min(8, ...encoded.map((e) => e.bytes.length));
    if (!(this.m >= 2)) throw new Error('scan texts must be at least 2 bytes long');
    const m = this.m;
    this.shift.fill(m - 1);
    const counts = pairCounts(sample);
    for (const { bytes, ignoreCase } of encoded) {
      const lower = ignoreCase ? bytes.map(lowerByte) : bytes;
      const upper = ignoreCase ? bytes.map(upperByte) : bytes;
      const offset = anchorOffset(lower, upper, m, counts);
      const entry: Anchored = { lower, upper, offset };
      for (let j = 1; j < m; j++) {
        // Every case form of the pair at j in the anchor.
        for (const a of new Set([lower[offset + j - 1]!, upper[offset + j - 1]!])) {
          for (const b of new Set([lower[offset + j]!, upper[offset + j]!])) {
            const h = (a << 8) | b;
            this.shift[h] = Math.min(this.shift[h]!, m - 1 - j);
            if (j === m - 1) (this.at[h] ??= []).push(entry);
          }
        }
      }
    }
  }

  /** Where the first text found in buf[from, to) starts (texts hold no line end, so the first found is in the first line that holds one), or -1. */
  find(buf: Uint8Array, from: number, to: number): number {
    const m = this.m;
    const shift = this.shift;
    let i = from + m - 1;
    while (i < to) {
      const h = (buf[i - 1]! << 8) | buf[i]!;
      const s = shift[h]!;
      if (s !== 0) {
        i += s;
        continue;
      }
      for (const e of this.at[h]!) {
        const start = i - (m - 1) - e.offset;
        const len = e.lower.length;
        if (start < from || start + len > to) continue;
        let k = 0;
        while (k < len) {
          const b = buf[start + k];
          if (b !== e.lower[k] && b !== e.upper[k]) break;
          k++;
        }
        if (k === len) return start;
      }
      i++;
    }
    return -1;
  }
}
