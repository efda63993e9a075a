// `explain`: errors in, findings out. Input is read as a stream of lines (a pasted message or a
// gigabyte of journal), each line cleaned of what logs wrap around messages (colour codes, JSON
// and logfmt escaping) and matched against the failure catalogue. Only aggregates are kept, so
// memory stays flat whatever the input size.
import { StringDecoder } from 'node:string_decoder';
import { classifyLine, FOLLOWING_CONTEXT, GENERIC_CLIENTS, KEYWORD_PATTERN, mayMatch, type ClientId } from './catalogue.js';
import { explainText } from './explain-texts.js';
import type { Finding, FindingCode, Fix } from './finding.js';
import { NETWORK_FIX, type ClientPlatform } from './fixes.js';

export interface ExplainFinding extends Finding {
  /** Hosts named in the matching lines, for `ollama-tls doctor HOST`. */
  hosts: string[];
  /** Which program printed the error. */
  client: ClientId;
  /** How many lines showed this problem. */
  count: number;
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

const MAX_LINE = 64 * 1024;
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

function pushCut(batch: string[], line: string, max: number): void {
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

// Lines the keywords miss that still matter: a Node stack line, Python's _ssl.c, a Java frame.
const STACK_LINES = /node:|_ssl\.c|at (?:sun|java)/;

/** The per-line gate: whether a line can hold a finding or name the program behind one. */
export function lineGate(line: string): boolean {
  return mayMatch(line) || STACK_LINES.test(line);
}

/**
 * The same gate over a whole batch joined by newlines, in one regular-expression scan instead of
 * one per line. It cannot miss a line lineGate passes: none of its alternatives spans a newline,
 * and with the m flag ^ and $ still meet at every line's edges. A line it finds is then put to
 * lineGate itself, so a line it finds by mistake costs time and changes nothing.
 */
const CHUNK_GATE = new RegExp(`${KEYWORD_PATTERN.source}|${STACK_LINES.source}`, `${KEYWORD_PATTERN.flags.replace(/[gmy]/g, '')}gm`);

/** Indexes (in order) of the lines of `batch` that pass lineGate. */
export function gatedLines(batch: string[]): number[] {
  const text = batch.join('\n');
  const out: number[] = [];
  CHUNK_GATE.lastIndex = 0;
  let line = 0;
  let lineStart = 0;
  let m: RegExpExecArray | null;
  while ((m = CHUNK_GATE.exec(text))) {
    // The line the match starts in (walking forward over line lengths, no rescanning).
    while (lineStart + batch[line]!.length < m.index) lineStart += batch[line++]!.length + 1;
    if (lineGate(batch[line]!)) out.push(line);
    // On to the next line: one hit per line is enough.
    lineStart += batch[line]!.length + 1;
    line++;
    if (line >= batch.length) break;
    CHUNK_GATE.lastIndex = lineStart;
  }
  return out;
}

/** Explain lines: plain strings, or batches of them as readLines yields. */
// How far apart (in lines) the parts of one multi-line error may be.
const WINDOW = 6;

interface Noted {
  line: number;
  code: FindingCode;
  client: ClientId;
  key: string;
}

export async function explainLines(lines: AsyncIterable<string | string[]> | Iterable<string | string[]>, opts: ExplainOptions): Promise<ExplainReport> {
  const groups = new Map<string, Group>();
  let count = 0;
  let recent: Noted[] = [];
  const note = (code: FindingCode, client: ClientId, message: string, matched: string, facts: Record<string, string>): string => {
    const key = `${code}\0${client}`;
    let g = groups.get(key);
    if (!g) {
      g = { code, client, count: 0, hosts: [], evidence: [], facts: {} };
      groups.set(key, g);
    }
    g.count++;
    if (!message) return key;
    for (const h of hostsIn(message)) if (g.hosts.length < MAX_HOSTS && !g.hosts.includes(h)) g.hosts.push(h);
    const ev = excerpt(message, matched);
    if (g.evidence.length < MAX_EVIDENCE && !g.evidence.includes(ev)) g.evidence.push(ev);
    for (const [k, v] of Object.entries(facts)) g.facts[k] ??= v;
    return key;
  };
  // Take back one occurrence (it turned out to belong to another program).
  const unnote = (key: string) => {
    const g = groups.get(key);
    if (g && --g.count === 0) groups.delete(key);
  };
  /**
   * One error, several lines: Node prints the OpenSSL wording, a stack, then `code: '...'`. The
   * bare wording is first credited to OpenSSL; a nearby line that names the program moves it there,
   * and the same problem named twice counts once.
   */
  const attribute = (code: FindingCode, client: ClientId, message: string, matched: string, facts: Record<string, string>) => {
    recent = recent.filter((r) => r.line >= count - WINDOW);
    const twin = recent.find((r) => r.code === code && r.client !== client);
    if (twin && GENERIC_CLIENTS.has(twin.client) && !GENERIC_CLIENTS.has(client)) {
      unnote(twin.key);
      twin.client = client;
      twin.key = note(code, client, message, matched, facts);
      return;
    }
    if (twin && GENERIC_CLIENTS.has(client)) return;
    recent.push({ line: count, code, client, key: note(code, client, message, matched, facts) });
  };
  const context = (line: string) => {
    const who = FOLLOWING_CONTEXT.find((c) => c.pattern.test(line))?.client;
    if (!who) return;
    for (const r of recent) {
      if (r.line < count - WINDOW || !GENERIC_CLIENTS.has(r.client)) continue;
      unnote(r.key);
      r.client = who;
      r.key = note(r.code, who, '', '', {});
    }
  };

  /** One line that passed the gate (count already says which line it is). */
  const examine = (line: string) => {
    for (const message of messagesOf(line)) {
      const c = classifyLine(message);
      if (!c) {
        context(message);
        continue;
      }
      attribute(c.code, c.client, message, c.matched, c.facts);
      const skew = clockReading(c.facts, opts);
      if (skew) note('clock-skew', c.client, message, c.matched, { reading: skew });
    }
  };
  for await (const item of lines) {
    if (typeof item === 'string') {
      count++;
      if (lineGate(item)) examine(item);
      continue;
    }
    // A batch: one scan finds the few lines worth a look; the rest are only counted.
    const base = count;
    for (const i of gatedLines(item)) {
      count = base + i + 1;
      examine(item[i]!);
    }
    count = base + item.length;
  }

  const findings = [...groups.values()].map((g) => toFinding(g, opts));
  return { schema: 1, findings, lines: count };
}

function toFinding(g: Group, opts: ExplainOptions): ExplainFinding {
  if (g.code === 'clock-skew') {
    return {
      code: 'clock-skew', severity: 'error', client: g.client, count: g.count, hosts: g.hosts,
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
    code: g.code, severity: 'error', client: g.client, count: g.count, hosts: g.hosts,
    title: text.title, detail: text.detail, evidence: g.evidence, fixes: [...text.fixes, ...next],
  };
}
