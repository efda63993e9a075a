// One TLS handshake over an already-connected stream, with the server's
// certificate chain captured exactly as it was sent (order, extras, gaps).
//
// Node's TLS sits on top of a small recording Duplex instead of the raw
// socket, so we see every inbound byte. TLS 1.2 certificates are plaintext;
// for TLS 1.3 we decrypt the server's handshake flight with the secret Node
// reports through the `keylog` event (see tls-wire.ts).

import { Duplex } from 'node:stream';
import net from 'node:net';
import * as tls from 'node:tls';
import { ipVersion } from '../platform/ip.js';
import type { ClientIdentity } from './client-identity.js';
import { formatName, nameFromDer } from '../x509/certificate.js';
import { monotonicMs } from '../platform/monotonic.js';
import {
  GO_MAX_CERTIFICATE_MESSAGE,
  OPENSSL_MAX_CERT_LIST,
  alertFromText,
  looksLikeTls,
  readServerFlight,
  serverHandshakeSecretFromKeylog,
  type ServerFlight,
  type TlsAlert,
} from './tls-wire.js';

/** CA names from a CertificateRequest, as formatName prints them (recorded here, judged in client-cert.ts). */
export function formatAuthorities(names: Buffer[]): string[] {
  return names.map((der) => {
    try {
      return formatName(nameFromDer(der)) || '(an empty name)';
    } catch {
      return `(unreadable name ${der.subarray(0, 16).toString('hex')}...)`;
    }
  });
}

export interface HandshakeOptions {
  /** An already-connected TCP socket (or a proxy tunnel). */
  socket: Duplex;
  /** What the user asked for (name or IP literal). */
  host: string;
  /** SNI to send; when host is an IP literal and none is given, no SNI is sent (Node refuses IP SNI). */
  servername?: string;
  /** Default ['h2', 'http/1.1'] (what Go's net/http offers). */
  alpn?: string[];
  /** The whole handshake must finish within this. */
  timeoutMs: number;
  /** Passthrough (`ca` for Node's own check, else none; versions, ciphers). rejectUnauthorized is always forced off. */
  tlsOptions?: Partial<tls.ConnectionOptions>;
  /** A client certificate to present when the server asks for one (--cert/--key, --pkcs12). */
  clientIdentity?: ClientIdentity;
  /** Told once the ClientHello has been handed to the socket: local work can now overlap the round trip. */
  onClientHello?: () => void;
}

/** The server's CertificateRequest: it wants a client certificate (mutual TLS). */
export interface CertificateRequestInfo {
  /** The CA names it accepts, as formatName prints them; empty when it named none. */
  authorities: string[];
}

export interface HandshakeResult {
  /** Still open; the caller closes it. */
  tlsSocket: tls.TLSSocket;
  /** e.g. 'TLSv1.3' */
  protocol: string | null;
  /** IANA/standard name, e.g. 'TLS_AES_256_GCM_SHA384'. */
  cipher: string | null;
  alpn: string | null;
  /** DER certificates in the exact order the server sent them. */
  chain: Buffer[];
  /** 'api' only if wire parsing failed: then `chain` is getPeerCertificate(true) order (reordered, maybe with a local root). */
  chainSource: 'wire' | 'api';
  /** Why the wire capture could not be used (only when chainSource is 'api'). */
  wireProblem?: string;
  /** The server answered a HelloRetryRequest first (TLS 1.3 key share mismatch). */
  helloRetryRequest: boolean;
  /** Node's own verdict for this handshake (tlsSocket.authorized / authorizationError), against the `ca` given in tlsOptions (none by default). */
  node: { authorized: boolean; error: string | null };
  handshakeMs: number;
  /** The server asked for a client certificate. */
  certificateRequest?: CertificateRequestInfo;
  /** A client certificate went out: one was given and the server asked for one. */
  clientCertificateSent: boolean;
}

/** certificate-list-limit: the server's Certificate message is over Node.js/OpenSSL's 100 KiB (Go's limit is 256 KiB). */
export type HandshakeFailureKind = 'timeout' | 'reset' | 'closed' | 'not-tls' | 'alert' | 'protocol-mismatch' | 'certificate-list-limit' | 'error';

