// Doctor's verdict codes come from the engines' errors (diagnose/verdict-codes.ts); explain reads
// codes from wordings (diagnose/catalogue.ts). Both must agree on every failure the engines can
// produce: each entry of each table, every fixture scenario under several roots, names and
// clocks, and (when the shared suite is there) every x509-limbo SERVER testcase, whole and with
// bytes flipped. A wording explain cannot read, or reads as another code, fails here.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { codeForMessage } from '../../../src/diagnose/catalogue.js';
import {
  causeCode, GO_HINT_CODES, GO_HOSTNAME_CODES, GO_INVALID_CODES, GO_KIND_CODES, OS_VERIFIER_CODES,
} from '../../../src/diagnose/verdict-codes.js';
import { GoCertPool, goHostnameReason, goVerifyServer, type GoError, type GoInvalidReason } from '../../../src/trust/go-verify.js';
import { OPENSSL_ERRORS, OpenSslStore, opensslVerify, type OpenSslErrorName } from '../../../src/trust/openssl-verify.js';
import { goFailure, nodeNameFailure, opensslFailure, opensslNameFailure, type Failure } from '../../../src/trust/views.js';
import type { Certificate } from '../../../src/x509/certificate.js';
import { certificateFromDer, certificatesFromPem } from '../../../src/x509/load.js';
import { LIMBO_FILE, caseTime, loadServerCases, ourCert } from '../../helpers/limbo.js';
import { SCENARIOS } from '../../helpers/servers.js';

const PLATFORMS = ['linux', 'darwin', 'win32'] as const;

/** Failures whose words explain reads as another code than the engine's cause means (or not at all). */
function disagreements(failures: Iterable<Failure>): { checked: number; wrong: string[]; codes: Set<string> } {
  let checked = 0;
  const wrong = new Set<string>();
  const codes = new Set<string>();
  for (const f of failures) {
    checked++;
    const want = causeCode(f.cause);
    codes.add(want);
    const read = codeForMessage(f.message);
    if (read !== want) wrong.add(`${f.cause.engine}: "${f.message}" reads as ${read ?? 'nothing'}, the cause means ${want}`);
  }
  return { checked, wrong: [...wrong].sort(), codes };
}

/** Every failure both engines produce for one chain: Go on each platform, OpenSSL under Node's and curl's rules. */
function* failuresOf(presented: Certificate[], roots: Certificate[], name: string, now: Date): Generator<Failure> {
  const go = goVerifyServer(presented, { dnsName: name, roots: new GoCertPool(roots), now });
  if (go.error) for (const p of PLATFORMS) yield goFailure(go.error, name, p);
  const store = new OpenSslStore(roots);
  for (const nodeRules of [true, false]) {
    const r = opensslVerify({ presented, store, now, securityLevel: 2, stopAtFirstError: !nodeRules, partialChain: !nodeRules });
    if (r.error) {
      yield opensslFailure(r.error.name, nodeRules);
      continue;
    }
    const named = nodeRules ? nodeNameFailure(presented[0]!, name) : opensslNameFailure(presented[0]!, name);
    if (named) yield named;
  }
}

const pemCerts = (file: string) => certificatesFromPem(readFileSync(file, 'utf8')).certificates;
const scenarios = readdirSync(SCENARIOS).filter((n) => existsSync(path.join(SCENARIOS, n, 'chain.pem'))).map((name) => {
  const dir = path.join(SCENARIOS, name);
  const { host } = JSON.parse(readFileSync(path.join(dir, 'scenario.json'), 'utf8')) as { host: string };
  return { name, host, chain: pemCerts(path.join(dir, 'chain.pem')), ca: pemCerts(path.join(dir, 'ca.pem')) };
});

