// A seeded mutation fuzzer for every certificate reader: PEM, DER, PKCS#7 and PKCS#12 inputs
// built from fixtures/ are bit-flipped, truncated, have length octets edited, slices duplicated
// and spliced, then go through the readers (x509/load.ts, x509/files.ts, fix/ca-input.ts) and, for what they
// accept, the verifiers (Go's view and the OpenSSL emulation). A reader may refuse with its own
// error (exit 2 in the CLI); any other exception is a crash (exit 3), any slow case a hang.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CaInputError, caFileFromBytes, checkCas } from '../../src/fix/ca-input.js';
import { issuersIn } from '../../src/diagnose/chain-facts.js';
import { GoCertPool, goErrorText, goVerifyServer } from '../../src/trust/go-verify.js';
import { OpenSslStore, opensslVerify } from '../../src/trust/openssl-verify.js';
import type { Certificate } from '../../src/x509/certificate.js';
import { toPem } from '../../src/x509/der.js';
import { certificatesFromBytes, decodedCertificate } from '../../src/x509/load.js';
import { CertificateInputError, certificateFileFromBytes } from '../../src/x509/files.js';
import { ROOT } from './servers.js';

export interface Seed { name: string; bytes: Buffer; password?: string }

import { rng } from './rng.js';

/** Seeds: every scenario chain as PEM, its first certificate as DER, a PKCS#7 and PKCS#12 of it. */
export function buildSeeds(): Seed[] {
  const dir = path.join(ROOT, 'fixtures/scenarios');
  const seeds: Seed[] = [];
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'ollama-tls-fuzz-'));
  const names = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  for (const name of names) {
    const chainFile = path.join(dir, name, 'chain.pem');
    let pem: Buffer;
    try { pem = readFileSync(chainFile); } catch { continue; }
    seeds.push({ name: `${name}/chain.pem`, bytes: pem });
    try { seeds.push({ name: `${name}/ca.pem`, bytes: readFileSync(path.join(dir, name, 'ca.pem')) }); } catch { /* none */ }
    const der = certificatesFromBytes(pem).certificates[0]?.der;
    if (der) seeds.push({ name: `${name}/leaf.der`, bytes: Buffer.from(der) });
  }
  // PKCS#7 and PKCS#12 (OpenSSL 3 AES + PBKDF2, and -legacy 3DES/RC2) from a few chains.
  for (const name of names.slice(0, 3)) {
    const chainFile = path.join(dir, name, 'chain.pem');
    const p7 = path.join(tmp, `${name}.p7b`);
    execFileSync('openssl', ['crl2pkcs7', '-nocrl', '-certfile', chainFile, '-outform', 'DER', '-out', p7]);
    seeds.push({ name: `${name}.p7b`, bytes: readFileSync(p7) });
    for (const legacy of [false, true]) {
      const p12 = path.join(tmp, `${name}${legacy ? '-legacy' : ''}.p12`);
      execFileSync('openssl', ['pkcs12', '-export', '-nokeys', '-in', chainFile, '-passout', 'pass:fuzz', '-out', p12, ...(legacy ? ['-legacy'] : [])]);
      seeds.push({ name: path.basename(p12), bytes: readFileSync(p12), password: 'fuzz' });
    }
  }
  return seeds;
}

type Mutation = (b: Buffer, r: () => number, other: Buffer) => Buffer;
const int = (r: () => number, n: number) => Math.floor(r() * n);

const MUTATIONS: Record<string, Mutation> = {
  bitflip: (b, r) => {
    const out = Buffer.from(b);
    for (let i = 1 + int(r, 8); i > 0 && out.length; i--) out[int(r, out.length)]! ^= 1 << int(r, 8);
    return out;
  },
  truncate: (b, r) => b.subarray(0, int(r, b.length)),
  // Length octets: find a tag-ish byte and rewrite the octet after it (short, long-form, indefinite).
  length: (b, r) => {
    const out = Buffer.from(b);
    for (let tries = 0; tries < 20 && out.length > 2; tries++) {
      const i = int(r, out.length - 1);
      if (![0x30, 0x31, 0x02, 0x03, 0x04, 0x06, 0xa0, 0xa3, 0x0c, 0x13, 0x17, 0x18].includes(out[i]!)) continue;
      const choices = [0x00, 0x7f, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0xff, (out[i + 1]! + 1) & 0xff, (out[i + 1]! - 1) & 0xff];
      out[i + 1] = choices[int(r, choices.length)]!;
      return out;
    }
    return out;
  },
  duplicate: (b, r) => {
    if (b.length === 0) return b;
    const from = int(r, b.length);
    const len = 1 + int(r, Math.min(512, b.length - from));
    const at = int(r, b.length);
    return Buffer.concat([b.subarray(0, at), b.subarray(from, from + len), b.subarray(at)]);
  },
  splice: (b, r, other) => {
    if (other.length === 0) return b;
    const from = int(r, other.length);
    const len = 1 + int(r, Math.min(1024, other.length - from));
    const at = int(r, b.length + 1);
    const cut = int(r, 64);
    return Buffer.concat([b.subarray(0, at), other.subarray(from, from + len), b.subarray(Math.min(b.length, at + cut))]);
  },
  delete: (b, r) => {
    const at = int(r, b.length + 1);
    return Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + int(r, 64)))]);
  },
};
export const MUTATION_NAMES = Object.keys(MUTATIONS);

