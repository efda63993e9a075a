// Go's crypto/x509 Certificate.Verify, as crypto/tls calls it for a client (Linux and any
// platform where Go does its own verification), following Go 1.23 (GO_RULES_VERSION; held to the
// real thing over x509-limbo by test/unit/trust/conformance.test.ts). The point is to reach the SAME decision and
// the SAME error text as Ollama would, so the structure follows Go's verify.go closely:
// leaf validity, hostname, then depth-first path building where roots are tried before
// intermediates and the error of the last candidate considered is what surfaces.
import { parseIp } from '../platform/ip.js';
import type { Certificate } from '../x509/certificate.js';
import { EKU, EXT } from '../x509/oids.js';
import { GO_RULES_VERSION, goReverseLabels, goSanEntries, uriHost } from '../x509/go-parse.js';

export { GO_RULES_VERSION };

const NEGATIVE_SERIAL = 'x509: negative serial number';

/** GODEBUG settings that change what Go's parser accepts (read from the client's environment). */
export interface GoDebug {
  /** x509negativeserial=1: Go 1.23+ accepts negative serial numbers again. */
  negativeSerial?: boolean;
}

/** Parse GODEBUG as the Go runtime does: comma-separated key=value, the last setting wins. */
export function parseGoDebug(value: string | undefined): GoDebug {
  const settings = new Map<string, string>();
  for (const item of (value ?? '').split(',')) {
    const eq = item.indexOf('=');
    if (eq > 0) settings.set(item.slice(0, eq).trim(), item.slice(eq + 1).trim());
  }
  return settings.get('x509negativeserial') === '1' ? { negativeSerial: true } : {};
}

/** What x509.ParseCertificate would refuse in `c`, under these GODEBUG settings. */
export function goParseErrors(c: Certificate, godebug: GoDebug = {}): string[] {
  const errors = c.goParseErrors;
  return godebug.negativeSerial ? errors.filter((e) => e !== NEGATIVE_SERIAL) : errors;
}

/** A Go CertPool: insertion order, de-duplicated, indexed by raw subject. */
export class GoCertPool {
  readonly certs: Certificate[] = [];
  private byName = new Map<string, number[]>();
  // Certificates are parsed once per distinct DER (x509/load.ts), so identity is equality.
  private have = new Set<Certificate>();

  constructor(certs: Iterable<Certificate> = [], readonly godebug: GoDebug = {}) {
    for (const c of certs) this.add(c);
  }

  add(cert: Certificate): void {
    if (this.have.has(cert)) return;
    this.have.add(cert);
    const key = cert.subjectKey;
    const list = this.byName.get(key) ?? [];
    list.push(this.certs.length);
    this.byName.set(key, list);
    this.certs.push(cert);
  }

  /** CertPool.contains: a root AppendCertsFromPEM dropped (Go cannot parse it) is not in the pool. */
  contains(cert: Certificate): boolean {
    if (!this.have.has(cert) && !this.certs.some((c) => c.der.equals(cert.der))) return false;
    return goParseErrors(cert, this.godebug).length === 0;
  }

  get size(): number {
    return this.certs.length;
  }

  /** Candidates whose subject is cert's issuer, ordered by how well key identifiers agree. */
  findPotentialParents(cert: Certificate): Certificate[] {
    const matching: Certificate[] = [], oneKeyId: Certificate[] = [], mismatch: Certificate[] = [];
    const aki = cert.authorityKeyId ?? Buffer.alloc(0);
    for (const idx of this.byName.get(cert.issuerKey) ?? []) {
      const candidate = this.certs[idx]!;
      // AppendCertsFromPEM silently drops what x509.ParseCertificate rejects.
      if (goParseErrors(candidate, this.godebug).length > 0) continue;
      const ski = candidate.subjectKeyId ?? Buffer.alloc(0);
      if (ski.equals(aki)) matching.push(candidate);
      else if ((ski.length === 0 && aki.length > 0) || (ski.length > 0 && aki.length === 0)) oneKeyId.push(candidate);
      else mismatch.push(candidate);
    }
    return [...matching, ...oneKeyId, ...mismatch];
  }
}

export type GoInvalidReason =
  | 'NotAuthorizedToSign' | 'Expired' | 'CANotAuthorizedForThisName' | 'TooManyIntermediates'
  | 'IncompatibleUsage' | 'NameMismatch' | 'UnconstrainedName' | 'TooManyConstraints';