export class HandshakeFailure extends Error {
  kind: HandshakeFailureKind;
  /** A TLS alert from the server, e.g. { level: 2, description: 70, name: 'protocol_version' }. */
  alert?: { level: number; description: number; name: string };
  /** Up to 64 bytes the peer sent first (for not-tls: e.g. 'HTTP/1.1 400 Bad Request'). */
  firstBytes?: Buffer;
  /** Node's error code if any (ERR_SSL_WRONG_VERSION_NUMBER, ECONNRESET, ...). */
  code?: string;
  /** The server had asked for a client certificate before it gave up. */
  certificateRequest?: CertificateRequestInfo;
  /** A client certificate had gone out. */
  clientCertificateSent?: boolean;
  /**
   * TLS 1.3: the handshake completed, then the server refused (its verdict on the client's
   * certificate comes after the handshake: certificate_required, unknown_ca, or a hang-up).
   */
  afterHandshake?: boolean;
  /**
   * A client-certificate refusal comes after the server sent its own certificates: the chain as
   * sent, so it can still be judged (the refusal is about the client, not the server's chain).
   */
  chain?: Buffer[];
  /** certificate-list-limit: the Certificate message's length as the server declared it. */
  certificateListBytes?: number;

  constructor(
    kind: HandshakeFailureKind,
    message: string,
    extra: { alert?: TlsAlert; firstBytes?: Buffer; code?: string; cause?: unknown } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'HandshakeFailure';
    this.kind = kind;
    if (extra.alert) this.alert = extra.alert;
    if (extra.firstBytes) this.firstBytes = extra.firstBytes;
    if (extra.code) this.code = extra.code;
  }
}

const DEFAULT_ALPN = ['h2', 'http/1.1'];
/**
 * TLS 1.3 servers judge the client's certificate after the client considers the handshake done,
 * and answer within a round trip: wait this long (twice the handshake, within these bounds) for
 * that verdict before handing the connection over, so a refusal is read before anything is sent
 * (data sent to a server that then closes makes it reset the connection, and the reset can
 * destroy the alert before it is read).
 */
const VERDICT_WAIT_MIN_MS = 150;
const VERDICT_WAIT_MAX_MS = 1500;
/** After the peer's FIN, time for an alert that came with it to come out of Node's TLS. */
const LATE_ALERT_MS = 50;
const FIRST_BYTES_LENGTH = 64;
/** protocol_version (RFC 8446 6.2) */
const ALERT_PROTOCOL_VERSION = 70;
/** OpenSSL reasons that mean "no TLS version in common", raised locally. */
const LOCAL_PROTOCOL_MISMATCH_CODES = new Set([
  'ERR_SSL_UNSUPPORTED_PROTOCOL',
  'ERR_SSL_NO_PROTOCOLS_AVAILABLE',
  'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
  'ERR_SSL_VERSION_TOO_LOW',
  'ERR_SSL_WRONG_SSL_VERSION',
]);
const LOCAL_PROTOCOL_MISMATCH_TEXT = /unsupported protocol|no protocols available|version too low|tlsv1 alert protocol version/i;

/**
 * Sits between Node's TLS and the real socket: forwards writes out, pushes
 * every inbound chunk up to TLS and keeps a copy until told to stop. Also
 * remembers how the peer went away (FIN, reset) for failure classification.
 */
class RecordingDuplex extends Duplex {
  private readonly chunks: Buffer[] = [];
  private recording = true;
  firstBytes: Buffer | undefined;
  /** The peer sent FIN. */
  peerEnded = false;
  /** The first error the underlying stream raised. */
  innerError: (Error & { code?: string }) | undefined;

  /**
   * During the handshake, destroying this stream (Node's TLS does when it gives up) leaves the
   * inner one open and recording, so the server's flight can still be read to its end (see
   * captureMore); handshake() releases it.
   */
  holdInner = true;
  private onMore: (() => void) | undefined;

