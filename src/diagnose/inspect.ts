// `inspect`: every certificate of a file as the doctor shows chain entries, plus the extension
// detail `openssl x509 -text` users look for, a lint block with the doctor's finding codes, and
// how the certificates of a bundle relate (order, duplicates, who issued whom, roots).
import type { Certificate } from '../x509/certificate.js';
import type { CertificateFile } from '../x509/files.js';
import { extensionDetail } from '../x509/extension-detail.js';
import { ipToString as formatIp } from '../x509/certificate.js';
import { EKU, EKU_NAMES } from '../x509/oids.js';
import type { Finding, FindingCode, Severity } from './finding.js';
import { daysBetween, EXPIRING_SOON_DAYS } from './chain-facts.js';
import { describeCertificate, type ChainEntry } from './report.js';


export interface Lint {
  code: FindingCode;
  severity: Severity;
  message: string;
}

export interface InspectedCertificate extends ChainEntry {
  /** Where in the file ("PEM block 2 (CERTIFICATE)", "certificate 3"). */
  where: string;
  /** The serial as a signed number in hex, as `openssl x509 -serial` prints it ("-04d2"); `serial` is the DER bytes. */
  serialNumber: string;
  /** Whole days until notAfter (negative once expired). */
  daysLeft: number;
  /** RFC 5280 names, in bit order; null without the extension. */
  keyUsage: string[] | null;
  /** EKU names (serverAuth, clientAuth ...; an unknown one as its OID); null without the extension. */
  extendedKeyUsage: string[] | null;
  basicConstraints: { critical: boolean; ca: boolean; pathLen: number | null } | null;
  nameConstraints: { permitted: string[]; excluded: string[] } | null;
  aia: { ocsp: string[]; caIssuers: string[] };
  crlDistributionPoints: string[];
  /** Signed certificate timestamps embedded (Certificate Transparency). */
  sctCount: number;
  /** Certificate policy OIDs. */
  policies: string[];
  /** Hex, lower case, no colons; null without the extension. */
  subjectKeyId: string | null;
  authorityKeyId: string | null;
  /** What Go's x509.ParseCertificate refuses in it (Ollama then ignores it). */
  goParseErrors: string[];
  /** Bundle: index of the certificate in this file whose key signed it (null: none here, or itself). */
  issuedBy: number | null;
  /** Bundle: index of an earlier identical certificate. */
  duplicateOf: number | null;
  /** Self-signed CA (or v1 self-signed): a trust anchor. */
  root: boolean;
  lint: Lint[];
}

export interface InspectedFile {
  file: string;
  format: CertificateFile['format'];
  certificates: InspectedCertificate[];
  findings: Finding[];
  /** Private keys in the file: counted, never read or shown. */
  keys: number;
  notes: string[];
}

export interface InspectReport {
  schema: 1;
  files: InspectedFile[];
}

export async function inspectFile(file: CertificateFile, now: Date): Promise<InspectedFile> {
  const certs = file.entries.map((e) => e.cert);
  const firstIndex = new Map<string, number>();
  const out: InspectedCertificate[] = [];
  for (const [i, { cert, where }] of file.entries.entries()) {
    const dup = firstIndex.get(cert.sha256);
    if (dup === undefined) firstIndex.set(cert.sha256, i);
    const issuedBy = cert.selfSigned ? null : issuerIndex(cert, certs);
    const detail = await extensionDetail(cert);
    const bc = cert.basicConstraints;
    const nc = cert.nameConstraints;
    out.push({
      ...describeCertificate(cert, i),
      where,
      serialNumber: signedSerial(cert),
      daysLeft: daysBetween(now, cert.notAfter),
      keyUsage: cert.keyUsage ? [...cert.keyUsage] : null,
      extendedKeyUsage: cert.extKeyUsage ? cert.extKeyUsage.map((o) => EKU_NAMES[o] ?? o) : null,
      basicConstraints: bc ? { critical: bc.critical, ca: bc.ca, pathLen: bc.pathLen } : null,
      nameConstraints: nc ? {
        permitted: [...nc.permittedDns.map((d) => `DNS:${d}`), ...nc.permittedIp.map(ipRange), ...nc.permittedEmail.map((e) => `email:${e}`), ...nc.permittedUri.map((u) => `URI:${u}`)],
        excluded: [...nc.excludedDns.map((d) => `DNS:${d}`), ...nc.excludedIp.map(ipRange), ...nc.excludedEmail.map((e) => `email:${e}`), ...nc.excludedUri.map((u) => `URI:${u}`)],
      } : null,
      aia: cert.aia,
      crlDistributionPoints: detail.crlDistributionPoints,
      sctCount: cert.sctCount,
      policies: detail.policies,
      subjectKeyId: cert.subjectKeyId?.toString('hex') ?? null,
      authorityKeyId: cert.authorityKeyId?.toString('hex') ?? null,
      goParseErrors: cert.goParseErrors,
      issuedBy,
      duplicateOf: dup ?? null,
      root: cert.selfSigned && (cert.isCA || !cert.basicConstraints),
      lint: [],
    });
  }
  for (const c of out) c.lint = lintCertificate(certs[c.index]!, c, out, now);
  const findings: Finding[] = out.flatMap((c) => c.lint.map((l) => toFinding(file.path, c, l)));
  const order = orderFinding(file.path, out);
  if (order) findings.push(order);
  return { file: file.path, format: file.format, certificates: out, findings, keys: file.keys.length, notes: file.notes };
}

