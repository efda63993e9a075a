// x509-limbo (C2SP/x509-limbo) for the conformance test: the compiled suite from the team's shared
// directory (never copied into the repository), the real verifiers run over it (Go's crypto/x509
// as crypto/tls calls it, libcrypto's X509_verify_cert as libssl sets it up), and our emulations
// run over the same inputs.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { certificateFromDer } from '../../src/x509/load.js';
import { pemBlocks } from '../../src/x509/der.js';
import type { Certificate } from '../../src/x509/certificate.js';
import { goClientBinary } from './cli.js';
import { ROOT } from './servers.js';

/**
 * Where CI and the team's machines keep the suite: shared/ beside the repository. A git worktree
 * elsewhere can point at it with OLLAMA_TLS_LIMBO.
 */
export const LIMBO_FILE = process.env.OLLAMA_TLS_LIMBO ?? path.resolve(ROOT, '../shared/limbo/limbo.json');

export interface LimboCase {
  id: string;
  validation_kind: 'SERVER' | 'CLIENT';
  trusted_certs: string[];
  untrusted_intermediates: string[];
  peer_certificate: string;
  validation_time: string | null;
  expected_peer_name: { kind: 'DNS' | 'IP' | 'RFC822'; value: string } | null;
  expected_result: 'SUCCESS' | 'FAILURE';
}

export function loadServerCases(file = LIMBO_FILE): LimboCase[] {
  const suite = JSON.parse(readFileSync(file, 'utf8')) as { testcases: LimboCase[] };
  return suite.testcases.filter((t) => t.validation_kind === 'SERVER');
}

/** The time a testcase is judged at: its own, else one fixed instant for the whole run (whole seconds). */
export function caseTime(t: LimboCase, fallback: Date): Date {
  return t.validation_time ? new Date(t.validation_time) : fallback;
}

export const derOf = (pem: string): Buffer => pemBlocks(pem)[0]?.der ?? Buffer.alloc(0);

/** Our parse of one PEM certificate; undefined when our DER reader refuses it. */
export function ourCert(pem: string): Certificate | undefined {
  return certificateFromDer(derOf(pem));
}

// ---- real Go ----

export interface GoOracleResult {
  id: string;
  ok: boolean;
  error?: string;
}

export function goVersion(): string {
  return execFileSync('go', ['version'], { encoding: 'utf8' }).trim();
}

export function runGoOracle(cases: LimboCase[], fallback: Date): Map<string, GoOracleResult> {
  const bin = goClientBinary('limboverify');
  if (!bin) throw new Error('go is not installed');
  // The program reads the limbo file itself; it is given the same fallback instant.
  const out = execFileSync(bin, [LIMBO_FILE, fallback.toISOString().replace(/\.\d{3}Z$/, 'Z')], {
    encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, GODEBUG: '' },
  });
  const results = new Map<string, GoOracleResult>();
  for (const line of out.split('\n').filter(Boolean)) {
    const r = JSON.parse(line) as GoOracleResult;
    results.set(r.id, r);
  }
  for (const t of cases) if (!results.has(t.id)) throw new Error(`Go oracle gave no answer for ${t.id}`);
  return results;
}

// ---- real OpenSSL ----

/** Build test/c/limboverify.c against the system's libcrypto once per source (cached by hash). */
export function opensslOracleBinary(): string {
  const source = readFileSync(path.join(ROOT, 'test/c/limboverify.c'));
  const tag = createHash('sha256').update(source).digest('hex').slice(0, 12);
  const dir = path.join(os.tmpdir(), 'ollama-tls-c-ref');
  const bin = path.join(dir, `limboverify-${tag}`);
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    const partial = `${bin}.${process.pid}`;
    const built = spawnSync('cc', ['-O1', '-o', partial, path.join(ROOT, 'test/c/limboverify.c'), '-lcrypto'], { encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`could not build the OpenSSL reference verifier:\n${built.stderr}`);
    renameSync(partial, bin);
  }
  return bin;
}

export interface OpenSslOracleResult {
  id: string;
  /** X509_V_ERR_* code (0 = verified); -1 when a presented certificate does not decode. */
  code: number;
  depth: number;
  /** X509_check_host / X509_check_ip_asc on the leaf; undefined when no name is expected. */
  nameOk?: boolean;
}

export interface OpenSslOracleRun {
  version: string;
  results: Map<string, OpenSslOracleResult>;
}

export function runOpenSslOracle(
  cases: LimboCase[], fallback: Date, mode: { stopAtFirstError: boolean; securityLevel: number; partialChain: boolean },
): OpenSslOracleRun {
  const lines: string[] = [];
  for (const t of cases) {
    lines.push(`T ${t.id}`, `N ${Math.floor(caseTime(t, fallback).getTime() / 1000)}`);
    for (const pem of t.trusted_certs) lines.push(`R ${derOf(pem).toString('hex')}`);
    for (const pem of [t.peer_certificate, ...t.untrusted_intermediates]) lines.push(`I ${derOf(pem).toString('hex')}`);
    if (t.expected_peer_name?.kind === 'DNS') lines.push(`H ${t.expected_peer_name.value}`);
    if (t.expected_peer_name?.kind === 'IP') lines.push(`A ${t.expected_peer_name.value}`);
    lines.push('E');
  }
  const args = [mode.stopAtFirstError ? 'first' : 'last', String(mode.securityLevel), mode.partialChain ? '1' : '0'];
  const out = execFileSync(opensslOracleBinary(), args, { input: `${lines.join('\n')}\n`, encoding: 'utf8', maxBuffer: 64 << 20 });
  const results = new Map<string, OpenSslOracleResult>();
  let version = '';
  for (const line of out.split('\n').filter(Boolean)) {
    if (line.startsWith('# ')) {
      version = line.slice(2);
      continue;
    }
    const [id, code, depth, name] = line.split(' ');
    results.set(id!, { id: id!, code: Number(code), depth: Number(depth), ...(name === '-1' ? {} : { nameOk: name === '1' }) });
  }
  return { version, results };
}
