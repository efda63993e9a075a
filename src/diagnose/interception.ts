// Who is in the middle? Behind TLS inspection the chain Ollama receives is minted by a proxy or a
// security product, not sent by the server. Signals are weighed together; a product named in the
// chain, or a leaf that differs from the one the server sends directly, settles it.
import type { Certificate } from '../x509/certificate.js';
import { formatName } from '../x509/certificate.js';
import { isPublicHostName } from '../probe/target.js';
import type { TrustStore } from '../trust/stores.js';
import { VIEW_DESCRIPTIONS, type Judgement, type ViewName } from '../trust/views.js';
import { verdictCode } from './verdict-codes.js';
import { chainFacts } from './chain-facts.js';
import { findHeldIssuer } from './missing-issuer.js';
import type { Finding, Fix } from './finding.js';
import { CA_FILE_PLACEHOLDER, trustCaFixes, type ClientPlatform } from './fixes.js';
import { matchInterceptionProduct, type InterceptionProduct } from './interception-products.js';

export interface InterceptionInput {
  host: string;
  label: string;
  presented: Certificate[];
  judgements: Judgement[];
  deciding: ViewName[];
  /** The connection went through a proxy. */
  proxied: boolean;
  /** --compare-direct: what the server sent without the proxy (or why that failed). */
  direct?: { chain: Certificate[] } | { failure: string };
  /** The OS store, where the interception root may already sit. */
  osStore: TrustStore;
  /** --ca files: a root there is one the user already has in hand. */
  caFiles?: readonly string[];
  now: Date;
  client: ClientPlatform;
}

export interface TrustCandidate {
  cert: Certificate;
  /** 'sent': the root came with the chain; 'installed': a store here holds it; 'intermediate': only an intermediate is available. */
  where: 'sent' | 'installed' | 'intermediate';
  origin?: string;
  /** It came from a --ca file (origin is that file). */
  fromCaFile?: boolean;
}

export interface InterceptionAnalysis {
  verdict: 'none' | 'suspected' | 'confirmed';
  product?: InterceptionProduct;
  evidence: string[];
  candidate?: TrustCandidate;
  /** With no candidate: why there is no CA to trust or save, and how to get it (the finding and --save-ca both say this). */
  noCandidate: string;
}

// Words appliances put into the names of the certificates they mint.
const DECORATION = /\b(?:ssl|tls|https)[ -]?(?:inspection|decryption|proxy|filter(?:ing)?)\b|\bforward[ -]?trust\b|\bdpi\b|\bintercept(?:ion|ing)?\b|\bmitm\b|\bweb[ -]?(?:gateway|security|filter)\b|\bfirewall\b|\bproxy\b|\bDO_NOT_TRUST\b/i;

// Hosts that are always served with publicly trusted certificates; never tied to one CA.
const ALWAYS_PUBLIC = [/^registry\.ollama\.ai$/, /\.r2\.cloudflarestorage\.com$/, /^(?:www\.)?ollama\.com$/, /^api\.openai\.com$/, /^api\.anthropic\.com$/, /^huggingface\.co$/, /\.hf\.co$/, /^registry-1\.docker\.io$/, /^github\.com$/];

const TRUST_GAP = new Set(['unknown-authority', 'untrusted-root', 'self-signed-leaf', 'missing-intermediate']);
const HOUR = 3_600_000;

/**
 * The names of the authorities in a chain: every certificate's issuer, and the subject of every CA.
 * The server's own subject is left out: a site called mitmproxy.org is not mitmproxy.
 */
function authorityNames(chain: Certificate[]): string[] {
  const pick = (n: Certificate['subject']) => n.rdns.flat().filter((a) => a.type === 'CN' || a.type === 'O' || a.type === 'OU').map((a) => a.value);
  return chain.flatMap((c, i) => [...pick(c.issuer), ...(i > 0 || c.isCA ? pick(c.subject) : [])]);
}

const shortName = (c: Certificate) => c.commonName ?? formatName(c.subject);

