// explain's chunk gate (one scan over a whole batch) against its per-line gate: the same lines,
// so the same findings, over the whole wording table and what real clients print for the
// failing scenarios, alone and mixed into a log full of near misses (libssl, "certificate" in
// passing, JSON and ANSI wrappers).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explainLines, gatedLines, lineGate } from '../src/diagnose/explain.js';
import { clockFloor } from '../src/trust/stores.js';
import { curlSays, goClientSays, nodeSays, opensslSays, opensslVerifySays, pythonSays, type Peer } from './helpers/clients.js';
import { WORDINGS } from './helpers/explain-wordings.js';
import { loadScenario, serveChain, type Running } from './helpers/servers.js';

const OPTS = { platform: { platform: 'linux' as const, family: 'debian' as const, systemd: true }, now: new Date('2026-12-01T00:00:00Z'), clockFloor: clockFloor() };

const SCENARIOS = ['missing-intermediate', 'untrusted-root-sent', 'self-signed-leaf', 'expired-leaf', 'not-yet-valid', 'hostname-mismatch', 'cn-only', 'ip-san-missing', 'wrong-eku', 'path-length'];

// Lines that come near the gate's keywords, or pass it and hold nothing.
const NEAR_MISSES = [
  'Nov 22 10:00:01 gpu1 ollama[812]: time=2026-11-22T10:00:01.530Z level=DEBUG source=gpu.go:406 msg="dlopen" library=/usr/lib/x86_64-linux-gnu/libssl.so.3',
  'Nov 22 10:00:01 gpu1 ollama[812]: [GIN] 2026/11/22 - 10:00:01 | 200 |  1.204512ms |       127.0.0.1 | POST     "/api/generate"',
  '',
  '\r',
  'plain text with no keyword at all',
  '    at TLSSocket.onConnectSecure (node:_tls_wrap:1674:34)',
  '  File "/usr/lib/python3.11/ssl.py", line 1379, in do_handshake',
  '\x1b[31merror\x1b[0m: the certificate store was rebuilt',
  '{"level":"info","msg":"renewed certificate for ollama.example.com"}',
  'x'.repeat(5000),
  'x509',
];

const corpus: string[] = [];
const servers: Running[] = [];

beforeAll(async () => {
  await Promise.all(SCENARIOS.map(async (name) => {
    const s = loadScenario(name);
    const server = await serveChain(s);
    servers.push(server);
    const peer: Peer = { port: server.port, name: s.host, caPem: s.caPem };
    const texts = await Promise.all([goClientSays(peer), nodeSays(peer), curlSays(peer), pythonSays(peer), opensslSays(peer), opensslVerifySays(peer, s.chainPem)]);
    for (const t of texts) if (t) corpus.push(t);
  }));
}, 120_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

/** The per-line path: every line handed over alone. */
const perLine = (lines: string[]) => explainLines(lines, OPTS);
/** The chunk path: batches of `size` lines, as readLines yields them. */
const batched = (lines: string[], size: number) => {
  const batches: string[][] = [];
  for (let i = 0; i < lines.length; i += size) batches.push(lines.slice(i, i + size));
  return explainLines(batches, OPTS);
};

/** A log: every text, each line wrapped several ways, between near misses. */
function mixedLog(texts: string[]): string[] {
  const out: string[] = [];
  for (const [i, t] of texts.entries()) {
    for (const line of t.split('\n')) {
      out.push(NEAR_MISSES[i % NEAR_MISSES.length]!);
      switch (i % 3) {
        case 0: out.push(line); break;
        case 1: out.push(`Nov 22 10:00:02 gpu1 ollama[812]: level=ERROR error=${JSON.stringify(line)}`); break;
        default: out.push(`\x1b[33m${line}\x1b[0m`);
      }
    }
  }
  return out;
}

describe('explain: the chunk gate finds what the per-line gate finds', () => {
  it('the corpus was collected from real clients', () => {
    expect(corpus.length).toBeGreaterThan(SCENARIOS.length * 3);
  });

  it('the same lines, over the wording table, the corpus and the near misses', () => {
    const lines = [...WORDINGS.map((w) => w.text), ...corpus, ...NEAR_MISSES, ...mixedLog([...WORDINGS.map((w) => w.text), ...corpus])].flatMap((t) => t.split('\n'));
    const want = lines.flatMap((l, i) => (lineGate(l) ? [i] : []));
    expect(want.length).toBeGreaterThan(WORDINGS.length);
    expect(want.length).toBeLessThan(lines.length);
    expect(gatedLines(lines)).toEqual(want);
    // Batch edges anywhere.
    for (const size of [1, 2, 7, 64]) {
      const got: number[] = [];
      for (let i = 0; i < lines.length; i += size) got.push(...gatedLines(lines.slice(i, i + size)).map((j) => i + j));
      expect(got).toEqual(want);
    }
  });

  it('every wording: the same findings either way', async () => {
    for (const w of WORDINGS) {
      const lines = w.text.split('\n');
      const a = await perLine(lines);
      expect(a.findings.length, w.text).toBeGreaterThan(0);
      expect(await batched(lines, lines.length), w.text).toEqual(a);
    }
  });

  it('every real client text: the same findings either way', async () => {
    for (const t of corpus) {
      const lines = t.split('\n');
      expect(await batched(lines, lines.length), t).toEqual(await perLine(lines));
    }
  });

  it('one mixed log of all of them: the same report, whatever the batch size', async () => {
    const log = mixedLog([...WORDINGS.map((w) => w.text), ...corpus]);
    const want = await perLine(log);
    expect(want.findings.length).toBeGreaterThan(10);
    for (const size of [1, 5, 333, log.length]) expect(await batched(log, size)).toEqual(want);
  });
});
