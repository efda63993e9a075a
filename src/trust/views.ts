// The trust views: each is a set of roots plus the rules of a real client, and each verdict is
// what that client would decide about the presented chain, in that client's own words.
import net from 'node:net';
import tls from 'node:tls';
import type { Certificate } from '../x509/certificate.js';
import type { DirTree } from '../platform/rootfs.js';
import { parseIp } from '../platform/ip.js';
import { GoCertPool, goTlsErrorText, goVerifyServer, parseGoDebug, type GoError, type GoVerifyResult } from './go-verify.js';
import { OPENSSL_ERRORS, OpenSslStore, opensslHostMatches, opensslVerify, type OpenSslErrorName, type OpenSslVerifyResult, type SecurityLevel } from './openssl-verify.js';
import {
  bundledRoots, loadExtraRoots, loadRootFiles, loadUnixRoots, loadNodeRoots, loadOsRoots, type Env, type TrustStore,
} from './stores.js';

export const VIEW_NAMES = ['go', 'node', 'system', 'mozilla', 'extra'] as const;
export type ViewName = (typeof VIEW_NAMES)[number];

/** What one client decides, in its own words. (diagnose/verdict-codes.ts names the code from the Judgement's cause.) */
export interface ClientVerdict {
  view: ViewName;
  ok: boolean;
  /** What that client would print. */
  message: string;
}

/**
 * Why a view failed, as its engine knows it, before any wording: Go's error value; what the OS
 * verifier concluded when Go hands it the chain (macOS, Windows); OpenSSL's X509_V_ERR name
 * (Node, curl, Python: the system and Node views, names included); Node's own name check
 * (`tls.checkServerIdentity`). diagnose/verdict-codes.ts maps it to the finding code.
 */
export type VerdictCause =
  | { engine: 'go'; error: GoError }
  | { engine: 'os-verifier'; platform: 'darwin' | 'win32'; outcome: OsVerifierOutcome }
  | { engine: 'openssl'; error: OpenSslErrorName }
  /** `ipWithoutIpSans`: an IP was asked and the certificate has no IP SAN (Node's list is empty). */
  | { engine: 'node-name-check'; ipWithoutIpSans: boolean };

/** What Go reports from the OS verifier when it does not surface its own error (root_darwin.go, root_windows.go). */
export type OsVerifierOutcome = 'validity' | 'no-path' | 'not-standards-compliant';

/** A failing verdict: the client's words and the engine's cause. */
export interface Failure {
  message: string;
  cause: VerdictCause;
}

/** A verdict plus what the diagnosis needs to explain it. */
export interface Judgement {
  verdict: ClientVerdict;
  /** Set exactly when the verdict failed. */
  cause?: VerdictCause;
  rules: 'go' | 'node' | 'openssl';
  store: TrustStore;
  /** The path the client validated (or got furthest with), leaf first. */
  path: Certificate[];
  go?: GoVerifyResult;
  openssl?: OpenSslVerifyResult;
  /** Set when the chain verified but the name did not. */
  hostnameError?: string;
}

export const VIEW_DESCRIPTIONS: Record<ViewName, string> = {
  go: 'Ollama (Go crypto/x509)',
  node: 'Node.js tls (bundled roots + NODE_EXTRA_CA_CERTS)',
  system: 'the OS trust store (curl, Python, git)',
  mozilla: 'the public web PKI (Mozilla roots)',
  extra: 'the OS store plus --ca files, under Go rules',
};

export interface TrustContext {
  fs: DirTree;
  env: Env;
  platform: NodeJS.Platform;
  now: Date;
  extraCaFiles: string[];
  /** Password of a PKCS#12 among extraCaFiles / rootFiles. */
  caPassword?: string;
  /** verify --roots: every view judges with only these files' certificates as roots (its own rules kept). */
  rootFiles?: string[];
}

/** Loads each view's roots once and judges any number of chains against them. */
export class TrustViews {
  private stores = new Map<ViewName, Promise<TrustStore>>();
  private goPools = new Map<ViewName, Promise<GoCertPool>>();
  private osStore?: Promise<TrustStore>;
  private sslStores = new Map<ViewName, Promise<OpenSslStore>>();
  private systemLevel?: Promise<number>;
  private rootsOnly?: Promise<TrustStore>;

  constructor(readonly ctx: TrustContext) {}

  get views(): ViewName[] {
    return VIEW_NAMES.filter((v) => v !== 'extra' || this.ctx.extraCaFiles.length > 0);
  }

  private os(): Promise<TrustStore> {
    return (this.osStore ??= loadOsRoots(this.ctx.fs, this.ctx.env, this.ctx.platform));
  }

