// Client certificates (mutual TLS): the identity the user gives (`--cert FILE --key FILE` or
// `--pkcs12 FILE --password PW`), and what the probe learns about the server's policy: whether it
// asked for a certificate, which CAs it named, whether one went out, and how it turned us down.
//
// Keys are read by Node's own crypto (RSA, EC, Ed25519, encrypted PEM) and only ever handed to
// Node's TLS; PKCS#12 goes to Node's TLS as is (pfx + passphrase). The certificates inside a
// PKCS#12 (and in --cert) are read by the one certificate-file reader (src/x509/files.ts).
import { InputError } from '../platform/input-error.js';
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { InputFileError, readInputFile } from '../platform/input-file.js';
import * as tls from 'node:tls';
import { CertificateInputError, certificateFileFromBytes, type CertificateFile } from '../x509/files.js';
import { formatName, nameFromDer, type Certificate } from '../x509/certificate.js';
import { certificateFromDer } from '../x509/load.js';
import type { HandshakeFailure, HandshakeResult } from './handshake.js';
import type { HttpResponse } from './http.js';
import { exchangeOn } from './exchange.js';
import type { ProbeResult } from './probe.js';
import { hostHeader } from './target.js';
import { alertName, type TlsAlert } from './tls-wire.js';

/** A mistake the user can fix (a missing file, a wrong password, a key that is not the certificate's). */
export class ClientCertError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = 'ClientCertError';
  }
}

export interface ClientIdentityInput {
  /** --cert: PEM (or DER) certificate, optionally followed by intermediates and the key. */
  cert?: string;
  /** --key: PEM (or DER) private key. */
  key?: string;
  /** --pkcs12: a .p12/.pfx file. */
  pkcs12?: string;
  /** --password: the PKCS#12 password, or the passphrase of an encrypted --key. */
  password?: string;
}

export interface ClientIdentity {
  /** Exactly what goes into tls.connect. */
  tls: Pick<tls.ConnectionOptions, 'cert' | 'key' | 'pfx' | 'passphrase'>;
  /** The certificate presented. */
  certificate: Certificate;
  /** The certificate and any intermediates sent with it, leaf first. */
  chain: Certificate[];
  /** For messages: "--cert client.pem" or "--pkcs12 client.p12". */
  source: string;
}

/**
 * The server's client-certificate policy: `none` (no CertificateRequest), `optional` (it asks and
 * lets a client without one in: Go's RequestClientCert and VerifyClientCertIfGiven, nginx
 * `ssl_verify_client optional`), `required` (it turns a client without one away).
 */
export type ClientCertPolicy = 'none' | 'optional' | 'required';

/** The second handshake, without a certificate, that tells optional from required once one was sent. */
export interface WithoutCertificate {
  /** undefined: that connection did not get far enough to say (no CertificateRequest, a network failure). */
  refused: boolean | undefined;
  /** What happened, in plain words. */
  message: string;
  ms: number;
}

/** What the probe saw of the server's client-certificate policy (ProbeResult.clientCert). */
export interface ClientCertUse {
  /** A client identity was given (--cert/--key, --pkcs12). */
  given?: boolean;
  /** The server sent a CertificateRequest. */
  requested: boolean;
  /** The CA names it listed, as formatName prints them; empty when it named none. */
  authorities: string[];
  /** A client certificate went out (one was given and the server asked for one). */
  sent: boolean;
  /** What went out, DER, leaf first. */
  sentChain?: Buffer[];
  /**
   * The server turned the connection down after asking for a certificate: during the handshake
   * (TLS 1.2), right after it (TLS 1.3 sends its verdict on the client's certificate then), or at
   * the HTTP layer (nginx answers "400 No required SSL certificate was sent").
   */
  refused?: {
    when: 'handshake' | 'after-handshake' | 'http';
    /** The alert it sent; none when it just hung up. */
    alert?: TlsAlert;
    message: string;
    httpStatus?: number;
  };
  /** Without a certificate, on a second connection over the same path (only when one was sent). */
  withoutCertificate?: WithoutCertificate;
  /** Undefined when it cannot be told (a certificate went out and the second handshake said nothing). */
  policy?: ClientCertPolicy;
}

