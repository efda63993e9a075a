// Mutual TLS: the server asked for a client certificate. Whether it requires one or merely
// requests one, which CAs it accepts, and when a certificate was sent and refused, what in that
// certificate explains it (its issuer, its extended key usage, its validity).
import type { ProbeResult } from '../probe/probe.js';
import { formatName, type Certificate } from '../x509/certificate.js';
import { decodedCertificate } from '../x509/load.js';
import { EKU, EKU_NAMES } from '../x509/oids.js';
import type { Finding, Fix } from './finding.js';

/** certificate_required (RFC 8446 6.2). */
const CERTIFICATE_REQUIRED = 116;

/** What an alert says about a client certificate, in plain words. */
const ALERT_MEANING: Record<number, string> = {
  40: 'TLS 1.2 servers send it when a required certificate is missing',
  42: "the certificate failed the server's checks",
  43: 'the certificate is not usable for client authentication (its key usage or extended key usage)',
  45: 'the certificate has expired',
  46: "the certificate failed the server's checks",
  48: 'the server does not trust the CA that issued the certificate',
  49: 'the certificate is valid but not allowed in',
};

/** How Go (and so Ollama) prints these alerts: "remote error: tls: ..." (crypto/tls alert.go). */
const GO_ALERT_TEXT: Record<number, string> = {
  40: 'handshake failure', 42: 'bad certificate', 43: 'unsupported certificate', 44: 'revoked certificate', 45: 'expired certificate',
  46: 'unknown certificate', 48: 'unknown certificate authority', 49: 'access denied', [CERTIFICATE_REQUIRED]: 'certificate required',
};

const day = (d: Date): string => d.toISOString().slice(0, 10);

function listNames(names: string[]): string {
  return names.map((n) => `"${n}"`).join(', ');
}

/**
 * Does the chain reach one of the CA names the server listed? Go's rule (crypto/tls
 * CertificateRequestInfo.SupportsCertificate): the issuer of any certificate in the chain is one
 * of them. No names listed: any issuer will do.
 */
export function issuerAccepted(chain: Certificate[], authorities: string[]): boolean {
  if (authorities.length === 0) return true;
  const issuers = new Set(chain.map((c) => formatName(c.issuer)));
  return authorities.some((a) => issuers.has(a));
}

/** What in the certificate sent explains a refusal; empty when nothing in it does. */
export function clientCertProblems(chain: Certificate[], authorities: string[], now: Date): string[] {
  const leaf = chain[0]!;
  const out: string[] = [];
  if (!issuerAccepted(chain, authorities)) {
    out.push(`it was issued by "${formatName(leaf.issuer)}", which is not among the CAs the server accepts`);
  }
  const eku = leaf.extKeyUsage;
  if (eku && !eku.includes(EKU.clientAuth) && !eku.includes(EKU.any)) {
    const has = eku.length ? eku.map((o) => EKU_NAMES[o] ?? o).join(', ') : 'nothing';
    out.push(`its extended key usage allows ${has} but not clientAuth (${EKU.clientAuth}), so a server that checks it (Go, OpenSSL, nginx) refuses it for client authentication`);
  }
  if (now.getTime() > leaf.notAfter.getTime()) out.push(`it expired on ${day(leaf.notAfter)}`);
  else if (now.getTime() < leaf.notBefore.getTime()) out.push(`it is not valid until ${day(leaf.notBefore)} (or this computer's clock is wrong)`);
  return out;
}

/** Did the server turn the connection down over a client certificate? */
export function clientCertRefused(p: ProbeResult): boolean {
  if (p.clientCert?.refused) return true;
  return p.failure?.stage === 'handshake' && p.failure.alert?.description === CERTIFICATE_REQUIRED;
}

const OLLAMA_NOTE =
  'Ollama itself cannot present a client certificate (it has no setting for one), so for Ollama to reach a server that requires one, ' +
  'a proxy on the Ollama side has to present it: nginx with proxy_ssl_certificate and proxy_ssl_certificate_key, or stunnel in client mode, ' +
  'with Ollama pointed at that proxy.';

const OLLAMA_FIX: Fix = {
  title: 'For Ollama: run a local proxy that presents the client certificate (nginx proxy_ssl_certificate / proxy_ssl_certificate_key, or stunnel with client = yes) and point Ollama at it',
  side: 'client',
};

/**
 * The `client-cert-required` finding, from what the probe saw: an error when the server refused
 * (no certificate, or the one sent), a note when it asks for one and went on without.
 * Undefined when the server did not ask, or accepted the certificate sent.
 */