  private readonly onData = (chunk: Buffer | string): void => {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (this.recording) {
      this.chunks.push(Buffer.from(buf));
      if (!this.firstBytes || this.firstBytes.length < FIRST_BYTES_LENGTH) {
        this.firstBytes = Buffer.concat([this.firstBytes ?? Buffer.alloc(0), buf]).subarray(0, FIRST_BYTES_LENGTH);
      }
      this.onMore?.();
    }
    if (this.destroyed) return;
    if (!this.push(buf)) this.inner.pause();
  };
  private readonly onEnd = (): void => {
    this.peerEnded = true;
    this.onMore?.();
    if (!this.destroyed) this.push(null);
  };
  private readonly onError = (err: Error): void => {
    this.innerError ??= err;
    this.destroy(err);
  };
  private readonly onClose = (): void => {
    this.innerClosed = true;
    this.onMore?.();
    if (!this.destroyed) this.destroy();
  };
  private innerClosed = false;

  constructor(private readonly inner: Duplex) {
    super();
    inner.on('data', this.onData);
    inner.on('end', this.onEnd);
    inner.on('error', this.onError);
    inner.on('close', this.onClose);
  }

  /** Everything received so far (while recording). */
  captured(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /**
   * After Node's TLS gave up, keep reading what the peer sends until `enough(captured)`, the peer
   * goes, or `ms` pass. Only while holdInner is set.
   */
  captureMore(enough: (captured: Buffer) => boolean, ms: number): Promise<Buffer> {
    return new Promise((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.onMore = undefined;
        resolve(this.captured());
      };
      const check = (): void => {
        if (this.peerEnded || this.innerClosed || enough(this.captured())) finish();
      };
      const timer = setTimeout(finish, ms);
      this.onMore = check;
      this.inner.resume();
      check();
    });
  }

  /** Stop holding the inner stream: detach and destroy it. */
  release(): void {
    this.holdInner = false;
    this.detach();
  }

  /** Stop keeping copies; bytes keep flowing. */
  stopRecording(): void {
    this.recording = false;
    this.chunks.length = 0;
  }

  override _read(): void {
    this.inner.resume();
  }

  /** Called once, after the first bytes (the ClientHello) are handed to the socket. */
  onFirstWrite: (() => void) | undefined;

  override _write(chunk: Buffer, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.inner.write(chunk, encoding, callback);
    const first = this.onFirstWrite;
    this.onFirstWrite = undefined;
    first?.();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.inner.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.holdInner) this.detach();
    callback(error);
  }

  private detach(): void {
    this.inner.off('data', this.onData);
    this.inner.off('end', this.onEnd);
    this.inner.off('close', this.onClose);
    // Keep swallowing late errors from the inner stream: nobody else listens.
    this.inner.off('error', this.onError);
    this.inner.on('error', noop);
    this.inner.destroy();
  }
}

function noop(): void {}

/**
 * Which SNI to send, the way Go's crypto/tls does it (hostnameInSNI): the
 * explicit servername, else the host; never an IP literal (RFC 6066 3; Node
 * refuses them too), and without trailing dots.
 */
export function pickServername(host: string, servername?: string): string | undefined {
  let name = servername !== undefined && servername !== '' ? servername : host;
  let bare = name.startsWith('[') && name.endsWith(']') ? name.slice(1, -1) : name;
  const zone = bare.lastIndexOf('%');
  if (zone > 0) bare = bare.slice(0, zone);
  if (ipVersion(bare)) return undefined;
  while (name.endsWith('.')) name = name.slice(0, -1);
  return name === '' ? undefined : name;
}

/**
 * Performs a TLS handshake over `opts.socket` and returns the negotiated
 * parameters, the chain exactly as the server sent it, and Node's verdict.
 * Rejects with a HandshakeFailure; on failure all sockets are destroyed.
 */