function trustCandidate(input: InterceptionInput): TrustCandidate | undefined {
  const facts = chainFacts(input.presented);
  const top = facts.linked[facts.linked.length - 1]!;
  if (facts.topSelfSigned && top !== input.presented[0]) return { cert: top, where: 'sent' };
  // The --ca files (the user has that file in hand), the OS store (what IT usually deploys), then
  // the stores the views read (SSL_CERT_FILE...): the same search that tells a root from an intermediate.
  const stores = [{ view: 'system' as const, store: input.osStore }, ...input.judgements.map((j) => ({ view: j.verdict.view, store: j.store }))];
  const held = findHeldIssuer(top, stores, input.caFiles ?? []);
  if (held) return { cert: held.cert, where: 'installed', origin: held.origin, ...(held.fromCaFile ? { fromCaFile: true } : {}) };
  if (top !== input.presented[0] && top.isCA) return { cert: top, where: 'intermediate' };
  return undefined;
}

/** Why no interception CA can be named or saved: only what was sent and the stores were there to look in. */
function noCandidateSentence(input: InterceptionInput, who: string): string {
  const facts = chainFacts(input.presented);
  const top = facts.linked[facts.linked.length - 1]!;
  const sent = top === input.presented[0] ? 'only the server certificate was sent' : `the chain sent stops at "${shortName(top)}"`;
  return (
    `The CA of ${who}, "${formatName(top.issuer)}", is not on the wire (${sent}) and not in any store here${input.caFiles?.length ? ' or --ca file' : ''}, ` +
    'so there is no certificate to trust or save yet. Get it from your IT team, or export it from a browser on this network (the certificate viewer, ' +
    `top of the chain), then check it with \`ollama-tls doctor ${input.label} --ca FILE\` and trust it with \`ollama-tls trust --ca FILE\`.`
  );
}

export function analyseInterception(input: InterceptionInput): InterceptionAnalysis {
  const leaf = input.presented[0]!;
  const evidence: string[] = [];
  let strong = false;
  const publicHost = isPublicHostName(input.host);
  const alwaysPublic = ALWAYS_PUBLIC.some((r) => r.test(input.host));

  const product = matchInterceptionProduct(authorityNames(input.presented));
  if (product) evidence.push(`the chain names ${product.name}: ${input.presented.map((c) => `"${shortName(c)}" issued by "${formatName(c.issuer)}"`).join('; ')}`);

  const mozilla = input.judgements.find((j) => j.verdict.view === 'mozilla');
  const notPublic = mozilla !== undefined && !mozilla.verdict.ok && TRUST_GAP.has(verdictCode(mozilla) ?? '');
  if (notPublic && publicHost) {
    evidence.push(`${input.host} is a public name, but its chain does not lead to a root in the public web PKI (Mozilla's list)`);
    if (alwaysPublic) {
      evidence.push(`${input.host} is always served with a publicly trusted certificate`);
      strong = true;
    }
  }
  if (publicHost && leaf.sctCount === 0 && notPublic) {
    evidence.push('the server certificate carries no Certificate Transparency timestamps; publicly trusted ones have since 2018');
  }
  const facts = chainFacts(input.presented);
  const top = facts.linked[facts.linked.length - 1]!;
  if (facts.topSelfSigned && top !== leaf && notPublic && (publicHost || input.proxied)) {
    evidence.push(`a self-signed root, "${shortName(top)}", was sent with the chain`);
  }
  const decorated = authorityNames(input.presented).find((n) => DECORATION.test(n));
  if (decorated) evidence.push(`a certificate name reads like an inspection appliance: "${decorated}"`);
  const issuer = facts.linked[1];
  if (issuer && issuer.publicKey.spki.equals(leaf.publicKey.spki)) {
    evidence.push('the server certificate uses the same key as its issuer, a shortcut interception proxies take (Squid, mitmproxy)');
  }
  const age = input.now.getTime() - leaf.notBefore.getTime();
  if (age >= 0 && age < 48 * HOUR && (publicHost || input.proxied) && notPublic) {
    evidence.push(`the server certificate was issued ${Math.max(1, Math.round(age / HOUR))} hour(s) ago: minted on the fly`);
  }

  let differs = false;
  if (input.direct) {
    if ('chain' in input.direct) {
      const directLeaf = input.direct.chain[0];
      if (directLeaf && !directLeaf.der.equals(leaf.der)) {
        differs = true;
        evidence.push(`through the proxy the server certificate is "${shortName(leaf)}" issued by "${formatName(leaf.issuer)}" (SHA-256 ${leaf.sha256}); directly it is issued by "${formatName(directLeaf.issuer)}" (SHA-256 ${directLeaf.sha256})`);
      } else if (directLeaf) {
        evidence.push('directly, the server sends the same certificate as through the proxy');
      }
    } else {
      evidence.push(`the direct connection (--compare-direct) failed: ${input.direct.failure}`);
    }
  }

  let verdict: InterceptionAnalysis['verdict'] = 'none';
  if (differs || (product && (input.proxied || notPublic || strong))) verdict = 'confirmed';
  else if (product || strong || evidence.length >= 2 || (notPublic && publicHost)) verdict = 'suspected';
  if (verdict === 'none') return { verdict, evidence, noCandidate: 'no interception was detected' };
  const candidate = trustCandidate(input);
  const noCandidate = candidate ? '' : noCandidateSentence(input, product ? product.name : 'the inspecting proxy');
  return { verdict, evidence, ...(product ? { product } : {}), ...(candidate ? { candidate } : {}), noCandidate };
}

