// Client certificates (mutual TLS) as the probe sees them: whether the server asked for one,
// which CAs it named, whether one went out, and how it turned us down. The identity itself is
// client-identity.ts.
import type { HandshakeFailure, HandshakeFailureKind, HandshakeResult } from './handshake.js';
import type { ClientIdentity } from './client-identity.js';
import type { HttpResponse } from './http.js';
import { exchangeOn } from './exchange.js';
import { hostHeader } from './target.js';
import { alertFromText, type TlsAlert } from './tls-wire.js';
import { monotonicMs } from '../platform/monotonic.js';


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

/**
 * The part of a probe's result (probe.ts ProbeResult) this module reads and completes: declared
 * here, so that probe.ts imports this module and not the other way round.
 */
export interface ClientCertProbe {
  target: { host: string; port: number };
  tls?: object;
  failure?: { message: string };
  http?: HttpResponse[];
  httpFailure?: { kind: string; message: string; code?: string };
  clientCert?: ClientCertUse;
}

/** A refusal after the handshake, as the probe's failure (probe.ts ProbeFailure, stage handshake). */
export interface RefusedAfterHandshake {
  stage: 'handshake';
  kind: Extract<HandshakeFailureKind, 'alert' | 'closed'>;
  message: string;
  code?: string;
  alert?: TlsAlert;
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
  result: ClientCertProbe, identity: ClientIdentity | undefined, withoutIdentity: () => Promise<ClientCertProbe>,
): Promise<void> {
  if (identity && !result.clientCert && result.tls) result.clientCert = { requested: false, authorities: [], sent: false };
  const cc = result.clientCert;
  if (!cc) return;
  if (identity) cc.given = true;
  if (cc.sent) {
    const t0 = monotonicMs();
    const bare = await withoutIdentity();
    const ms = Math.round(monotonicMs() - t0);
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
 * sent" shows. A refusal by alert or hang-up is returned: the caller makes it the probe's
 * failure, as it is in TLS 1.2.
 */
export async function clientCertAfterHandshake(
  hs: HandshakeResult, result: ClientCertProbe, opts: { timeoutMs: number; identity?: ClientIdentity },
): Promise<RefusedAfterHandshake | undefined> {
  if (!hs.certificateRequest) return undefined;
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
    return undefined;
  }
  if (!failure) return undefined;
  const alert = alertFromText(failure.message);
  const hungUp = failure.kind === 'closed' || failure.code === 'ECONNRESET' || failure.code === 'EPIPE';
  // In TLS 1.2 the server has accepted the certificate once the handshake is done; only an alert counts.
  if (!alert && !(hungUp && hs.protocol === 'TLSv1.3')) return undefined;
  const message = alert
    ? `the server sent TLS alert ${alert.description} (${alert.name}) after the handshake`
    : 'the server closed the connection right after the handshake without answering';
  out.refused = { when: 'after-handshake', message, ...(alert ? { alert } : {}) };
  return {
    stage: 'handshake', kind: alert ? 'alert' : 'closed', message,
    ...(failure.code ? { code: failure.code } : {}), ...(alert ? { alert } : {}),
  };
}
