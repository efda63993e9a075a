// explain's fast path for files and standard input (explain-stream.ts: one scan per chunk for the
// texts the catalogue requires, lines that cannot matter counted in bulk) against the per-line
// reference (explainLines over readLines): the same report, field for field (findings, counts,
// retries, hosts, evidence, lines), over the whole wording table, the captured corpus, every text
// in test/e2e/explain.test.ts, and seeded logs that mix them with noise, stack frames, colour codes,
// JSON escaping, long lines and broken UTF-8, read in chunks cut at random places.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FOLLOWING_CONTEXT, SIGNATURES } from '../../../src/diagnose/catalogue.js';
import { explainLines, MAX_LINE, messagesOf, readLines, type ExplainReport } from '../../../src/diagnose/explain.js';
import { explainStream, gateRequirement, gateTexts } from '../../../src/diagnose/explain-stream.js';
import { requiredTexts } from '../../../src/diagnose/required-text.js';
import { TextScanner, type ScanText } from '../../../src/diagnose/text-scan.js';
import { clockFloor } from '../../../src/trust/stores.js';
import { captureCorpus, type Corpus } from '../../helpers/corpus.js';
import { WORDINGS } from '../../helpers/explain-wordings.js';
import { rng } from '../../helpers/rng.js';

const OPTS = { platform: { platform: 'linux' as const, family: 'debian' as const, systemd: true }, now: new Date(), clockFloor: clockFloor() };

/** Every string literal of test/e2e/explain.test.ts (its texts are inline there): each line of each. */
function explainTestTexts(): string[] {
  const file = path.join(import.meta.dirname, '../../e2e/explain.test.ts');
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const out: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) out.push(node.text);
    else if (ts.isTemplateExpression(node)) out.push(node.head.text, ...node.templateSpans.map((s) => s.literal.text));
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out.filter((t) => t.trim().length >= 8);
}

/** The input in chunks of random sizes (a multi-byte character may be cut), optionally in one reused buffer as the CLI reads a file. */
async function* chunks(bytes: Buffer, random: () => number, reuse: boolean): AsyncGenerator<Buffer> {
  const biggest = random() < 0.3 ? 16 : random() < 0.5 ? 300 : 70_000;
  const shared = Buffer.alloc(biggest);
  for (let at = 0; at < bytes.length;) {
    const n = Math.min(bytes.length - at, 1 + Math.floor(random() * biggest));
    if (reuse) {
      bytes.copy(shared, 0, at, at + n);
      yield shared.subarray(0, n);
      // What the reader was given must not be kept: overwrite it before the next chunk.
      shared.fill(0x41, 0, n);
    } else {
      yield Buffer.from(bytes.subarray(at, at + n));
    }
    at += n;
  }
}

async function bothWays(bytes: Buffer, seed: number, max = MAX_LINE): Promise<{ fast: ExplainReport; reference: ExplainReport }> {
  const random = rng(seed);
  const reference = await explainLines(readLines(chunks(bytes, random, false), max), OPTS);
  const fast = await explainStream(chunks(bytes, random, true), OPTS, max);
  return { fast, reference };
}

async function expectSame(bytes: Buffer, seed: number, max = MAX_LINE): Promise<ExplainReport> {
  const { fast, reference } = await bothWays(bytes, seed, max);
  expect(fast, `seed ${seed}, max ${max}`).toEqual(reference);
  return reference;
}

let corpus: Corpus | undefined;
beforeAll(async () => {
  corpus = await captureCorpus();
}, 300_000);
afterAll(async () => {
  await corpus?.close();
});

const corpusTexts = () => corpus!.captured.map((c) => c.text);

