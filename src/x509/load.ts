// Certificates out of PEM text or DER bytes, with one parse per distinct certificate per run:
// Node's bundled roots and the distro bundle are mostly the same certificates.
import { createHash } from 'node:crypto';
import { Certificate, type CertificateOutline } from './certificate.js';
import { DerError, pemBlocks, readTlv, type PemBlock } from './der.js';
import type { OutlineCache } from './outline-cache.js';

// Keyed by the last bytes of the DER (the signature, unique per certificate) and confirmed by a
// full comparison: hashing whole certificates as map keys cost more than parsing them. Real
// certificates never share those bytes; a crafted file of thousands that do would make every
// lookup compare against all of them, so a crowded bucket is indexed by a digest instead.
interface Bucket { list: Certificate[]; byDigest?: Map<string, Certificate> }
const cache = new Map<string, Bucket>();
const CROWDED = 8;
const digestOf = (der: Buffer) => createHash('sha256').update(der).digest('base64');

function cached(bucket: Bucket | undefined, der: Buffer): Certificate | undefined {
  if (!bucket) return undefined;
  if (bucket.byDigest) return bucket.byDigest.get(digestOf(der));
  return bucket.list.find((c) => c.der.equals(der));
}

function remember(key: string, bucket: Bucket | undefined, cert: Certificate): void {
  if (!bucket) { cache.set(key, { list: [cert] }); return; }
  if (bucket.byDigest) { bucket.byDigest.set(digestOf(cert.der), cert); return; }
  bucket.list.push(cert);
  if (bucket.list.length >= CROWDED) bucket.byDigest = new Map(bucket.list.map((c) => [digestOf(c.der), c]));
}

let outlines: OutlineCache | undefined;

/** Outlines of certificates met in earlier runs (the CLI turns this on; see outline-cache.ts). */
export function useOutlineCache(cache: OutlineCache | undefined): void {
  outlines = cache;
}

/** Parse (or reuse) the certificate with this DER; undefined if it does not parse at all. */
export function certificateFromDer(der: Buffer): Certificate | undefined {
  const got = certificateOrReason(der);
  return typeof got === 'string' ? undefined : got;
}

/**
 * The certificate with this DER, or why it cannot be read. Only the outline is parsed (the
 * fields are decoded on first use); `decoded` also decodes every field, as a user's file and
 * anything judged must be.
 */
export function certificateOrReason(der: Buffer, opts: { decoded?: boolean; userFile?: boolean } = {}): Certificate | string {
  // Store roots (read for their outline only) are what runs meet again and again.
  const storeRoot = !opts.decoded && !opts.userFile;
  let cert: Certificate;
  try {
    cert = oneCopy(der, () => {
      const outline = storeRoot ? outlines?.get(der) : undefined;
      const made = new Certificate(der, outline);
      if (!outline && storeRoot) outlines?.add(der, made.outline);
      return made;
    });
  } catch (err) {
    if (err instanceof DerError) return err.message;
    if (err instanceof RangeError || err instanceof TypeError) return 'a field is missing or malformed';
    throw err;
  }
  if (!opts.decoded && !opts.userFile) return cert;
  const undecodable = cert.decodeError;
  if (undecodable) return undecodable;
  return opts.userFile ? openSslParses(cert) ?? cert : cert;
}

/**
 * A certificate an earlier run parsed from these very bytes (trust/store-snapshot.ts): its outline
 * and its notBefore as that run found them, so nothing is walked again.
 */
export function knownCertificate(der: Buffer, outline: CertificateOutline, notBefore: Date): Certificate {
  return oneCopy(der, () => new Certificate(der, outline, { notBefore }));
}

/** This run's one certificate with this DER: the one made before, or `make`'s, kept from now on. */
function oneCopy(der: Buffer, make: () => Certificate): Certificate {
  const key = der.toString('latin1', Math.max(0, der.length - 24));
  const bucket = cache.get(key);
  let cert = cached(bucket, der);
  if (!cert) {
    cert = make();
    remember(key, bucket, cert);
  }
  return cert;
}

/**
 * Real OpenSSL (d2i_X509, through Node) as the last judge of a user's certificate: what it
 * cannot parse no OpenSSL client (curl, Node, Python) can use either, whatever our reader says.
 */
function openSslParses(cert: Certificate): string | undefined {
  try {
    cert.x509();
    return undefined;
  } catch (err) {
    // Node tries DER and then PEM; the PEM error ("no start line") says nothing about the DER.
    return `OpenSSL cannot parse it${/no start line/.test((err as Error).message) ? '' : `: ${(err as Error).message}`}`;
  }
}