/** One case: a seed, mutated 1-3 times. PEM seeds are mutated inside the armour (DER) or as text. */
export function mutate(seed: Seed, seeds: Seed[], r: () => number): { bytes: Buffer; how: string[] } {
  const how: string[] = [];
  const other = seeds[int(r, seeds.length)]!.bytes;
  const text = seed.bytes.toString('latin1');
  const pemInside = text.includes('-----BEGIN') && r() < 0.7;
  let ders = pemInside ? certificatesFromBytes(seed.bytes).certificates.map((c) => Buffer.from(c.der)) : [seed.bytes];
  if (ders.length === 0) ders = [seed.bytes];
  const k = int(r, ders.length);
  let target = ders[k]!;
  for (let n = 1 + int(r, 3); n > 0; n--) {
    const name = MUTATION_NAMES[int(r, MUTATION_NAMES.length)]!;
    how.push(name);
    target = MUTATIONS[name]!(target, r, other);
  }
  if (!pemInside) return { bytes: target, how };
  ders[k] = target;
  return { bytes: Buffer.from(ders.map((d) => toPem(d)).join(''), 'latin1'), how: ['in-pem', ...how] };
}

export interface CaseResult { ok: boolean; ms: number; error?: string }

const NOW = new Date('2025-06-01T00:00:00Z');
const expected = (e: unknown) => e instanceof CaInputError || e instanceof CertificateInputError;

/** Every reader, then the verifiers on what was accepted. Only a reader's own refusal is allowed. */
export async function runCase(bytes: Buffer, password: string | undefined, trustedRoots: Certificate[]): Promise<CaseResult> {
  const t0 = performance.now();
  try {
    // The lazy store path: whatever outline-parses, as a trust store would hold it.
    const lazy = certificatesFromBytes(bytes).certificates;
    let presented: Certificate[] = [];
    try {
      // The one certificate-file reader, as doctor --ca, inspect and verify use it.
      presented = (await certificateFileFromBytes('fuzz.pem', bytes, password !== undefined ? { password } : {})).entries.map((e) => e.cert);
    } catch (e) {
      if (!expected(e)) throw e;
    }
    try {
      const file = await caFileFromBytes('fuzz.bin', bytes, password !== undefined ? { password } : {});
      if (presented.length === 0) presented = file.certificates;
      try {
        checkCas([file], { now: NOW, force: false });
      } catch (e) {
        if (!expected(e)) throw e;
      }
    } catch (e) {
      if (!expected(e)) throw e;
    }
    // A chain as the doctor reads one off the wire: whatever decodes whole, in order.
    const wire = lazy.map((c) => decodedCertificate(c.der)).filter((c): c is Certificate => c !== undefined);
    if (presented.length === 0) presented = wire;
    // Judge the accepted chain against roots that include the damaged store certificates.
    if (presented.length > 0) {
      const roots = new GoCertPool([...lazy, ...trustedRoots]);
      const go = goVerifyServer(presented, { dnsName: 'fuzz.example', roots, now: NOW });
      if (go.error) goErrorText(go.error);
      opensslVerify({ presented, store: new OpenSslStore([...lazy, ...trustedRoots]), now: NOW, securityLevel: 1, stopAtFirstError: false });
      // The findings look for the issuer of the chain's top among the store's certificates.
      for (const c of presented) issuersIn([...lazy, ...trustedRoots], c);
    }
    return { ok: true, ms: performance.now() - t0 };
  } catch (e) {
    return { ok: false, ms: performance.now() - t0, error: e instanceof Error ? `${e.name}: ${e.message}\n${e.stack?.split('\n').slice(1, 4).join('\n')}` : String(e) };
  }
}