// ---------------------------------------------------------------------------------------------
// Loading the identity
// ---------------------------------------------------------------------------------------------

async function readInput(flag: string, path: string): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readInputFile(path, `${flag} ${path}`);
  } catch (err) {
    if (err instanceof InputFileError) throw new ClientCertError(err.message);
    throw err;
  }
  if (bytes.length === 0) throw new ClientCertError(`${flag} ${path}: the file is empty`);
  return bytes;
}

function describe(cert: Certificate): string {
  return formatName(cert.subject) || `serial ${cert.serialHex}`;
}

/** A private key from PEM (any of PKCS#8, PKCS#1, SEC1, encrypted) or DER; Node's crypto decides. */
function parseKey(flag: string, path: string, bytes: Buffer, password: string | undefined): KeyObject {
  const pem = bytes.toString('latin1').includes('-----BEGIN');
  const attempts: Parameters<typeof createPrivateKey>[0][] = pem
    ? [{ key: bytes, format: 'pem', ...(password !== undefined ? { passphrase: password } : {}) }]
    : [
      { key: bytes, format: 'der', type: 'pkcs8', ...(password !== undefined ? { passphrase: password } : {}) },
      { key: bytes, format: 'der', type: 'pkcs1' },
      { key: bytes, format: 'der', type: 'sec1' },
    ];
  let first: unknown;
  for (const options of attempts) {
    try {
      return createPrivateKey(options);
    } catch (err) {
      first ??= err;
    }
  }
  const e = first as NodeJS.ErrnoException;
  const text = `${e.code ?? ''} ${e.message}`;
  if (/MISSING_PASSPHRASE|passphrase required|interrupted or cancelled/i.test(text)) {
    throw new ClientCertError(`${flag} ${path}: the private key is encrypted; give its passphrase with --password`);
  }
  if (/bad decrypt|BAD_DECRYPT|decrypt error/i.test(text) && password !== undefined) {
    throw new ClientCertError(`${flag} ${path}: wrong --password for this private key (it does not decrypt)`);
  }
  throw new ClientCertError(`${flag} ${path}: no private key could be read from it (${e.message.replace(/^error:[0-9A-F]+:/, '')})`);
}

/** The first PEM private key block, armour included (its headers matter to an encrypted key). */
function armouredKey(text: string): string | undefined {
  // One BEGIN search, then one END search: a file of BEGIN lines without END stays linear.
  const m = /-----BEGIN ([A-Z0-9 ]*PRIVATE KEY)-----/.exec(text);
  if (!m) return undefined;
  const end = `-----END ${m[1]}-----`;
  const at = text.indexOf(end, m.index);
  return at < 0 ? undefined : text.slice(m.index, at + end.length);
}

/** The file's certificates in order, each once. */
function uniqueCertificates(file: CertificateFile): Certificate[] {
  const seen = new Set<string>();
  return file.entries.map((e) => e.cert).filter((c) => !seen.has(c.sha256) && Boolean(seen.add(c.sha256)));
}

async function loadPem(input: ClientIdentityInput): Promise<ClientIdentity> {
  const certPath = input.cert!;
  const certBytes = await readInput('--cert', certPath);
  let file: CertificateFile;
  try {
    file = await certificateFileFromBytes(certPath, certBytes);
  } catch (err) {
    if (!(err instanceof CertificateInputError)) throw err;
    if (err.kind === 'key-only') throw new ClientCertError(`--cert ${certPath}: it holds a private key but no certificate; give the certificate with --cert and the key with --key`);
    throw new ClientCertError(`--cert ${err.message}`);
  }
  const chain = uniqueCertificates(file);
  const leaf = chain[0]!;
  let key: KeyObject;
  let keyFrom: string;
  if (input.key) {
    key = parseKey('--key', input.key, await readInput('--key', input.key), input.password);
    keyFrom = `--key ${input.key}`;
  } else {
    // The whole armoured block: an old-style encrypted key keeps its cipher in PEM headers.
    const armoured = armouredKey(certBytes.toString('latin1'));
    if (!armoured) throw new ClientCertError(`--cert ${certPath} holds no private key: give it with --key FILE`);
    key = parseKey('--cert', certPath, Buffer.from(armoured, 'latin1'), input.password);
    keyFrom = `the key in ${certPath}`;
  }
  if (!new X509Certificate(leaf.der).checkPrivateKey(key)) {
    throw new ClientCertError(`${keyFrom} does not belong to the certificate in --cert ${certPath} (${describe(leaf)}): their public keys differ`);
  }
  return {
    tls: { cert: chain.map((c) => c.toPem()).join(''), key: key.export({ type: 'pkcs8', format: 'pem' }) },
    certificate: leaf,
    chain,
    source: `--cert ${certPath}`,
  };
}

