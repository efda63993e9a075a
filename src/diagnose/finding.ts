// Findings: the unit of diagnosis that doctor and explain share. Codes are a stable contract.

export type Severity = 'error' | 'warning' | 'info';

export interface Fix {
  title: string;
  /** A command to run as-is, when there is one. */
  command?: string;
  /** Who has to act: the machine running Ollama, or whoever runs the server. */
  side?: 'client' | 'server';
}

export interface Finding {
  code: FindingCode;
  severity: Severity;
  title: string;
  detail: string;
  evidence: string[];
  fixes: Fix[];
  /**
   * For trust gaps: which evidence decided between the codes a client's "unknown authority" can
   * mean (src/diagnose/missing-issuer.ts). Absent on other findings.
   */
  basis?: FindingBasis;
}

/** The evidence that named a trust gap, strongest first. */
export const FINDING_BASES = [
  'root-sent', // the self-signed root came with the chain
  'leaf-self-signed', // the server certificate signs itself
  'held-root', // a --ca file or store holds a self-signed root whose key verifies the top certificate
  'held-intermediate', // ... holds a CA that verifies it but is not self-signed
  'aia', // the leaf names its issuer's download address (AIA caIssuers) and the issuer's name is not a root's
  'issuer-name', // the issuer's name reads like an intermediate's, or like a root's (with no AIA)
  'interception', // the interception analysis names a product or suspects one: its CA signs leaves directly
  'chain-sent', // the server sent intermediates; the issuer missing above them is taken to be the root
  'undecided', // nothing tells a root from an intermediate: both are named
] as const;

export type FindingBasis = (typeof FINDING_BASES)[number];

/** The contract's codes, plus additions (contract: "new ones may be added, none renamed"). */
export const FINDING_CODES = [
  // network
  'dns-failure', 'connection-refused', 'connect-timeout', 'handshake-timeout', 'connection-reset', 'not-tls',
  'tls-alert', 'protocol-mismatch', 'client-cert-required', 'proxy-unreachable', 'proxy-auth-required',
  'proxy-refused', 'proxy-scheme-mismatch',
  // chain and trust
  'unknown-authority', 'missing-intermediate', 'self-signed-leaf', 'untrusted-root', 'expired', 'not-yet-valid',
  'expired-intermediate', 'hostname-mismatch', 'cn-only', 'ip-san-missing', 'weak-signature', 'weak-key',
  'wrong-eku', 'invalid-ca', 'chain-order', 'expiring-soon', 'trusted-by-system-not-go',
  // interception
  'interception-suspected', 'interception-confirmed',
  // ollama
  'ollama-insecure-flag', 'ollama-proxy-env', 'ollama-restart-needed',
  // upstream
  'upstream-auth-required', 'upstream-auth-rejected', 'upstream-not-ollama', 'ollama-version-vulnerable', 'ollama-exposed',
  // added by this implementation
  'host-unreachable', 'clock-skew', 'malformed-certificate', 'unhandled-critical-extension', 'no-roots',
  'not-standards-compliant',
  // the pull path and upstream HTTP answers
  'http-blocked', 'model-not-found', 'pull-path-fallback', 'upstream-forbidden', 'upstream-error',
  // Ollama itself (src/ollama/check.ts)
  'ollama-origins-open', 'ollama-service-env', 'ollama-cert-file-missing',
  // client certificates given with --cert/--key or --pkcs12 (src/diagnose/client-cert.ts)
  'client-cert-not-requested', 'client-cert-issuer-not-accepted',
  // a server certificate list over OpenSSL's 100 KiB (Node, curl) or Go's 256 KiB (src/diagnose/network-findings.ts)
  'certificate-list-too-large',
] as const;

export type FindingCode = (typeof FINDING_CODES)[number];

const RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/** Errors first, then warnings, then notes; stable otherwise. */
export function sortFindings(findings: Finding[]): Finding[] {
  return findings.map((f, i) => [f, i] as const).sort((a, b) => RANK[a[0].severity] - RANK[b[0].severity] || a[1] - b[1]).map(([f]) => f);
}
