// `explain` over a byte stream (a log file, standard input), fast. The lines are the ones readLines
// makes (UTF-8, split at \n, cut at MAX_LINE characters) and every line that can matter goes
// through the same LineJudge.take as explainLines; the rest are counted in bulk, never made into
// strings. Which lines can matter is decided per chunk, on the raw bytes, by one multi-text scan
// (text-scan.ts) for the texts the catalogue's expressions require (required-text.ts):
//
// - A line's messages (messagesOf) are pieces of the line itself, trimmed, unless the line holds
//   an escape character (colour codes are cut out, joining what was around them) or a backslash
//   (escaped quotes, tabs and line ends become a quote, a space, a split). So a required text found
//   in a message is in the raw line too; lines with either character always go through take.
// - A line in which no signature and no FOLLOWING_CONTEXT pattern can match holds no failure and
//   names no program: take would only count it and remember it as the previous line. That is all
//   a skipped stretch does, while no block is open. While one is open, every line goes through
//   take, since any line may end the block (BLOCK_GAP, STARTS_EVENT, STACK_FRAME).
//
// test/unit/diagnose/explain-stream.test.ts holds this path to explainLines over readLines, report for report.
import { StringDecoder } from 'node:string_decoder';
import { FOLLOWING_CONTEXT, SIGNATURES } from './catalogue.js';
import { lineJudge, MAX_LINE, pushCut, type ExplainOptions, type ExplainReport, type LineJudge } from './explain.js';
import { requiredTexts, type Requirement } from './required-text.js';
import { TextScanner, type ScanText } from './text-scan.js';

const NL = 0x0a;
const ESC = 0x1b;
const BACKSLASH = 0x5c;

/** No text holds a line end; the scanner folds the case of ASCII letters only. */
const unscannable = (ch: string, ignoreCase: boolean) => ch === '\n' || (ignoreCase && ch.charCodeAt(0) > 0x7f);

/** What a line must hold (one of the texts) for `pattern` to match one of its messages. */
export function gateRequirement(pattern: RegExp): Requirement | undefined {
  return requiredTexts(pattern, { excluded: unscannable });
}

/**
 * The texts a line must hold (one of them) for any signature or FOLLOWING_CONTEXT pattern to
 * match one of its messages; undefined when some pattern requires nothing the parser can name
 * (then every line goes through take).
 */
export function gateTexts(): ScanText[] | undefined {
  const texts: ScanText[] = [];
  for (const pattern of [...SIGNATURES.map((s) => s.pattern), ...FOLLOWING_CONTEXT.map((c) => c.pattern)]) {
    const r = gateRequirement(pattern);
    if (!r) return undefined;
    for (const text of r.texts) if (!texts.some((t) => t.text === text && t.ignoreCase === r.ignoreCase)) texts.push({ text, ignoreCase: r.ignoreCase });
  }
  return texts;
}

let texts: ScanText[] | null | undefined;

/** The gate for one input: its anchors chosen to be rare in a sample of it (the first chunk). */
function gateScanner(sample: Uint8Array): TextScanner | undefined {
  if (texts === undefined) texts = gateTexts() ?? null;
  return texts ? new TextScanner(texts, sample.subarray(0, 1 << 16)) : undefined;
}

/** Where byte b next occurs in buf[from, to); Infinity for nowhere. */
function nextByte(buf: Buffer, b: number, from: number, to: number): number {
  const at = buf.indexOf(b, from);
  return at < 0 || at >= to ? Infinity : at;
}

/** Bytes in, lines to the judge: the skipping reader described above. */
class ByteLines {
  /** The bytes of an unfinished line (a copy: chunks may be reused by their reader). */
  private carry: Buffer | undefined;
  /** An unfinished line too long to carry as bytes: decoded so far, as readLines would hold it. */
  private long: { decoder: StringDecoder; pending: string } | undefined;
  /** The next escape character and backslash in the chunk being read (Infinity: none). */
  private escAt = -1;
  private backslashAt = -1;

  private scanner: TextScanner | undefined;
  private started = false;

  /** An unfinished line longer than this is decoded and cut as it comes (memory stays flat without line ends). */
  private readonly longBytes: number;

  constructor(private readonly judge: LineJudge, private readonly max: number) {
    this.longBytes = 4 * max;
  }

  write(chunk: Buffer): void {
    if (!this.started) {
      this.scanner = gateScanner(chunk);
      this.started = true;
    }
    let pos = 0;
    if (this.long || this.carry) {
      const nl = chunk.indexOf(NL);
      const head = nl < 0 ? chunk : chunk.subarray(0, nl);
      if (this.long) this.longWrite(head);
      else this.carry = Buffer.concat([this.carry!, head]);
      if (nl < 0) {
        if (this.carry && this.carry.length > this.longBytes) this.startLong();
        return;
      }
      if (this.long) this.endLong();
      else this.takeBytes(this.carry!, 0, this.carry!.length);
      this.carry = undefined;
      pos = nl + 1;
    }
    const last = chunk.lastIndexOf(NL);
    if (last >= pos) {
      this.lines(chunk, pos, last + 1);
      pos = last + 1;
    }
    if (pos < chunk.length) {
      this.carry = Buffer.from(chunk.subarray(pos));
      if (this.carry.length > this.longBytes) this.startLong();
    }
  }