describe('each table entry: the wording of the error reads back to the code the table gives it', () => {
  const s = scenarios.find((x) => x.name === 'valid-rsa')!;
  const leaf = s.chain[0]!;
  const ca = s.ca[0]!;
  const invalid = (reason: GoInvalidReason, bound?: 'notBefore' | 'notAfter'): GoError => ({
    kind: 'invalid', reason, cert: leaf, ...(bound ? { bound } : {}),
    detail: reason === 'Expired' ? `current time 2030-01-01T00:00:00Z is ${bound === 'notBefore' ? 'before' : 'after'} 2029-01-01T00:00:00Z`
      : reason === 'CANotAuthorizedForThisName' ? 'DNS name "a.example" is not permitted by any constraint'
      : reason === 'UnconstrainedName' ? 'URI:urn:x' : '',
  });
  const reasons = Object.keys(GO_INVALID_CODES) as GoInvalidReason[];
  const simple: GoError[] = [
    ...reasons.map((r) => invalid(r)), invalid('Expired', 'notBefore'), invalid('Expired', 'notAfter'),
    { kind: 'unknown-authority', cert: leaf },
    { kind: 'constraint-violation', cert: ca },
    { kind: 'insecure-algorithm', cert: leaf, algorithm: 'SHA1-RSA' },
    { kind: 'unsupported-algorithm', cert: leaf },
    { kind: 'unhandled-critical', cert: leaf },
    { kind: 'parse', cert: leaf, message: 'x509: negative serial number' },
    { kind: 'parse', cert: leaf, message: 'tls: server sent certificate containing RSA key larger than 8192 bits' },
    { kind: 'other', cert: ca, message: 'x509: cannot parse dnsName "a..b"' },
    { kind: 'tls', cert: leaf, message: "tls: server's certificate contains an unsupported type of public key: *dsa.PublicKey" },
    { kind: 'signature-limit' },
  ];
  // HostnameError: one host per sentence Go prints for this leaf and for a CN-only one.
  const cnOnly = scenarios.find((x) => x.name === 'cn-only')!;
  const hostnames: GoError[] = [
    { kind: 'hostname', cert: leaf, host: 'other.example' },
    { kind: 'hostname', cert: leaf, host: '192.0.2.1' },
    { kind: 'hostname', cert: cnOnly.chain[0]!, host: cnOnly.host },
    { kind: 'hostname', cert: cnOnly.chain[0]!, host: 'other.example' },
  ];
  // UnknownAuthorityError with each kind of hint Go can attach (a bad signature is only ever a hint).
  const badSignature: GoError = { kind: 'bad-signature', cert: leaf, message: 'crypto/rsa: verification error' };
  const hints: GoError[] = [...simple.filter((e) => e.kind !== 'signature-limit' && e.kind !== 'unknown-authority'), ...hostnames, badSignature]
    .map((error) => ({ kind: 'unknown-authority', cert: leaf, hint: { error, cert: ca } }));
  const all = [...simple, ...hostnames, ...hints];

  it('covers every Go kind, reason, hostname sentence and hint entry', () => {
    const kinds = new Set([...all, badSignature].map((e) => e.kind));
    for (const k of Object.keys(GO_KIND_CODES)) expect(kinds).toContain(k);
    expect(kinds).toContain('invalid');
    expect(new Set(hostnames.map((e) => e.kind === 'hostname' && goHostnameReason(e.cert, e.host)))).toEqual(new Set(Object.keys(GO_HOSTNAME_CODES)));
    const hinted = new Set(hints.map((e) => (e.kind === 'unknown-authority' && e.hint ? (e.hint.error.kind === 'invalid' ? e.hint.error.reason : e.hint.error.kind) : '')));
    for (const k of Object.keys(GO_HINT_CODES)) expect(hinted).toContain(k);
  });

  it('Go errors, on Linux and through the macOS and Windows verifiers', () => {
    const r = disagreements(all.flatMap((e) => PLATFORMS.map((p) => goFailure(e, leaf.commonName ?? 'host', p))));
    expect(r.wrong).toEqual([]);
    expect(r.checked).toBe(all.length * 3);
    for (const code of Object.values(OS_VERIFIER_CODES)) expect(r.codes).toContain(code);
  });

  it("OpenSSL's errors as Node (22 and 24 wordings) and curl print them", () => {
    const names = Object.keys(OPENSSL_ERRORS) as OpenSslErrorName[];
    const failures = names.flatMap((e) => [opensslFailure(e, true), opensslFailure(e, false)]);
    const r = disagreements(failures);
    expect(r.wrong).toEqual([]);
    expect(r.checked).toBe(names.length * 2);
  });

  it("Node's own name check: a name, an IP with IP SANs elsewhere, an IP and no IP SAN at all", () => {
    const ipLeaf = scenarios.find((x) => x.name === 'valid-ip')!.chain[0]!;
    const failures = [nodeNameFailure(leaf, 'other.example'), nodeNameFailure(ipLeaf, '192.0.2.1'), nodeNameFailure(leaf, '192.0.2.1')];
    expect(failures.map((f) => f && causeCode(f.cause))).toEqual(['hostname-mismatch', 'hostname-mismatch', 'ip-san-missing']);
    expect(disagreements(failures.flatMap((f) => (f ? [f] : []))).wrong).toEqual([]);
  });
});

describe('every fixture scenario under its CA, no CA, a wrong name, an IP, and clocks past and future', () => {
  it('the engines fail in many ways and explain reads each as the cause means', () => {
    const clocks = [new Date(), new Date('2000-01-01T00:00:00Z'), new Date('2200-01-01T00:00:00Z')];
    const failures: Failure[] = [];
    for (const s of scenarios) {
      for (const roots of [s.ca, []]) {
        for (const name of [s.host, 'other.example', '192.0.2.1']) {
          for (const now of clocks) failures.push(...failuresOf(s.chain, roots, name, now));
        }
      }
    }
    const r = disagreements(failures);
    expect(r.wrong).toEqual([]);
    expect(r.checked).toBeGreaterThan(1000);
    expect(r.codes.size).toBeGreaterThanOrEqual(10);
  });
});

const limbo = existsSync(LIMBO_FILE);
describe.skipIf(!limbo)('every x509-limbo SERVER testcase, whole and with bytes flipped', () => {
  it('explain reads each failure as the cause means', () => {
    const fallback = new Date(Math.floor(Date.now() / 1000) * 1000);
    const failures: Failure[] = [];
    loadServerCases().forEach((t, i) => {
      const roots = t.trusted_certs.map(ourCert).filter((c): c is Certificate => c !== undefined);
      const presented = [t.peer_certificate, ...t.untrusted_intermediates].map(ourCert);
      if (!presented.every((c) => c !== undefined)) return;
      const chain = presented as Certificate[];
      const name = t.expected_peer_name?.value ?? '';
      const now = caseTime(t, fallback);
      failures.push(...failuresOf(chain, roots, name, now));
      // Damaged leaves: Go's parser and OpenSSL's decoding refuse them in their own words.
      for (let k = 0; k < 2; k++) {
        const der = Buffer.from(chain[0]!.der);
        const at = (i * 7919 + k * 104729) % der.length;
        der[at] = der[at]! ^ (1 << ((i + k) % 8));
        const leaf = certificateFromDer(der);
        if (leaf) failures.push(...failuresOf([leaf, ...chain.slice(1)], roots, name, now));
      }
    });
    const r = disagreements(failures);
    expect(r.wrong).toEqual([]);
    expect(r.checked).toBeGreaterThan(2000);
  });
});
