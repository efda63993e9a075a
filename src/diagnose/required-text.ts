// What text every match of a regular expression must contain: literal pieces a fast scanner can
// look for before the expression itself is run (explain's chunk gate). Read off the expression's
// source by a small parser of JavaScript's (non-unicode) syntax. Conservative by construction:
// whatever the parser does not model (a class, a backreference, an escape it does not know, an
// optional part) ends a literal run or yields no requirement, never a wrong one.

/** Strings one of which every match contains, as the expression compares them (see `ignoreCase`). */
export interface Requirement {
  texts: string[];
  /** The expression has the i flag: the texts are to be found case-insensitively (ASCII letters). */
  ignoreCase: boolean;
}

export interface RequirementOptions {
  /**
   * Characters that must not be part of a required text (the caller's scanner cannot rely on them
   * being in its input as the expression saw them): they end a literal run as a class would.
   */
  excluded?: (ch: string, ignoreCase: boolean) => boolean;
}

type Texts = string[] | undefined;

/**
 * What the parser knows of a piece of an expression: `exact`, every string it can match (when
 * there are few and they are known), and `required`, strings one of which each of its matches
 * contains. A zero-width assertion matches exactly the empty string.
 */
interface Info {
  exact?: string[];
  required: Texts;
}

class Unmodelled extends Error {}

/** Beyond this many strings an exact set stops being worth multiplying out. */
const MAX_EXACT = 16;
const NOTHING_KNOWN: Info = { required: undefined };
const EMPTY: Info = { exact: [''], required: undefined };

// Words that tell nothing in a log: a scanner looking for them would stop on many ordinary lines
// (as written, or capitalised).
const COMMON = new Set([
  'error', 'ERROR', 'connection', 'connect', 'response', 'version', 'socket', 'received', 'timeout', 'number', 'lookup',
  'matching', 'found', 'remote', 'verify', 'return', 'failed', 'read', 'write', 'http', 'https', 'code', 'fatal', 'ended',
  'depth', 'server', 'client', 'name', 'other', 'invalid', 'request',
]);

/**
 * How good a required text is for a scanner: longer is rarer and lets it skip further, anything
 * but a lower-case letter (capitals, digits, punctuation) is a little rarer in running text, and
 * a common word is worth half.
 */
function quality(text: string): number {
  const q = Buffer.byteLength(text) + text.replace(/[a-z]/g, '').length / 2;
  const word = text.replace(/[^A-Za-z]/g, '');
  return COMMON.has(word) || COMMON.has(word.charAt(0).toLowerCase() + word.slice(1)) ? q / 2 : q;
}

function better(a: Texts, b: Texts): boolean {
  if (!b) return false;
  if (!a) return true;
  const qa = Math.min(...a.map(quality));
  const qb = Math.min(...b.map(quality));
  return qb > qa || (qb === qa && b.length < a.length);
}

/** An exact set as a requirement: only when no string in it is empty. */
function asRequired(info: Info): Texts {
  if (info.exact && info.exact.every((s) => s.length > 0)) return better(info.required, info.exact) ? info.exact : info.required;
  return info.required;
}

const union = (a: string[], b: string[]) => [...new Set([...a, ...b])];

class Parser {
  private i = 0;
  private readonly named: boolean;
  private readonly ignoreCase: boolean;