/** A negative serial is stored in two's complement; show its value, as openssl does. */
function signedSerial(cert: Certificate): string {
  const hex = cert.serialHex;
  if (!cert.serialNegative) return hex;
  const magnitude = (1n << BigInt(hex.length * 4)) - BigInt(`0x${hex}`);
  const digits = magnitude.toString(16);
  return `-${digits.length % 2 ? '0' : ''}${digits}`;
}

/** The certificate of the file whose name and key issued `cert`. */
function issuerIndex(cert: Certificate, certs: Certificate[]): number | null {
  for (const [j, other] of certs.entries()) {
    if (other === cert || !other.subjectRaw.equals(cert.issuerRaw)) continue;
    if (cert.signedBy(other)) return j;
  }
  return null;
}

function ipRange(r: { ip: Buffer; mask: Buffer }): string {
  return `IP:${formatIp(r.ip)}/${formatIp(r.mask)}`;
}

/** The doctor's codes, for what can be told from the certificates alone. */
export function lintCertificate(cert: Certificate, entry: InspectedCertificate, all: InspectedCertificate[], now: Date): Lint[] {
  const out: Lint[] = [];
  const add = (code: FindingCode, severity: Severity, message: string) => out.push({ code, severity, message });
  const day = (d: Date) => d.toISOString().slice(0, 10);
  const intermediate = cert.isCA && !entry.root;
  if (now.getTime() > cert.notAfter.getTime()) {
    add(intermediate ? 'expired-intermediate' : 'expired', 'error', `expired on ${day(cert.notAfter)} (${-entry.daysLeft} days ago)`);
  } else if (now.getTime() < cert.notBefore.getTime()) {
    add('not-yet-valid', 'error', `not valid until ${day(cert.notBefore)}`);
  } else if (entry.daysLeft < EXPIRING_SOON_DAYS) {
    add('expiring-soon', 'warning', `expires on ${day(cert.notAfter)} (${entry.daysLeft} days left)`);
  }
  const key = cert.publicKey;
  if ((key.type === 'RSA' || key.type === 'RSA-PSS') && key.bits < 2048) add('weak-key', 'warning', `${key.bits}-bit RSA key (2048 is the minimum browsers and OpenSSL at security level 2 accept)`);
  if (key.type === 'EC' && key.bits < 256) add('weak-key', 'warning', `${key.bits}-bit EC key`);
  // A root's own signature is never checked; everyone else's is.
  if (!entry.root && ['md2', 'md5', 'sha1'].includes(cert.signature.hash)) {
    add('weak-signature', 'error', `signed with ${cert.signature.name}: Go (Ollama) refuses ${cert.signature.hash.toUpperCase()} signatures`);
  }
  if (!cert.isCA) {
    const names = (cert.san?.dns?.length ?? 0) + (cert.san?.ip?.length ?? 0);
    if (names === 0 && cert.commonName) add('cn-only', 'error', `names its host only in the Common Name "${cert.commonName}"; Go (Ollama) reads only the subject alternative names`);
    const eku = cert.extKeyUsage;
    if (eku && !eku.includes(EKU.serverAuth) && !eku.includes(EKU.any)) {
      const shown = eku.map((o) => EKU_NAMES[o] ?? o).join(', ');
      const client = eku.includes(EKU.clientAuth) ? ' (fine as a client certificate)' : '';
      add('wrong-eku', 'error', `extended key usage ${shown}, without serverAuth: Go (Ollama) refuses it as a server certificate${client}`);
    }
  }
  const issued = all.filter((o) => o.issuedBy === entry.index && o.duplicateOf === null);
  if (issued.length > 0 && !cert.isCA) {
    add('invalid-ca', 'error', `issued certificate ${issued.map((o) => o.index).join(', ')} of this file but is not a CA (basic constraints ${cert.basicConstraints ? 'cA:FALSE' : 'missing'})`);
  }
  if (cert.isCA && cert.keyUsage && !cert.keyUsage.has('keyCertSign')) add('invalid-ca', 'error', 'a CA whose key usage lacks keyCertSign: it may not sign certificates');
  const pathLen = cert.basicConstraints?.pathLen;
  if (cert.isCA && pathLen !== null && pathLen !== undefined) {
    const depth = caDepthBelow(entry, all, 0);
    if (depth > pathLen) add('invalid-ca', 'error', `path length ${pathLen}, but ${depth} CA certificate${depth === 1 ? '' : 's'} of this file sit below it`);
  }
  const goErrors = cert.goParseErrors;
  if (goErrors.length > 0) {
    const negative = cert.serialNegative ? ' (a negative serial number: GODEBUG=x509negativeserial=1 makes Go accept it)' : '';
    add('malformed-certificate', 'error', `Go (Ollama) cannot parse it: ${goErrors.join('; ')}${negative}`);
  } else if (cert.goUnhandledCritical) {
    add('unhandled-critical-extension', 'error', 'has a critical extension Go does not handle: Go refuses to verify a chain through it');
  }
  return out;
}