export interface FuzzSummary { cases: number; crashes: { seed: string; how: string[]; error: string; file?: string }[]; hangs: { seed: string; how: string[]; ms: number }[]; maxMs: number }

/** `cases` mutations from `seedValue`; a case slower than `hangMs` counts as a hang. */
export async function fuzz(opts: { cases: number; seed: number; hangMs: number; keepDir?: string }): Promise<FuzzSummary> {
  const seeds = buildSeeds();
  const roots = certificatesFromBytes(readFileSync(path.join(ROOT, 'fixtures/scenarios/roots.pem'))).certificates;
  const r = rng(opts.seed);
  const out: FuzzSummary = { cases: 0, crashes: [], hangs: [], maxMs: 0 };
  for (let i = 0; i < opts.cases; i++) {
    const seed = seeds[int(r, seeds.length)]!;
    const { bytes, how } = mutate(seed, seeds, r);
    const res = await runCase(bytes, seed.password, roots);
    out.cases++;
    out.maxMs = Math.max(out.maxMs, res.ms);
    if (!res.ok) {
      let file: string | undefined;
      if (opts.keepDir) writeFileSync((file = path.join(opts.keepDir, `crash-${i}.bin`)), bytes);
      out.crashes.push({ seed: seed.name, how, error: res.error!, ...(file ? { file } : {}) });
    }
    if (res.ms > opts.hangMs) out.hangs.push({ seed: seed.name, how, ms: res.ms });
  }
  return out;
}

export interface CliFuzzSummary { runs: number; failures: { args: string[]; code: number; stderr: string; seed: string; how: string[] }[]; maxMs: number }

/**
 * `runs` CLI runs of mutated inputs, alternating `doctor HOST --ca FILE` (against a loopback TLS
 * server sending a fixture chain, so the --ca roots are judged) and
 * `trust --ca FILE --dry-run --root EMPTY`: every run must end 0, 1 or 2 (never 3, never killed
 * by the time bound), and a refusal (2) must say why in one message without a stack.
 */
export async function cliFuzz(opts: { runs: number; seed: number; timeoutMs: number; concurrency?: number }): Promise<CliFuzzSummary> {
  const { runCli } = await import('../helpers/cli.js');
  const { loadScenario, serveChain } = await import('../helpers/servers.js');
  // A real TLS server on loopback, so doctor judges a chain against the damaged --ca roots.
  const scenario = loadScenario('expiring-soon');
  const server = await serveChain(scenario);
  const target = `${scenario.host}:${server.port}`;
  const seeds = buildSeeds();
  const r = rng(opts.seed);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ollama-tls-clifuzz-'));
  const tree = mkdtempSync(path.join(os.tmpdir(), 'ollama-tls-clifuzz-tree-'));
  const jobs = Array.from({ length: opts.runs }, (_, i) => {
    const seed = seeds[int(r, seeds.length)]!;
    const { bytes, how } = mutate(seed, seeds, r);
    const file = path.join(dir, `case-${i}.bin`);
    writeFileSync(file, bytes);
    const pw = seed.password !== undefined ? ['--password', seed.password] : [];
    const args = i % 2 === 0
      ? ['doctor', target, '--resolve', `${target}:127.0.0.1`, '--ca', file, '--decide', 'go,extra', '--timeout', '5000', '--no-proxy']
      : ['trust', '--ca', file, '--dry-run', '--root', tree, ...pw];
    return { args, seed: seed.name, how };
  });
  const out: CliFuzzSummary = { runs: 0, failures: [], maxMs: 0 };
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const job = jobs[next++]!;
      const res = await runCli(job.args, { timeoutMs: opts.timeoutMs });
      out.runs++;
      out.maxMs = Math.max(out.maxMs, res.ms);
      const bad = ![0, 1, 2].includes(res.code) || (res.code === 2 && (res.stderr.trim() === '' || /\n\s+at /.test(res.stderr)));
      if (bad) out.failures.push({ args: job.args, code: res.code, stderr: res.stderr.slice(0, 400), seed: job.seed, how: job.how });
    }
  };
  try {
    await Promise.all(Array.from({ length: opts.concurrency ?? 2 }, worker));
  } finally {
    await server.close();
  }
  return out;
}