export function clientCertFinding(p: ProbeResult, now: Date = new Date()): Finding | undefined {
  const cc = p.clientCert;
  const label = p.target.label;
  const check = `ollama-tls doctor ${p.target.input.includes('://') ? p.target.input : label} --cert client.pem --key client.key`;
  const tls13 = p.tls?.protocol === 'TLSv1.3' || cc?.refused?.when === 'after-handshake';
  const authorities = cc?.authorities ?? [];
  const cas = authorities.length
    ? `It accepts certificates issued by: ${listNames(authorities)}.`
    : cc?.requested ? 'It did not name the CAs it accepts.' : '';

  if (!clientCertRefused(p)) {
    if (!cc?.requested || cc.sent) return undefined;
    return {
      code: 'client-cert-required',
      severity: 'info',
      title: `${label} asks for a client certificate but does not require one`,
      detail:
        'The server sent a certificate request in the TLS handshake and went on without a certificate: its policy requests but does not require one ' +
        "(Go's tls.RequestClientCert or VerifyClientCertIfGiven, Skipper's RequestClientCert, nginx's ssl_verify_client optional). " +
        `Ollama sends none, and TLS works. ${cas} The service behind it may still let in only clients that present one (an HTTP 401 or 403).`,
      evidence: [`CertificateRequest received${authorities.length ? `; acceptable CAs: ${authorities.join('; ')}` : ', naming no CAs'}`],
      fixes: [{ title: 'If this service expects a client certificate, check with it', command: check, side: 'client' }],
    };
  }

  const refusal = cc?.refused;
  const alert = refusal?.alert ?? (p.failure?.stage === 'handshake' ? p.failure.alert : undefined);
  const how = refusal?.when === 'http'
    ? `It finished the TLS handshake and then refused at the HTTP layer (${refusal.message}), as nginx does with ssl_verify_client on.`
    : alert
      ? `It ${tls13 ? 'sent' : 'ended the handshake with'} the alert ${alert.name} (${alert.description})${tls13 ? ' right after the handshake' : ''}` +
        `${ALERT_MEANING[alert.description] ? `: ${ALERT_MEANING[alert.description]}` : ''}.`
      : `It closed the connection ${tls13 ? 'right after the handshake' : 'during the handshake'} without an alert (Node.js servers do this).`;
  const when = tls13 && refusal?.when !== 'http'
    ? ' In TLS 1.3 the server judges the client certificate after the handshake, so clients see the refusal on their first read, not as a handshake error.'
    : '';
  const goSays = alert && GO_ALERT_TEXT[alert.description] ? ` Ollama (Go) reports "remote error: tls: ${GO_ALERT_TEXT[alert.description]}".` : '';
  const evidence = [refusal?.message ?? p.failure?.message ?? 'refused'];
  if (cc?.requested) evidence.push(`CertificateRequest received${authorities.length ? `; acceptable CAs: ${authorities.join('; ')}` : ', naming no CAs'}`);
  if (p.failure?.stage === 'handshake' && p.failure.code) evidence.push(`Node error code ${p.failure.code}`);

  const sentChain = cc?.sent ? (cc.sentChain ?? []).map((der) => decodedCertificate(der)).filter((c): c is Certificate => c !== undefined) : [];
  if (sentChain.length === 0) {
    const requested = cc?.requested ? 'The server asked for a client certificate in the TLS handshake, got none, ' : 'The server wanted a client certificate, got none, ';
    return {
      code: 'client-cert-required',
      severity: 'error',
      title: `${label} requires a client certificate (mutual TLS), and none was sent`,
      detail:
        `${requested}and refused the connection: its policy requires one (Go's tls.RequireAnyClientCert or RequireAndVerifyClientCert, ` +
        `Skipper's RequireAnyClientCert, nginx's ssl_verify_client on). ${how}${when}${goSays} ${cas} ${OLLAMA_NOTE}`.replace(/ {2,}/g, ' '),
      evidence,
      fixes: [
        { title: 'Check with the client certificate and key issued for this service', command: check, side: 'client' },
        OLLAMA_FIX,
        { title: 'Or, if clients should not need a certificate, make it optional on the server (nginx ssl_verify_client optional; Go tls.VerifyClientCertIfGiven)', side: 'server' },
      ],
    };
  }

  const leaf = sentChain[0]!;
  const subject = formatName(leaf.subject) || `serial ${leaf.serialHex}`;
  const problems = clientCertProblems(sentChain, authorities, now);
  const why = problems.length
    ? `What is wrong with it: ${problems.join('; ')}.`
    : 'Nothing in the certificate itself explains it (its issuer is among the CAs named, it allows clientAuth, it is within its validity): ' +
      'the server may not trust its CA after all, may have revoked it, or may let in only some subjects; its logs say which.';
  evidence.push(`sent: ${subject}, issued by ${formatName(leaf.issuer)}, valid ${day(leaf.notBefore)} to ${day(leaf.notAfter)}` +
    `${leaf.extKeyUsage ? `, EKU ${leaf.extKeyUsage.map((o) => EKU_NAMES[o] ?? o).join(', ')}` : ''}`);
  // VerifyClientCertIfGiven refuses a bad certificate too: only the certificate-less second handshake says whether one is required.
  const policy = cc?.policy === 'optional'
    ? 'The server does not require a client certificate (a second connection without one was let in, as Ollama, which sends none, would be), ' +
      "but it verifies one when it is given (Go's tls.VerifyClientCertIfGiven, nginx ssl_verify_client optional) and turned down the one sent"
    : cc?.policy === 'required'
      ? "The server requires a client certificate that it can verify (a second connection without one was refused too: Go's tls.RequireAndVerifyClientCert, nginx ssl_verify_client on), and turned down the one sent"
      : 'The server verifies client certificates and turned down the one sent (whether it lets a client without one in could not be checked)';
  if (cc?.withoutCertificate) evidence.push(`without a certificate: ${cc.withoutCertificate.message}`);
  return {
    code: 'client-cert-required',
    severity: 'error',
    title: `${label} refused the client certificate "${subject}"`,
    detail:
      `${policy} (issued by "${formatName(leaf.issuer)}"). ${how}${when} ` +
      `${why} ${cas} ${cc?.policy === 'optional' ? '' : OLLAMA_NOTE}`.replace(/ {2,}/g, ' ').trim(),
    evidence,
    fixes: [
      {
        title: `Use a client certificate issued by ${authorities.length ? `one of the CAs the server accepts (${listNames(authorities)})` : 'a CA the server trusts'}, with clientAuth in its extended key usage, and within its validity`,
        side: 'client',
      },
      { title: 'Check again with that certificate', command: check, side: 'client' },
      OLLAMA_FIX,
    ],
  };
}

