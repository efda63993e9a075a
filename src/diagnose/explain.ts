// `explain`: errors in, findings out. Input is read as a stream of lines (a pasted message or a
// gigabyte of journal), each line cleaned of what logs wrap around messages (colour codes, JSON
// and logfmt escaping) and matched against the failure catalogue. Only aggregates are kept, so
// memory stays flat whatever the input size.
import { StringDecoder } from 'node:string_decoder';
import { classifyLine, FOLLOWING_CONTEXT, FOLLOWING_STEMS, GENERIC_CLIENTS, mayMatch, WRAPS, type Classification, type ClientId } from './catalogue.js';
import { explainText } from './explain-texts.js';
import type { Finding, FindingCode, Fix } from './finding.js';
import { NETWORK_FIX, type ClientPlatform } from './fixes.js';

export interface ExplainFinding extends Finding {
  /** Hosts named in the matching lines, for `ollama-tls doctor HOST`. */
  hosts: string[];
  /** Which program printed the error. */
  client: ClientId;
  /** How many times the problem happened (one block of output, e.g. one traceback, counts once). */
  count: number;
  /** How many of the lines were the program's own retries of the failed attempt. */
  retries: number;
}

export interface ExplainReport {
  schema: 1;
  findings: ExplainFinding[];
  /** Lines read. */
  lines: number;
}

export interface ExplainOptions {
  platform: ClientPlatform;
  now: Date;
  /** A clock reading before this cannot be right (the newest bundled root's notBefore). */
  clockFloor: Date;
}

/** The longest line explain reads; longer ones are cut into lines of this many characters. */
export const MAX_LINE = 64 * 1024;
const MAX_EVIDENCE = 3;
const MAX_HOSTS = 20;
const EVIDENCE_CHARS = 400;

/**
 * The lines of a byte stream, decoded as UTF-8, in batches (one per chunk read: yielding line by
 * line costs a promise per line). No line is longer than `max` characters; longer ones are cut.
 */
export async function* readLines(stream: AsyncIterable<Buffer | string>, max = MAX_LINE): AsyncGenerator<string[]> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  for await (const chunk of stream) {
    const text = pending + (typeof chunk === 'string' ? chunk : decoder.write(chunk));
    const batch: string[] = [];
    let start = 0;
    let nl: number;
    while ((nl = text.indexOf('\n', start)) >= 0) {
      pushCut(batch, text.slice(start, nl), max);
      start = nl + 1;
    }
    pending = text.slice(start);
    // A line with no end in sight: hand over what we have rather than hold it all.
    while (pending.length > max) {
      batch.push(pending.slice(0, max));
      pending = pending.slice(max);
    }
    if (batch.length) yield batch;
  }
  pending += decoder.end();
  if (pending) {
    const batch: string[] = [];
    pushCut(batch, pending, max);
    yield batch;
  }
}

export function pushCut(batch: string[], line: string, max: number): void {
  if (line.length <= max) {
    batch.push(line);
    return;
  }
  for (let i = 0; i < line.length; i += max) batch.push(line.slice(i, i + max));
}

const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07/g;

/** One raw line as the message(s) it carries: no colour codes, no JSON or logfmt escaping. */
export function messagesOf(line: string): string[] {
  const clean = line
    .replace(ANSI, '')
    .replace(/\r$/, '')
    // \" and \\\" (escaped once or twice, as JSON logs nest messages) become a plain quote.
    .replace(/\\+(?:"|u0022)/g, '"')
    .replace(/\\+t/g, ' ');
  // An escaped newline inside a message separates messages.
  return clean.split(/\\+[nr]/).map((s) => s.trim()).filter(Boolean);
}

// Where hosts appear in error texts, as data. The first group is the host, the second a port.
const HOST_PATTERNS: RegExp[] = [
  /https?:\/\/\[?([A-Za-z0-9.-]+|[0-9A-Fa-f:]+)\]?(?::(\d+))?/g,
  /dial tcp: lookup ([A-Za-z0-9.-]+)/g,
  /host='([^']+)', port=(\d+)/g,
  /getaddrinfo [A-Z_]+ ([A-Za-z0-9.-]+)/g,
  /Could not resolve host: ([A-Za-z0-9.-]+)/g,
  /Failed to connect to ([A-Za-z0-9.-]+) port (\d+)/g,
  /x509: certificate is valid for .+?, not ([A-Za-z0-9.-]+)/g,
  /Host: ([A-Za-z0-9.-]+?)\. is not in the cert's altnames/g,
  /certificate is not valid for '([^']+)'/g,
  /“([^”]+)” certificate/g,
  /No name matching (\S+) found/g,
  /No subject alternative (?:DNS )?names? matching (?:IP address )?([A-Za-z0-9.:-]+?) found/g,
  /IP: ([0-9A-Fa-f.:]+) is not in the cert's list/g,
  /target host ?name '([^']+)'/g,
  /for server "([A-Za-z0-9.-]+)"/g,
];

