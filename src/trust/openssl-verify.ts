// OpenSSL's X509_verify_cert as an SSL client runs it (purpose "ssl_server", trusted-first,
// no partial chains), which is what Node's tls.connect, curl, Python and git decide with.
// Two callers differ in one way that changes the answer: Node's verify callback always
// returns 1 so verification runs to the end and the LAST error is what Node reports, while
// curl's default callback stops at the FIRST error.
import type { Certificate } from '../x509/certificate.js';
import { parseIp } from '../platform/ip.js';
import { EKU, OPENSSL_HANDLED_CRITICAL } from '../x509/oids.js';
import { GEN, opensslFacts, type OpenSslAkid, type OpenSslFacts } from '../x509/openssl-parse.js';
import { nameConstraintsCheck, nameConstraintsCheckCn } from './openssl-ncons.js';
import { mayBeSameName } from '../x509/name-key.js';
import { SubjectIndex } from './subject-index.js';

/** X509_V_ERR_* codes the emulation can produce, with OpenSSL 3's X509_verify_cert_error_string. */
export const OPENSSL_ERRORS = {
  UNSPECIFIED: { num: 1, text: 'unspecified certificate verification error' },
  UNABLE_TO_GET_ISSUER_CERT: { num: 2, text: 'unable to get issuer certificate' },
  UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY: { num: 6, text: 'unable to decode issuer public key' },
  CERT_SIGNATURE_FAILURE: { num: 7, text: 'certificate signature failure' },
  CERT_NOT_YET_VALID: { num: 9, text: 'certificate is not yet valid' },
  CERT_HAS_EXPIRED: { num: 10, text: 'certificate has expired' },
  DEPTH_ZERO_SELF_SIGNED_CERT: { num: 18, text: 'self-signed certificate' },
  SELF_SIGNED_CERT_IN_CHAIN: { num: 19, text: 'self-signed certificate in certificate chain' },
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: { num: 20, text: 'unable to get local issuer certificate' },
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: { num: 21, text: 'unable to verify the first certificate' },
  CERT_CHAIN_TOO_LONG: { num: 22, text: 'certificate chain too long' },
  INVALID_CA: { num: 79, text: 'invalid CA certificate' }, // 24 until OpenSSL 1.1.1
  PATH_LENGTH_EXCEEDED: { num: 25, text: 'path length constraint exceeded' },
  INVALID_PURPOSE: { num: 26, text: 'unsuitable certificate purpose' },
  KEYUSAGE_NO_CERTSIGN: { num: 32, text: 'key usage does not include certificate signing' },
  UNHANDLED_CRITICAL_EXTENSION: { num: 34, text: 'unhandled critical extension' },
  PERMITTED_VIOLATION: { num: 47, text: 'permitted subtree violation' },
  EXCLUDED_VIOLATION: { num: 48, text: 'excluded subtree violation' },
  SUBTREE_MINMAX: { num: 49, text: 'name constraints minimum and maximum not supported' },
  UNSUPPORTED_CONSTRAINT_TYPE: { num: 51, text: 'unsupported name constraint type' },
  UNSUPPORTED_CONSTRAINT_SYNTAX: { num: 52, text: 'unsupported or invalid name constraint syntax' },
  UNSUPPORTED_NAME_SYNTAX: { num: 53, text: 'unsupported or invalid name syntax' },
  HOSTNAME_MISMATCH: { num: 62, text: 'hostname mismatch' },
  IP_ADDRESS_MISMATCH: { num: 64, text: 'IP address mismatch' },
  EE_KEY_TOO_SMALL: { num: 66, text: 'EE certificate key too weak' },
  CA_KEY_TOO_SMALL: { num: 67, text: 'CA certificate key too weak' },
  CA_MD_TOO_WEAK: { num: 68, text: 'CA signature digest algorithm too weak' },
  EC_KEY_EXPLICIT_PARAMS: { num: 94, text: 'Certificate public key has explicit ECC parameters' },
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
 * by the raw bytes. When a lookup misses, only the certificates whose name key (x509/name-key.ts,
 * read from the raw bytes) allows an equal canonical form are decoded and compared.
 */
export class OpenSslStore {
  private byRaw = new Map<string, Certificate[]>();
  /** For look-ups whose bytes match no subject exactly (built on the first). */
  private index: SubjectIndex | undefined;
  private have = new Set<Certificate>();
  readonly certs: Certificate[] = [];

  constructor(certs: Iterable<Certificate> = []) {
    for (const c of certs) this.add(c);
  }

  add(cert: Certificate): void {
    if (this.have.has(cert)) return;
    this.index = undefined;
    this.have.add(cert);
    const key = cert.subjectKey;
    const list = this.byRaw.get(key) ?? [];
    list.push(cert);
    this.byRaw.set(key, list);
    this.certs.push(cert);
  }

  get size(): number {
    return this.certs.length;
  }

  /** Store certificates whose subject is `cert`'s issuer. */
  possibleIssuers(cert: Certificate): Certificate[] {
    return this.named(cert.issuerRaw, cert.issuerKey, () => cert.issuer.canonical);
  }

  /** Store certificates with `cert`'s own subject (lookup_cert_match). */
  withSubject(cert: Certificate): Certificate[] {
    return this.named(cert.subjectRaw, cert.subjectKey, () => cert.subject.canonical);
  }

  private named(raw: Buffer, key: string, canonicalOf: () => string): Certificate[] {
    // A store certificate whose fields cannot be decoded never loads into an X509_STORE.
    const exact = this.byRaw.get(key);
    if (exact) return exact.filter((c) => c.decodeError === undefined);
    const canonical = canonicalOf();
    const out: Certificate[] = [];
    for (const c of (this.index ??= new SubjectIndex(this.certs)).mayBeNamed(raw)) {
      let subject: string;
      try {
        subject = c.subject.canonical; // only the names here: the whole decode is for candidates
      } catch {
        continue;
      }
      if (subject === canonical && c.decodeError === undefined) out.push(c);
    }
    return out;
  }
}

/**
 * A security level, or a bound on it and how to learn it: `level()` is asked only when a key or a
 * signature is weaker than `atMost` demands, so a chain of ordinary keys never pays for asking
 * (views.ts learns Node's by loading a probe certificate into an SSL context).
 */
export type SecurityLevel = number | { atMost: number; level: () => number };

/** The level's bound now, the exact level when a check needs it (asked once). */
interface Level { atMost: number; exact: () => number }

function levelOf(given: SecurityLevel): Level {
  if (typeof given === 'number') return { atMost: given, exact: () => given };
  let exact: number | undefined;
  return { atMost: given.atMost, exact: () => (exact ??= given.level()) };
}

/** ssl_security_default_callback's test: `bits` of security meet the level (none needed at level 0). */
function bitsOk(bits: number, level: Level): boolean {
  if (level.atMost <= 0 || bits >= MIN_BITS[Math.min(level.atMost, 5) - 1]!) return true;
  const exact = level.exact();
  return exact <= 0 || bits >= MIN_BITS[Math.min(exact, 5) - 1]!;
}

export interface OpenSslVerifyOptions {
  /** The peer's certificate list as sent (leaf first); OpenSSL uses it all as "untrusted". */
  presented: Certificate[];
  store: OpenSslStore;
  now: Date;
  /** The SSL security level (auth_level): 1 for OpenSSL 3.0/3.1, 2 from 3.2 on and on hardened distros. */
  securityLevel: SecurityLevel;
  /** curl-like callers stop at the first error; Node continues and reports the last one. */
  stopAtFirstError: boolean;
  /**
   * X509_V_FLAG_PARTIAL_CHAIN: any certificate in the store is an anchor, self-signed or not.
   * curl (7.68+) and Python (3.13+) set it; Node and the openssl tool do not.
   */
  partialChain?: boolean;
  maxDepth?: number;
}

export interface OpenSslVerifyResult {
  /** The chain OpenSSL built, leaf first. */
  chain: Certificate[];
  trusted: boolean;
  /** Every error the verify callback saw, in order. */
  errors: OpenSslError[];
  /**
   * The error the caller reports (first or last, per stopAtFirstError), if any. Its depth is what
   * X509_STORE_CTX_get_error_depth says afterwards: with Node's callback, internal_verify's
   * success signals move it down the chain after the error; `cert` stays the certificate at fault.
   */
  error?: OpenSslError;
}

// check_key_level / check_sig_level: the minimum security bits per auth level 1..5.
const MIN_BITS = [80, 112, 128, 192, 256];

class Stop extends Error {}

const factsCache = new WeakMap<Certificate, OpenSslFacts>();
/** ossl_x509v3_cache_extensions' view of a certificate, computed once. */
export function facts(c: Certificate): OpenSslFacts {
  let f = factsCache.get(c);
  if (!f) factsCache.set(c, (f = opensslFacts(c)));
  return f;
}

export function opensslVerify(opts: OpenSslVerifyOptions): OpenSslVerifyResult {
  const leaf = opts.presented[0]!;
  const level = levelOf(opts.securityLevel);
  const errors: OpenSslError[] = [];
  const chain: Certificate[] = [leaf];
  let numUntrusted = 1;
  let trusted = false;
  const partial = opts.partialChain === true;

  // ctx->error_depth: set by every error, and by internal_verify's success callback at each depth.
  let errorDepth = 0;
  const fail = (name: OpenSslErrorName, depth: number, cert: Certificate) => {
    errors.push({ name, depth, cert });
    errorDepth = depth;
    if (opts.stopAtFirstError) throw new Stop();
  };

  /** check_trust: a self-signed store certificate anchors; with PARTIAL_CHAIN any store certificate does. */
  const checkTrust = (from: number): boolean => {
    for (let i = from; i < chain.length; i++) if (isSelfSignedOpenSsl(chain[i]!)) return true;
    if (from < chain.length) return partial;
    if (from === chain.length && partial) {
      // Last resort: the leaf itself is in the store (lookup_cert_match).
      const match = opts.store.withSubject(chain[0]!).find((c) => c.der.equals(chain[0]!.der));
      if (match) {
        chain[0] = match;
        numUntrusted = 0;
        return true;
      }
    }
    return false;
  };

  try {
    // x509_verify_x509: the peer's own key first.
    if (!keyLevelOk(leaf, level)) fail('EE_KEY_TOO_SMALL', 0, leaf);

    // ---- build_chain: trusted first (X509_V_FLAG_TRUSTED_FIRST is the default) ----
    const maxDepth = (opts.maxDepth ?? 100) + 1;
    const untrusted = [...opts.presented];
    let searchUntrusted = true;
    let searchTrusted = true;
    while (searchUntrusted || searchTrusted) {
      let num = chain.length;
      if (searchTrusted) {
        const curr = chain[num - 1]!;
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
            numUntrusted = --num;
            chain[num] = issuer;
          }
          if (ok) {
            searchUntrusted = false;
            if (checkTrust(num)) { trusted = true; break; }
            if (!selfSigned) continue;
          }
        }
        if (!searchUntrusted) break;
      }
      if (searchUntrusted) {
        num = chain.length;
        const curr = chain[num - 1]!;
        const next = isSelfSignedOpenSsl(curr) || num > maxDepth ? undefined : bestIssuer(untrusted, chain, curr, opts.now);
        if (!next) {
          searchUntrusted = false;
          searchTrusted = true;
          continue;
        }
        untrusted.splice(untrusted.indexOf(next), 1);
        chain.push(next);
        numUntrusted++;
      }
    }
    if (!trusted && chain.length <= maxDepth && chain.length === numUntrusted) trusted = checkTrust(chain.length);

    if (!trusted) {
      const num = chain.length;
      const top = chain[num - 1]!;
      const ctxError = errors[errors.length - 1]?.name;
      if (ctxError) fail(ctxError, num - 1, top); // "a preliminary error has become final"
      else if (num > maxDepth) fail('CERT_CHAIN_TOO_LONG', num - 1, top);
      else if (isSelfSignedOpenSsl(top)) fail(num === 1 ? 'DEPTH_ZERO_SELF_SIGNED_CERT' : 'SELF_SIGNED_CERT_IN_CHAIN', num - 1, top);
      else fail(numUntrusted < num ? 'UNABLE_TO_GET_ISSUER_CERT' : 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', num - 1, top);
    }

    // ---- check_extensions ----
    let plen = 0;
    for (let i = 0; i < chain.length; i++) {
      const x = chain[i]!;
      const f = facts(x);
      if (x.extensions.some((e) => e.critical && !OPENSSL_HANDLED_CRITICAL.has(e.oid))) fail('UNHANDLED_CRITICAL_EXTENSION', i, x);
      if (i > 0) {
        // X509_V_FLAG_X509_STRICT is implicit for intermediate CAs.
        const ca = checkCa(x);
        if (ca === 0 || (i + 1 < chain.length && ca !== 1)) fail('INVALID_CA', i, x);
      }
      if (chain.length > 1) {
        // check_curve: a key that does not decode, or an EC key with explicit parameters.
        if (f.keyMissing) fail('UNSPECIFIED', i, x);
        else if (f.explicitCurve) fail('EC_KEY_EXPLICIT_PARAMS', i, x);
      }
      // X509_check_purpose answers -1 for an EXFLAG_INVALID certificate, which passes unless strict.
      if (!f.invalid && !purposeOk(x, i > 0)) fail('INVALID_PURPOSE', i, x);
      const pathLen = x.basicConstraints?.pathLen;
      if (i > 1 && pathLen !== null && pathLen !== undefined && plen > pathLen) fail('PATH_LENGTH_EXCEEDED', i, x);
      if (i > 0 && !x.selfIssued) plen++;
    }

    // ---- check_auth_level ----
    if (level.atMost > 0) {
      for (let i = 0; i < chain.length; i++) {
        const x = chain[i]!;
        if (i > 0 && !keyLevelOk(x, level)) fail('CA_KEY_TOO_SMALL', i, x);
        if (i < chain.length - 1 && !bitsOk(x.signature.secBits, level)) fail('CA_MD_TOO_WEAK', i, x);
      }
    }

    // X509_get_pubkey_parameters: a key in the chain that does not decode ends verification
    // (an internal error: the last error stands, or "unspecified").
    if (chain.some((c) => facts(c).keyMissing)) {
      if (errors.length === 0) errors.push({ name: 'UNSPECIFIED', depth: 0, cert: leaf });
      throw new Stop();
    }

    // ---- internal_verify: signatures from the top down, then validity times ----
    let n = chain.length - 1;
    let xi = chain[n]!;
    let xs = xi;
    let checkSignature = true;
    if (!likelyIssued(xi, xi)) {
      if (partial) {
        checkSignature = false; // a partial chain's anchor is taken as is
      } else if (n > 0) {
        n--;
        xs = chain[n]!;
      } else {
        fail('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 0, xi);
        checkSignature = false;
      }
    }
    while (n >= 0) {
      if (checkSignature && xs !== xi) {
        // ossl_x509_signing_allowed: an issuer whose key usage lacks keyCertSign.
        if (xi.keyUsage && !xi.keyUsage.has('keyCertSign')) fail('KEYUSAGE_NO_CERTSIGN', n + 1, xi);
        if (facts(xi).keyMissing) fail('UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY', n + 1, xi);
        else if (!xs.signedBy(xi)) fail('CERT_SIGNATURE_FAILURE', n, xs);
      }
      checkSignature = true;
      // ossl_x509_check_cert_time: X509_cmp_time counts "equal" as "before", so a certificate
      // is already expired at the second of its notAfter.
      if (opts.now < xs.notBefore) fail('CERT_NOT_YET_VALID', n, xs);
      if (opts.now >= xs.notAfter) fail('CERT_HAS_EXPIRED', n, xs);
      errorDepth = n; // "signal success at this depth; the previous error, if any, is retained"
      if (--n >= 0) {
        xi = xs;
        xs = chain[n]!;
      }
    }

    // ---- check_name_constraints (OpenSSL 3.0) ----
    for (let i = chain.length - 1; i >= 0; i--) {
      const x = chain[i]!;
      if (i !== 0 && x.selfIssued) continue; // self-issued certificates are exempt unless the leaf
      for (let j = chain.length - 1; j > i; j--) {
        const nc = facts(chain[j]!).nc;
        if (!nc) continue;
        let r = nameConstraintsCheck(x, facts(x), nc);
        // 3.0: the leaf's CN is held against DNS constraints when it has no DNS SAN.
        if (r === 'OK' && i === 0 && !(facts(x).altNames ?? []).some((g) => g.type === GEN.DNS)) r = nameConstraintsCheckCn(x, nc);
        if (r !== 'OK') fail(r, i, x);
      }
    }
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
  }

  const last = errors[errors.length - 1];
  const error = opts.stopAtFirstError ? errors[0] : last && { ...last, depth: errorDepth };
  return { chain, trusted, errors, ...(error ? { error } : {}) };
}

/** X509_check_akid: any key id, serial and issuer name in the AKID must describe `issuer`. */
function akidMatches(issuer: Certificate, akid: OpenSslAkid | undefined): boolean {
  if (!akid) return true;
  const skid = issuer.subjectKeyId;
  if (akid.keyId && skid && !akid.keyId.equals(skid)) return false;
  if (akid.serialHex !== undefined && akid.serialHex !== issuer.serialHex) return false;
  if (akid.issuer !== undefined && akid.issuer !== issuer.issuer.canonicalRdns.join('/')) return false;
  return true;
}

/**
 * OpenSSL's EXFLAG_SS: self-issued, the AKID (if any) describes the certificate itself, and the
 * signature type fits its key; an EXFLAG_INVALID certificate is never self-signed (X509_self_signed).
 */
export function isSelfSignedOpenSsl(c: Certificate): boolean {
  const f = facts(c);
  return !f.invalid && c.selfIssued && akidMatches(c, f.akid) && !f.keyMissing && sigAlgMatchesKey(c, c);
}

function sigAlgMatchesKey(issuer: Certificate, subject: Certificate): boolean {
  const sigKey = subject.signature.key === 'RSA-PSS' ? 'RSA' : subject.signature.key;
  const key = issuer.publicKey.type === 'RSA-PSS' ? 'RSA' : issuer.publicKey.type;
  return sigKey === 'unknown' || key === 'unknown' || sigKey === key;
}

/** ossl_x509_likely_issued: names, both certificates valid, the AKID, and signature type against a decodable key. */
export function likelyIssued(issuer: Certificate, subject: Certificate): boolean {
  if (issuer.subjectKey !== subject.issuerKey && (!mayBeSameName(issuer.subjectRaw, subject.issuerRaw) || issuer.subject.canonical !== subject.issuer.canonical)) return false;
  const fi = facts(issuer), fs = facts(subject);
  if (fi.invalid || fs.invalid) return false;
  if (!akidMatches(issuer, fs.akid)) return false;
  if (fi.keyMissing) return false; // check_sig_alg_match: X509_V_ERR_NO_ISSUER_PUBLIC_KEY
  return sigAlgMatchesKey(issuer, subject);
}

/** ossl_x509_check_cert_time with no error report (depth -1): notBefore <= now < notAfter. */
const timeOk = (c: Certificate, now: Date) => now >= c.notBefore && now < c.notAfter;

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

/** X509_check_ca's answer: 0 = not a CA, 1 = a CA by basicConstraints, 3/4 = tolerated legacy forms. */
export function checkCa(x: Certificate): number {
  if (facts(x).invalid) return 0; // ossl_x509v3_cache_extensions failed
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

/** EVP_PKEY_get_security_bits of the certificate's key (0 when OpenSSL cannot decode it). */
export function keySecurityBits(c: Certificate): number {
  return facts(c).securityBits;
}

function keyLevelOk(c: Certificate, level: Level): boolean {
  return level.atMost <= 0 || bitsOk(keySecurityBits(c), level);
}

/** X509_check_ip: an IP target matches only IP SANs, byte for byte. */
export function opensslIpMatches(c: Certificate, ip: Buffer): boolean {
  return (facts(c).altNames ?? []).some((g) => g.type === GEN.IPADD && g.data.equals(ip));
}

const isAlnum = (c: string) => /[A-Za-z0-9]/.test(c);

/**
 * valid_star (crypto/x509/v3_utl.c): the one '*' of a pattern, allowed only in a first label
 * that is not IDNA, at the start or end of that label, with at least two dots after it.
 * Returns the star's index, or -1 when the pattern is to be compared literally.
 */
function validStar(p: string): number {
  let star = -1;
  let atLabelStart = true, idna = false, hyphen = false;
  let dots = 0;
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '*') {
      const atEnd = i === p.length - 1 || p[i + 1] === '.';
      if (star >= 0 || idna || dots > 0) return -1;
      // X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS: only a whole-label '*' (curl's own matcher and
      // Python's ssl module allow no 'b*' or '*z' either).
      if (!atLabelStart || !atEnd) return -1;
      star = i;
      atLabelStart = false;
    } else if (isAlnum(c)) {
      if (atLabelStart && p.slice(i, i + 4).toLowerCase() === 'xn--') idna = true;
      atLabelStart = false;
      hyphen = false;
    } else if (c === '.') {
      if (hyphen || atLabelStart) return -1;
      atLabelStart = true;
      idna = false;
      dots++;
    } else if (c === '-') {
      if (atLabelStart) return -1;
      hyphen = true;
    } else {
      return -1;
    }
  }
  if (atLabelStart || hyphen || dots < 2) return -1;
  return star;
}