  constructor(private readonly src: string, flags: string, private readonly excluded: (ch: string, ignoreCase: boolean) => boolean) {
    if (/[uv]/.test(flags)) throw new Unmodelled('unicode mode');
    this.ignoreCase = flags.includes('i');
    this.named = /\(\?<[^=!]/.test(src);
  }

  parse(): Texts {
    const info = this.disjunction();
    if (this.i !== this.src.length) throw new Unmodelled(`unexpected ${this.src[this.i]}`);
    return asRequired(info);
  }

  private peek(k = 0): string | undefined {
    return this.src[this.i + k];
  }

  /** Alternatives: a match contains what one of them requires, so all must require something. */
  private disjunction(): Info {
    let info = this.alternative();
    while (this.peek() === '|') {
      this.i++;
      const next = this.alternative();
      const a = asRequired(info);
      const b = asRequired(next);
      info = {
        exact: info.exact && next.exact && info.exact.length + next.exact.length <= MAX_EXACT ? union(info.exact, next.exact) : undefined,
        required: a && b ? union(a, b) : undefined,
      };
    }
    return info;
  }

  /**
   * A sequence. Exact neighbours multiply out into longer exact strings; every piece's requirement
   * is a requirement of the whole, and the best one is kept.
   */
  private alternative(): Info {
    let best: Texts;
    // Every string the sequence so far can match, while each piece of it is exact.
    let whole: string[] | undefined = [''];
    // The exact strings of the latest stretch of exact pieces.
    let run: string[] | undefined = [''];
    const consider = (texts: Texts) => {
      if (better(best, texts)) best = texts;
    };
    const product = (a: string[] | undefined, b: string[] | undefined) =>
      a && b && a.length * b.length <= MAX_EXACT ? [...new Set(a.flatMap((x) => b.map((y) => x + y)))] : undefined;
    while (this.i < this.src.length && this.peek() !== '|' && this.peek() !== ')') {
      const info = this.quantified(this.atom());
      whole = product(whole, info.exact);
      const longer = product(run, info.exact);
      if (longer) {
        run = longer;
        continue;
      }
      if (run) consider(asRequired({ exact: run, required: undefined }));
      consider(asRequired(info));
      // What follows starts a new exact stretch only if this piece is exact itself.
      run = info.exact && info.exact.length <= MAX_EXACT ? info.exact : undefined;
    }
    if (run) consider(asRequired({ exact: run, required: undefined }));
    return whole ? { exact: whole, required: best } : { required: best };
  }

  private quantified(atom: Info): Info {
    const c = this.peek();
    let min: number;
    let max: number;
    if (c === '*') [min, max] = [0, Infinity];
    else if (c === '+') [min, max] = [1, Infinity];
    else if (c === '?') [min, max] = [0, 1];
    else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.i));
      if (!m) return atom; // a literal brace (Annex B), read as the next atom
      this.i += m[0].length - 1;
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
    } else {
      return atom;
    }
    this.i++;
    if (this.peek() === '?') this.i++;
    if (min === 1 && max === 1) return atom;
    if (min === 0 && max === 1) return { exact: atom.exact && atom.exact.length < MAX_EXACT ? union([''], atom.exact) : undefined, required: undefined };
    if (min === 0) return NOTHING_KNOWN;
    // Repeated at least once: what the atom requires is there; exactly what it matches is not known.
    return { required: asRequired(atom) };
  }

  private literal(ch: string): Info {
    return this.excluded(ch, this.ignoreCase) ? NOTHING_KNOWN : { exact: [ch], required: undefined };
  }

  private atom(): Info {
    const c = this.src[this.i++]!;
    switch (c) {
      case '^':
      case '$':
        return EMPTY;
      case '.':
        return NOTHING_KNOWN;
      case '[':
        this.skipClass();
        return NOTHING_KNOWN;
      case '(':
        return this.group();
      case '\\':
        return this.escape();
      case '*':
      case '+':
      case '?':
        throw new Unmodelled('nothing to repeat');
      default: {
        // A lone surrogate half would be half a character: not a text to look for.
        const code = c.charCodeAt(0);
        if (code >= 0xd800 && code <= 0xdfff) {
          const next = this.peek();
          if (code <= 0xdbff && next && next.charCodeAt(0) >= 0xdc00 && next.charCodeAt(0) <= 0xdfff) {
            this.i++;
            return this.literal(c + next);
          }
          return NOTHING_KNOWN;
        }
        return this.literal(c);
      }
    }
  }

  private skipClass(): void {
    while (this.i < this.src.length) {
      const c = this.src[this.i++];
      if (c === '\\') this.i++;
      else if (c === ']') return;
    }
    throw new Unmodelled('unterminated class');
  }

  private group(): Info {
    if (this.peek() === '?') {
      const kind = this.src.slice(this.i, this.i + 3);
      if (kind.startsWith('?:')) {
        this.i += 2;
        return this.closeGroup(this.disjunction());
      }
      if (kind.startsWith('?=') || kind.startsWith('?!') || kind === '?<=' || kind === '?<!') {
        // Lookaround: consumes nothing, so it requires nothing of the text around it.
        this.i += kind.startsWith('?<') ? 3 : 2;
        this.closeGroup(this.disjunction());
        return NOTHING_KNOWN;
      }
      if (kind.startsWith('?<')) {
        const end = this.src.indexOf('>', this.i);
        if (end < 0) throw new Unmodelled('unterminated group name');
        this.i = end + 1;
        return this.closeGroup(this.disjunction());
      }
      // Modifiers such as (?i:...) change what the letters inside match.
      throw new Unmodelled(`group (${kind}`);
    }
    return this.closeGroup(this.disjunction());
  }

  private closeGroup(info: Info): Info {
    if (this.src[this.i++] !== ')') throw new Unmodelled('unterminated group');
    return info;
  }

  private escape(): Info {
    const c = this.src[this.i++];
    if (c === undefined) throw new Unmodelled('trailing backslash');
    // Word boundaries consume nothing (and say nothing about the text, so nothing is assumed).
    if (c === 'b' || c === 'B') return NOTHING_KNOWN;
    if (/[dDwWsSnrtvf0-9pP]/.test(c)) {
      // Classes, control characters, backreferences (all their digits).
      if (/[0-9]/.test(c)) while (/[0-9]/.test(this.peek() ?? '')) this.i++;
      return NOTHING_KNOWN;
    }
    if (c === 'k') {
      if (this.named && this.peek() === '<') {
        const end = this.src.indexOf('>', this.i);
        if (end < 0) throw new Unmodelled('unterminated backreference');
        this.i = end + 1;
      }
      return NOTHING_KNOWN;
    }
    if (c === 'x' || c === 'u') {
      const n = c === 'x' ? 2 : 4;
      if (new RegExp(`^[0-9A-Fa-f]{${n}}`).test(this.src.slice(this.i))) this.i += n;
      return NOTHING_KNOWN;
    }
    if (c === 'c') throw new Unmodelled('control escape');
    // Other letters are identity escapes in Annex B; not worth trusting. Punctuation is itself.
    if (/[A-Za-z]/.test(c)) return NOTHING_KNOWN;
    return this.literal(c);
  }
}

/** The texts one of which every match of `re` contains; undefined when the parser cannot be sure of any. */
export function requiredTexts(re: RegExp, opts: RequirementOptions = {}): Requirement | undefined {
  const excluded = opts.excluded ?? (() => false);
  try {
    const texts = new Parser(re.source, re.flags, excluded).parse();
    if (!texts || !texts.length || texts.some((t) => t.length === 0)) return undefined;
    const ignoreCase = re.flags.includes('i');
    // A text that holds another one adds nothing: where it is, the other is too.
    const fold = (t: string) => (ignoreCase ? t.toLowerCase() : t);
    const minimal = texts.filter((t, i) => !texts.some((o, j) => j !== i && fold(t).includes(fold(o)) && (fold(o) !== fold(t) || j < i)));
    return { texts: minimal, ignoreCase };
  } catch (err) {
    if (err instanceof Unmodelled) return undefined;
    throw err;
  }
}
