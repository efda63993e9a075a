// Go's crypto/x509 Certificate.Verify, as crypto/tls calls it for a client (Linux and any
// platform where Go does its own verification). The point is to reach the SAME decision and
// the SAME error text as Ollama would, so the structure follows Go's verify.go closely:
// leaf validity, hostname, then depth-first path building where roots are tried before
// intermediates and the error of the last candidate considered is what surfaces.
import { parseIp } from '../x509/ip.js';
import type { Certificate } from '../x509/certificate.js';
import { EKU, GO_HANDLED_CRITICAL } from '../x509/oids.js';
import { ipVersion } from '../x509/ip.js';

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
    const key = cert.subjectRaw.toString('latin1');
    const list = this.byName.get(key) ?? [];
    list.push(this.certs.length);
    this.byName.set(key, list);
    this.certs.push(cert);
  }

  contains(cert: Certificate): boolean {
    return this.have.has(cert) || this.certs.some((c) => c.der.equals(cert.der));
  }

  get size(): number {
    return this.certs.length;
  }

  /** Candidates whose subject is cert's issuer, ordered by how well key identifiers agree. */
  findPotentialParents(cert: Certificate): Certificate[] {
    const matching: Certificate[] = [], oneKeyId: Certificate[] = [], mismatch: Certificate[] = [];
    const aki = cert.authorityKeyId ?? Buffer.alloc(0);
    for (const idx of this.byName.get(cert.issuerRaw.toString('latin1')) ?? []) {
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
  | { kind: 'invalid'; reason: GoInvalidReason; cert: Certificate; detail: string }
  | { kind: 'hostname'; cert: Certificate; host: string }
  | { kind: 'constraint-violation'; cert: Certificate }
  | { kind: 'insecure-algorithm'; cert: Certificate; algorithm: string }
  | { kind: 'unsupported-algorithm'; cert: Certificate }
  | { kind: 'bad-signature'; cert: Certificate; message: string }
  | { kind: 'unhandled-critical'; cert: Certificate }
  | { kind: 'parse'; cert: Certificate; message: string }
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
  if (c.extensions.some((e) => e.critical && !GO_HANDLED_CRITICAL.has(e.oid))) return { kind: 'unhandled-critical', cert: c };

  const child = current[current.length - 1];
  if (child && !child.issuerRaw.equals(c.subjectRaw)) {
    return { kind: 'invalid', reason: 'NameMismatch', cert: c, detail: '' };
  }

  const now = opts.now;
  if (now < c.notBefore) {
    return { kind: 'invalid', reason: 'Expired', cert: c, detail: `current time ${goTime(now)} is before ${goTime(c.notBefore, true)}` };
  }
  if (now > c.notAfter) {
    return { kind: 'invalid', reason: 'Expired', cert: c, detail: `current time ${goTime(now)} is after ${goTime(c.notAfter, true)}` };
  }

  if (type !== 'leaf' && c.nameConstraints) {
    const ncErr = checkNameConstraints(c, current[0]!);
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

// ---- name constraints (the subset of Go's checks that real CAs use) ----

function reverseLabels(domain: string): string[] | undefined {
  const labels = domain.split('.').reverse();
  if (labels.length > 0 && labels[0] === '') return undefined;
  if (labels.some((l) => l.length === 0 || /[^\x21-\x7e]/.test(l))) return undefined;
  return labels;
}

function matchDomainConstraint(domain: string, constraint: string): boolean {
  if (constraint.length === 0) return true;
  const d = reverseLabels(domain);
  let mustHaveSubdomains = false;
  if (constraint.startsWith('.')) {
    mustHaveSubdomains = true;
    constraint = constraint.slice(1);
  }
  const c = reverseLabels(constraint);
  if (!d || !c) return false;
  if (d.length < c.length || (mustHaveSubdomains && d.length === c.length)) return false;
  return c.every((label, i) => toLowerAscii(label) === toLowerAscii(d[i]!));
}

function checkNameConstraints(ca: Certificate, leaf: Certificate): GoError | undefined {
  const nc = ca.nameConstraints!;
  let count = 0;
  const check = (nameType: string, name: string, match: (constraint: string) => boolean, permitted: string[], excluded: string[]): GoError | undefined => {
    count += excluded.length;
    if (count > MAX_CONSTRAINT_COMPARISONS) return { kind: 'invalid', reason: 'TooManyConstraints', cert: ca, detail: '' };
    for (const ex of excluded) {
      if (match(ex)) return { kind: 'invalid', reason: 'CANotAuthorizedForThisName', cert: ca, detail: `${nameType} ${JSON.stringify(name)} is excluded by constraint ${JSON.stringify(ex)}` };
    }
    count += permitted.length;
    if (count > MAX_CONSTRAINT_COMPARISONS) return { kind: 'invalid', reason: 'TooManyConstraints', cert: ca, detail: '' };
    if (permitted.length > 0 && !permitted.some(match)) {
      return { kind: 'invalid', reason: 'CANotAuthorizedForThisName', cert: ca, detail: `${nameType} ${JSON.stringify(name)} is not permitted by any constraint` };
    }
    return undefined;
  };
  const ipText = (r: { ip: Buffer; mask: Buffer }) => `${r.ip.toString('hex')}/${r.mask.toString('hex')}`;
  for (const cert of [leaf, ...(ca.san ? [ca] : [])]) {
    if (!cert.san) continue;
    for (const dns of cert.san.dns) {
      const e = check('DNS name', dns, (con) => matchDomainConstraint(dns, con), nc.permittedDns, nc.excludedDns);
      if (e) return e;
    }
    for (const email of cert.san.email) {
      const domain = email.slice(email.lastIndexOf('@') + 1);
      const match = (con: string) => (con.includes('@') ? toLowerAscii(con) === toLowerAscii(email) : matchDomainConstraint(domain, con));
      const e = check('email address', email, match, nc.permittedEmail, nc.excludedEmail);
      if (e) return e;
    }
    for (const ipString of cert.san.ip) {
      const ip = parseIp(ipString)!;
      const inRange = (range: string) => {
        const r = [...nc.permittedIp, ...nc.excludedIp].find((x) => ipText(x) === range)!;
        if (r.ip.length !== ip.length) return false;
        return r.ip.every((b, i) => (b & r.mask[i]!) === (ip[i]! & r.mask[i]!));
      };
      const e = check('IP address', ipString, inRange, nc.permittedIp.map(ipText), nc.excludedIp.map(ipText));
      if (e) return e;
    }
    for (const uri of cert.san.uri) {
      let host = '';
      try { host = new URL(uri).hostname; } catch { /* unparsable URIs fail every constraint below */ }
      const e = check('URI', uri, (con) => host !== '' && !ipVersion(host) && matchDomainConstraint(host, con), nc.permittedUri, nc.excludedUri);
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
      return e.message;
    case 'signature-limit':
      return 'x509: signature check attempts limit reached while verifying certificate chain';
  }
}

function hostnameErrorText(c: Certificate, host: string): string {
  if (!c.san && c.commonName && goMatchHostnames(c.commonName, host)) {
    return 'x509: certificate relies on legacy Common Name field, use SANs instead';
  }
  let valid: string;
  if (parseIp(host)) {
    if (!c.san || c.san.ip.length === 0) return `x509: cannot validate certificate for ${host} because it doesn't contain any IP SANs`;
    valid = c.san.ip.join(', ');
  } else {
    valid = (c.san?.dns ?? []).join(', ');
  }
  if (valid.length === 0) return `x509: certificate is not valid for any names, but wanted to match ${host}`;
  return `x509: certificate is valid for ${valid}, not ${host}`;
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
  return goVerify(presented[0]!, { ...opts, intermediates: presented.slice(1) });
}

/** What crypto/tls wraps around it (Go 1.20+), i.e. what Ollama prints after `Get "https://...": `. */
export function goTlsErrorText(e: GoError): string {
  if (e.kind === 'parse') {
    return e.message.startsWith('tls:') ? e.message : `tls: failed to parse certificate from server: ${e.message}`;
  }
  return `tls: failed to verify certificate: ${goErrorText(e)}`;
}