/** The finding for a detected interception; info when the deciding views already trust it. */
export function interceptionFinding(a: InterceptionAnalysis, input: InterceptionInput): Finding | undefined {
  if (a.verdict === 'none') return undefined;
  const who = a.product ? a.product.name : 'a TLS-inspecting proxy or security product';
  const decidingOk = input.judgements.filter((j) => input.deciding.includes(j.verdict.view)).every((j) => j.verdict.ok);
  const c = a.candidate;
  const fp = c ? c.cert.sha256 : undefined;
  const code = a.verdict === 'confirmed' ? 'interception-confirmed' : 'interception-suspected';
  const verb = a.verdict === 'confirmed' ? 'is intercepted by' : 'looks intercepted by';

  const which = !c
    ? a.noCandidate
    : c.where === 'sent'
      ? `The root to trust is "${shortName(c.cert)}" (sent with the chain), SHA-256 ${fp}.`
      : c.fromCaFile
        ? `Its CA, "${shortName(c.cert)}", is in your --ca file ${c.origin}, SHA-256 ${fp}: its key verifies the certificate the proxy sent.`
        : c.where === 'installed'
        ? `Its root, "${shortName(c.cert)}", is already installed here (${c.origin}), SHA-256 ${fp}.`
        : `Only the intermediate "${shortName(c.cert)}" (SHA-256 ${fp}) was sent; its root, "${formatName(c.cert.issuer)}", should come from your IT team (Go would accept the intermediate as an anchor, other clients may not).`;

  if (decidingOk) {
    return {
      code, severity: 'info',
      title: `TLS to ${input.label} ${verb} ${who}, and ${input.deciding.map((v) => VIEW_DESCRIPTIONS[v]).join(' and ')} trusts its CA`,
      detail: `The certificate comes from ${who}, not from ${input.host} itself, but the interception CA is already trusted, so Ollama will work. ${which}`,
      evidence: a.evidence,
      fixes: [],
    };
  }
  const fixes: Fix[] = [];
  if (fp) fixes.push({ title: `Confirm with your IT team that SHA-256 ${fp} is their inspection CA before trusting it`, side: 'client' });
  if (c && !c.fromCaFile) {
    fixes.push({ title: 'Trust it in one step: ollama-tls fetches it again and checks it against that fingerprint', command: `${input.client.platform === 'win32' ? '' : 'sudo '}ollama-tls trust --from-host ${input.label} --fingerprint ${fp}`, side: 'client' });
    fixes.push({ title: 'Or save it to a file first', command: `ollama-tls doctor ${input.label} --save-ca ${CA_FILE_PLACEHOLDER}`, side: 'client' });
  }
  if (!c) fixes.push({ title: `Get the ${who} CA certificate from your IT team (or export it from a browser on this network), then check it against this connection`, command: `ollama-tls doctor ${input.label} --ca ${CA_FILE_PLACEHOLDER}`, side: 'client' });
  fixes.push(...trustCaFixes(input.client, c?.fromCaFile ? c.origin! : CA_FILE_PLACEHOLDER));
  fixes.push({ title: 'Or ask IT to exempt the Ollama hosts from inspection (registry.ollama.ai, *.r2.cloudflarestorage.com)', side: 'client' });
  return {
    code, severity: 'error',
    title: `TLS to ${input.label} ${verb} ${who}`,
    detail:
      `The certificate Ollama receives is minted by ${who} between you and ${input.host}; Ollama will not trust it until that product's CA is in ` +
      `the store Go reads. ${which}`,
    evidence: a.evidence,
    fixes,
  };
}