export type GoError =
  | { kind: 'unknown-authority'; cert: Certificate; hint?: { error: GoError; cert: Certificate } }
  /** `bound`: for Expired, which of the validity bounds was crossed (Go's Detail says it in words). */
  | { kind: 'invalid'; reason: GoInvalidReason; cert: Certificate; detail: string; bound?: 'notBefore' | 'notAfter' }
  | { kind: 'hostname'; cert: Certificate; host: string }
  | { kind: 'constraint-violation'; cert: Certificate }
  | { kind: 'insecure-algorithm'; cert: Certificate; algorithm: string }
  | { kind: 'unsupported-algorithm'; cert: Certificate }
  | { kind: 'bad-signature'; cert: Certificate; message: string }
  | { kind: 'unhandled-critical'; cert: Certificate }
  | { kind: 'parse'; cert: Certificate; message: string }
  /** A plain error out of Verify's name-constraint walk (verify.go returns some unwrapped). */
  | { kind: 'other'; cert: Certificate; message: string }
  /** crypto/tls's own refusal after Verify (handshake_client.go verifyServerCertificate). */
  | { kind: 'tls'; cert: Certificate; message: string }
  | { kind: 'signature-limit' };

export interface GoVerifyOptions {
  /** crypto/tls's ServerName: a host name or an IP literal. */
  dnsName: string;
  /** Everything the server sent after the leaf, in order. */
  intermediates: Certificate[];
  roots: GoCertPool;
  now: Date;
}

export interface GoVerifyResult {
  chains: Certificate[][];
  error?: GoError;
}

const MAX_SIGNATURE_CHECKS = 100;
const MAX_CONSTRAINT_COMPARISONS = 250000;

type CertType = 'leaf' | 'intermediate' | 'root';

/** Certificate.Verify for a TLS server certificate. */
export function goVerify(leaf: Certificate, opts: GoVerifyOptions): GoVerifyResult {
  const intermediates = new GoCertPool(opts.intermediates);

  let err = isValid(leaf, 'leaf', [], opts);
  if (err) return { chains: [], error: err };

  if (opts.dnsName) {
    err = verifyHostname(leaf, opts.dnsName);
    if (err) return { chains: [], error: err };
  }

  let candidates: Certificate[][];
  if (opts.roots.contains(leaf)) {
    candidates = [[leaf]];
  } else {
    const built = buildChains(leaf, [leaf], { count: 0 }, opts, intermediates);
    if (built.error) return { chains: [], error: built.error };
    candidates = built.chains;
  }

  const chains = candidates.filter((c) => chainAllowsServerAuth(c));
  if (chains.length === 0) {
    return { chains: [], error: { kind: 'invalid', reason: 'IncompatibleUsage', cert: leaf, detail: '' } };
  }
  return { chains };
}

function buildChains(
  cert: Certificate, current: Certificate[], sigChecks: { count: number }, opts: GoVerifyOptions, intermediates: GoCertPool,
): { chains: Certificate[][]; error?: GoError } {
  const chains: Certificate[][] = [];
  let hint: { error: GoError; cert: Certificate } | undefined;
  // Go's `err` is a named result shared with the closure: each candidate that passes the
  // signature check overwrites it, so the LAST such candidate decides the error text.
  let err: GoError | undefined;

  const consider = (type: CertType, candidate: Certificate) => {
    if (alreadyInChain(candidate, current)) return;
    sigChecks.count++;
    if (sigChecks.count > MAX_SIGNATURE_CHECKS) {
      err = { kind: 'signature-limit' };
      return;
    }
    const sigErr = checkSignatureFrom(cert, candidate);
    if (sigErr) {
      hint ??= { error: sigErr, cert: candidate };
      return;
    }
    err = isValid(candidate, type, current, opts);
    if (err) {
      hint ??= { error: err, cert: candidate };
      return;
    }
    if (type === 'root') {
      chains.push([...current, candidate]);
    } else {
      const sub = buildChains(candidate, [...current, candidate], sigChecks, opts, intermediates);
      err = sub.error;
      chains.push(...sub.chains);
    }
  };

  for (const root of opts.roots.findPotentialParents(cert)) consider('root', root);
  for (const inter of intermediates.findPotentialParents(cert)) consider('intermediate', inter);

  if (chains.length > 0) return { chains };
  if (!err) err = { kind: 'unknown-authority', cert, ...(hint ? { hint } : {}) };
  return { chains, error: err };
}

