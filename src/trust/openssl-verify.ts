// OpenSSL's X509_verify_cert as an SSL client runs it (purpose "ssl_server", trusted-first,
// no partial chains), which is what Node's tls.connect, curl, Python and git decide with.
// Two callers differ in one way that changes the answer: Node's verify callback always
// returns 1 so verification runs to the end and the LAST error is what Node reports, while
// curl's default callback stops at the FIRST error.
import type { Certificate } from '../x509/certificate.js';
import { parseIp } from '../x509/ip.js';
import { EKU, OPENSSL_HANDLED_CRITICAL } from '../x509/oids.js';

/** X509_V_ERR_* codes the emulation can produce, with OpenSSL 3's X509_verify_cert_error_string. */
export const OPENSSL_ERRORS = {
  UNABLE_TO_GET_ISSUER_CERT: { num: 2, text: 'unable to get issuer certificate' },
  CERT_SIGNATURE_FAILURE: { num: 7, text: 'certificate signature failure' },
  CERT_NOT_YET_VALID: { num: 9, text: 'certificate is not yet valid' },
  CERT_HAS_EXPIRED: { num: 10, text: 'certificate has expired' },
  DEPTH_ZERO_SELF_SIGNED_CERT: { num: 18, text: 'self-signed certificate' },
  SELF_SIGNED_CERT_IN_CHAIN: { num: 19, text: 'self-signed certificate in certificate chain' },
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: { num: 20, text: 'unable to get local issuer certificate' },
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: { num: 21, text: 'unable to verify the first certificate' },
  CERT_CHAIN_TOO_LONG: { num: 22, text: 'certificate chain too long' },
  INVALID_CA: { num: 24, text: 'invalid CA certificate' },
  PATH_LENGTH_EXCEEDED: { num: 25, text: 'path length constraint exceeded' },
  INVALID_PURPOSE: { num: 26, text: 'unsuitable certificate purpose' },
  KEYUSAGE_NO_CERTSIGN: { num: 32, text: 'key usage does not include certificate signing' },
  UNHANDLED_CRITICAL_EXTENSION: { num: 34, text: 'unhandled critical extension' },
  PERMITTED_VIOLATION: { num: 47, text: 'permitted subtree violation' },
  EXCLUDED_VIOLATION: { num: 48, text: 'excluded subtree violation' },
  HOSTNAME_MISMATCH: { num: 62, text: 'hostname mismatch' },
  IP_ADDRESS_MISMATCH: { num: 64, text: 'IP address mismatch' },
  EE_KEY_TOO_SMALL: { num: 66, text: 'EE certificate key too weak' },
  CA_KEY_TOO_SMALL: { num: 67, text: 'CA certificate key too weak' },
  CA_MD_TOO_WEAK: { num: 68, text: 'CA signature digest algorithm too weak' },
} as const;
export type OpenSslErrorName = keyof typeof OPENSSL_ERRORS;

export interface OpenSslError {
  name: OpenSslErrorName;
  depth: number;
  cert: Certificate;
}

/**
 * An X509_STORE: trust anchors looked up by subject name. OpenSSL compares names in a canonical
 * form (case and spacing folded); nearly always the bytes are identical, so the store is indexed
 * by the raw bytes and builds the canonical index only when a lookup misses.
 */
export class OpenSslStore {
  private byRaw = new Map<string, Certificate[]>();
  private byCanonical?: Map<string, Certificate[]>;
  private have = new Set<Certificate>();
  readonly certs: Certificate[] = [];

  constructor(certs: Iterable<Certificate> = []) {
    for (const c of certs) this.add(c);
  }

  add(cert: Certificate): void {
    if (this.have.has(cert)) return;
    this.have.add(cert);
    const key = cert.subjectRaw.toString('latin1');
    const list = this.byRaw.get(key) ?? [];
    list.push(cert);
    this.byRaw.set(key, list);
    this.certs.push(cert);
    this.byCanonical = undefined;
  }

  get size(): number {
    return this.certs.length;
  }

  /** Store certificates whose subject is `cert`'s issuer. */
  possibleIssuers(cert: Certificate): Certificate[] {
    // A store certificate whose fields cannot be decoded never loads into an X509_STORE.
    const exact = this.byRaw.get(cert.issuerRaw.toString('latin1'));
    if (exact) return exact.filter((c) => c.decodeError === undefined);
    if (!this.byCanonical) {
      this.byCanonical = new Map();
      for (const c of this.certs) {
        let canonical: string;
        try {
          canonical = c.subject.canonical; // only the names here: the whole decode is for candidates
        } catch {
          continue;
        }
        const list = this.byCanonical.get(canonical) ?? [];
        list.push(c);
        this.byCanonical.set(canonical, list);
      }
    }
    return (this.byCanonical.get(cert.issuer.canonical) ?? []).filter((c) => c.decodeError === undefined);
  }
}