export async function handshake(opts: HandshakeOptions): Promise<HandshakeResult> {
  const started = monotonicMs();
  const raw = opts.socket;
  const wire = new RecordingDuplex(raw);
  wire.onFirstWrite = opts.onClientHello;
  const keylog: string[] = [];
  const servername = pickServername(opts.host, opts.servername);

  const connectOptions: tls.ConnectionOptions = {
    // No roots unless some are given: the views judge the chain, and Node's default store (its
    // bundled roots, parsed into OpenSSL's) costs a run ~17 ms to build where nothing else built it.
    ca: [],
    ...opts.tlsOptions,
    ...opts.clientIdentity?.tls,
    socket: wire,
    host: opts.host.startsWith('[') && opts.host.endsWith(']') ? opts.host.slice(1, -1) : opts.host,
    ALPNProtocols: opts.alpn ?? DEFAULT_ALPN,
    // We judge the chain ourselves; Node's verdict is only reported.
    rejectUnauthorized: false,
  };
  // Node would otherwise derive SNI from `host`; an empty string means "send none".
  connectOptions.servername = servername ?? '';

  return new Promise<HandshakeResult>((resolve, reject) => {
    let settled = false;
    let tlsSocket: tls.TLSSocket | undefined;

    const onKeylog = (line: Buffer): void => {
      keylog.push(line.toString('latin1'));
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      if (tlsSocket) {
        tlsSocket.off('secureConnect', onSecureConnect);
        tlsSocket.off('error', onError);
        tlsSocket.off('close', onClose);
        tlsSocket.off('keylog', onKeylog);
      }
    };
    const fail = (failure: HandshakeFailure): void => {
      if (settled) return;
      settled = true;
      cleanup();
      if (tlsSocket) {
        tlsSocket.on('error', noop); // late errors from a socket we are throwing away
        tlsSocket.destroy();
      }
      wire.destroy();
      wire.release();
      raw.destroy();
      reject(failure);
    };
    let beyondLimit = false;
    const onError = (err: Error & { code?: string }): void => {
      if (!beyondLimit && isCertificateListLimit(err)) {
        // Node cannot read a Certificate message over OpenSSL's 100 KiB; Go reads up to 256 KiB.
        // Read the rest of the server's flight off the wire so the chain is judged as Go would.
        beyondLimit = true;
        clearTimeout(timer);
        const budget = Math.min(CAPTURE_BEYOND_LIMIT_MS, Math.max(0, opts.timeoutMs - (monotonicMs() - started)));
        const secret = (): Buffer | undefined => serverHandshakeSecretFromKeylog(keylog);
        wire.captureMore((bytes) => {
          const f = readServerFlight(bytes, { serverHandshakeTrafficSecret: secret() });
          return f.certificates !== undefined || (f.certificateMessageLength ?? 0) > GO_MAX_CERTIFICATE_MESSAGE;
        }, budget).then((bytes) => {
          const flight = readServerFlight(bytes, { serverHandshakeTrafficSecret: secret() });
          // Another message over OpenSSL's limits (a CertificateRequest naming thousands of CAs) is an ordinary failure.
          const overList = (flight.certificateMessageLength ?? 0) > OPENSSL_MAX_CERT_LIST;
          fail(overList ? beyondNodeLimit(err, flight) : classifyFailure(err, wire, keylog, opts.clientIdentity));
        }, () => fail(classifyFailure(err, wire, keylog, opts.clientIdentity)));
        return;
      }
      if (beyondLimit) return;
      fail(classifyFailure(err, wire, keylog, opts.clientIdentity));
    };
    const onClose = (): void => {
      if (beyondLimit) return;
      fail(classifyFailure(undefined, wire, keylog, opts.clientIdentity));
    };
    const onSecureConnect = (): void => {
      if (settled || !tlsSocket) return;
      settled = true;
      cleanup();
      wire.holdInner = false;
      const captured = wire.captured();
      wire.stopRecording();
      const flight = readServerFlight(captured, {
        serverHandshakeTrafficSecret: serverHandshakeSecretFromKeylog(keylog),
      });
      const sock = tlsSocket;
      let chain: Buffer[];
      let chainSource: 'wire' | 'api';
      let wireProblem: string | undefined;
      const leaf = sock.getPeerCertificate()?.raw as Buffer | undefined;
      if (!flight.certificates || flight.certificates.length === 0) {
        wireProblem = flight.problem ?? 'the server sent an empty Certificate message';
      } else if (leaf && !leaf.equals(flight.certificates[0]!)) {
        // Sanity check: the first certificate on the wire is the one Node verified.
        wireProblem = 'the certificate read off the wire differs from the one Node negotiated';
      }
      if (wireProblem === undefined) {
        chain = flight.certificates!;
        chainSource = 'wire';
      } else {
        chain = chainFromApi(sock);
        chainSource = 'api';
      }
      const cipher = sock.getCipher() as (tls.CipherNameAndProtocol & { standardName?: string }) | undefined;
      const alpn = sock.alpnProtocol;
      const result: HandshakeResult = {
        tlsSocket: sock,
        protocol: sock.getProtocol() ?? flight.version ?? null,
        cipher: cipher?.standardName ?? cipher?.name ?? null,
        alpn: typeof alpn === 'string' ? alpn : null,
        chain,
        chainSource,
        helloRetryRequest: flight.helloRetryRequest,
        node: {
          authorized: sock.authorized,
          error: sock.authorizationError ? String(sock.authorizationError) : null,
        },
        handshakeMs: Math.round((monotonicMs() - started) * 10) / 10,
        clientCertificateSent: Boolean(flight.certificateRequest && opts.clientIdentity),
      };
      if (wireProblem) result.wireProblem = wireProblem;
      if (flight.certificateRequest) result.certificateRequest = { authorities: formatAuthorities(flight.certificateRequest.authorities) };
      if (result.certificateRequest && result.protocol === 'TLSv1.3') {
        const budget = opts.timeoutMs - (monotonicMs() - started);
        const waitMs = Math.min(Math.max(VERDICT_WAIT_MIN_MS, 2 * result.handshakeMs), VERDICT_WAIT_MAX_MS, Math.max(0, budget));
        awaitVerdict(sock, raw, waitMs).then((refusal) => {
          if (!refusal) {
            resolve(result);
            return;
          }
          refusal.certificateRequest = result.certificateRequest;
          refusal.clientCertificateSent = result.clientCertificateSent;
          refusal.afterHandshake = true;
          if (result.chainSource === 'wire') refusal.chain = result.chain;
          sock.on('error', noop);
          sock.destroy();
          wire.destroy();
          raw.destroy();
          reject(refusal);
        }, reject);
        return;
      }
      resolve(result);
    };

    const timer = setTimeout(() => {
      fail(
        new HandshakeFailure('timeout', `TLS handshake did not finish within ${opts.timeoutMs} ms`, {
          ...(wire.firstBytes ? { firstBytes: wire.firstBytes } : {}),
        }),
      );
    }, opts.timeoutMs);

    try {
      tlsSocket = connectTls(connectOptions);
    } catch (err) {
      fail(classifyFailure(err as Error & { code?: string }, wire, keylog, opts.clientIdentity));
      return;
    }
    tlsSocket.on('keylog', onKeylog);
    tlsSocket.once('secureConnect', onSecureConnect);
    tlsSocket.on('error', onError);
    tlsSocket.once('close', onClose);
  });
}