/** x509.Certificate.CheckSignatureFrom. */
export function checkSignatureFrom(child: Certificate, parent: Certificate): GoError | undefined {
  const bc = parent.basicConstraints;
  // RFC 5280 4.2.1.9: a v3 certificate without basicConstraints, or with cA false, cannot sign.
  if ((parent.version === 3 && !bc) || (bc && !bc.ca)) return { kind: 'constraint-violation', cert: parent };
  if (parent.keyUsage && parent.keyUsage.size > 0 && !parent.keyUsage.has('keyCertSign')) {
    return { kind: 'constraint-violation', cert: parent };
  }
  if (parent.publicKey.type === 'unknown' || parent.publicKey.type === 'DSA') {
    return { kind: 'unsupported-algorithm', cert: child };
  }
  const sig = child.signature;
  if (sig.hash === 'md5' || (sig.hash === 'sha1' && sig.goInsecure)) {
    return { kind: 'insecure-algorithm', cert: child, algorithm: sig.goName };
  }
  if (sig.goUnsupported) return { kind: 'unsupported-algorithm', cert: child };
  const wantKey = sig.key === 'RSA-PSS' ? 'RSA' : sig.key;
  const haveKey = parent.publicKey.type === 'RSA-PSS' ? 'RSA' : parent.publicKey.type;
  if (wantKey !== haveKey) {
    const goType = { RSA: '*rsa.PublicKey', EC: '*ecdsa.PublicKey', Ed25519: 'ed25519.PublicKey' }[haveKey as string] ?? haveKey;
    const goAlgo = { RSA: 'RSA', EC: 'ECDSA', Ed25519: 'Ed25519' }[wantKey as string] ?? wantKey;
    return { kind: 'bad-signature', cert: child, message: `x509: signature algorithm specifies an ${goAlgo} public key, but have public key of type ${goType}` };
  }
  if (!child.signedBy(parent)) {
    const message = { RSA: 'crypto/rsa: verification error', EC: 'x509: ECDSA verification failure', Ed25519: 'x509: Ed25519 verification failure' }[haveKey as string]
      ?? 'x509: signature verification failure';
    return { kind: 'bad-signature', cert: child, message };
  }
  return undefined;
}

function isValid(c: Certificate, type: CertType, current: Certificate[], opts: GoVerifyOptions): GoError | undefined {
  if (c.goUnhandledCritical) return { kind: 'unhandled-critical', cert: c };

  const child = current[current.length - 1];
  if (child && !child.issuerRaw.equals(c.subjectRaw)) {
    return { kind: 'invalid', reason: 'NameMismatch', cert: c, detail: '' };
  }

  const now = opts.now;
  if (now < c.notBefore) {
    return { kind: 'invalid', reason: 'Expired', cert: c, bound: 'notBefore', detail: `current time ${goTime(now)} is before ${goTime(c.notBefore, true)}` };
  }
  if (now > c.notAfter) {
    return { kind: 'invalid', reason: 'Expired', cert: c, bound: 'notAfter', detail: `current time ${goTime(now)} is after ${goTime(c.notAfter, true)}` };
  }

  if (type !== 'leaf' && c.nameConstraints) {
    const ncErr = checkNameConstraints(c, current);
    if (ncErr) return ncErr;
  }

  if (type === 'intermediate' && !c.basicConstraints?.ca) {
    return { kind: 'invalid', reason: 'NotAuthorizedToSign', cert: c, detail: '' };
  }

  const pathLen = c.basicConstraints?.pathLen;
  if (c.basicConstraints && pathLen !== null && pathLen !== undefined) {
    const numIntermediates = current.length - 1;
    if (numIntermediates > pathLen) return { kind: 'invalid', reason: 'TooManyIntermediates', cert: c, detail: '' };
  }
  return undefined;
}

/**
 * Go formats times with time.RFC3339: the verification time in the local zone (time.Now()),
 * certificate times in UTC ("Z").
 */
export function goTime(d: Date, utc = false): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  if (utc) {
    return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}Z`;
  }
  const off = -d.getTimezoneOffset();
  const zone = off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${zone}`;
}

