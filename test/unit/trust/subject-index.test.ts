// The subject index gives exactly the certificates the pairwise test mayBeSameName lets through,
// in the store's order, over real roots (some of whose names have no key: BMPString, non-ASCII).
import path from 'node:path';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { certificatesFromPem } from '../../../src/x509/load.js';
import { mayBeSameName, nameKey } from '../../../src/x509/name-key.js';
import { SubjectIndex } from '../../../src/trust/subject-index.js';

describe('SubjectIndex', () => {
  it('finds what mayBeSameName finds, in order, for every subject and issuer name of real roots and fixtures', () => {
    const pem = [...tls.rootCertificates, readFileSync(path.resolve(import.meta.dirname, '../../../fixtures/scenarios/roots.pem'), 'utf8')].join('\n');
    const certs = certificatesFromPem(pem).certificates;
    expect(certs.filter((c) => nameKey(c.subjectRaw) === undefined).length).toBeGreaterThan(0);
    const index = new SubjectIndex(certs);
    let found = 0;
    for (const raw of certs.flatMap((c) => [c.subjectRaw, c.issuerRaw])) {
      const want = certs.filter((c) => mayBeSameName(c.subjectRaw, raw));
      expect(index.mayBeNamed(raw)).toEqual(want);
      found += want.length;
    }
    expect(found).toBeGreaterThan(certs.length);
  });
});