  end(): void {
    if (this.long) {
      // As readLines ends: what is left is a last line, unless it is empty.
      const text = this.long.pending + this.long.decoder.end();
      if (text) this.takeLine(text);
      this.long = undefined;
    } else if (this.carry) {
      this.takeLine(this.carry.toString('utf8'));
      this.carry = undefined;
    }
  }

  private startLong(): void {
    this.long = { decoder: new StringDecoder('utf8'), pending: '' };
    const bytes = this.carry!;
    this.carry = undefined;
    this.longWrite(bytes);
  }

  /** As readLines does with a line that has no end in sight: hand over what there is, MAX_LINE characters at a time. */
  private longWrite(bytes: Buffer): void {
    const long = this.long!;
    long.pending += long.decoder.write(bytes);
    while (long.pending.length > this.max) {
      this.judge.take(long.pending.slice(0, this.max));
      long.pending = long.pending.slice(this.max);
    }
  }

  private endLong(): void {
    const long = this.long!;
    this.takeLine(long.pending + long.decoder.end());
    this.long = undefined;
  }

  /** One line as readLines would yield it: cut into MAX_LINE pieces when longer. */
  private takeLine(text: string): void {
    if (text.length <= this.max) {
      this.judge.take(text);
      return;
    }
    const pieces: string[] = [];
    pushCut(pieces, text, this.max);
    for (const piece of pieces) this.judge.take(piece);
  }

  private takeBytes(buf: Buffer, start: number, end: number): void {
    this.takeLine(buf.toString('utf8', start, end));
  }

  /** The complete lines in buf[from, to) (to is just past a line end). */
  private lines(buf: Buffer, from: number, to: number): void {
    this.escAt = -1;
    this.backslashAt = -1;
    let cursor = from;
    while (cursor < to) {
      const hit = this.judge.open() ? cursor : this.nextHit(buf, cursor, to);
      const lineStart = hit < 0 ? to : hit === cursor ? cursor : Math.max(cursor, buf.lastIndexOf(NL, hit - 1) + 1);
      if (lineStart > cursor) this.skip(buf, cursor, lineStart);
      if (hit < 0) return;
      const lineEnd = buf.indexOf(NL, hit);
      this.takeBytes(buf, lineStart, lineEnd);
      cursor = lineEnd + 1;
    }
  }

  /** Where the next line that may matter has a text the gate looks for, an escape character or a backslash; -1 for none. */
  private nextHit(buf: Buffer, from: number, to: number): number {
    if (!this.scanner) return from;
    if (this.escAt < from) this.escAt = nextByte(buf, ESC, from, to);
    if (this.backslashAt < from) this.backslashAt = nextByte(buf, BACKSLASH, from, to);
    const special = Math.min(this.escAt, this.backslashAt);
    const found = this.scanner.find(buf, from, Math.min(special, to));
    return found >= 0 ? found : special === Infinity ? -1 : special;
  }

  /** Lines that hold nothing the catalogue matches, with no block open: counted, the last non-blank one remembered. */
  private skip(buf: Buffer, from: number, to: number): void {
    let count = 0;
    for (let p = from; p < to;) {
      const nl = buf.indexOf(NL, p);
      count += nl - p > this.max ? this.piecesOf(buf, p, nl).length : 1;
      p = nl + 1;
    }
    this.judge.skip(count, this.lastText(buf, from, to));
  }

  private piecesOf(buf: Buffer, start: number, end: number): string[] {
    const pieces: string[] = [];
    pushCut(pieces, buf.toString('utf8', start, end), this.max);
    return pieces;
  }

  /** The last line (or cut piece) in buf[from, to) that is not blank, trimmed. */
  private lastText(buf: Buffer, from: number, to: number): string | undefined {
    for (let end = to - 1; end >= from;) {
      const start = end > from ? Math.max(from, buf.lastIndexOf(NL, end - 1) + 1) : from;
      if (end > start) {
        const pieces = this.piecesOf(buf, start, end);
        for (let k = pieces.length - 1; k >= 0; k--) {
          const text = pieces[k]!.trim();
          if (text) return text;
        }
      }
      end = start - 1;
    }
    return undefined;
  }
}

/** How the lines of one input went: through the judge one by one, or counted in bulk. */
export interface StreamStats {
  taken: number;
  skipped: number;
}

/**
 * Explain a byte stream. Chunks may be reused by the reader once the next one is asked for.
 * The report is explainLines(readLines(stream)) exactly, only faster.
 */
export async function explainStream(chunks: AsyncIterable<Buffer>, opts: ExplainOptions, max = MAX_LINE, stats?: StreamStats): Promise<ExplainReport> {
  const inner = lineJudge(opts);
  const judge: LineJudge = stats
    ? {
        ...inner,
        take: (line) => {
          stats.taken++;
          inner.take(line);
        },
        skip: (count, lastText) => {
          stats.skipped += count;
          inner.skip(count, lastText);
        },
      }
    : inner;
  const reader = new ByteLines(judge, max);
  for await (const chunk of chunks) reader.write(chunk);
  reader.end();
  return judge.report();
}