async function loadPkcs12(input: ClientIdentityInput): Promise<ClientIdentity> {
  const path = input.pkcs12!;
  const bytes = await readInput('--pkcs12', path);
  let certs: Certificate[];
  try {
    const file = await certificateFileFromBytes(path, bytes, input.password !== undefined ? { password: input.password } : {});
    if (file.format !== 'pkcs12') {
      throw new ClientCertError(`--pkcs12 ${path}: this is a ${file.format.toUpperCase()} file, not PKCS#12; give it as --cert ${path} (with --key FILE)`);
    }
    certs = uniqueCertificates(file);
  } catch (err) {
    if (!(err instanceof CertificateInputError)) throw err;
    switch (err.kind) {
      case 'bad-password': throw new ClientCertError(`--pkcs12 ${path}: wrong --password (the file's integrity check fails with it)`);
      case 'password-required': throw new ClientCertError(`--pkcs12 ${path}: the file is password-protected; give its password with --password`);
      case 'key-only': throw new ClientCertError(`--pkcs12 ${path}: it holds a key but no certificate`);
      case 'empty': throw new ClientCertError(`--pkcs12 ${path}: it holds no certificate`);
      default: throw new ClientCertError(`--pkcs12 ${path}: ${err.message.replace(/^\S+ (is|holds) /, 'it $1 ')}`);
    }
  }
  const passphrase = input.password ?? '';
  let leafDer: Buffer | undefined;
  try {
    // Node loads the key and the certificate that goes with it exactly as it will for the connection.
    const context = tls.createSecureContext({ pfx: bytes, passphrase });
    const socket = new tls.TLSSocket(null as never, { secureContext: context });
    leafDer = (socket.getCertificate() as tls.PeerCertificate | null)?.raw;
    socket.destroy();
  } catch (err) {
    const text = `${(err as NodeJS.ErrnoException).code ?? ''} ${(err as Error).message}`;
    if (/mac verify/i.test(text)) throw new ClientCertError(`--pkcs12 ${path}: wrong --password (the file's integrity check fails with it)`);
    if (/private key/i.test(text)) throw new ClientCertError(`--pkcs12 ${path}: it holds no private key (only certificates); export it again with the key`);
    if (/unsupported/i.test(text)) {
      throw new ClientCertError(
        `--pkcs12 ${path}: it is encrypted with a legacy algorithm (RC2/RC4, older exports) that this Node.js's OpenSSL no longer loads; ` +
          `convert it: openssl pkcs12 -legacy -in ${path} -nodes -out client.pem, then use --cert client.pem`,
      );
    }
    throw new ClientCertError(`--pkcs12 ${path}: Node.js cannot use it (${(err as Error).message})`);
  }
  const leaf = (leafDer && certificateFromDer(Buffer.from(leafDer))) || certs.find((c) => !c.isCA) || certs[0];
  if (!leaf) throw new ClientCertError(`--pkcs12 ${path}: it holds no certificate`);
  const chain = [leaf, ...certs.filter((c) => !c.der.equals(leaf.der))];
  return { tls: { pfx: bytes, passphrase }, certificate: leaf, chain, source: `--pkcs12 ${path}` };
}