/**
 * tls.connect, with Node's net.isIP answered by ipVersion for the length of the call: tls.connect
 * asks net.isIP whether the SNI name is an IP address (only to warn, DEP0123), and Node's isIP
 * builds its IPv6 pattern on first use, ~3 ms of a doctor run, for a plain host name too.
 * ipVersion gives the same answers (test/unit/platform/ip.test.ts) without that pattern.
 */
function connectTls(options: tls.ConnectionOptions): tls.TLSSocket {
  const netExports = net as unknown as { isIP: (s: unknown) => number };
  const nodeIsIP = netExports.isIP;
  netExports.isIP = (s) => (typeof s === 'string' ? ipVersion(s) : nodeIsIP(s));
  try {
    return tls.connect(options);
  } finally {
    netExports.isIP = nodeIsIP;
  }
}

/** How long to keep reading a flight Node gave up on (its Certificate message over OpenSSL's limit). */
const CAPTURE_BEYOND_LIMIT_MS = 5000;

/** OpenSSL's "excessive message size": a handshake message over its limit (for the Certificate message, max_cert_list). */
function isCertificateListLimit(err: Error & { code?: string }): boolean {
  return err.code === 'ERR_SSL_EXCESSIVE_MESSAGE_SIZE' || /excessive message size/i.test(err.message);
}