const subjectOf = (c: Certificate): string => formatName(c.subject) || `serial ${c.serialHex}`;

/**
 * Warnings about a client certificate that was given: the server never asked for it
 * (`client-cert-not-requested`), or its issuer is not among the CA names the server listed
 * (`client-cert-issuer-not-accepted`, whatever the server then did with it).
 */
export function clientCertWarnings(p: ProbeResult, chain: Certificate[]): Finding[] {
  const cc = p.clientCert;
  const leaf = chain[0];
  if (!cc?.given || !leaf) return [];
  const label = p.target.label;
  const subject = subjectOf(leaf);
  if (!cc.requested) {
    return [{
      code: 'client-cert-not-requested',
      severity: 'warning',
      title: `${label} never asked for a client certificate, so "${subject}" was not sent`,
      detail:
        'The server sent no CertificateRequest in the TLS handshake (Go\'s tls.NoClientCert, the default; nginx without ssl_verify_client; Caddy without client_auth), ' +
        'and a client sends a certificate only when asked. Whatever sits behind this server never sees a client certificate: a backend that reads it from a header ' +
        '(X-Forwarded-Tls-Client-Cert, X-SSL-Client-Cert) set by a TLS-terminating proxy such as Skipper, Traefik, nginx or Caddy gets nothing. ' +
        "To receive client certificates the server has to ask: Go's tls.RequestClientCert or stronger (RequireAnyClientCert, VerifyClientCertIfGiven, " +
        'RequireAndVerifyClientCert), nginx ssl_verify_client optional_no_ca, optional or on, Caddy client_auth { mode request } (or require, verify_if_given, require_and_verify).',
      evidence: ['no CertificateRequest in the handshake', `given: ${subject}; not sent`],
      fixes: [{
        title: "If the service behind it expects the client certificate, make this server ask for one (Go tls.RequestClientCert or stronger; nginx ssl_verify_client optional_no_ca; Caddy client_auth mode request)",
        side: 'server',
      }],
    }];
  }
  if (issuerAccepted(chain, cc.authorities)) return [];
  const outcome = cc.refused
    ? 'The server refused it.'
    : cc.policy === 'required'
      ? "The server took it anyway: it requires a certificate but does not verify it against those CAs (Go's tls.RequireAnyClientCert, nginx ssl_verify_client optional_no_ca); the service behind it may still refuse it."
      : "The server carried on anyway: it requests a certificate without requiring or verifying it (Go's tls.RequestClientCert), so the service behind it may ignore or refuse it.";
  return [{
    code: 'client-cert-issuer-not-accepted',
    severity: 'warning',
    title: `The client certificate "${subject}" is not from a CA that ${label} names`,
    detail:
      `The server's CertificateRequest lists the CAs it accepts (${listNames(cc.authorities)}); the certificate given was issued by "${formatName(leaf.issuer)}", ` +
      `and nothing sent with it was issued by one of them. ${outcome} A Go client (crypto/tls) given this certificate would not even send it: ` +
      'it sends only a certificate whose chain reaches a listed CA; OpenSSL-based clients (curl, nginx proxy_ssl_certificate, stunnel) send it regardless.',
    evidence: [`acceptable CAs: ${cc.authorities.join('; ')}`, `given: ${subject}, issued by ${formatName(leaf.issuer)}`],
    fixes: [{ title: `Use a client certificate issued by one of the CAs the server names (${listNames(cc.authorities)})`, side: 'client' }],
  }];
}
