// Certificates out of PEM text or DER bytes, with one parse per distinct certificate per run:
// Node's bundled roots and the distro bundle are mostly the same certificates.
import { Certificate } from './certificate.js';
import { DerError, pemBlocks, readTlv, type PemBlock } from './der.js';

// Keyed by the last bytes of the DER (the signature, unique per certificate) and confirmed by a
// full comparison: hashing whole certificates as map keys cost more than parsing them.
const cache = new Map<string, Certificate[]>();

/** Parse (or reuse) the certificate with this DER; undefined if it does not parse at all. */
export function certificateFromDer(der: Buffer): Certificate | undefined {
  const key = der.toString('latin1', Math.max(0, der.length - 24));
  const bucket = cache.get(key);
  const hit = bucket?.find((c) => c.der.equals(der));
  if (hit) return hit;
  let cert: Certificate;
  try {
    cert = new Certificate(der);
  } catch (err) {
    if (err instanceof DerError || err instanceof RangeError) return undefined;
    throw err;
  }
  if (bucket) bucket.push(cert);
  else cache.set(key, [cert]);
  return cert;
}

export interface PemCertificates {
  certificates: Certificate[];
  /** CERTIFICATE blocks that did not parse. */
  unparsable: number;
  /** Other PEM blocks (keys, CRLs...) by label. */
  otherBlocks: string[];
  /** CERTIFICATE blocks with PEM headers: Go's AppendCertsFromPEM ignores them. */
  withHeaders: number;
}

export interface PemOptions {
  /**
   * Read as Go's AppendCertsFromPEM does: only "CERTIFICATE" blocks without PEM headers. OpenSSL
   * also reads "TRUSTED CERTIFICATE" (the certificate followed by OpenSSL's trust settings).
   */
  goRules?: boolean;
}

export function certificatesFromPem(text: string, opts: PemOptions = {}): PemCertificates {
  return certificatesFromBlocks(pemBlocks(text), opts);
}

export function certificatesFromBlocks(blocks: PemBlock[], opts: PemOptions = {}): PemCertificates {
  const out: PemCertificates = { certificates: [], unparsable: 0, otherBlocks: [], withHeaders: 0 };
  for (const block of blocks) {
    const trusted = block.label === 'TRUSTED CERTIFICATE';
    if ((block.label !== 'CERTIFICATE' && !trusted) || (opts.goRules && (trusted || block.hasHeaders))) {
      out.otherBlocks.push(block.label);
      continue;
    }
    if (block.hasHeaders) out.withHeaders++;
    const cert = certificateFromDer(trusted ? firstElement(block.der) : block.der);
    if (cert) out.certificates.push(cert);
    else out.unparsable++;
  }
  return out;
}

/** The leading DER element: a TRUSTED CERTIFICATE is a certificate followed by trust settings. */
function firstElement(der: Buffer): Buffer {
  try {
    return der.subarray(0, readTlv(der, 0).end);
  } catch {
    return der;
  }
}

/** PEM or a single DER certificate, as `--ca` and trust files arrive. */
export function certificatesFromBytes(bytes: Buffer): PemCertificates {
  const text = bytes.toString('latin1');
  if (text.includes('-----BEGIN')) return certificatesFromPem(text);
  const cert = bytes.length > 0 && bytes[0] === 0x30 ? certificateFromDer(bytes) : undefined;
  return { certificates: cert ? [cert] : [], unparsable: cert ? 0 : 1, otherBlocks: [], withHeaders: 0 };
}
