// x509-limbo conformance: every SERVER testcase of the public path-validation suite, decided by
// our two verifier emulations and by the real verifiers on this machine (Go's crypto/x509 as
// crypto/tls calls it; libcrypto's X509_verify_cert as libssl sets it up for curl and for Node).
// limbo's own expected_result is not the judge: the real verifier is. The suite lives in the
// team's shared directory beside the repository; a clone without it skips this file.
import { existsSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { GoCertPool, goTlsErrorText, goVerifyServer } from '../../../src/trust/go-verify.js';
import { OPENSSL_ERRORS, OpenSslStore, facts, opensslHostMatches, opensslVerify } from '../../../src/trust/openssl-verify.js';
import { nodeSecurityLevel } from '../../../src/trust/views.js';
import { codeForMessage, codeForOpenSslNum } from '../../../src/diagnose/catalogue.js';
import type { Certificate } from '../../../src/x509/certificate.js';
import { certificateFromDer } from '../../../src/x509/load.js';
import {
  LIMBO_FILE, caseTime, goVersion, loadServerCases, ourCert, runGoOracle, runOpenSslOracle,
  type GoOracleResult, type LimboCase, type OpenSslOracleRun,
} from '../../helpers/limbo.js';

const present = existsSync(LIMBO_FILE);
if (!present) console.warn(`conformance: skipped, the x509-limbo suite is not at ${LIMBO_FILE}`);

// Debian's openssl.cnf sets @SECLEVEL=2 for every OpenSSL client (curl among them); Node reports its own.
const CURL_LEVEL = 2;

interface Mode {
  name: string;
  stopAtFirstError: boolean;
  securityLevel: number;
  partialChain: boolean;
  /** curl checks the name itself after the chain (X509_check_host-like); Node's check is Node's own code. */
  checkName: boolean;
}

function modes(): Mode[] {
  const node = nodeSecurityLevel();
  return [
    { name: 'curl', stopAtFirstError: true, securityLevel: CURL_LEVEL, partialChain: false, checkName: true },
    { name: 'node', stopAtFirstError: false, securityLevel: node, partialChain: false, checkName: false },
    { name: 'curl+partial-chain', stopAtFirstError: true, securityLevel: CURL_LEVEL, partialChain: true, checkName: true },
    { name: 'node+partial-chain', stopAtFirstError: false, securityLevel: node, partialChain: true, checkName: false },
  ];
}

interface Parsed {
  roots: Certificate[];
  /** undefined when our reader refuses one of the presented certificates. */
  presented?: Certificate[];
}

function parse(t: LimboCase): Parsed {
  const roots = t.trusted_certs.map(ourCert).filter((c): c is Certificate => c !== undefined);
  const presented = [t.peer_certificate, ...t.untrusted_intermediates].map(ourCert);
  return { roots, ...(presented.every((c) => c !== undefined) ? { presented: presented as Certificate[] } : {}) };
}

function goEmulation(t: LimboCase, now: Date): GoOracleResult {
  const { roots, presented } = parse(t);
  if (!presented) return { id: t.id, ok: false, error: 'tls: failed to parse certificate from server: (our DER reader refused it)' };
  const r = goVerifyServer(presented, { dnsName: t.expected_peer_name?.value ?? '', roots: new GoCertPool(roots), now });
  return r.error ? { id: t.id, ok: false, error: goTlsErrorText(r.error) } : { id: t.id, ok: true };
}

function opensslEmulation(t: LimboCase, now: Date, mode: Mode): { code: number; depth: number; nameOk?: boolean } {
  const { roots, presented } = parse(t);
  if (!presented) return { code: -1, depth: -1 };
  const r = opensslVerify({
    presented, store: new OpenSslStore(roots), now, securityLevel: mode.securityLevel,
    stopAtFirstError: mode.stopAtFirstError, partialChain: mode.partialChain,
  });
  const code = r.error ? OPENSSL_ERRORS[r.error.name].num : 0;
  // X509_STORE_CTX_get_error_depth: where the reported error was (0 when none was).
  const depth = r.error ? r.error.depth : 0;
  return t.expected_peer_name ? { code, depth, nameOk: opensslHostMatches(presented[0]!, t.expected_peer_name.value) } : { code, depth };
}

describe.skipIf(!present)('x509-limbo conformance (SERVER testcases)', () => {
  let cases: LimboCase[];
  const fallback = new Date(Math.floor(Date.now() / 1000) * 1000);
  let go: Map<string, GoOracleResult>;
  const openssl = new Map<string, OpenSslOracleRun>();

  beforeAll(() => {
    cases = loadServerCases();
    go = runGoOracle(cases, fallback);
    for (const m of modes()) openssl.set(m.name, runOpenSslOracle(cases, fallback, m));
    console.log(`conformance: ${cases.length} SERVER testcases; ${goVersion()}; ${openssl.get('curl')!.version}; Node security level ${nodeSecurityLevel()}`);
  }, 240_000); // a cold Go build cache compiles crypto/x509 first (about 30 s on a busy machine)

  it('the go view reaches the decision and the message of real Go (crypto/tls)', () => {
    const disagree: string[] = [];
    for (const t of cases) {
      const want = go.get(t.id)!;
      let have: GoOracleResult;
      try {
        have = goEmulation(t, caseTime(t, fallback));
      } catch (e) {
        disagree.push(`${t.id}: emulation threw ${String(e)}`);
        continue;
      }
      if (have.ok !== want.ok || (have.error ?? '') !== (want.error ?? '')) {
        disagree.push(`${t.id}\n    go:  ${want.ok ? 'ok' : want.error}\n    emu: ${have.ok ? 'ok' : have.error}`);
      }
    }
    console.log(`go: ${cases.length - disagree.length}/${cases.length} agree`);
    if (disagree.length) console.log(disagree.join('\n'));
    expect(disagree).toEqual([]);
  });

  it('every certificate of the suite (CLIENT testcases too) is read without an exception', () => {
    const all = (JSON.parse(readFileSync(LIMBO_FILE, 'utf8')) as { testcases: LimboCase[] }).testcases;
    const threw: string[] = [];
    let read = 0;
    for (const t of all) {
      for (const pem of [t.peer_certificate, ...t.untrusted_intermediates, ...t.trusted_certs]) {
        const c = ourCert(pem);
        if (!c) continue;
        try {
          void [c.serialHex, c.issuer, c.subject, c.notBefore, c.notAfter, c.publicKey, c.signature, c.extensions,
            c.basicConstraints, c.keyUsage, c.extKeyUsage, c.san, c.subjectKeyId, c.authorityKeyId, c.aia, c.sctCount,
            c.nameConstraints, c.goParseErrors, c.goUnhandledCritical, c.selfSigned, c.commonName, facts(c)];
          read++;
        } catch (e) {
          threw.push(`${t.id}: ${String(e)}`);
        }
      }
    }
    expect(threw).toEqual([]);
    expect(read).toBeGreaterThan(400);
  });

  it('neither emulation throws on damaged certificates (single bytes flipped in leaves, intermediates and roots)', () => {
    const threw: string[] = [];
    let judged = 0;
    const flip = (der: Buffer, seed: number): Certificate | undefined => {
      const damaged = Buffer.from(der);
      const at = seed % damaged.length;
      damaged[at] = damaged[at]! ^ (1 << (seed % 8));
      return certificateFromDer(damaged);
    };
    cases.forEach((t, i) => {
      const { roots, presented } = parse(t);
      if (!presented) return;
      const now = caseTime(t, fallback);
      const variants: { chain: Certificate[]; roots: Certificate[] }[] = [];
      for (let k = 0; k < 6; k++) {
        const seed = i * 7919 + k * 104729;
        const leaf = flip(presented[0]!.der, seed);
        if (leaf) variants.push({ chain: [leaf, ...presented.slice(1)], roots });
        const inter = presented[1] && flip(presented[1].der, seed + 17);
        if (inter) variants.push({ chain: [presented[0]!, inter, ...presented.slice(2)], roots });
        const root = roots[0] && flip(roots[0].der, seed + 31);
        if (root) variants.push({ chain: presented, roots: [root, ...roots.slice(1)] });
      }
      for (const v of variants) {
        try {
          goVerifyServer(v.chain, { dnsName: t.expected_peer_name?.value ?? '', roots: new GoCertPool(v.roots), now });
          for (const stop of [true, false]) {
            opensslVerify({ presented: v.chain, store: new OpenSslStore(v.roots), now, securityLevel: 2, stopAtFirstError: stop, partialChain: !stop });
          }
          if (t.expected_peer_name) opensslHostMatches(v.chain[0]!, t.expected_peer_name.value);
          judged++;
        } catch (e) {
          threw.push(`${t.id}: ${String(e)}`);
        }
      }
    });
    expect(threw.join('\n')).toBe('');
    expect(judged).toBeGreaterThan(1000);
  });

  it("explain's catalogue names a finding code for every message the real verifiers printed", () => {
    const unclassified = new Set<string>();
    for (const r of go.values()) if (r.error && !codeForMessage(r.error)) unclassified.add(`go: ${r.error}`);
    for (const run of openssl.values()) {
      for (const r of run.results.values()) if (r.code > 0 && !codeForOpenSslNum(r.code)) unclassified.add(`openssl: ${r.code}`);
    }
    expect([...unclassified]).toEqual([]);
  });

  for (const m of modes()) {
    it(`the OpenSSL emulation in ${m.name} mode reaches real OpenSSL's decision, error code and depth`, () => {
      const want = openssl.get(m.name)!.results;
      const disagree: string[] = [];
      for (const t of cases) {
        const w = want.get(t.id)!;
        let have: { code: number; depth: number; nameOk?: boolean };
        try {
          have = opensslEmulation(t, caseTime(t, fallback), m);
        } catch (e) {
          disagree.push(`${t.id}: emulation threw ${String(e)}`);
          continue;
        }
        const nameDiffers = m.checkName && w.code === 0 && have.nameOk !== w.nameOk;
        if (have.code !== w.code || (w.code > 0 && have.depth !== w.depth) || nameDiffers) {
          disagree.push(`${t.id}: openssl ${w.code}@${w.depth} name=${w.nameOk}, emu ${have.code}@${have.depth} name=${have.nameOk}`);
        }
      }
      console.log(`openssl ${m.name}: ${cases.length - disagree.length}/${cases.length} agree`);
      if (disagree.length) console.log(disagree.join('\n'));
      expect(disagree).toEqual([]);
    });
  }
});
