// Certificates out of PEM text or DER bytes, with one parse per distinct certificate per run:
// Node's bundled roots and the distro bundle are mostly the same certificates.
import { Certificate } from './certificate.js';
import { DerError, pemBlocks } from './der.js';

const cache = new Map<string, Certificate>();

/** Parse (or reuse) the certificate with this DER; undefined if it does not parse at all. */
export function certificateFromDer(der: Buffer): Certificate | undefined {
  const key = der.toString('base64');
  let cert = cache.get(key);
  if (!cert) {
    try {
      cert = new Certificate(der);
    } catch (err) {
      if (err instanceof DerError || err instanceof RangeError) return undefined;
      throw err;
    }
    cache.set(key, cert);
  }
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

export function certificatesFromPem(text: string): PemCertificates {
  const out: PemCertificates = { certificates: [], unparsable: 0, otherBlocks: [], withHeaders: 0 };
  for (const block of pemBlocks(text)) {
    if (block.label !== 'CERTIFICATE' && block.label !== 'TRUSTED CERTIFICATE') {
      out.otherBlocks.push(block.label);
      continue;
    }
    if (block.hasHeaders) out.withHeaders++;
    const cert = certificateFromDer(block.der);
    if (cert) out.certificates.push(cert);
    else out.unparsable++;
  }
  return out;
}

/** PEM or a single DER certificate, as `--ca` and trust files arrive. */
export function certificatesFromBytes(bytes: Buffer): PemCertificates {
  const text = bytes.toString('latin1');
  if (text.includes('-----BEGIN')) return certificatesFromPem(text);
  const cert = bytes.length > 0 && bytes[0] === 0x30 ? certificateFromDer(bytes) : undefined;
  return { certificates: cert ? [cert] : [], unparsable: cert ? 0 : 1, otherBlocks: [], withHeaders: 0 };
}