describe('required texts: what every match of an expression contains', () => {
  const texts = (re: RegExp) => requiredTexts(re)?.texts;

  it('reads literals, alternatives, optional parts and repeats', () => {
    expect(texts(/x509: certificate signed/)).toEqual(['x509: certificate signed']);
    expect(texts(/a(?:bc|de)f/)).toEqual(['abcf', 'adef']);
    expect(texts(/colou?r/)).toEqual(['color', 'colour']);
    expect(texts(/abc(?:def)*ghij/)).toEqual(['ghij']);
    expect(texts(/abc+d/)).toEqual(['ab']);
    expect(texts(/foo|barbaz/)).toEqual(['foo', 'barbaz']);
    expect(texts(/\[SSL: ([A-Z_]+)\] x/)).toEqual(['[SSL: ']);
    expect(texts(/(?<name>abc)\k<name>/)).toEqual(['abc']);
    expect(texts(/a{2}bcd/)).toEqual(['bcd']);
    expect(texts(/x{,2}/)).toEqual(['x{,2}']);
    expect(requiredTexts(/certificate verify failed/i)).toEqual({ texts: ['certificate verify failed'], ignoreCase: true });
    // A text holding another adds nothing.
    expect(texts(/(?:ERR_X:? )?Hostname mismatch/)).toEqual(['Hostname mismatch']);
  });

  it('claims nothing it cannot be sure of', () => {
    for (const re of [/.*/, /a?/, /[abc]+/, /\d+/, /x*|abc/, /(?=abc)/, /\bfoo\b|(bar)?/, /(a|)\1/]) expect(requiredTexts(re), String(re)).toBeUndefined();
    // Runs end at what is not a plain character.
    expect(texts(/abc.def/)).toEqual(['abc']);
    expect(texts(/ab[cd]efg/)).toEqual(['efg']);
    expect(texts(/a\x41bcd/)).toEqual(['bcd']);
    expect(texts(/abc\wdefg/)).toEqual(['defg']);
    expect(texts(/ab(?!x)cde/)).toEqual(['cde']);
    expect(texts(/^abc$/m)).toEqual(['abc']);
    // An exact group only joins its neighbours when all of it is exact.
    expect(texts(/S: (?:a \(.*?\) bcdefgh|ijklmnopq) '/)).toEqual([') bcdefgh', 'ijklmnopq']);
    expect(requiredTexts(/abc/u)).toBeUndefined();
    expect(requiredTexts(/abc/, { excluded: (ch) => ch === 'b' })?.texts).toEqual(['a']);
  });

  it('every signature and context pattern requires something, so the gate can skip', () => {
    const gate = gateTexts();
    expect(gate).toBeDefined();
    for (const p of [...SIGNATURES.map((s) => s.pattern), ...FOLLOWING_CONTEXT.map((c) => c.pattern)]) expect(requiredTexts(p), String(p)).toBeDefined();
    expect(gate!.every((t) => Buffer.byteLength(t.text) >= 4)).toBe(true);
  });

  it('in every real message a pattern matches, one of its required texts is there', () => {
    let matched = 0;
    const gate = gateTexts()!;
    const material = [...WORDINGS.map((w) => w.text), ...corpusTexts(), ...explainTestTexts()];
    for (const text of material) {
      for (const line of text.split('\n')) {
        for (const message of messagesOf(line)) {
          for (const p of [...SIGNATURES.map((s) => s.pattern), ...FOLLOWING_CONTEXT.map((c) => c.pattern)]) {
            const m = message.match(p);
            if (!m) continue;
            matched++;
            const r = gateRequirement(p)!;
            const fold = (s: string) => (r.ignoreCase ? s.toLowerCase() : s);
            expect(r.texts.some((t) => fold(m[0]).includes(fold(t))), `${p} in ${message}`).toBe(true);
            // And the gate, all patterns' texts together, looks for one that is there.
            expect(gate.some((t) => (t.ignoreCase ? message.toLowerCase().includes(t.text.toLowerCase()) : message.includes(t.text))), `gate: ${message}`).toBe(true);
          }
        }
      }
    }
    expect(matched).toBeGreaterThan(400);
  });
});

describe('the multi-text scanner', () => {
  it('finds the first line holding any of the texts, as a plain search line by line does', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const random = rng(seed);
      const alphabet = 'abAB:x509 \n';
      const word = (n: number) => Array.from({ length: n }, () => alphabet[Math.floor(random() * (alphabet.length - 1))]).join('');
      const texts: ScanText[] = Array.from({ length: 1 + Math.floor(random() * 12) }, () => ({ text: word(2 + Math.floor(random() * 9)), ignoreCase: random() < 0.3 }));
      const input = Buffer.from(Array.from({ length: 3000 }, () => alphabet[Math.floor(random() * alphabet.length)]).join(''));
      const scanner = new TextScanner(texts, random() < 0.5 ? input.subarray(0, 500) : undefined);
      const lines = input.toString('latin1').split('\n');
      const holds = (line: string) => texts.some((t) => (t.ignoreCase ? line.toLowerCase().includes(t.text.toLowerCase()) : line.includes(t.text)));
      let start = 0;
      for (let i = 0; i < lines.length; i++) {
        // From each line start: the line of what is found is the first line that holds a text.
        const to = input.length;
        const found = scanner.find(input, start, to);
        const firstHolding = lines.findIndex((l, j) => j >= i && holds(l));
        if (firstHolding < 0) expect(found, `seed ${seed}`).toBe(-1);
        else expect(input.subarray(0, found).toString('latin1').split('\n').length - 1, `seed ${seed}`).toBe(firstHolding);
        start += lines[i]!.length + 1;
      }
    }
  });
});