function alreadyInChain(candidate: Certificate, chain: Certificate[]): boolean {
  const candidateSan = candidate.extensions.find((e) => e.oid === '2.5.29.17')?.value;
  for (const c of chain) {
    if (!candidate.subjectRaw.equals(c.subjectRaw)) continue;
    if (!candidate.publicKey.spki.equals(c.publicKey.spki)) continue;
    const san = c.extensions.find((e) => e.oid === '2.5.29.17')?.value;
    if (!candidateSan && !san) return true;
    if (!candidateSan || !san) return false;
    if (candidateSan.equals(san)) return true;
  }
  return false;
}

/** checkChainForKeyUsage with the one usage crypto/tls asks for: serverAuth. */
function chainAllowsServerAuth(chain: Certificate[]): boolean {
  for (let i = chain.length - 1; i >= 0; i--) {
    const ekus = chain[i]!.extKeyUsage;
    if (!ekus || ekus.length === 0) continue;
    if (ekus.includes(EKU.any)) continue;
    if (!ekus.includes(EKU.serverAuth)) return false;
  }
  return true;
}

// ---- host names (Certificate.VerifyHostname) ----

function toLowerAscii(s: string): string {
  return s.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

function validHostname(host: string, isPattern: boolean): boolean {
  if (!isPattern) host = host.replace(/\.$/, '');
  if (host.length === 0) return false;
  // Go 1.23 validHostname: a bare "*" is neither a valid name nor a valid pattern.
  if (host === '*') return false;
  const parts = host.split('.');
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (part === '') return false;
    if (isPattern && i === 0 && part === '*') continue;
    for (let j = 0; j < part.length; j++) {
      const c = part[j]!;
      if (/[a-zA-Z0-9_]/.test(c)) continue;
      if (c === '-' && j !== 0) continue;
      return false;
    }
  }
  return true;
}

function matchExactly(a: string, b: string): boolean {
  if (a === '' || a === '.' || b === '' || b === '.') return false;
  return toLowerAscii(a) === toLowerAscii(b);
}

export function goMatchHostnames(pattern: string, host: string): boolean {
  pattern = toLowerAscii(pattern);
  host = toLowerAscii(host.replace(/\.$/, ''));
  if (pattern.length === 0 || host.length === 0) return false;
  const pp = pattern.split('.');
  const hp = host.split('.');
  if (pp.length !== hp.length) return false;
  return pp.every((p, i) => (i === 0 && p === '*') || p === hp[i]);
}

export function verifyHostname(c: Certificate, h: string): GoError | undefined {
  let candidateIp = h;
  if (h.length >= 3 && h.startsWith('[') && h.endsWith(']')) candidateIp = h.slice(1, -1);
  const ip = parseIp(candidateIp);
  if (ip) {
    for (const san of c.san?.ip ?? []) {
      const sanIp = parseIp(san);
      if (sanIp && sanIp.equals(ip)) return undefined;
    }
    return { kind: 'hostname', cert: c, host: candidateIp };
  }
  const name = toLowerAscii(h);
  const validName = validHostname(name, false);
  for (const match of c.san?.dns ?? []) {
    if (validName && validHostname(match, true)) {
      if (goMatchHostnames(match, name)) return undefined;
    } else if (matchExactly(match, name)) {
      return undefined;
    }
  }
  return { kind: 'hostname', cert: c, host: h };
}

// ---- name constraints (verify.go isValid and checkNameConstraints) ----

/** verify.go matchDomainConstraint; a string result is the error Go returns. */
function matchDomainConstraint(domain: string, constraint: string): boolean | string {
  if (constraint.length === 0) return true;
  const d = goReverseLabels(domain);
  if (!d) return `x509: internal error: cannot parse domain ${goQuote(domain)}`;
  let mustHaveSubdomains = false;
  if (constraint.startsWith('.')) {
    mustHaveSubdomains = true;
    constraint = constraint.slice(1);
  }
  const c = goReverseLabels(constraint);
  if (!c) return `x509: internal error: cannot parse domain ${goQuote(constraint)}`;
  if (d.length < c.length || (mustHaveSubdomains && d.length === c.length)) return false;
  return c.every((label, i) => toLowerAscii(label) === toLowerAscii(d[i]!));
}