  /** Go reads SSL_CERT_FILE/SSL_CERT_DIR on Linux and the BSDs; on macOS and Windows it asks the OS. */
  get goUsesPlatformVerifier(): boolean {
    return this.ctx.platform === 'darwin' || this.ctx.platform === 'win32';
  }

  store(view: ViewName): Promise<TrustStore> {
    let s = this.stores.get(view);
    if (!s) {
      const { fs, env } = this.ctx;
      if (this.ctx.rootFiles) {
        const only = (this.rootsOnly ??= loadRootFiles(this.ctx.rootFiles, this.ctx.caPassword));
        this.stores.set(view, only);
        return only;
      }
      switch (view) {
        case 'go': s = this.goUsesPlatformVerifier ? this.os() : loadUnixRoots(fs, env, 'go'); break;
        case 'node': s = loadNodeRoots(fs, env, () => this.os()); break;
        case 'system': s = this.os(); break;
        case 'mozilla': s = Promise.resolve(bundledRoots()); break;
        case 'extra': s = this.os().then((base) => loadExtraRoots(base, this.ctx.extraCaFiles, this.ctx.caPassword)); break;
      }
      this.stores.set(view, s);
    }
    return s;
  }

  private goRoots(view: 'go' | 'extra'): Promise<GoCertPool> {
    let pool = this.goPools.get(view);
    if (!pool) {
      pool = this.store(view).then((s) => new GoCertPool(s.certificates, parseGoDebug(this.ctx.env.GODEBUG)));
      this.goPools.set(view, pool);
    }
    return pool;
  }

  private sslStore(view: ViewName): Promise<OpenSslStore> {
    let s = this.sslStores.get(view);
    if (!s) {
      s = this.store(view).then((t) => new OpenSslStore(t.certificates));
      this.sslStores.set(view, s);
    }
    return s;
  }

  /** Judge one presented chain under every view. `name` is what the client verifies (SNI or host). */
  async judge(presented: Certificate[], name: string): Promise<Judgement[]> {
    return Promise.all(this.views.map((v) => this.judgeView(v, presented, name)));
  }

  async judgeView(view: ViewName, presented: Certificate[], name: string): Promise<Judgement> {
    const store = await this.store(view);
    if (view === 'go' || view === 'extra') {
      const roots = await this.goRoots(view);
      const go = goVerifyServer(presented, { dnsName: name, roots, now: this.ctx.now });
      const path = go.chains[0] ?? furthestGoPath(presented);
      if (!go.error) return { verdict: { view, ok: true, message: okMessage(path) }, rules: 'go', store, path, go };
      const { message, cause } = goFailure(go.error, name, this.goUsesPlatformVerifier && view === 'go' ? this.ctx.platform : undefined);
      return { verdict: { view, ok: false, message }, cause, rules: 'go', store, path, go };
    }

    const nodeRules = view === 'node' || view === 'mozilla';
    const level = nodeRules ? nodeSecurityLevelWhenNeeded() : await this.systemSecurityLevel();
    // curl (7.68+) and Python (3.13+) verify with X509_V_FLAG_PARTIAL_CHAIN: a CA certificate in
    // the store anchors a chain even when it is not self-signed. Node does not set it.
    const openssl = opensslVerify({
      presented, store: await this.sslStore(view), now: this.ctx.now, securityLevel: level, stopAtFirstError: !nodeRules,
      partialChain: !nodeRules,
    });
    const path = openssl.chain;
    if (openssl.error) {
      const { message, cause } = opensslFailure(openssl.error.name, nodeRules);
      return { verdict: { view, ok: false, message }, cause, rules: nodeRules ? 'node' : 'openssl', store, path, openssl };
    }
    // The chain verified; now the name, each client its own way.
    const nameFailure = nodeRules ? nodeNameFailure(presented[0]!, name) : opensslNameFailure(presented[0]!, name);
    if (nameFailure) {
      return {
        verdict: { view, ok: false, message: nameFailure.message }, cause: nameFailure.cause,
        rules: nodeRules ? 'node' : 'openssl', store, path, openssl, hostnameError: nameFailure.hostnameError,
      };
    }
    return { verdict: { view, ok: true, message: okMessage(path) }, rules: nodeRules ? 'node' : 'openssl', store, path, openssl };
  }