// A realistic Ollama journal's lines, as bench/run.ts writes them, and lines that open and end blocks.
const NOISE = [
  'Nov 22 10:00:01 gpu1 ollama[812]: time=2026-11-22T10:00:01.512Z level=INFO source=server.go:613 msg="llama runner started in 3.21 seconds"',
  'Nov 22 10:00:01 gpu1 ollama[812]: [GIN] 2026/11/22 - 10:00:01 | 200 |  1.204512ms |       127.0.0.1 | POST     "/api/generate"',
  'Nov 22 10:00:01 gpu1 ollama[812]: time=2026-11-22T10:00:01.530Z level=DEBUG source=gpu.go:406 msg="dlopen" library=/usr/lib/x86_64-linux-gnu/libssl.so.3 handle=0x7f3a2c000b70',
  'Nov 22 10:00:01 gpu1 ollama[812]: llama_model_loader: - kv  12:                       tokenizer.ggml.model str              = gpt2',
  'download 12 done',
  '    at Object.<anonymous> (/app/index.js:3:1)',
  '\tat java.net.http/jdk.internal.net.http.common.Frame7.run(Frame.java:8)',
  '\t... 71 more',
  '  File "/usr/lib/python3/dist-packages/urllib3/connectionpool.py", line 703, in urlopen',
  'Caused by: java.io.IOException: something',
  'During handling of the above exception, another exception occurred:',
  'The above exception was the direct cause of the following exception:',
  'Traceback (most recent call last):',
  '$ curl https://example.test/',
  '{"level":"info","msg":"ok"}',
  '2026-11-22T10:01:00.000Z step 3/7: nothing wrong here, just words like certificate and proxy',
  'C:\\Users\\me\\AppData\\Local\\Ollama\\server.log opened',
  '\x1b[32mINFO\x1b[0m ready',
  'ünïcödé ✓ ログ 𝄞 line',
  '',
  '   ',
  'node:internal/process/task_queues:95',
  'Looking in indexes: https://mirror.example/simple/',
];

/** One line as a log might wrap it: as is, in JSON, coloured, with CRLF, after a timestamp, tab-escaped. */
function wrapped(line: string, random: () => number): string {
  const r = random();
  if (r < 0.35) return line;
  if (r < 0.45) return JSON.stringify({ level: 'error', msg: line });
  if (r < 0.55) return `\x1b[31m${line.slice(0, 10)}\x1b[0m${line.slice(10)}`;
  if (r < 0.65) return `${line}\r`;
  if (r < 0.75) return `Nov 22 10:00:0${Math.floor(random() * 10)} host app[1]: ${line}`;
  if (r < 0.82) return line.replace(/ /g, random() < 0.5 ? '\\t' : ' ');
  if (r < 0.9) return `time=2026-11-22T10:00:00Z level=ERROR msg="${line.replace(/"/g, '\\"')}"`;
  return `  ${line}  `;
}

/** A seeded log: stretches of noise and frames around material texts, some lines joined by escaped line ends, some broken bytes. */
function syntheticLog(seed: number, material: string[]): Buffer {
  const random = rng(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)]!;
  const parts: Buffer[] = [];
  const add = (line: string) => parts.push(Buffer.from(`${line}\n`));
  const segments = 20 + Math.floor(random() * 60);
  for (let s = 0; s < segments; s++) {
    const r = random();
    if (r < 0.35) {
      // Noise, sometimes longer than a block's gap.
      const n = Math.floor(random() * (random() < 0.3 ? 150 : 20));
      for (let i = 0; i < n; i++) add(pick(NOISE));
    } else if (r < 0.45) {
      const n = Math.floor(random() * 120);
      for (let i = 0; i < n; i++) add(random() < 0.9 ? `\tat p.C${i}.run(C.java:${i})` : '\t... 3 more');
    } else if (r < 0.85) {
      for (const line of pick(material).split('\n')) add(wrapped(line, random));
    } else if (r < 0.92) {
      add(`${wrapped(pick(material).split('\n')[0]!, random)}\\n${pick(material).split('\n').at(-1)}`);
    } else if (r < 0.96) {
      // Bytes that are not UTF-8, on their own or inside a line.
      const junk = Buffer.from(Array.from({ length: 1 + Math.floor(random() * 12) }, () => 0x80 + Math.floor(random() * 128)));
      parts.push(Buffer.concat([Buffer.from(pick(NOISE).slice(0, 20)), junk, Buffer.from(`${pick(material).split('\n')[0]}\n`)]));
    } else {
      // A long line: a text buried in filler.
      add(`${'filler '.repeat(Math.floor(random() * 400))}${pick(material).split('\n')[0]}${' tail'.repeat(Math.floor(random() * 50))}`);
    }
  }
  const out = Buffer.concat(parts);
  // Sometimes no line end at the very end, or a cut multi-byte character.
  const cut = random();
  return cut < 0.2 ? out.subarray(0, out.length - 1) : cut < 0.25 ? Buffer.concat([out, Buffer.from([0xe2, 0x80])]) : out;
}