/**
 * Node's handshake stopped at OpenSSL's limit; the flight read off the wire says what Go would do:
 * read the chain (up to 256 KiB) or refuse it too.
 */
function beyondNodeLimit(err: Error & { code?: string }, flight: ServerFlight): HandshakeFailure {
  const bytes = flight.certificateMessageLength!;
  const size = `${bytes} bytes`;
  const goRefuses = bytes > GO_MAX_CERTIFICATE_MESSAGE;
  const message = goRefuses
    ? `the server's Certificate message is ${size}: over Go's limit (${GO_MAX_CERTIFICATE_MESSAGE} bytes) as well as Node.js/OpenSSL's (${OPENSSL_MAX_CERT_LIST})`
    : `Node.js (OpenSSL, max_cert_list ${OPENSSL_MAX_CERT_LIST} bytes) cannot read the server's Certificate message of ${size}; ` +
      `Go reads up to ${GO_MAX_CERTIFICATE_MESSAGE}${flight.certificates ? ', and the chain was read off the wire' : `, but the chain could not be read off the wire (${flight.problem ?? 'incomplete'})`}`;
  const failure = new HandshakeFailure('certificate-list-limit', message, { cause: err, ...(err.code ? { code: err.code } : {}) });
  failure.certificateListBytes = bytes;
  if (!goRefuses && flight.certificates?.length) failure.chain = flight.certificates;
  return failure;
}

/**
 * Wait up to `ms` for a TLS 1.3 server's verdict on the client certificate: an alert or a hang-up
 * is a refusal; silence means it went on.
 */
function awaitVerdict(sock: tls.TLSSocket, raw: Duplex, ms: number): Promise<HandshakeFailure | undefined> {
  return new Promise((resolve) => {
    let done = false;
    let lateTimer: NodeJS.Timeout | undefined;
    const finish = (refusal: HandshakeFailure | undefined): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(lateTimer);
      sock.off('error', onError);
      sock.off('close', onGone);
      raw.off('end', onGone);
      raw.off('close', onGone);
      raw.off('error', onGone);
      resolve(refusal);
    };
    const onError = (err: Error & { code?: string }): void => {
      const alert = alertFromText(err.message);
      if (alert) {
        finish(new HandshakeFailure('alert', `the server sent TLS alert ${alert.description} (${alert.name}) right after the handshake`, {
          alert, cause: err, ...(err.code ? { code: err.code } : {}),
        }));
      } else {
        const reset = err.code === 'ECONNRESET';
        finish(new HandshakeFailure(reset ? 'reset' : 'error', `the server ${reset ? 'reset' : 'broke off'} the connection right after the handshake: ${err.message.trim()}`, {
          cause: err, ...(err.code ? { code: err.code } : {}),
        }));
      }
    };
    const onGone = (): void => {
      // An alert that came just before the FIN may still be on its way through Node's TLS.
      lateTimer ??= setTimeout(() => finish(new HandshakeFailure('closed', 'the server closed the connection right after the handshake, without an alert')), LATE_ALERT_MS);
    };
    const timer = setTimeout(() => finish(undefined), ms);
    sock.on('error', onError);
    sock.once('close', onGone);
    raw.once('end', onGone);
    raw.once('close', onGone);
    raw.once('error', onGone);
  });
}

/** getPeerCertificate(true) flattened: Node's order (leaf, then by issuance), as DER. */
function chainFromApi(sock: tls.TLSSocket): Buffer[] {
  const chain: Buffer[] = [];
  const seen = new Set<tls.DetailedPeerCertificate>();
  let cert = sock.getPeerCertificate(true) as tls.DetailedPeerCertificate | undefined;
  while (cert && cert.raw && !seen.has(cert)) {
    seen.add(cert);
    chain.push(cert.raw);
    cert = cert.issuerCertificate;
  }
  return chain;
}

/**
 * Why did the handshake fail? Evidence in order of strength: bytes that are
 * not TLS, an alert the server sent, Node/OpenSSL's error, then how the
 * transport went away.
 */