  /** Debian/Ubuntu/RHEL build or configure OpenSSL at security level 2; openssl.cnf may say otherwise. */
  private systemSecurityLevel(): Promise<number> {
    return (this.systemLevel ??= (async () => {
      for (const cnf of ['/etc/ssl/openssl.cnf', '/usr/lib/ssl/openssl.cnf', '/etc/pki/tls/openssl.cnf']) {
        try {
          const m = this.ctx.fs.readFile(cnf).toString('utf8').match(/^\s*CipherString\s*=.*@SECLEVEL=(\d)/m);
          if (m) return Number(m[1]);
        } catch {
          // not there: try the next
        }
      }
      return 2;
    })());
  }
}

// A public certificate with a 1024-bit RSA key (no private key exists anywhere): OpenSSL refuses
// to load it into a context at security level 2 and above, and accepts it at level 1.
const RSA_1024_PROBE = `-----BEGIN CERTIFICATE-----
MIICSDCCAbGgAwIBAgIUKMofoKtPYHJMJ+kOcvQoExOB0ZwwDQYJKoZIhvcNAQEL
BQAwNTEzMDEGA1UEAwwqb2xsYW1hLXRscyBzZWN1cml0eSBsZXZlbCBwcm9iZSAo
UlNBLTEwMjQpMCAXDTI2MTEyMjA1MTIzMFoYDzIxMjYxMDI5MDUxMjMwWjA1MTMw
MQYDVQQDDCpvbGxhbWEtdGxzIHNlY3VyaXR5IGxldmVsIHByb2JlIChSU0EtMTAy
NCkwgZ8wDQYJKoZIhvcNAQEBBQADgY0AMIGJAoGBAN1YQguL5snudWfcbUUOOZIN
wyeBfzkKJCXJA06/RQrkfC/p01sXXWF5VK33LNOsbtreCsaloJinzwaY6imXwoyR
T5RHCoGf9wenc1FGURbSFQOe060SRxIpl5YIDVTU0fPGsPB7sbQg6WYom1JDUMc3
vkPe4KycfESCOG77RsnTAgMBAAGjUzBRMB0GA1UdDgQWBBRClgtY3PnfklxPc+6Q
cmUzh1EHdjAfBgNVHSMEGDAWgBRClgtY3PnfklxPc+6QcmUzh1EHdjAPBgNVHRMB
Af8EBTADAQH/MA0GCSqGSIb3DQEBCwUAA4GBAEUb8Q6N5oOUZ6h1vqyz3ThHLsZp
RvO7/rw/WCHFj7hr+AXX/xliXxZRDghXLZ2/UEznUxANsXF+q9j94Pc9pPxByNMe
66zbuhrnAUrhTjelU6I4cUGWrbPiYfxtMQElMNc0fiLD9Ppv1vQJjLGQgxIY7Lay
h6SLNURRt6IxsePg
-----END CERTIFICATE-----`;

let probedLevel: number | undefined;

const cipherStringLevel = (): number | undefined => {
  const m = tls.DEFAULT_CIPHERS.match(/@SECLEVEL=(\d)/);
  return m ? Number(m[1]) : undefined;
};

/**
 * Node's level as opensslVerify takes it: the probe below tells level 1 from 2 (so 2 bounds it),
 * and is run only when a key or signature weaker than level 2 allows makes the two differ.
 */
function nodeSecurityLevelWhenNeeded(): SecurityLevel {
  return cipherStringLevel() ?? { atMost: 2, level: nodeSecurityLevel };
}

/**
 * The security level of this Node's OpenSSL. It is a build and configuration choice (Node 22 keeps
 * level 1 on OpenSSL 3.5, Node 24 uses 2, distribution builds follow the system's openssl.cnf), so
 * ask OpenSSL itself; a @SECLEVEL in Node's default cipher string overrides it.
 */
export function nodeSecurityLevel(): number {
  const fromCiphers = cipherStringLevel();
  if (fromCiphers !== undefined) return fromCiphers;
  if (probedLevel === undefined) {
    try {
      // No roots (`ca: []`): loading Node's default store would cost ~17 ms and tells nothing here.
      tls.createSecureContext({ cert: RSA_1024_PROBE, ca: [] });
      probedLevel = 1;
    } catch {
      probedLevel = 2;
    }
  }
  return probedLevel;
}

function okMessage(path: Certificate[]): string {
  const names = path.map((c) => c.commonName ?? c.subject.rdns.flat()[0]?.value ?? 'unnamed');
  return `ok: ${names.join(' -> ')}`;
}

/** When Go fails, the chain it got furthest with: the presented certificates that link up. */
function furthestGoPath(presented: Certificate[]): Certificate[] {
  const path = [presented[0]!];
  const pool = presented.slice(1);
  for (;;) {
    const top = path[path.length - 1]!;
    const next = pool.find((c) => c.subjectRaw.equals(top.issuerRaw) && !path.includes(c));
    if (!next || top.selfIssued) return path;
    path.push(next);
  }
}