/** net.IP.String(): dotted quad for IPv4 (and IPv4-mapped IPv6), RFC 5952 text for IPv6. */
export function goIpString(ip: Buffer): string {
  const v4 = ip.length === 4 ? ip : ip.length === 16 && ip.subarray(0, 10).every((b) => b === 0) && ip[10] === 0xff && ip[11] === 0xff ? ip.subarray(12) : undefined;
  if (v4) return Array.from(v4).join('.');
  if (ip.length !== 16) return `?${ip.toString('hex')}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(ip.readUInt16BE(i));
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = (g: number[]) => g.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(groups);
  return `${hex(groups.slice(0, best))}::${hex(groups.slice(best + bestLen))}`;
}

/** net.IPNet.String(): address/prefix length, or address/hex mask when the mask is not a prefix. */
function goIpNetString(r: { ip: Buffer; mask: Buffer }): string {
  const bits = [...r.mask].map((b) => b.toString(2).padStart(8, '0')).join('');
  const ones = bits.indexOf('0') < 0 ? bits.length : bits.indexOf('0');
  const prefix = !bits.slice(ones).includes('1');
  return prefix ? `${goIpString(r.ip)}/${ones}` : `${goIpString(r.ip)}/${r.mask.toString('hex')}`;
}

/** verify.go parseRFC2821Mailbox, reduced to what matching needs: local part and domain. */
function parseMailbox(s: string): { local: string; domain: string } | undefined {
  const at = s.lastIndexOf('@');
  if (at <= 0 || at === s.length - 1) return undefined;
  const domain = s.slice(at + 1);
  if (!goReverseLabels(domain)) return undefined;
  return { local: s.slice(0, at), domain };
}

/**
 * isValid's name-constraint walk: for a CA with name constraints, every SAN of every certificate
 * already in the chain (the leaf and the intermediates below this CA, never the CA itself), in
 * encoding order; the comparison budget is shared by the whole walk.
 */
function checkNameConstraints(ca: Certificate, currentChain: Certificate[]): GoError | undefined {
  const nc = ca.nameConstraints!;
  let count = 0;
  const invalid = (reason: GoInvalidReason, detail = ''): GoError => ({ kind: 'invalid', reason, cert: ca, detail });
  const check = <T>(
    nameType: string, name: string, match: (constraint: T) => boolean | string, text: (c: T) => string, permitted: T[], excluded: T[],
  ): GoError | undefined => {
    count += excluded.length;
    if (count > MAX_CONSTRAINT_COMPARISONS) return invalid('TooManyConstraints');
    for (const ex of excluded) {
      const m = match(ex);
      if (typeof m === 'string') return invalid('CANotAuthorizedForThisName', m);
      if (m) return invalid('CANotAuthorizedForThisName', `${nameType} ${goQuote(name)} is excluded by constraint ${goQuote(text(ex))}`);
    }
    count += permitted.length;
    if (count > MAX_CONSTRAINT_COMPARISONS) return invalid('TooManyConstraints');
    let ok = true;
    for (const p of permitted) {
      const m = match(p);
      if (typeof m === 'string') return invalid('CANotAuthorizedForThisName', m);
      ok = m;
      if (ok) break;
    }
    if (!ok) return invalid('CANotAuthorizedForThisName', `${nameType} ${goQuote(name)} is not permitted by any constraint`);
    return undefined;
  };
  const same = (s: string) => s;
  for (const cert of currentChain) {
    const san = cert.extensions.find((e) => e.oid === EXT.subjectAltName);
    if (!san) continue;
    for (const { tag, data } of goSanEntries(san.value)) {
      const name = data.toString('latin1');
      let e: GoError | undefined;
      switch (tag) {
        case 1: {
          const mailbox = parseMailbox(name);
          if (!mailbox) return { kind: 'other', cert: ca, message: `x509: cannot parse rfc822Name ${goQuote(name)}` };
          const match = (con: string): boolean | string => {
            if (con.includes('@')) {
              const cm = parseMailbox(con);
              if (!cm) return `x509: internal error: cannot parse constraint ${goQuote(con)}`;
              return mailbox.local === cm.local && toLowerAscii(mailbox.domain) === toLowerAscii(cm.domain);
            }
            return matchDomainConstraint(mailbox.domain, con);
          };
          e = check('email address', name, match, same, nc.permittedEmail, nc.excludedEmail);
          break;
        }
        case 2:
          if (!goReverseLabels(name)) return { kind: 'other', cert: ca, message: `x509: cannot parse dnsName ${goQuote(name)}` };
          e = check('DNS name', name, (con: string) => matchDomainConstraint(name, con), same, nc.permittedDns, nc.excludedDns);
          break;
        case 6: {
          const match = (con: string): boolean | string => {
            let host = uriHost(name);
            if (host.length === 0) return `URI with empty host (${goQuote(name)}) cannot be matched against constraints`;
            if (host.includes(':') && !host.endsWith(']')) host = host.slice(0, host.lastIndexOf(':'));
            if (parseIp(host) || (host.startsWith('[') && host.endsWith(']'))) return `URI with IP (${goQuote(name)}) cannot be matched against constraints`;
            return matchDomainConstraint(host, con);
          };
          e = check('URI', name, match, same, nc.permittedUri, nc.excludedUri);
          break;
        }
        case 7: {
          const inRange = (r: { ip: Buffer; mask: Buffer }) => r.ip.length === data.length && r.ip.every((b, i) => (b & r.mask[i]!) === (data[i]! & r.mask[i]!));
          e = check('IP address', goIpString(data), inRange, goIpNetString, nc.permittedIp, nc.excludedIp);
          break;
        }
        default:
          // Unknown SAN types are ignored.
      }
      if (e) return e;
    }
  }
  return undefined;
}

// ---- error text, exactly as Go's Error() methods print it ----

const INVALID_TEXT: Record<GoInvalidReason, (detail: string) => string> = {
  NotAuthorizedToSign: () => 'x509: certificate is not authorized to sign other certificates',
  Expired: (d) => `x509: certificate has expired or is not yet valid: ${d}`,
  CANotAuthorizedForThisName: (d) => `x509: a root or intermediate certificate is not authorized to sign for this name: ${d}`,
  TooManyIntermediates: () => 'x509: too many intermediates for path length constraint',
  IncompatibleUsage: () => 'x509: certificate specifies an incompatible key usage',
  NameMismatch: () => 'x509: issuer name does not match subject from issuing certificate',
  UnconstrainedName: (d) => `x509: issuer has name constraints but leaf contains unknown or unconstrained name: ${d}`,
  TooManyConstraints: () => 'x509: unknown error',
};

/** Go's %q: a double-quoted string with Go escapes. */
export function goQuote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\t/g, '\\t')}"`;
}