describe('the fast path gives the per-line report', () => {
  it('for every wording of the table, alone and all together', async () => {
    let seed = 1;
    for (const w of WORDINGS) await expectSame(Buffer.from(w.text), seed++);
    const all = await expectSame(Buffer.from(WORDINGS.map((w) => w.text).join('\n')), 7);
    expect(all.findings.length).toBeGreaterThan(20);
  });

  it('for every captured corpus text, alone and all together', async () => {
    const texts = corpusTexts();
    expect(texts.length).toBeGreaterThan(50);
    let seed = 1000;
    let found = 0;
    for (const text of texts) found += (await expectSame(Buffer.from(text), seed++)).findings.length;
    // Not vacuous: nearly every captured text is a finding (explain-corpus.test.ts holds which).
    expect(found).toBeGreaterThan(texts.length * 0.9);
    await expectSame(Buffer.from(texts.join('\n')), 11);
  });

  it("for every text of explain.test.ts, alone and all together", async () => {
    const texts = explainTestTexts();
    expect(texts.length).toBeGreaterThan(60);
    let seed = 2000;
    for (const text of texts) await expectSame(Buffer.from(text), seed++);
    const all = await expectSame(Buffer.from(texts.join('\n')), 13);
    expect(all.findings.length).toBeGreaterThan(10);
  });

  it('for seeded logs mixing them with noise, frames and wrappers, in random chunks', async () => {
    const material = [...WORDINGS.map((w) => w.text), ...corpusTexts(), ...explainTestTexts()];
    let findings = 0;
    let lines = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const log = syntheticLog(seed, material);
      // Some runs with a short line limit, so lines are cut (and cut lines carried across chunks).
      const max = seed % 4 === 0 ? 30 + (seed % 200) : MAX_LINE;
      const report = await expectSame(log, seed * 7919, max);
      findings += report.findings.length;
      lines += report.lines;
    }
    expect(findings).toBeGreaterThan(300);
    expect(lines).toBeGreaterThan(20_000);
  }, 120_000);

  it('for a log shaped like the benchmark one, random bytes, and lines with no end in sight', async () => {
    const bench = `${Array.from({ length: 2000 }, (_, i) => NOISE[i % 4]).join('\n')}\n${'Nov 22 10:00:02 gpu1 ollama[812]: level=ERROR error="Get \\"https://registry.ollama.ai/v2/library/x/manifests/latest\\": tls: failed to verify certificate: x509: certificate signed by unknown authority"'}\n`;
    const report = await expectSame(Buffer.from(bench.repeat(20)), 5);
    expect(report.findings.map((f) => [f.code, f.client, f.count])).toEqual([['unknown-authority', 'ollama', 20]]);
    // And it is fast for the reason it should be: the libssl lines are skipped, only the 20
    // failures and the lines that end their blocks (the last one ends the log) are read one by one.
    const stats = { taken: 0, skipped: 0 };
    async function* whole() {
      yield Buffer.from(bench.repeat(20));
    }
    await explainStream(whole(), OPTS, MAX_LINE, stats);
    expect(stats).toEqual({ taken: 39, skipped: report.lines - 39 });
    const random = rng(99);
    const junk = Buffer.from(Array.from({ length: 300_000 }, () => Math.floor(random() * 256)));
    await expectSame(junk, 17);
    await expectSame(junk, 18, 100);
    // One line far longer than the limit, with a failure inside, and no line end at all.
    const long = Buffer.from(`${'x'.repeat(700)}x509: certificate signed by unknown authority${'y'.repeat(500)}`);
    for (const max of [50, 64, 1000]) await expectSame(long, max, max);
    await expectSame(Buffer.concat([long, Buffer.from('\n'), long]), 3, 64);
    await expectSame(Buffer.alloc(0), 1);
    await expectSame(Buffer.from('\n\n\n'), 1);
  });
});
