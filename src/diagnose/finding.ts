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
}

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