export function hostsIn(text: string): string[] {
  const out: string[] = [];
  for (const pattern of HOST_PATTERNS) {
    for (const m of text.matchAll(pattern)) {
      const host = m[1]!.toLowerCase().replace(/\.$/, '');
      if (!/[a-z0-9]/.test(host) || host === 'localhost' && !m[2]) continue;
      const port = m[2] && m[2] !== '443' ? `:${m[2]}` : '';
      const label = host.includes(':') ? `[${host}]${port}` : `${host}${port}`;
      if (!out.includes(label)) out.push(label);
    }
  }
  return out;
}

interface Group {
  code: FindingCode;
  client: ClientId;
  count: number;
  retries: number;
  hosts: string[];
  evidence: string[];
  facts: Record<string, string>;
}

function excerpt(message: string, matched: string): string {
  if (message.length <= EVIDENCE_CHARS) return message;
  const at = Math.max(0, message.indexOf(matched) - 80);
  return `${at > 0 ? '...' : ''}${message.slice(at, at + EVIDENCE_CHARS)}...`;
}

/** Go prints the verification time; a time no correct clock could show is a diagnosis of its own. */
function clockReading(facts: Record<string, string>, opts: ExplainOptions): string | undefined {
  if (!facts.now) return undefined;
  const t = Date.parse(facts.now);
  if (Number.isNaN(t)) return undefined;
  if (t < opts.clockFloor.getTime()) return `the failing machine's clock said ${facts.now}, earlier than certificates issued by ${opts.clockFloor.toISOString().slice(0, 10)}`;
  if (t > opts.now.getTime() + 2 * 86_400_000) return `the failing machine's clock said ${facts.now}, in the future`;
  return undefined;
}

/**
 * Counting. One failure is often printed several times: a Python traceback repeats it in every
 * chained exception, apt in its Err: and W: lines, Node in its message and its code, pip in each
 * retry and in its summary. So the lines are read as blocks (one program's output for one event)
 * and each problem counts once per block. A block ends where a new event starts: a line that
 * carries its own timestamp (a log record: each record is an event, so retries logged over time
 * are counted), a JSON record, a shell prompt, a traceback that is not chained to the one before;
 * or after BLOCK_GAP lines with no failure in them. Stack frames do not count towards that gap: a
 * Java exception's causes can sit a hundred frames apart (JDK 17's HttpClient prints about 70
 * between its SSLHandshakeException and the CertificateException that caused it), and the frames
 * between them are still the same event.
 */