/** wildcard_match: prefix and suffix around the star, the star standing for part of one label. */
function wildcardMatch(prefix: string, suffix: string, subject: string): boolean {
  if (subject.length < prefix.length + suffix.length) return false;
  if (subject.slice(0, prefix.length).toLowerCase() !== prefix.toLowerCase()) return false;
  const wildEnd = subject.length - suffix.length;
  if (subject.slice(wildEnd).toLowerCase() !== suffix.toLowerCase()) return false;
  const middle = subject.slice(prefix.length, wildEnd);
  let allowIdna = false;
  if (prefix.length === 0 && suffix.startsWith('.')) {
    if (middle.length === 0) return false; // a whole-label star matches at least one character
    allowIdna = true;
  }
  if (!allowIdna && subject.slice(0, 4).toLowerCase() === 'xn--') return false;
  if (middle === '*') return true;
  return /^[A-Za-z0-9-]*$/.test(middle);
}

/** equal_wildcard (with equal_nocase for literal patterns). */
function equalWildcard(pattern: string, subject: string): boolean {
  const star = subject.length > 1 && subject.startsWith('.') ? -1 : validStar(pattern);
  if (star < 0) return pattern.length === subject.length && !pattern.includes('\0') && pattern.toLowerCase() === subject.toLowerCase();
  return wildcardMatch(pattern.slice(0, star), pattern.slice(star + 1), subject);
}

/**
 * X509_check_host with X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS: DNS SANs, else the subject CNs; IP
 * targets use IP SANs. A trailing dot on the name is dropped first, as curl does.
 */
export function opensslHostMatches(c: Certificate, name: string): boolean {
  const ip = parseIp(name.replace(/^\[(.*)\]$/, '$1'));
  if (ip) return opensslIpMatches(c, ip);
  const host = name.length > 1 ? name.replace(/\.$/, '') : name;
  const altNames = facts(c).altNames ?? [];
  const dns = altNames.filter((g) => g.type === GEN.DNS).map((g) => g.data.toString('latin1'));
  if (dns.length > 0) return dns.some((d) => equalWildcard(d, host));
  const cns = c.subject.rdns.flat().filter((a) => a.type === 'CN').map((a) => a.value);
  return cns.some((cn) => equalWildcard(cn, host));
}