// Node's X509ErrorCode: only these names surface; any other verify error is 'UNSPECIFIED'.
const NODE_CODES = new Set<OpenSslErrorName>([
  'UNABLE_TO_GET_ISSUER_CERT', 'CERT_SIGNATURE_FAILURE', 'CERT_NOT_YET_VALID', 'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'CERT_CHAIN_TOO_LONG', 'INVALID_CA', 'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE', 'HOSTNAME_MISMATCH',
]);

// Node 24 appends a hint to the two errors a locally installed root most often explains.
const USE_SYSTEM_CA_HINT = new Set<OpenSslErrorName>(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'DEPTH_ZERO_SELF_SIGNED_CERT']);

export function nodeVerifyText(e: OpenSslErrorName, nodeMajor = Number(process.versions.node.split('.')[0])): string {
  const code = NODE_CODES.has(e) ? e : 'UNSPECIFIED';
  const hint = nodeMajor >= 24 && USE_SYSTEM_CA_HINT.has(e) ? '; if the root CA is installed locally, try running Node.js with --use-system-ca' : '';
  return `${code}: ${OPENSSL_ERRORS[e].text}${hint}`;
}

/**
 * Go's verdict in Go's words. On macOS and Windows (`platform`) Go hands the chain to the OS
 * verifier and maps only a few outcomes to its own errors (root_darwin.go, root_windows.go); the
 * rest surface as the OS's text.
 */
export function goFailure(e: GoError, host: string, platform?: NodeJS.Platform): Failure {
  const own: Failure = { message: goTlsErrorText(e), cause: { engine: 'go', error: e } };
  if (platform !== 'darwin' && platform !== 'win32') return own;
  if (e.kind === 'hostname') return own;
  const prefix = 'tls: failed to verify certificate: x509: ';
  const validity = e.kind === 'invalid' && e.reason === 'Expired';
  const noPath = e.kind === 'unknown-authority' && (!e.hint || e.hint.error.kind === 'bad-signature');
  const os = (outcome: OsVerifierOutcome, message: string): Failure => ({ message, cause: { engine: 'os-verifier', platform, outcome } });
  if (platform === 'darwin') {
    if (validity) return os('validity', `${prefix}certificate has expired or is not yet valid: “${host}” certificate is expired`);
    if (noPath) return os('no-path', `${prefix}certificate signed by unknown authority`);
    return os('not-standards-compliant', `${prefix}“${host}” certificate is not standards compliant`);
  }
  if (validity) return os('validity', `${prefix}certificate has expired or is not yet valid: `);
  if (noPath) return os('no-path', `${prefix}certificate signed by unknown authority`);
  return own;
}

/** OpenSSL's verify error as Node prints it (`nodeRules`), or as curl and `openssl s_client` do. */
export function opensslFailure(e: OpenSslErrorName, nodeRules: boolean): Failure {
  const message = nodeRules ? nodeVerifyText(e) : `verify error:num=${OPENSSL_ERRORS[e].num}:${OPENSSL_ERRORS[e].text}`;
  return { message, cause: { engine: 'openssl', error: e } };
}

/** Node's name check after a verified chain (tls.checkServerIdentity); undefined when the name matches. */
export function nodeNameFailure(leaf: Certificate, name: string): (Failure & { hostnameError: string }) | undefined {
  const err = tls.checkServerIdentity(name, leaf.x509().toLegacyObject() as unknown as tls.PeerCertificate);
  if (!err) return undefined;
  return {
    message: `${(err as NodeJS.ErrnoException).code ?? 'ERR_TLS_CERT_ALTNAME_INVALID'}: ${err.message}`, hostnameError: err.message,
    // Node lists the certificate's IP SANs in its reason; an empty list is a certificate without any.
    cause: { engine: 'node-name-check', ipWithoutIpSans: net.isIP(name) !== 0 && (leaf.san?.ip ?? []).length === 0 },
  };
}

/** OpenSSL's name check as curl and Python ask for it (X509_VERIFY_PARAM host or IP); undefined when it matches. */
export function opensslNameFailure(leaf: Certificate, name: string): (Failure & { hostnameError: string }) | undefined {
  if (opensslHostMatches(leaf, name)) return undefined;
  const isIp = parseIp(name.replace(/^\[(.*)\]$/, '$1')) !== undefined;
  const e: OpenSslErrorName = isIp ? 'IP_ADDRESS_MISMATCH' : 'HOSTNAME_MISMATCH';
  return { ...opensslFailure(e, false), hostnameError: OPENSSL_ERRORS[e].text };
}
