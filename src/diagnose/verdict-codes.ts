// The finding code of a failing verdict, from the error the engine returned (trust/views.ts
// VerdictCause), never from its wording. One table per engine, keyed by the engine's own error
// names. `explain` reads the same failures from their words (catalogue.ts); test/unit/diagnose/verdict-codes.test.ts
// and the round trip in test/e2e/explain.test.ts hold the two readings equal.
import type { GoError, GoHostnameReason, GoInvalidReason } from '../trust/go-verify.js';
import { goHostnameReason } from '../trust/go-verify.js';
import type { ClientVerdict, Judgement, OsVerifierOutcome, VerdictCause } from '../trust/views.js';
import { OPENSSL_CODES } from './openssl-codes.js';
import type { FindingCode } from './finding.js';

type GoKind = GoError['kind'];

/**
 * Go's verification errors by kind (crypto/x509 verify.go and x509.go: UnknownAuthorityError,
 * HostnameError, ConstraintViolationError, InsecureAlgorithmError, UnhandledCriticalExtension,
 * the parse errors; crypto/tls handshake_client.go verifyServerCertificate for `tls`).
 * CertificateInvalidError and HostnameError go by their reason (below); UnknownAuthorityError
 * with a hint by the hint.
 */
export const GO_KIND_CODES: Record<Exclude<GoKind, 'invalid' | 'hostname'>, FindingCode> = {
  'unknown-authority': 'unknown-authority',
  // ConstraintViolationError: the parent is not a CA at all.
  'constraint-violation': 'invalid-ca',
  'insecure-algorithm': 'weak-signature',
  // ErrUnsupportedAlgorithm ("algorithm unimplemented").
  'unsupported-algorithm': 'weak-signature',
  'bad-signature': 'unknown-authority',
  'unhandled-critical': 'unhandled-critical-extension',
  // tls: failed to parse certificate from server (and crypto/tls's RSA key size limit, checked with
  // the parse): the chain never reaches Verify.
  parse: 'malformed-certificate',
  // A SAN Go cannot parse under a CA with name constraints ("x509: cannot parse dnsName ...").
  other: 'malformed-certificate',
  // crypto/tls: a leaf key type it cannot use for the handshake (DSA and others).
  tls: 'weak-key',
  // Go's 100 signature checks per Verify: no path came out of them.
  'signature-limit': 'unknown-authority',
};

/** CertificateInvalidError by its Reason (verify.go InvalidReason). Expired goes by its bound. */
export const GO_INVALID_CODES: Record<Exclude<GoInvalidReason, 'Expired'>, FindingCode> = {
  NotAuthorizedToSign: 'invalid-ca',
  CANotAuthorizedForThisName: 'invalid-ca',
  TooManyIntermediates: 'invalid-ca',
  // The name-constraint comparison budget, which Go prints as "x509: unknown error".
  TooManyConstraints: 'invalid-ca',
  IncompatibleUsage: 'wrong-eku',
  // The issuer's subject is not the child's issuer name: no path, as far as the user can tell.
  NameMismatch: 'unknown-authority',
  // A SAN type the CA's name constraints cannot judge: the CA limits what it may sign.
  UnconstrainedName: 'invalid-ca',
};

/** Expired (Go says "has expired or is not yet valid" for both) by the bound that was crossed. */
export const GO_VALIDITY_CODES: Record<'notBefore' | 'notAfter', FindingCode> = {
  notBefore: 'not-yet-valid',
  notAfter: 'expired',
};

/** HostnameError by which of its sentences Go prints (go-verify.ts goHostnameReason). */
export const GO_HOSTNAME_CODES: Record<GoHostnameReason, FindingCode> = {
  'legacy-common-name': 'cn-only',
  'no-ip-sans': 'ip-san-missing',
  'no-names': 'hostname-mismatch',
  'other-names': 'hostname-mismatch',
};

/**
 * UnknownAuthorityError's hint ("possibly because of ... while trying to verify candidate
 * authority certificate ..."): the candidate was found and refused, and why decides the code.
 * Kinds and reasons not listed leave it at unknown-authority.
 */
export const GO_HINT_CODES: Partial<Record<Exclude<GoKind, 'invalid'> | GoInvalidReason, FindingCode>> = {
  'insecure-algorithm': 'weak-signature',
  'unsupported-algorithm': 'weak-signature',
  'constraint-violation': 'invalid-ca',
  NotAuthorizedToSign: 'invalid-ca',
  TooManyIntermediates: 'invalid-ca',
  CANotAuthorizedForThisName: 'invalid-ca',
};

/**
 * What Go reports from the OS verifier (root_darwin.go: the Security framework's result;
 * root_windows.go: CertGetCertificateChain's status). macOS words a validity failure "is
 * expired" whichever bound was crossed, Windows does not say: both read as expired.
 */
export const OS_VERIFIER_CODES: Record<OsVerifierOutcome, FindingCode> = {
  validity: 'expired',
  'no-path': 'unknown-authority',
  'not-standards-compliant': 'not-standards-compliant',
};

/** The code of one Go error. */
export function goErrorCode(e: GoError): FindingCode {
  switch (e.kind) {
    case 'invalid':
      return e.reason === 'Expired' ? GO_VALIDITY_CODES[e.bound ?? 'notAfter'] : GO_INVALID_CODES[e.reason];
    case 'hostname':
      return GO_HOSTNAME_CODES[goHostnameReason(e.cert, e.host)];
    case 'unknown-authority':
      return e.hint ? goHintCode(e.hint.error) : GO_KIND_CODES['unknown-authority'];
    default:
      return GO_KIND_CODES[e.kind];
  }
}

function goHintCode(e: GoError): FindingCode {
  if (e.kind === 'invalid' && e.reason === 'Expired') return GO_VALIDITY_CODES[e.bound ?? 'notAfter'];
  return GO_HINT_CODES[e.kind === 'invalid' ? e.reason : e.kind] ?? 'unknown-authority';
}

/** The finding code a cause means. */
export function causeCode(cause: VerdictCause): FindingCode {
  switch (cause.engine) {
    case 'go': return goErrorCode(cause.error);
    case 'os-verifier': return OS_VERIFIER_CODES[cause.outcome];
    case 'openssl': return OPENSSL_CODES[cause.error];
    // Node's altname check: ERR_TLS_CERT_ALTNAME_INVALID either way (lib/tls.js checkServerIdentity).
    case 'node-name-check': return cause.ipWithoutIpSans ? 'ip-san-missing' : 'hostname-mismatch';
  }
}

/** The code of a judgement: null when it passed. */
export function verdictCode(j: Judgement): FindingCode | null {
  if (j.verdict.ok) return null;
  if (!j.cause) throw new Error(`the ${j.verdict.view} view failed without a cause`);
  return causeCode(j.cause);
}

/** A client's verdict with the code its cause means, as the report carries it. */
export function verdictWithCode(j: Judgement): ClientVerdict & { code: FindingCode | null } {
  return { ...j.verdict, code: verdictCode(j) };
}
