// The doctor's report: plain data in the contract's shape (schema 1). Text and JSON are two
// renderings of this object; nothing is computed while rendering.
import type { Certificate } from '../x509/certificate.js';
import { formatName } from '../x509/certificate.js';
import type { AddressSource } from '../probe/resolve.js';
import type { ProxyUse } from '../probe/probe.js';
import type { ClientVerdict } from '../trust/views.js';
import type { Finding } from './finding.js';
import type { OllamaReport } from '../ollama/check.js';

export interface ChainEntry {
  index: number;
  subject: string;
  issuer: string;
  serial: string;
  notBefore: string;
  notAfter: string;
  sha256: string;
  sha1: string;
  san: string[];
  isCA: boolean;
  selfSigned: boolean;
  keyType: string;
  keyBits: number;
  signatureAlgorithm: string;
  pem: string;
}

/** A verdict as the contract carries it: the client's words and the finding code they mean. */
export interface Verdict extends ClientVerdict {
  /** null when the client accepts. */
  code: string | null;
}

export interface TargetReport {
  target: string;
  host: string;
  port: number;
  servername: string | null;
  address: string | null;
  /** Every address found, and where it came from (--resolve, hosts file, DNS). */
  addresses: { address: string; family: 4 | 6; source: AddressSource }[];
  /** null when no proxy is configured; otherwise the proxy, whether it was used, and (https://) its own chain. */
  proxy: ProxyReport | null;
  tls: { protocol: string | null; cipher: string | null; alpn: string | null } | null;
  /** 'wire': exactly as the server sent it; 'api': reconstructed by Node (order not guaranteed). */
  chainSource: 'wire' | 'api' | null;
  chain: ChainEntry[];
  verdicts: Verdict[];
  findings: Finding[];
  ok: boolean;
  /** Where this target came from: given, the pull path (registry, blob host, fallback), --ai. */
  role?: 'registry' | 'blob' | 'fallback' | 'upstream' | 'ai';
  /**
   * Mutual TLS: present when the server asked for a client certificate or one was given. `policy`
   * is null when it cannot be told; `withoutCertificate` is the second handshake, without the
   * certificate, that tells optional from required once one was sent.
   */
  clientCert?: {
    requested: boolean; authorities: string[]; sent: string | null; refused: string | null;
    policy: 'none' | 'optional' | 'required' | null;
    withoutCertificate?: { refused: boolean | null; message: string; ms: number };
  };
  /** HTTP requests sent over this very connection after the handshake (pull path, upstream checks). */
  http?: HttpReport | null;
  timings: { resolveMs?: number; connectMs?: number; proxyMs?: number; handshakeMs?: number; httpMs?: number };
}

/** One request and its answer. URLs carry no secrets: query values are hidden, credentials never shown. */
export interface HttpExchangeReport {
  method: string;
  /** https://host[:port]/path?name=... (query values hidden: presigned URLs carry signatures). */
  url: string;
  status: number;
  statusText: string;
  /** Redirect target, query values hidden. */
  location?: string;
  contentType?: string;
  server?: string;
  /** The scheme of the Authorization sent ("basic" or "bearer"); the value is never reported. */
  auth?: string;
  ms: number;
  /** What was spoken: "h2" (the server picked it in ALPN), "http/1.1", or "http/1.0" (the server answered 1.0). */
  protocol: 'h2' | 'http/1.1' | 'http/1.0';
  /** Index into `connections` when this went over a later connection (absent: the first). */
  connection?: number;
}

/** A connection the requests went over; the first, then one more each time the server closed the last. */
export interface HttpConnectionReport {
  /** "first", or why the connection before could carry no more requests. */
  reason: string;
  alpn: string | null;
  /** Whether its handshake presented the first connection's chain; a different one is judged too. */
  chain: 'same' | 'different';
  verdicts?: Verdict[];
}

export interface HttpReport {
  exchanges: HttpExchangeReport[];
  /** Present when more than one connection was needed (Go's Transport dials again the same way). */
  connections?: HttpConnectionReport[];
  /** Why the exchange stopped early (the server closed, timed out, answered garbage). */
  failure?: { kind: string; message: string };
  /** Credentials were given but not sent: the certificate was not trusted. */
  credentialsWithheld?: string;
  /** An upstream that answered /api/version as Ollama does: its version. */
  ollamaVersion?: string;
}

/** The Ollama pull path as walked: the model, the manifest, and every host it led to. */
export interface PullReport {
  model: string;
  registry: string;
  manifest: string;
  /** The layer whose blob was asked for (never downloaded). */
  digest: string | null;
  /** host:port of every target on the path, in the order reached. */
  hosts: string[];
  /** Set when the path could not be walked and the known hosts were checked instead. */
  fallback: string | null;
}

/** The proxy as the probe used it (without the raw DER), plus an https:// proxy's own chain and verdict. */
export interface ProxyReport extends Omit<ProxyUse, 'tlsChain' | 'tlsServername' | 'hostname' | 'port'> {
  chain?: ChainEntry[];
  verdict?: Verdict;
}

export interface DoctorReport {
  schema: 1;
  tool: { name: 'ollama-tls'; version: string };
  ok: boolean;
  /** The views whose verdicts decide `ok` (contract: go unless --decide says otherwise). */
  decidingViews: string[];
  /** Findings about the environment as a whole (proxy variables), not one target. */
  findings: Finding[];
  /** The default run (and --model): the pull path as `ollama pull` walks it. */
  pull?: PullReport;
  /** The local Ollama server (OLLAMA_HOST), in the default run. */
  ollama?: OllamaReport;
  targets: TargetReport[];
}

export function describeCertificate(c: Certificate, index: number): ChainEntry {
  const san = [
    ...(c.san?.dns ?? []).map((d) => `DNS:${d}`),
    ...(c.san?.ip ?? []).map((d) => `IP:${d}`),
    ...(c.san?.email ?? []).map((d) => `email:${d}`),
    ...(c.san?.uri ?? []).map((d) => `URI:${d}`),
  ];
  return {
    index,
    subject: formatName(c.subject),
    issuer: formatName(c.issuer),
    serial: c.serialHex,
    notBefore: c.notBefore.toISOString(),
    notAfter: c.notAfter.toISOString(),
    sha256: c.sha256,
    sha1: c.digest('sha1'),
    san,
    isCA: c.isCA,
    selfSigned: c.selfSigned,
    keyType: c.publicKey.type === 'RSA-PSS' ? 'RSA' : c.publicKey.type,
    keyBits: c.publicKey.bits,
    signatureAlgorithm: c.signature.name,
    pem: c.toPem(),
  };
}