/** The longest run of (non-self-issued) CA certificates issued below `entry` in the file. */
function caDepthBelow(entry: InspectedCertificate, all: InspectedCertificate[], depth: number): number {
  if (depth > all.length) return depth;
  let best = 0;
  for (const o of all) {
    if (o.issuedBy !== entry.index || o.duplicateOf !== null || !o.isCA || o.index === entry.index) continue;
    best = Math.max(best, 1 + caDepthBelow(o, all, depth + 1));
  }
  return best;
}

function toFinding(file: string, c: InspectedCertificate, l: Lint): Finding {
  return {
    code: l.code, severity: l.severity,
    title: `${file}: certificate ${c.index} ("${c.subject || '(empty subject)'}") ${l.message}`,
    detail: DETAIL[l.code] ?? 'See the certificate above.',
    evidence: [`certificate ${c.index} (${c.where}): sha256 ${c.sha256}`],
    fixes: [],
  };
}

/** A chain file in the wrong order: a certificate before the one it issued is fine, after it is not. */
function orderFinding(file: string, certs: InspectedCertificate[]): Finding | undefined {
  const late = certs.filter((c) => c.issuedBy !== null && c.duplicateOf === null && c.issuedBy < c.index);
  if (late.length === 0) return undefined;
  return {
    code: 'chain-order', severity: 'warning',
    title: `${file}: the certificates are not in leaf-first order`,
    detail: 'A chain file (what a server sends) lists the leaf first and each issuer after the certificate it signed. Go and OpenSSL put a shuffled chain back in order, but older clients do not.',
    evidence: late.map((c) => `certificate ${c.index} is issued by certificate ${c.issuedBy}, which comes before it`),
    fixes: [],
  };
}

const DETAIL: Partial<Record<FindingCode, string>> = {
  expired: 'Every client refuses a certificate past its notAfter date; it has to be renewed.',
  'expired-intermediate': 'An intermediate CA past its notAfter date makes every chain through it fail; the server has to send the current intermediate.',
  'not-yet-valid': "Clients refuse a certificate before its notBefore date; check this machine's clock or the certificate's dates.",
  'expiring-soon': 'It still works, but renew it before it expires.',
  'weak-key': 'Short keys are refused at OpenSSL security level 2 (Debian, Ubuntu, RHEL defaults) and by browsers.',
  'weak-signature': 'Go (Ollama) and current browsers refuse SHA-1 and MD5 signatures on everything but roots.',
  'cn-only': 'Go (Ollama) and browsers ignore the Common Name; the host must be in the subject alternative names.',
  'wrong-eku': 'A server certificate must allow serverAuth (or have no extended key usage); Go checks it.',
  'invalid-ca': 'Only a certificate with basic constraints cA:TRUE (and keyCertSign, and room in its path length) may issue others.',
  'malformed-certificate': 'Go skips certificates its parser refuses, without a word: in a store they do nothing, on the wire they fail the handshake.',
  'unhandled-critical-extension': 'Go refuses a chain with a critical extension it does not understand.',
};