function hintCertName(c: Certificate): string {
  const cn = c.commonName;
  if (cn) return cn;
  const o = c.subject.rdns.flat().find((a) => a.type === 'O')?.value;
  if (o) return o;
  return `serial:${BigInt(`0x${c.serialHex || '0'}`).toString()}`;
}

export function goErrorText(e: GoError): string {
  switch (e.kind) {
    case 'unknown-authority': {
      let s = 'x509: certificate signed by unknown authority';
      if (e.hint) s += ` (possibly because of ${goQuote(goErrorText(e.hint.error))} while trying to verify candidate authority certificate ${goQuote(hintCertName(e.hint.cert))})`;
      return s;
    }
    case 'invalid':
      return INVALID_TEXT[e.reason](e.detail);
    case 'hostname':
      return hostnameErrorText(e.cert, e.host);
    case 'constraint-violation':
      return 'x509: invalid signature: parent certificate cannot sign this kind of certificate';
    case 'insecure-algorithm':
      // Go 1.24 dropped the "(temporarily override with GODEBUG=x509sha1=1)" suffix with the setting.
      return `x509: cannot verify signature: insecure algorithm ${e.algorithm}`;
    case 'unsupported-algorithm':
      return 'x509: cannot verify signature: algorithm unimplemented';
    case 'bad-signature':
      return e.message;
    case 'unhandled-critical':
      return 'x509: unhandled critical extension';
    case 'parse':
    case 'other':
    case 'tls':
      return e.message;
    case 'signature-limit':
      return 'x509: signature check attempts limit reached while verifying certificate chain';
  }
}

/**
 * Which of HostnameError.Error()'s four sentences Go prints (verify.go): the certificate has no
 * SANs and its Common Name would have matched (`legacy-common-name`); an IP was asked and there
 * is no IP SAN (`no-ip-sans`); there are no names of the kind asked (`no-names`); or the names it
 * has are others (`other-names`).
 */