export interface OpenSslVerifyOptions {
  /** The peer's certificate list as sent (leaf first); OpenSSL uses it all as "untrusted". */
  presented: Certificate[];
  store: OpenSslStore;
  now: Date;
  /** The SSL security level (auth_level): 1 for OpenSSL 3.0/3.1, 2 from 3.2 on and on hardened distros. */
  securityLevel: number;
  /** curl-like callers stop at the first error; Node continues and reports the last one. */
  stopAtFirstError: boolean;
  maxDepth?: number;
}

export interface OpenSslVerifyResult {
  /** The chain OpenSSL built, leaf first. */
  chain: Certificate[];
  trusted: boolean;
  /** Every error the verify callback saw, in order. */
  errors: OpenSslError[];
  /** The error the caller reports (first or last, per stopAtFirstError), if any. */
  error?: OpenSslError;
}

const MIN_BITS = [80, 112, 128, 192, 256];

class Stop extends Error {}

export function opensslVerify(opts: OpenSslVerifyOptions): OpenSslVerifyResult {
  const leaf = opts.presented[0]!;
  const errors: OpenSslError[] = [];
  const chain: Certificate[] = [leaf];
  let numUntrusted = 1;
  let trusted = false;

  const fail = (name: OpenSslErrorName, depth: number, cert: Certificate) => {
    errors.push({ name, depth, cert });
    if (opts.stopAtFirstError) throw new Stop();
  };

  try {
    if (!keyLevelOk(leaf, opts.securityLevel)) fail('EE_KEY_TOO_SMALL', 0, leaf);

    // ---- build_chain (trusted first) ----
    const maxDepth = (opts.maxDepth ?? 100) + 1;
    const untrusted = [...opts.presented];
    let searchUntrusted = true;
    let ctxError: OpenSslErrorName | undefined = errors[errors.length - 1]?.name;
    for (;;) {
      let num = chain.length;
      const curr = chain[num - 1]!;
      let extended = false;
      const issuer = num > maxDepth ? undefined : storeIssuer(opts.store, curr, opts.now);
      if (issuer) {
        let selfSigned = isSelfSignedOpenSsl(curr);
        let ok = true;
        if (!selfSigned) {
          chain.push(issuer);
          selfSigned = isSelfSignedOpenSsl(issuer);
        } else if (!curr.der.equals(issuer.der)) {
          ok = false; // a self-signed impostor with a trusted name: never trusted
        } else {
          chain[num - 1] = issuer;
          numUntrusted = --num;
        }
        if (ok) {
          searchUntrusted = false;
          if (checkTrust(chain, num)) { trusted = true; break; }
          if (!selfSigned) continue;
        }
      }
      if (!searchUntrusted) break;
      const next = isSelfSignedOpenSsl(curr) || num > maxDepth ? undefined : bestIssuer(untrusted, chain, curr, opts.now);
      if (!next) {
        searchUntrusted = false;
        // one more trusted lookup for the same certificate happens, and finds nothing new
        if (!extended) continue;
      } else {
        untrusted.splice(untrusted.indexOf(next), 1);
        chain.push(next);
        numUntrusted++;
        extended = true;
      }
    }

    if (!trusted) {
      const num = chain.length;
      const top = chain[num - 1]!;
      ctxError = errors[errors.length - 1]?.name;
      if (ctxError) fail(ctxError, num - 1, top); // "a preliminary error has become final"
      else if (num > maxDepth) fail('CERT_CHAIN_TOO_LONG', num - 1, top);
      else if (isSelfSignedOpenSsl(top)) fail(num === 1 ? 'DEPTH_ZERO_SELF_SIGNED_CERT' : 'SELF_SIGNED_CERT_IN_CHAIN', num - 1, top);
      else fail(numUntrusted < num ? 'UNABLE_TO_GET_ISSUER_CERT' : 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', num - 1, top);
    }

    // ---- check_extensions ----
    let plen = 0;
    for (let i = 0; i < chain.length; i++) {
      const x = chain[i]!;
      if (x.extensions.some((e) => e.critical && !OPENSSL_HANDLED_CRITICAL.has(e.oid))) fail('UNHANDLED_CRITICAL_EXTENSION', i, x);
      if (i > 0) {
        const ca = checkCa(x);
        if (ca === 0 || (i + 1 < chain.length && ca !== 1)) fail('INVALID_CA', i, x);
      }
      if (!purposeOk(x, i > 0)) fail('INVALID_PURPOSE', i, x);
      const pathLen = x.basicConstraints?.ca ? x.basicConstraints.pathLen : null;
      if (i > 1 && pathLen !== null && pathLen !== undefined && plen > pathLen) fail('PATH_LENGTH_EXCEEDED', i, x);
      if (i > 0 && !x.selfIssued) plen++;
    }

    // ---- check_auth_level ----
    if (opts.securityLevel > 0) {
      for (let i = 0; i < chain.length; i++) {
        const x = chain[i]!;
        if (i > 0 && !keyLevelOk(x, opts.securityLevel)) fail('CA_KEY_TOO_SMALL', i, x);
        if (i < chain.length - 1 && x.signature.secBits < MIN_BITS[Math.min(opts.securityLevel, 5) - 1]!) fail('CA_MD_TOO_WEAK', i, x);
      }
    }

    // ---- internal_verify: signatures from the top down, then validity times ----
    let n = chain.length - 1;
    let xi = chain[n]!;
    let xs = xi;
    if (!likelyIssued(xi, xi)) {
      if (n > 0) {
        n--;
        xs = chain[n]!;
      } else {
        fail('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 0, xi);
      }
    }
    while (n >= 0) {
      if (xs !== xi) {
        if (xi.keyUsage && !xi.keyUsage.has('keyCertSign')) fail('KEYUSAGE_NO_CERTSIGN', n + 1, xi);
        if (!xs.signedBy(xi)) fail('CERT_SIGNATURE_FAILURE', n, xs);
      }
      if (opts.now < xs.notBefore) fail('CERT_NOT_YET_VALID', n, xs);
      if (opts.now > xs.notAfter) fail('CERT_HAS_EXPIRED', n, xs);
      if (--n >= 0) {
        xi = xs;
        xs = chain[n]!;
      }
    }

    // ---- check_name_constraints (DNS and IP, the kinds real private CAs use) ----
    for (let i = chain.length - 1; i >= 0; i--) {
      const x = chain[i]!;
      if (i !== 0 && x.selfIssued) continue;
      for (let j = chain.length - 1; j > i; j--) {
        const nc = chain[j]!.nameConstraints;
        if (!nc || !x.san) continue;
        for (const dns of x.san.dns) {
          if (nc.excludedDns.some((c) => dnsWithin(dns, c))) fail('EXCLUDED_VIOLATION', i, x);
          else if (nc.permittedDns.length > 0 && !nc.permittedDns.some((c) => dnsWithin(dns, c))) fail('PERMITTED_VIOLATION', i, x);
        }
      }
    }
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
  }

  const error = opts.stopAtFirstError ? errors[0] : errors[errors.length - 1];
  return { chain, trusted, errors, ...(error ? { error } : {}) };
}

/** OpenSSL's EXFLAG_SS: self-issued, any AKID agrees with the SKID, signature type fits the key. */
export function isSelfSignedOpenSsl(c: Certificate): boolean {
  return c.selfSigned && sigAlgMatchesKey(c, c);
}

function sigAlgMatchesKey(issuer: Certificate, subject: Certificate): boolean {
  const sigKey = subject.signature.key === 'RSA-PSS' ? 'RSA' : subject.signature.key;
  const key = issuer.publicKey.type === 'RSA-PSS' ? 'RSA' : issuer.publicKey.type;
  return sigKey === 'unknown' || key === 'unknown' || sigKey === key;
}

/** ossl_x509_likely_issued: names, authority key id, and signature type against the key. */
export function likelyIssued(issuer: Certificate, subject: Certificate): boolean {
  if (!issuer.subjectRaw.equals(subject.issuerRaw) && issuer.subject.canonical !== subject.issuer.canonical) return false;
  if (subject.authorityKeyId && issuer.subjectKeyId && !subject.authorityKeyId.equals(issuer.subjectKeyId)) return false;
  if (subject.authorityCertSerialHex && subject.authorityCertSerialHex !== issuer.serialHex) return false;
  return sigAlgMatchesKey(issuer, subject);
}

const timeOk = (c: Certificate, now: Date) => now >= c.notBefore && now <= c.notAfter;

/** X509_STORE_CTX_get1_issuer: first matching anchor valid now, else the one expiring last. */
function storeIssuer(store: OpenSslStore, x: Certificate, now: Date): Certificate | undefined {
  let best: Certificate | undefined;
  for (const c of store.possibleIssuers(x)) {
    if (!likelyIssued(c, x)) continue;
    if (timeOk(c, now)) return c;
    if (!best || c.notAfter > best.notAfter) best = c;
  }
  return best;
}

/** get0_best_issuer_sk over the peer's certificates, skipping those already in the chain. */
function bestIssuer(sk: Certificate[], chain: Certificate[], x: Certificate, now: Date): Certificate | undefined {
  let best: Certificate | undefined;
  for (const c of sk) {
    if (!(x.selfIssued && chain.length === 1) && chain.some((y) => y.der.equals(c.der))) continue;
    if (!likelyIssued(c, x)) continue;
    if (timeOk(c, now)) return c;
    if (!best || c.notAfter > best.notAfter) best = c;
  }
  return best;
}

/** check_trust without auxiliary trust settings: the first self-signed store certificate anchors the chain. */
function checkTrust(chain: Certificate[], fromIndex: number): boolean {
  for (let i = fromIndex; i < chain.length; i++) if (isSelfSignedOpenSsl(chain[i]!)) return true;
  return false;
}

/** X509_check_ca's answer: 0 = not a CA, 1 = a CA by basicConstraints, 3/4 = tolerated legacy forms. */
export function checkCa(x: Certificate): number {
  if (x.keyUsage && !x.keyUsage.has('keyCertSign')) return 0;
  if (x.basicConstraints) return x.basicConstraints.ca ? 1 : 0;
  if (x.version === 1 && isSelfSignedOpenSsl(x)) return 3;
  if (x.keyUsage) return 4;
  return 0;
}

/** check_purpose_ssl_server: EKU must allow serverAuth (or SGC); a leaf's key usage must allow TLS. */
function purposeOk(x: Certificate, requireCa: boolean): boolean {
  const eku = x.extKeyUsage;
  if (eku && !eku.some((u) => u === EKU.serverAuth || u === EKU.msSGC || u === EKU.nsSGC)) return false;
  if (requireCa) return checkCa(x) !== 0;
  const ku = x.keyUsage;
  if (ku && !ku.has('digitalSignature') && !ku.has('keyEncipherment') && !ku.has('keyAgreement')) return false;
  return true;
}

/** EVP_PKEY_get_security_bits for the key types servers use. */
export function keySecurityBits(c: Certificate): number {
  const { type, bits } = c.publicKey;
  switch (type) {
    case 'RSA':
    case 'RSA-PSS':
    case 'DSA':
      if (bits >= 15360) return 256;
      if (bits >= 7680) return 192;
      if (bits >= 3072) return 128;
      if (bits >= 2048) return 112;
      if (bits >= 1024) return 80;
      return 0;
    case 'EC':
      return Math.floor(bits / 2);
    case 'Ed25519':
      return 128;
    case 'Ed448':
      return 224;
    default:
      return 0;
  }
}

function keyLevelOk(c: Certificate, level: number): boolean {
  if (level <= 0) return true;
  return keySecurityBits(c) >= MIN_BITS[Math.min(level, 5) - 1]!;
}

function dnsWithin(name: string, constraint: string): boolean {
  const n = name.toLowerCase();
  const c = constraint.toLowerCase().replace(/^\./, '');
  if (c === '') return true;
  return n === c || n.endsWith(`.${c}`);
}

/** X509_check_ip: an IP target matches only IP SANs. */
export function opensslIpMatches(c: Certificate, ip: Buffer): boolean {
  return (c.san?.ip ?? []).some((s) => parseIp(s)?.equals(ip));
}

/** OpenSSL's X509_check_host with default flags: DNS SANs, else the subject CN; IP targets use IP SANs. */
export function opensslHostMatches(c: Certificate, host: string): boolean {
  const ip = parseIp(host.replace(/^\[(.*)\]$/, '$1'));
  if (ip) return opensslIpMatches(c, ip);
  const h = host.toLowerCase().replace(/\.$/, '');
  const match = (pattern: string) => {
    const p = pattern.toLowerCase();
    if (p === h) return true;
    // A wildcard only as the whole left-most label, and never matching an IP or a bare TLD.
    if (!p.startsWith('*.')) return false;
    const rest = p.slice(2);
    const dot = h.indexOf('.');
    return dot > 0 && h.slice(dot + 1) === rest && rest.includes('.');
  };
  const dns = c.san?.dns ?? [];
  if (dns.length > 0) return dns.some(match);
  const cns = c.subject.rdns.flat().filter((a) => a.type === 'CN').map((a) => a.value);
  return cns.some(match);
}