function classifyFailure(
  err: (Error & { code?: string }) | undefined,
  wire: RecordingDuplex,
  keylog: string[],
  clientIdentity?: ClientIdentity,
): HandshakeFailure {
  const failure = classifyFailureKind(err, wire, keylog);
  // Did the server ask for a client certificate before it gave up? (TLS 1.2 refuses in the handshake.)
  if (failure.kind !== 'not-tls' && wire.firstBytes) {
    const flight = readServerFlight(wire.captured(), { serverHandshakeTrafficSecret: serverHandshakeSecretFromKeylog(keylog) });
    const request = flight.certificateRequest;
    if (request) {
      failure.certificateRequest = { authorities: formatAuthorities(request.authorities) };
      failure.clientCertificateSent = Boolean(clientIdentity);
      if (flight.certificates?.length) failure.chain = flight.certificates;
    }
  }
  return failure;
}

function classifyFailureKind(
  err: (Error & { code?: string }) | undefined,
  wire: RecordingDuplex,
  keylog: string[],
): HandshakeFailure {
  const firstBytes = wire.firstBytes;
  const code = err?.code ?? wire.innerError?.code;
  const base = { ...(code ? { code } : {}), ...(err ? { cause: err } : {}) };
  const detail = err ? `: ${err.message.trim()}` : '';

  if (firstBytes && !looksLikeTls(firstBytes)) {
    return new HandshakeFailure('not-tls', `the server did not answer with TLS (first bytes: ${describeBytes(firstBytes)})`, {
      ...base,
      firstBytes,
    });
  }

  let flight: ServerFlight | undefined;
  if (firstBytes) {
    flight = readServerFlight(wire.captured(), { serverHandshakeTrafficSecret: serverHandshakeSecretFromKeylog(keylog) });
  }
  const alert = flight?.alerts.find((a) => a.level === 2) ?? flight?.alerts[0] ?? alertFromText(err?.message);
  if (alert) {
    const kind = alert.description === ALERT_PROTOCOL_VERSION ? 'protocol-mismatch' : 'alert';
    // The alert says it all; OpenSSL's own line ("error:0A000412:SSL routines::sslv3 alert bad certificate:...") adds nothing readable.
    return new HandshakeFailure(kind, `the server sent TLS alert ${alert.description} (${alert.name})`, {
      ...base,
      alert,
      ...(firstBytes ? { firstBytes } : {}),
    });
  }

  if (err && ((code && LOCAL_PROTOCOL_MISMATCH_CODES.has(code)) || LOCAL_PROTOCOL_MISMATCH_TEXT.test(err.message))) {
    return new HandshakeFailure('protocol-mismatch', `no TLS protocol version in common with the server${detail}`, {
      ...base,
      ...(firstBytes ? { firstBytes } : {}),
    });
  }

  const innerCode = wire.innerError?.code;
  if (innerCode === 'ECONNRESET') {
    return new HandshakeFailure('reset', `the connection was reset during the TLS handshake${detail}`, {
      ...base,
      code: innerCode,
      ...(firstBytes ? { firstBytes } : {}),
    });
  }
  if (wire.peerEnded || innerCode === 'EPIPE' || !err) {
    const answered = firstBytes ? 'after a partial TLS answer' : 'without a TLS answer';
    return new HandshakeFailure('closed', `the server closed the connection ${answered}${detail}`, {
      ...base,
      ...(firstBytes ? { firstBytes } : {}),
    });
  }
  if (code === 'ECONNRESET' && !err.message.includes('before secure TLS connection')) {
    return new HandshakeFailure('reset', `the connection was reset during the TLS handshake${detail}`, base);
  }
  return new HandshakeFailure('error', `TLS handshake failed${detail}`, {
    ...base,
    ...(firstBytes ? { firstBytes } : {}),
  });
}

function describeBytes(bytes: Buffer): string {
  const printable = bytes.every((b) => b === 0x0d || b === 0x0a || b === 0x09 || (b >= 0x20 && b < 0x7f));
  return printable ? JSON.stringify(bytes.toString('latin1')) : bytes.toString('hex');
}