/** The client identity from the command line; throws ClientCertError on anything the user can fix. */
export async function loadClientIdentity(input: ClientIdentityInput): Promise<ClientIdentity> {
  if (input.pkcs12 && (input.cert || input.key)) throw new ClientCertError('--pkcs12 replaces --cert and --key: give one or the other');
  if (input.key && !input.cert) throw new ClientCertError('--key needs --cert FILE (the certificate that goes with the key)');
  if (input.pkcs12) return loadPkcs12(input);
  if (input.cert) return loadPem(input);
  throw new ClientCertError('--password goes with --pkcs12 FILE or an encrypted --key FILE');
}

// ---------------------------------------------------------------------------------------------
// What the probe records
// ---------------------------------------------------------------------------------------------

/** CA names from a CertificateRequest, as formatName prints them. */
export function formatAuthorities(names: Buffer[]): string[] {
  return names.map((der) => {
    try {
      return formatName(nameFromDer(der)) || '(an empty name)';
    } catch {
      return `(unreadable name ${der.subarray(0, 16).toString('hex')}...)`;
    }
  });
}

/** "...SSL alert number 116" in Node/OpenSSL error text. */
export function alertFromText(text: string | undefined): TlsAlert | undefined {
  const m = text ? /alert number (\d+)/i.exec(text) : null;
  if (!m) return undefined;
  const description = Number(m[1]);
  return { level: 2, description, name: alertName(description) };
}

function use(request: { authorities: string[] }, sent: boolean, identity: ClientIdentity | undefined): ClientCertUse {
  return {
    requested: true, authorities: request.authorities, sent,
    ...(sent && identity ? { sentChain: identity.chain.map((c) => c.der) } : {}),
  };
}

/**
 * A handshake that failed after the server asked for a certificate: TLS 1.2 servers refuse in
 * the handshake itself, and a TLS 1.3 refusal that arrived while the handshake was settling
 * comes back the same way.
 */
export function clientCertFromFailure(e: HandshakeFailure, identity: ClientIdentity | undefined): ClientCertUse | undefined {
  if (!e.certificateRequest) return undefined;
  const sent = Boolean(e.clientCertificateSent);
  const out = use(e.certificateRequest, sent, identity);
  if (e.kind === 'alert' || e.kind === 'closed' || e.kind === 'reset' || e.kind === 'error') {
    const what = sent ? 'the server refused the client certificate' : 'the server refused the connection without a client certificate';
    const when = e.afterHandshake ? ' right after the handshake' : '';
    const message = e.alert
      ? `${what}: alert ${e.alert.name} (${e.alert.description})${when}`
      : `${what}: it ${e.kind === 'reset' ? 'reset' : 'closed'} the connection${when || ' during the handshake'} without an alert`;
    out.refused = { when: e.afterHandshake ? 'after-handshake' : 'handshake', message, ...(e.alert ? { alert: e.alert } : {}) };
  }
  return out;
}

/**
 * The policy from what the probe saw. Without a certificate sent, the connection itself says it;
 * with one sent, only the second handshake (without it) does.
 */
export function clientCertPolicy(use: ClientCertUse): ClientCertPolicy | undefined {
  if (!use.requested) return 'none';
  if (!use.sent) return use.refused ? 'required' : 'optional';
  const refused = use.withoutCertificate?.refused;
  return refused === undefined ? undefined : refused ? 'required' : 'optional';
}

/**
 * Completes `result.clientCert` after the probe: when an identity was given, record that even if
 * the server never asked; when one went out, run `withoutIdentity` (the same probe on a new
 * connection over the same path, with no identity) to tell `optional` from `required`; then the
 * policy.
 */
