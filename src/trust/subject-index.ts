// The certificates of a store whose subject may equal a given name, found without comparing the
// name with every one of them: grouped by the subject's name key (x509/name-key.ts), the test
// mayBeSameName applies one pair at a time. Issuer look-ups (OpenSSL's X509_STORE, the search for
// a held root or intermediate) ask a ~150-root store several times per chain.
import type { Certificate } from '../x509/certificate.js';
import { nameKey } from '../x509/name-key.js';

export class SubjectIndex {
  private byKey = new Map<string, number[]>();
  /** Certificates whose subject has no key: candidates for every name. */
  private unkeyed: number[] = [];

  constructor(private readonly certs: readonly Certificate[]) {
    certs.forEach((c, i) => {
      const key = nameKey(c.subjectRaw);
      if (key === undefined) this.unkeyed.push(i);
      else {
        const list = this.byKey.get(key);
        if (list) list.push(i);
        else this.byKey.set(key, [i]);
      }
    });
  }

  /** The certificates c with mayBeSameName(c.subjectRaw, raw), in the store's order. */
  mayBeNamed(raw: Buffer): Certificate[] {
    const key = nameKey(raw);
    if (key === undefined) return [...this.certs];
    const keyed = this.byKey.get(key) ?? [];
    if (this.unkeyed.length === 0) return keyed.map((i) => this.certs[i]!);
    return [...keyed, ...this.unkeyed].sort((a, b) => a - b).map((i) => this.certs[i]!);
  }
}

const indexes = new WeakMap<readonly Certificate[], SubjectIndex>();

/** The index of a store's certificate list (one per list: a store's list does not change once loaded). */
export function subjectIndex(certs: readonly Certificate[]): SubjectIndex {
  let index = indexes.get(certs);
  if (!index) indexes.set(certs, (index = new SubjectIndex(certs)));
  return index;
}