export type GoHostnameReason = 'legacy-common-name' | 'no-ip-sans' | 'no-names' | 'other-names';

export function goHostnameReason(c: Certificate, host: string): GoHostnameReason {
  if (!c.san && c.commonName && goMatchHostnames(c.commonName, host)) return 'legacy-common-name';
  if (parseIp(host) && (!c.san || c.san.ip.length === 0)) return 'no-ip-sans';
  return validNames(c, host).length === 0 ? 'no-names' : 'other-names';
}

/** The names HostnameError lists: the IP SANs for an IP, else the DNS SANs, joined as Go joins them. */
function validNames(c: Certificate, host: string): string {
  if (parseIp(host)) return (c.san?.ip ?? []).map((ip) => { const b = parseIp(ip); return b ? goIpString(b) : ip; }).join(', ');
  return (c.san?.dns ?? []).join(', ');
}

function hostnameErrorText(c: Certificate, host: string): string {
  switch (goHostnameReason(c, host)) {
    case 'legacy-common-name': return 'x509: certificate relies on legacy Common Name field, use SANs instead';
    case 'no-ip-sans': return `x509: cannot validate certificate for ${host} because it doesn't contain any IP SANs`;
    case 'no-names': return `x509: certificate is not valid for any names, but wanted to match ${host}`;
    case 'other-names': return `x509: certificate is valid for ${validNames(c, host)}, not ${host}`;
  }
}

/**
 * crypto/tls's verifyServerCertificate: every certificate the server sent must parse (Go's
 * parser is stricter than OpenSSL's) and no RSA key may exceed 8192 bits, then Verify runs.
 */
export function goVerifyServer(presented: Certificate[], opts: Omit<GoVerifyOptions, 'intermediates'>): GoVerifyResult {
  for (const c of presented) {
    const errors = goParseErrors(c, opts.roots.godebug);
    if (errors.length > 0) return { chains: [], error: { kind: 'parse', cert: c, message: errors[0]! } };
    if ((c.publicKey.type === 'RSA' || c.publicKey.type === 'RSA-PSS') && c.publicKey.bits > 8192) {
      return { chains: [], error: { kind: 'parse', cert: c, message: 'tls: server sent certificate containing RSA key larger than 8192 bits' } };
    }
  }
  const result = goVerify(presented[0]!, { ...opts, intermediates: presented.slice(1) });
  if (result.error) return result;
  // After Verify, crypto/tls accepts only the key types it can use for the handshake.
  const leaf = presented[0]!;
  if (!GO_TLS_KEY_TYPES.has(leaf.publicKey.type)) {
    return { chains: [], error: { kind: 'tls', cert: leaf, message: `tls: server's certificate contains an unsupported type of public key: ${goKeyTypeName(leaf)}` } };
  }
  return result;
}

// handshake_client.go verifyServerCertificate: *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey.
// (An RSA-PSS SPKI is not parsed as a key by Go: its PublicKey stays nil.)
const GO_TLS_KEY_TYPES = new Set<string>(['RSA', 'EC', 'Ed25519']);

/** fmt's %T of the parsed key: what parsePublicKey returns for each algorithm (nil for unknown ones). */
function goKeyTypeName(c: Certificate): string {
  switch (c.publicKey.type) {
    case 'DSA': return '*dsa.PublicKey';
    case 'RSA': return '*rsa.PublicKey';
    case 'EC': return '*ecdsa.PublicKey';
    case 'Ed25519': return 'ed25519.PublicKey';
    default: return c.publicKey.spki.includes(Buffer.from([0x06, 0x03, 0x2b, 0x65, 0x6e])) ? '*ecdh.PublicKey' : '<nil>';
  }
}

/** What crypto/tls wraps around it (Go 1.20+), i.e. what Ollama prints after `Get "https://...": `. */
export function goTlsErrorText(e: GoError): string {
  if (e.kind === 'parse') {
    return e.message.startsWith('tls:') ? e.message : `tls: failed to parse certificate from server: ${e.message}`;
  }
  if (e.kind === 'tls') return e.message;
  return `tls: failed to verify certificate: ${goErrorText(e)}`;
}