export async function settleClientCertPolicy(
  result: ProbeResult, identity: ClientIdentity | undefined, withoutIdentity: () => Promise<ProbeResult>,
): Promise<void> {
  if (identity && !result.clientCert && result.tls) result.clientCert = { requested: false, authorities: [], sent: false };
  const cc = result.clientCert;
  if (!cc) return;
  if (identity) cc.given = true;
  if (cc.sent) {
    const t0 = performance.now();
    const bare = await withoutIdentity();
    const ms = Math.round(performance.now() - t0);
    const b = bare.clientCert;
    if (b?.requested) {
      cc.withoutCertificate = b.refused
        ? { refused: true, message: b.refused.message, ms }
        : { refused: false, message: 'a second connection without a certificate was let in', ms };
    } else {
      const why = bare.failure ? bare.failure.message : 'the server did not ask for a certificate that time';
      cc.withoutCertificate = { refused: undefined, message: `a second connection without a certificate could not tell: ${why}`, ms };
    }
  }
  const policy = clientCertPolicy(cc);
  if (policy) cc.policy = policy;
}

/** nginx's answers for `ssl_verify_client on` when the certificate is missing or fails its checks. */
const NGINX_CERT_ERROR = /No required SSL certificate was sent|SSL certificate error|certificate has expired/i;

function refusedOverHttp(responses: HttpResponse[] | undefined): ClientCertUse['refused'] | undefined {
  const r = responses?.find((x) => x.status === 400 && NGINX_CERT_ERROR.test(x.body.toString('latin1')));
  if (!r) return undefined;
  const said = r.body.toString('latin1').match(NGINX_CERT_ERROR)![0];
  return { when: 'http', message: `the server answered "${r.status} ${r.statusText}": "${said}"`, httpStatus: r.status };
}

/**
 * After a handshake in which the server asked for a certificate: record what was asked and sent,
 * and find out whether the server goes on. When no HTTP exchange ran, send one small request and
 * read, so that a late TLS 1.3 alert, a hang-up or nginx's "400 No required SSL certificate was
 * sent" shows. A refusal by alert or hang-up becomes the probe's failure, as it is in TLS 1.2.
 */
export async function clientCertAfterHandshake(
  hs: HandshakeResult, result: ProbeResult, opts: { timeoutMs: number; identity?: ClientIdentity },
): Promise<void> {
  if (!hs.certificateRequest) return;
  const out = use(hs.certificateRequest, hs.clientCertificateSent, opts.identity);
  result.clientCert = out;

  let responses = result.http;
  let failure: { message: string; code?: string; kind: string } | undefined = result.httpFailure;
  const ran = result.http !== undefined || result.httpFailure !== undefined;
  // In the protocol the server picked (HTTP/2 or HTTP/1.1), as any client's first request would be.
  if (!ran && !hs.tlsSocket.destroyed) {
    const probeRequest = { method: 'GET' as const, path: '/', headers: { 'User-Agent': 'ollama-tls' } };
    const outcome = await exchangeOn(hs, hostHeader(result.target.host, result.target.port), (done) => (done.length ? undefined : probeRequest), {
      timeoutMs: Math.min(opts.timeoutMs, 3000), maxBody: 4096,
    });
    responses = outcome.responses;
    const e = outcome.failure;
    // An HTTP server that is merely slow says nothing about certificates.
    if (e && e.kind !== 'timeout') failure = { kind: e.kind, message: e.message, ...(e.code ? { code: e.code } : {}) };
  }

  const overHttp = refusedOverHttp(responses);
  if (overHttp) {
    out.refused = overHttp;
    return;
  }
  if (!failure) return;
  const alert = alertFromText(failure.message);
  const hungUp = failure.kind === 'closed' || failure.code === 'ECONNRESET' || failure.code === 'EPIPE';
  // In TLS 1.2 the server has accepted the certificate once the handshake is done; only an alert counts.
  if (!alert && !(hungUp && hs.protocol === 'TLSv1.3')) return;
  const message = alert
    ? `the server sent TLS alert ${alert.description} (${alert.name}) after the handshake`
    : 'the server closed the connection right after the handshake without answering';
  out.refused = { when: 'after-handshake', message, ...(alert ? { alert } : {}) };
  result.failure = {
    stage: 'handshake', kind: alert ? 'alert' : 'closed', message,
    ...(failure.code ? { code: failure.code } : {}), ...(alert ? { alert } : {}),
  };
}
