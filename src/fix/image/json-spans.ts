// Edits to image JSON that leave every other byte where it was. A config's or a manifest's digest
// is its identity, so re-serialising would change it even when nothing meaningful changed (Go
// escapes "&" and "<" as \u0026 and \u003c, tools indent differently, key order varies). Instead
// the text is scanned once for where each value starts and ends, and only the values that must
// change are replaced or inserted. The reverse edit then gives the original bytes back, which is
// what lets untrust restore an image to its original digest.
//
// Texts here are the documents' bytes read as latin1 (one character per byte), so that any
// byte, even a stray invalid UTF-8 sequence, comes back out unchanged; what is inserted is
// pure ASCII (non-ASCII characters escaped as \uXXXX, which every JSON reader accepts).

/** JSON for an inserted value, ASCII only. */
export const toJson = (value: unknown): string =>
  JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** A document's text (see above) as bytes, and back. */
export const textOf = (bytes: Buffer): string => bytes.toString('latin1');
export const bytesOf = (text: string): Buffer => Buffer.from(text, 'latin1');

export type Span =
  | { kind: 'object'; start: number; end: number; members: { key: string; keyStart: number; value: Span }[] }
  | { kind: 'array'; start: number; end: number; items: Span[] }
  | { kind: 'scalar'; start: number; end: number };

class Scanner {
  at = 0;
  constructor(readonly text: string) {}

  fail(what: string): never {
    throw new Error(`invalid JSON at offset ${this.at}: ${what}`);
  }

  ws(): void {
    while (this.at < this.text.length && ' \t\r\n'.includes(this.text[this.at]!)) this.at++;
  }

  string(): void {
    if (this.text[this.at] !== '"') this.fail('expected a string');
    this.at++;
    while (this.at < this.text.length) {
      const c = this.text[this.at]!;
      if (c === '\\') this.at += 2;
      else if (c === '"') {
        this.at++;
        return;
      } else this.at++;
    }
    this.fail('unterminated string');
  }

  value(): Span {
    this.ws();
    const start = this.at;
    const c = this.text[this.at];
    if (c === '{') {
      this.at++;
      const members: { key: string; keyStart: number; value: Span }[] = [];
      this.ws();
      if (this.text[this.at] === '}') {
        this.at++;
        return { kind: 'object', start, end: this.at, members };
      }
      for (;;) {
        this.ws();
        const keyStart = this.at;
        this.string();
        const key = JSON.parse(this.text.slice(keyStart, this.at)) as string;
        this.ws();
        if (this.text[this.at] !== ':') this.fail('expected ":"');
        this.at++;
        members.push({ key, keyStart, value: this.value() });
        this.ws();
        if (this.text[this.at] === ',') {
          this.at++;
          continue;
        }
        if (this.text[this.at] === '}') {
          this.at++;
          return { kind: 'object', start, end: this.at, members };
        }
        this.fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      this.at++;
      const items: Span[] = [];
      this.ws();
      if (this.text[this.at] === ']') {
        this.at++;
        return { kind: 'array', start, end: this.at, items };
      }
      for (;;) {
        items.push(this.value());
        this.ws();
        if (this.text[this.at] === ',') {
          this.at++;
          continue;
        }
        if (this.text[this.at] === ']') {
          this.at++;
          return { kind: 'array', start, end: this.at, items };
        }
        this.fail('expected "," or "]"');
      }
    }
    if (c === '"') {
      this.string();
      return { kind: 'scalar', start, end: this.at };
    }
    const m = /^(?:-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(this.text.slice(this.at, this.at + 64));
    if (!m) this.fail('unexpected character');
    this.at += m[0].length;
    return { kind: 'scalar', start, end: this.at };
  }
}

/** Where every value of a JSON text is (the text is also validated by JSON.parse). */
export function scan(text: string): Span {
  const s = new Scanner(text);
  const root = s.value();
  s.ws();
  if (s.at !== text.length) s.fail('trailing data');
  return root;
}

/** The member's value span in an object span, if present. */
export function member(span: Span | undefined, key: string): Span | undefined {
  if (span?.kind !== 'object') return undefined;
  // Go (and JSON.parse) take the last of duplicate keys.
  for (let i = span.members.length - 1; i >= 0; i--) if (span.members[i]!.key === key) return span.members[i]!.value;
  return undefined;
}

export interface Edit {
  start: number;
  end: number;
  text: string;
}

/** Apply non-overlapping edits to a text. */
export function applyEdits(text: string, edits: Edit[]): string {
  const sorted = [...edits].sort((a, b) => b.start - a.start);
  let out = text;
  for (const e of sorted) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}

/** Replace a value. */
export const replaceValue = (span: Span, value: unknown): Edit => ({ start: span.start, end: span.end, text: toJson(value) });

/**
 * Append an item right after the last one (or right after "[" in an empty array), so that
 * removing it again, from the end of the item before it, restores the original bytes.
 */
export function appendItem(array: Span, value: unknown): Edit {
  if (array.kind !== 'array') throw new Error('not an array');
  const last = array.items[array.items.length - 1];
  const at = last ? last.end : array.start + 1;
  return { start: at, end: at, text: `${last ? ',' : ''}${toJson(value)}` };
}

/** Remove the last item: the exact reverse of appendItem. */
export function removeLastItem(array: Span): Edit {
  if (array.kind !== 'array' || array.items.length === 0) throw new Error('no item to remove');
  const last = array.items[array.items.length - 1]!;
  const before = array.items[array.items.length - 2];
  return { start: before ? before.end : last.start, end: last.end, text: '' };
}

/** Add a member after the last one (or right after "{"). */
export function appendMember(object: Span, key: string, value: unknown): Edit {
  if (object.kind !== 'object') throw new Error('not an object');
  const last = object.members[object.members.length - 1];
  const at = last ? last.value.end : object.start + 1;
  return { start: at, end: at, text: `${last ? ',' : ''}${toJson(key)}:${toJson(value)}` };
}

/** Remove the last member when it is `key`: the exact reverse of appendMember. */
export function removeLastMember(object: Span, key: string): Edit | undefined {
  if (object.kind !== 'object') return undefined;
  const last = object.members[object.members.length - 1];
  if (!last || last.key !== key) return undefined;
  const before = object.members[object.members.length - 2];
  return { start: before ? before.value.end : last.keyStart, end: last.value.end, text: '' };
}