/**
 * A certificate from the wire, decoded whole, or undefined: what cannot be read is left out of
 * a chain the same way whether its outline or a field is damaged, and is never judged.
 */
export function decodedCertificate(der: Buffer): Certificate | undefined {
  const got = certificateOrReason(der, { decoded: true });
  return typeof got === 'string' ? undefined : got;
}

/** The one wording for a certificate that cannot be read, wherever a user's file is refused. */
export function unreadableCertificateMessage(path: string, where: string, reason: string): string {
  return `${path}: ${where} is not a valid X.509 certificate (${reason}): damaged, or not a certificate`;
}

export interface PemCertificates {
  certificates: Certificate[];
  /** CERTIFICATE blocks that did not parse. */
  unparsable: number;
  /** Other PEM blocks (keys, CRLs...) by label. */
  otherBlocks: string[];
  /** CERTIFICATE blocks with PEM headers: Go's AppendCertsFromPEM ignores them. */
  withHeaders: number;
  /** The blocks counted in `unparsable`: where each is and why it could not be read. */
  problems: { where: string; reason: string }[];
}

export interface PemOptions {
  /**
   * Read as Go's AppendCertsFromPEM does: only "CERTIFICATE" blocks without PEM headers. OpenSSL
   * also reads "TRUSTED CERTIFICATE" (the certificate followed by OpenSSL's trust settings).
   */
  goRules?: boolean;
  /** Decode every field now: a certificate with any field that cannot be decoded is unparsable. */
  decoded?: boolean;
  /** A user's file: decoded, and also parsed by real OpenSSL (x509/files.ts reads user files this way). */
  userFile?: boolean;
}

export function certificatesFromPem(text: string, opts: PemOptions = {}): PemCertificates {
  return certificatesFromBlocks(pemBlocks(text), opts);
}

// The fingerprints of the last PEM text asked for: planning a CA into a tree or an image reads
// the same ~200 KB bundle several times (where trust is kept, whether each CA is in each file),
// and decoding its base64 again each time was most of that.
let lastPem: { text: string; fingerprints: ReadonlySet<string> } | undefined;

/** The SHA-256 fingerprints of the certificates certificatesFromPem reads from this text. */
export function pemFingerprints(text: string): ReadonlySet<string> {
  if (lastPem?.text !== text) lastPem = { text, fingerprints: new Set(certificatesFromPem(text).certificates.map((c) => c.sha256)) };
  return lastPem.fingerprints;
}

export function certificatesFromBlocks(blocks: PemBlock[], opts: PemOptions = {}): PemCertificates {
  const out: PemCertificates = { certificates: [], unparsable: 0, otherBlocks: [], withHeaders: 0, problems: [] };
  for (const [i, block] of blocks.entries()) {
    const trusted = block.label === 'TRUSTED CERTIFICATE';
    if ((block.label !== 'CERTIFICATE' && !trusted) || (opts.goRules && (trusted || block.hasHeaders))) {
      out.otherBlocks.push(block.label);
      continue;
    }
    if (block.hasHeaders) out.withHeaders++;
    const cert = certificateOrReason(trusted ? firstElement(block.der) : block.der, opts);
    if (typeof cert !== 'string') out.certificates.push(cert);
    else {
      out.unparsable++;
      out.problems.push({ where: `PEM block ${i + 1} (${block.label})`, reason: cert });
    }
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
export function certificatesFromBytes(bytes: Buffer, opts: PemOptions = {}): PemCertificates {
  const text = bytes.toString('latin1');
  if (text.includes('-----BEGIN')) {
    const found = certificatesFromPem(text, opts);
    if (found.certificates.length === 0 && found.problems.length === 0) {
      found.problems.push({ where: 'the file', reason: 'no complete -----BEGIN CERTIFICATE----- ... -----END CERTIFICATE----- block' });
    }
    return found;
  }
  const der = bytes.length > 0 && bytes[0] === 0x30;
  const got = der ? certificateOrReason(bytes, opts) : 'neither PEM nor DER';
  const ok = typeof got !== 'string';
  return {
    certificates: ok ? [got] : [], unparsable: ok ? 0 : 1, otherBlocks: [], withHeaders: 0,
    problems: ok ? [] : [{ where: der ? 'the DER certificate' : 'the file', reason: got }],
  };
}
