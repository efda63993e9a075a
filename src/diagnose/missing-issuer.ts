// The certificate above the top of a chain was not sent. Is it a root (a private or interception
// CA that signs server certificates directly: trust it here) or an intermediate (the server should
// send it)? A client only says "unknown authority"; the evidence there is decides, strongest first:
//   1. a --ca file or any store here holds a certificate whose key verifies the top certificate's
//      signature: self-signed -> a root; otherwise an intermediate;
//   2. the leaf names its issuer's download address (AIA caIssuers: public CAs, which never sign
//      leaves from a root, always do) and the issuer's name is not a root's -> an intermediate;
//   3. the issuer's name reads like an intermediate's -> an intermediate;
//   4. the interception analysis names a product or suspects one, or the issuer's name reads like
//      a root's and there is no AIA -> a root;
//   5. otherwise it cannot be told: both are named, with how to find out.
import type { Certificate } from '../x509/certificate.js';
import { formatName } from '../x509/certificate.js';
import type { TrustStore } from '../trust/stores.js';
import type { ViewName } from '../trust/views.js';
import { subjectIndex } from '../trust/subject-index.js';
import { issues, issuersIn } from './chain-facts.js';
import type { FindingBasis } from './finding.js';

export interface HeldIssuer {
  cert: Certificate;
  /** The file or store it came from. */
  origin: string;
  view: ViewName;
  /** It came from a --ca file: that file can be handed to `trust --ca` as it is. */
  fromCaFile: boolean;
  /** Self-signed: a root, not an intermediate. */
  root: boolean;
}

/**
 * The certificate, in any store we read, that issued `top` (name, key identifier and signature).
 * The user's --ca files first (the name they gave is the one to print), then the OS store, then
 * the other views' stores in the order given.
 */
export function findHeldIssuer(top: Certificate, stores: { view: ViewName; store: TrustStore }[], caFiles: readonly string[]): HeldIssuer | undefined {
  const found: HeldIssuer[] = [];
  for (const { view, store } of stores) {
    for (const cert of issuersIn(subjectIndex(store.certificates).mayBeNamed(top.issuerRaw), top)) {
      const origin = store.origin.get(cert) ?? view;
      found.push({ cert, origin, view, fromCaFile: caFiles.includes(origin), root: cert.selfIssued && issues(cert, cert) });
    }
  }
  const rank = (h: HeldIssuer) => (h.fromCaFile ? 0 : h.view === 'system' ? 1 : 2);
  return found.sort((a, b) => rank(a) - rank(b))[0];
}

/** What the interception analysis concluded, as far as it matters here. */
export interface InterceptionHint {
  verdict: 'none' | 'suspected' | 'confirmed';
  product?: string;
}

export interface MissingIssuer {
  kind: 'root' | 'intermediate' | 'unknown';
  basis: FindingBasis;
  /** The evidence that decided, as one evidence line. */
  because: string;
  held?: HeldIssuer;
}

// Words CAs put in their names. Intermediate words win: "Zscaler Intermediate Root CA" is an intermediate.
const INTERMEDIATE_NAME = /\b(?:intermediate|issuing|subordinate|sub[- ]?ca)\b/i;
const ROOT_NAME = /\broot\b/i;

const attrs = (c: Certificate, type: string) => c.issuer.rdns.flat().filter((a) => a.type === type).map((a) => a.value);
const issuerWords = (c: Certificate) => [...attrs(c, 'CN'), ...attrs(c, 'OU')];

/** The issuer's name says "intermediate", "issuing" or "sub CA". */
function intermediateNamed(c: Certificate): string | undefined {
  return issuerWords(c).find((n) => INTERMEDIATE_NAME.test(n));
}

/** The issuer's name says "root", or names itself after its organisation (CN = O, as mitmproxy's and many home-made CAs do). */
function rootNamed(c: Certificate): string | undefined {
  if (intermediateNamed(c)) return undefined;
  const byWord = issuerWords(c).find((n) => ROOT_NAME.test(n));
  if (byWord) return byWord;
  const o = attrs(c, 'O').map((v) => v.toLowerCase());
  return attrs(c, 'CN').find((cn) => o.includes(cn.toLowerCase()));
}

const q = (s: string) => `"${s}"`;
const shortName = (c: Certificate) => c.commonName ?? formatName(c.subject);

/**
 * Decide what the issuer of `top` (the last certificate the sent chain links up to, not
 * self-signed) is. `leaf` is the server's certificate; `top === leaf` when nothing sent issued it.
 */
export function judgeMissingIssuer(opts: { top: Certificate; leaf: Certificate; held?: HeldIssuer; interception?: InterceptionHint }): MissingIssuer {
  const { top, leaf, held, interception } = opts;
  const issuer = formatName(top.issuer);
  if (held) {
    const where = held.fromCaFile ? `your --ca file ${held.origin}` : `${held.origin} (${held.view} store)`;
    const what = held.root ? 'a self-signed root' : 'a CA certificate that is not self-signed (an intermediate)';
    return {
      kind: held.root ? 'root' : 'intermediate', basis: held.root ? 'held-root' : 'held-intermediate', held,
      because: `${where} holds "${shortName(held.cert)}" (SHA-256 ${held.cert.sha256}), ${what} whose key verifies the signature on "${shortName(top)}": ` +
        (held.root ? 'the issuer that was not sent is that root, not a missing intermediate' : 'the issuer that was not sent is an intermediate'),
    };
  }
  if (top !== leaf) {
    const named = intermediateNamed(top);
    if (named) return { kind: 'intermediate', basis: 'issuer-name', because: `the issuer of the top certificate sent, ${q(named)}, is named like an intermediate` };
    return {
      kind: 'root', basis: 'chain-sent',
      because: `the server sent its intermediate "${shortName(top)}"; the issuer above it, "${issuer}", was not sent and no --ca file or store here holds it, and a server that sends intermediates leaves out only the root`,
    };
  }
  const aia = top.aia.caIssuers[0];
  const rootName = rootNamed(top);
  if (aia && !rootName) {
    return {
      kind: 'intermediate', basis: 'aia',
      because: `the certificate names its issuer's download address (AIA caIssuers ${aia}), as certificates from public and enterprise CAs do, and "${issuer}" is not named like a root; public roots never sign server certificates directly`,
    };
  }
  const intermediate = intermediateNamed(top);
  if (intermediate) return { kind: 'intermediate', basis: 'issuer-name', because: `the issuer, ${q(intermediate)}, is named like an intermediate CA` };
  if (interception && interception.verdict !== 'none') {
    return {
      kind: 'root', basis: 'interception',
      because: `the connection ${interception.verdict === 'confirmed' ? 'is intercepted' : 'looks intercepted'}${interception.product ? ` by ${interception.product}` : ''}; inspection CAs sign the certificates they mint directly with their root, and send only the leaf`,
    };
  }
  if (rootName && !aia) {
    return {
      kind: 'root', basis: 'issuer-name',
      because: `the issuer, ${q(rootName)}, is named like a root${ROOT_NAME.test(rootName) ? '' : ' (it is named after its own organisation)'}, and the certificate has no AIA caIssuers address, which an intermediate's certificates normally carry`,
    };
  }
  return {
    kind: 'unknown', basis: 'undecided',
    because: `no --ca file or store here holds "${issuer}", and ` +
      (aia ? `the certificate has an AIA caIssuers address (${aia}) but its issuer is named like a root` : 'the certificate has no AIA caIssuers address and the issuer\'s name says neither root nor intermediate'),
  };
}
