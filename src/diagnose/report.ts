// The doctor's report: plain data in the contract's shape (schema 1). Text and JSON are two
// renderings of this object; nothing is computed while rendering.
import type { Certificate } from '../x509/certificate.js';
import { formatName } from '../x509/certificate.js';
import type { AddressSource } from '../probe/resolve.js';
import type { ClientVerdict } from '../trust/views.js';
import type { Finding } from './finding.js';

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
  timings: { resolveMs?: number; connectMs?: number; proxyMs?: number; handshakeMs?: number };
}

export interface ProxyReport {
  url: string;
  scheme: string;
  source: string;
  used: boolean;
  bypass?: string;
  address?: string;
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