const BLOCK_GAP = 60;
// Java and Node frames ("\tat ...", "... 71 more"), Java's cause and suppressed headers, Python's
// "  File ..." lines: each continues the trace above it.
const STACK_FRAME = /^\s+(?:at |\.\.\. \d+ more|File ")|^(?:Caused by|\s*Suppressed): /;
const STARTS_EVENT = /^\s*(?:\{"|\[?\d{4}[-/]\d\d[-/]\d\d[T ]\d\d:\d\d|[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d |time=|ts=|level=|#\d+ \d+\.\d+ |\$ |PS [A-Z]:\\|Traceback \(most recent call last\):)/;
// A traceback printed as the cause or context of the next one is the same failure.
const CHAINED = /^(?:During handling of the above exception, another exception occurred:|The above exception was the direct cause of the following exception:)/;
// A retry announced by the program itself (pip and urllib3, Ollama, Docker, npm).
const RETRY = /\bRetrying\b|\bretrying\b|Retry\(total=|\bretry(?:ing)? in \d/;

interface Mention {
  code: FindingCode;
  /** The program the line itself names (context in the line applied). */
  client: ClientId;
  signature: Classification['signature'];
  message: string;
  matched: string;
  facts: Record<string, string>;
  retry: boolean;
}

interface Block {
  mentions: Mention[];
  /** Programs named by lines without an error of their own (a Node stack frame, Python's _ssl.c). */
  named: ClientId[];
  /** Line number of the last mention. */
  last: number;
}

/** Who a mention is credited to, knowing the rest of its block. */
function creditIn(m: Mention, block: Block): ClientId {
  if (GENERIC_CLIENTS.has(m.client)) {
    const specific = block.mentions.find((o) => o.code === m.code && !GENERIC_CLIENTS.has(o.client));
    if (specific) return creditIn(specific, block);
    return block.named[0] ?? m.client;
  }
  const wrapper = block.mentions.find((o) => o.code === m.code && o.client !== m.client && WRAPS.get(o.client)?.includes(m.client));
  if (wrapper) return creditIn(wrapper, block);
  return block.named.find((n) => WRAPS.get(n)?.includes(m.client)) ?? m.client;
}

/**
 * The judge of one input, line by line: `take` reads the next line; `skip` stands for lines known
 * to hold nothing the catalogue can match (see `take` for what that requires); `report` ends it.
 */
export interface LineJudge {
  take(line: string): void;
  /**
   * `count` lines that hold no failure and name no program, while no block is open (`open()` is
   * false): they are only counted. `lastText` is the last of them that is not blank, trimmed.
   */
  skip(count: number, lastText: string | undefined): void;
  /** A block is open: the lines that follow may end it, so each must go through `take`. */
  open(): boolean;
  report(): ExplainReport;
}

export function lineJudge(opts: ExplainOptions): LineJudge {
  const groups = new Map<string, Group>();
  let count = 0;
  let block: Block = { mentions: [], named: [], last: 0 };
  let previous = '';

  const record = (code: FindingCode, client: ClientId, mentions: Mention[], facts: Record<string, string>) => {
    const key = `${code}\0${client}`;
    let g = groups.get(key);
    if (!g) {
      g = { code, client, count: 0, retries: 0, hosts: [], evidence: [], facts: {} };
      groups.set(key, g);
    }
    g.count++;
    for (const m of mentions) {
      if (m.retry) g.retries++;
      for (const h of hostsIn(m.message)) if (g.hosts.length < MAX_HOSTS && !g.hosts.includes(h)) g.hosts.push(h);
      const ev = excerpt(m.message, m.matched);
      if (g.evidence.length < MAX_EVIDENCE && !g.evidence.includes(ev)) g.evidence.push(ev);
    }
    for (const [k, v] of Object.entries(facts)) g.facts[k] ??= v;
  };

  /** The block is over: each problem in it counts once, credited to the program that printed it. */
  const flush = () => {
    if (block.mentions.length === 0) {
      block = { mentions: [], named: [], last: 0 };
      return;
    }
    let mentions = block.mentions;
    // A program's final verdict makes its other wordings in the block its working.
    for (const v of mentions.filter((m) => m.signature.verdict)) {
      mentions = mentions.filter((m) => m === v || m.signature.client !== v.signature.client || m.code === v.code);
    }
    const byKey = new Map<string, Mention[]>();
    const current: Block = { ...block, mentions };
    for (const m of mentions) {
      const key = `${m.code}\0${creditIn(m, current)}`;
      const list = byKey.get(key);
      if (list) list.push(m);
      else byKey.set(key, [m]);
    }
    for (const [key, list] of byKey) {
      const [code, client] = key.split('\0') as [FindingCode, ClientId];
      const facts = Object.assign({}, ...list.map((m) => m.facts).reverse()) as Record<string, string>;
      record(code, client, list, facts);
      const skew = clockReading(facts, opts);
      if (skew) record('clock-skew', client, list.filter((m) => m.facts.now), { reading: skew });
    }
    block = { mentions: [], named: [], last: 0 };
  };

  const open = () => block.mentions.length > 0 || block.named.length > 0;

  /**
   * Every line goes through here, in order: it is counted, may end the open block, and is
   * classified only when the cheap keyword gate (mayMatch) or a context stem (FOLLOWING_STEMS)
   * lets it through. The gate's contract: a line that fails both can hold no failure and name no
   * program, so skipping its classification changes nothing. A faster path that skips lines in
   * bulk (explain-stream.ts) may skip only lines whose messages match no signature and no
   * FOLLOWING_CONTEXT pattern, and only while no block is open: an open block's end depends on
   * each line (BLOCK_GAP, STARTS_EVENT, STACK_FRAME), so those lines come through here.
   */
  const take = (line: string) => {
    count++;
    if (open()) {
      if (STACK_FRAME.test(line)) block.last = count;
      else if (count - block.last > BLOCK_GAP) flush();
      else if (STARTS_EVENT.test(line) && !CHAINED.test(previous)) flush();
    }
    if (line.trim()) previous = line.trim();
    if (!mayMatch(line) && !FOLLOWING_STEMS.test(line)) return;
    for (const message of messagesOf(line)) {
      const c = classifyLine(message);
      if (!c) {
        const who = FOLLOWING_CONTEXT.find((x) => x.pattern.test(message))?.client;
        if (who && !block.named.includes(who)) {
          block.named.push(who);
          block.last = count;
        }
        continue;
      }
      block.mentions.push({ code: c.code, client: c.client, signature: c.signature, message, matched: c.matched, facts: c.facts, retry: RETRY.test(message) });
      block.last = count;
    }
  };

  const skip = (lines: number, lastText: string | undefined) => {
    if (open()) throw new Error('lines skipped while a block is open');
    count += lines;
    if (lastText) previous = lastText;
  };

  const report = (): ExplainReport => {
    flush();
    const findings = [...groups.values()].map((g) => toFinding(g, opts));
    return { schema: 1, findings, lines: count };
  };
  return { take, skip, open, report };
}

/** Explain lines: plain strings, or batches of them as readLines yields. Each line goes through `take`. */
export async function explainLines(lines: AsyncIterable<string | string[]> | Iterable<string | string[]>, opts: ExplainOptions): Promise<ExplainReport> {
  const judge = lineJudge(opts);
  for await (const item of lines) {
    if (typeof item === 'string') judge.take(item);
    else for (const line of item) judge.take(line);
  }
  return judge.report();
}

function toFinding(g: Group, opts: ExplainOptions): ExplainFinding {
  if (g.code === 'clock-skew') {
    return {
      code: 'clock-skew', severity: 'error', client: g.client, count: g.count, retries: g.retries, hosts: g.hosts,
      title: "The failing machine's clock was wrong",
      detail: `${g.facts.reading}. A wrong clock makes valid certificates look expired or not yet valid; fix the clock before anything else (common after a VM or WSL resumes from sleep).`,
      evidence: g.evidence,
      fixes: [NETWORK_FIX.clockSync, NETWORK_FIX.wslClock],
    };
  }
  const text = explainText(g.code, { client: g.client, hosts: g.hosts, count: g.count, facts: g.facts, platform: opts.platform });
  const next: Fix[] = g.hosts.length
    ? [{ title: 'See the chain the server really sends and what every client would decide', command: `ollama-tls doctor ${g.hosts.slice(0, 3).join(' ')}`, side: 'client' }]
    : g.client === 'ollama'
      ? [{ title: 'Check the Ollama pull path from this machine', command: 'ollama-tls doctor', side: 'client' }]
      : [];
  return {
    code: g.code, severity: 'error', client: g.client, count: g.count, retries: g.retries, hosts: g.hosts,
    title: text.title, detail: text.detail, evidence: g.evidence, fixes: [...text.fixes, ...next],
  };
}
