// Facts about the presented chain that do not depend on any trust store: how the certificates
// link up, whether they were sent in order, what is missing at the top.
import type { Certificate } from '../x509/certificate.js';
import { likelyIssued } from '../trust/openssl-verify.js';

export interface ChainFacts {
  presented: Certificate[];
  /** Leaf first, then each certificate's issuer found among those presented (in any order). */
  linked: Certificate[];
  /** Presented certificates that are not on the linked path (duplicates, strays). */
  strays: Certificate[];
  /** Every certificate after the leaf is the issuer of the one before it. */
  inOrder: boolean;
  /** The top of the linked path issues itself. */
  topSelfSigned: boolean;
  /** The leaf issues itself (a self-signed server certificate). */
  leafSelfSigned: boolean;
}

/** Name, key identifier and signature all agree: `issuer` really issued `child`. */
export function issues(issuer: Certificate, child: Certificate): boolean {
  try {
    return likelyIssued(issuer, child) && child.signedBy(issuer);
  } catch (err) {
    // A store certificate whose fields cannot be decoded issues nothing: Go and OpenSSL skip it.
    // (Asked only on failure: decoding every store certificate up front costs the fast path.)
    if (issuer.decodeError !== undefined) return false;
    throw err;
  }
}

export function chainFacts(presented: Certificate[]): ChainFacts {
  const leaf = presented[0]!;
  const linked = [leaf];
  const remaining = presented.slice(1);
  for (;;) {
    const top = linked[linked.length - 1]!;
    if (top.selfIssued && issues(top, top)) break;
    const i = remaining.findIndex((c) => !linked.includes(c) && issues(c, top));
    if (i < 0) break;
    linked.push(remaining[i]!);
    remaining.splice(i, 1);
  }
  const top = linked[linked.length - 1]!;
  const inOrder = presented.every((c, i) => i === 0 || linked[i] === c) && presented.length === linked.length;
  return {
    presented,
    linked,
    strays: remaining,
    inOrder,
    topSelfSigned: top.selfIssued && issues(top, top),
    leafSelfSigned: leaf.selfIssued && issues(leaf, leaf),
  };
}

/** Certificates in `pool` that issued `cert` (by name, key id and signature). */
export function issuersIn(pool: Iterable<Certificate>, cert: Certificate): Certificate[] {
  const out: Certificate[] = [];
  for (const c of pool) if (issues(c, cert)) out.push(c);
  return out;
}

const DAY = 86_400_000;

/** A certificate with fewer days left than this is `expiring-soon` (doctor and inspect alike). */
export const EXPIRING_SOON_DAYS = 30;

export function daysBetween(from: Date, to: Date): number {
  return Math.floor((to.getTime() - from.getTime()) / DAY);
}
