// PKCS#7 / CMS SignedData "certs-only" bundles (.p7b, .p7c, openssl crl2pkcs7): the certificates
// inside, in order, byte for byte.
import { TAG } from './der.js';
import { ber, berChildren, expect, oidOf } from './ber.js';
import { CertificateInputError } from './input-error.js';
import { CMS_TYPES, OID } from './container-oids.js';

export function pkcs7Certificates(path: string, der: Buffer, where: string): Buffer[] {
  try {
    const top = expect(ber(der, 0, der.length), TAG.SEQUENCE, 'ContentInfo');
    const [typeT, explicit] = berChildren(der, top);
    const type = oidOf(der, typeT, 'contentType');
    if (type !== OID.signedData) {
      throw new CertificateInputError('unsupported', `${path}: ${where} is a PKCS#7/CMS ${CMS_TYPES[type] ?? `object (${type})`}, not a certificate bundle.`);
    }
    const signedData = expect(berChildren(der, expect(explicit, 0xa0, '[0] content'))[0], TAG.SEQUENCE, 'SignedData');
    // version, digestAlgorithms, encapContentInfo, [0] IMPLICIT certificates OPTIONAL, [1] crls, signerInfos
    const certSet = berChildren(der, signedData).find((t) => t.tag === 0xa0);
    if (!certSet) return [];
    // CertificateChoices: plain certificates are SEQUENCEs; attribute certificates etc. are tagged.
    return berChildren(der, certSet).filter((t) => t.tag === TAG.SEQUENCE).map((t) => der.subarray(t.start, t.end));
  } catch (err) {
    if (err instanceof CertificateInputError) throw err;
    throw new CertificateInputError('garbage', `${path}: ${where} is a damaged PKCS#7 file (${(err as Error).message}).`);
  }
}
