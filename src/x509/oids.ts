// Object identifiers the doctor needs to name things, as data.

export interface SignatureAlgorithm {
  /** OpenSSL's long name, as `openssl x509 -text` and Node print it. */
  name: string;
  /** Go's x509.SignatureAlgorithm String(), used inside Go's error messages. */
  goName: string;
  hash: 'md2' | 'md5' | 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512' | 'none' | 'unknown';
  key: 'RSA' | 'RSA-PSS' | 'EC' | 'Ed25519' | 'Ed448' | 'DSA' | 'unknown';
  /**
   * Security bits OpenSSL assigns to the signature (X509_get_signature_info). OpenSSL 3 rates
   * SHA-1 at 63 and MD5 at 39 so that security level 1 (80 bits) already refuses them.
   */
  secBits: number;
  /** Go refuses these outright (InsecureAlgorithmError). */
  goInsecure?: boolean;
  /** Go cannot verify these at all (ErrUnsupportedAlgorithm). */
  goUnsupported?: boolean;
}

export const SIGNATURE_ALGORITHMS: Record<string, SignatureAlgorithm> = {
  '1.2.840.113549.1.1.2': { name: 'md2WithRSAEncryption', goName: 'MD2-RSA', hash: 'md2', key: 'RSA', secBits: 0, goInsecure: true },
  '1.2.840.113549.1.1.4': { name: 'md5WithRSAEncryption', goName: 'MD5-RSA', hash: 'md5', key: 'RSA', secBits: 39, goInsecure: true },
  '1.2.840.113549.1.1.5': { name: 'sha1WithRSAEncryption', goName: 'SHA1-RSA', hash: 'sha1', key: 'RSA', secBits: 63, goInsecure: true },
  '1.3.14.3.2.29': { name: 'sha1WithRSA', goName: 'SHA1-RSA', hash: 'sha1', key: 'RSA', secBits: 63, goInsecure: true },
  '1.2.840.113549.1.1.14': { name: 'sha224WithRSAEncryption', goName: '0', hash: 'sha224', key: 'RSA', secBits: 112, goUnsupported: true },
  '1.2.840.113549.1.1.11': { name: 'sha256WithRSAEncryption', goName: 'SHA256-RSA', hash: 'sha256', key: 'RSA', secBits: 128 },
  '1.2.840.113549.1.1.12': { name: 'sha384WithRSAEncryption', goName: 'SHA384-RSA', hash: 'sha384', key: 'RSA', secBits: 192 },
  '1.2.840.113549.1.1.13': { name: 'sha512WithRSAEncryption', goName: 'SHA512-RSA', hash: 'sha512', key: 'RSA', secBits: 256 },
  // RSASSA-PSS: the hash lives in the parameters; parse.ts refines name/goName/hash from them.
  '1.2.840.113549.1.1.10': { name: 'rsassaPss', goName: 'SHA256-RSAPSS', hash: 'sha256', key: 'RSA-PSS', secBits: 128 },
  '1.2.840.10045.4.1': { name: 'ecdsa-with-SHA1', goName: 'ECDSA-SHA1', hash: 'sha1', key: 'EC', secBits: 63, goInsecure: true },
  '1.2.840.10045.4.3.1': { name: 'ecdsa-with-SHA224', goName: '0', hash: 'sha224', key: 'EC', secBits: 112, goUnsupported: true },
  '1.2.840.10045.4.3.2': { name: 'ecdsa-with-SHA256', goName: 'ECDSA-SHA256', hash: 'sha256', key: 'EC', secBits: 128 },
  '1.2.840.10045.4.3.3': { name: 'ecdsa-with-SHA384', goName: 'ECDSA-SHA384', hash: 'sha384', key: 'EC', secBits: 192 },
  '1.2.840.10045.4.3.4': { name: 'ecdsa-with-SHA512', goName: 'ECDSA-SHA512', hash: 'sha512', key: 'EC', secBits: 256 },
  '1.3.101.112': { name: 'ED25519', goName: 'Ed25519', hash: 'none', key: 'Ed25519', secBits: 128 },
  '1.3.101.113': { name: 'ED448', goName: '0', hash: 'none', key: 'Ed448', secBits: 224, goUnsupported: true },
  '1.2.840.10040.4.3': { name: 'dsa_with_SHA1', goName: 'DSA-SHA1', hash: 'sha1', key: 'DSA', secBits: 63, goInsecure: true },
  '2.16.840.1.101.3.4.3.2': { name: 'dsa_with_SHA256', goName: 'DSA-SHA256', hash: 'sha256', key: 'DSA', secBits: 128, goUnsupported: true },
};

export const UNKNOWN_SIGNATURE: SignatureAlgorithm = { name: 'unknown', goName: '0', hash: 'unknown', key: 'unknown', secBits: 0, goUnsupported: true };

export const HASH_OIDS: Record<string, SignatureAlgorithm['hash']> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

export const PUBLIC_KEY_ALGORITHMS: Record<string, 'RSA' | 'RSA-PSS' | 'EC' | 'Ed25519' | 'Ed448' | 'DSA'> = {
  '1.2.840.113549.1.1.1': 'RSA',
  '1.2.840.113549.1.1.10': 'RSA-PSS',
  '1.2.840.10045.2.1': 'EC',
  '1.3.101.112': 'Ed25519',
  '1.3.101.113': 'Ed448',
  '1.2.840.10040.4.1': 'DSA',
};

export const NAMED_CURVES: Record<string, { name: string; bits: number }> = {
  '1.2.840.10045.3.1.7': { name: 'P-256', bits: 256 },
  '1.3.132.0.34': { name: 'P-384', bits: 384 },
  '1.3.132.0.35': { name: 'P-521', bits: 521 },
  '1.3.132.0.10': { name: 'secp256k1', bits: 256 },
  '1.2.840.10045.3.1.1': { name: 'P-192', bits: 192 },
  '1.3.132.0.33': { name: 'P-224', bits: 224 },
};

/** Short names for distinguished-name attributes, as OpenSSL and Go print them. */
export const NAME_ATTRIBUTES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.4': 'SN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'street',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'title',
  '2.5.4.15': 'businessCategory',
  '2.5.4.17': 'postalCode',
  '2.5.4.42': 'GN',
  '2.5.4.97': 'organizationIdentifier',
  '1.2.840.113549.1.9.1': 'emailAddress',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
  '1.3.6.1.4.1.311.60.2.1.3': 'jurisdictionC',
};

export const EXT = {
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  nameConstraints: '2.5.29.30',
  crlDistributionPoints: '2.5.29.31',
  certificatePolicies: '2.5.29.32',
  policyMappings: '2.5.29.33',
  authorityKeyIdentifier: '2.5.29.35',
  policyConstraints: '2.5.29.36',
  extKeyUsage: '2.5.29.37',
  inhibitAnyPolicy: '2.5.29.54',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  sctList: '1.3.6.1.4.1.11129.2.4.2',
  ctPoison: '1.3.6.1.4.1.11129.2.4.3',
} as const;

/** Critical extensions OpenSSL supports (X509_supported_extension); others give UNHANDLED_CRITICAL_EXTENSION. */
export const OPENSSL_HANDLED_CRITICAL = new Set<string>([
  '2.16.840.1.113730.1.1', // Netscape cert type
  EXT.keyUsage, EXT.subjectAltName, EXT.basicConstraints, EXT.certificatePolicies, EXT.extKeyUsage,
  '1.3.6.1.5.5.7.1.7', '1.3.6.1.5.5.7.1.8', // RFC 3779 ipAddrBlocks, autonomousSysIds
  EXT.crlDistributionPoints, '1.3.6.1.5.5.7.48.1.5', // OCSP no-check
  EXT.policyConstraints, '1.3.6.1.5.5.7.1.14', EXT.nameConstraints, EXT.policyMappings, EXT.inhibitAnyPolicy,
]);

export const EKU = {
  any: '2.5.29.37.0',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  ocspSigning: '1.3.6.1.5.5.7.3.9',
  msSGC: '1.3.6.1.4.1.311.10.3.3',
  nsSGC: '2.16.840.1.113730.4.1',
} as const;

export const EKU_NAMES: Record<string, string> = {
  [EKU.any]: 'anyExtendedKeyUsage',
  [EKU.serverAuth]: 'serverAuth',
  [EKU.clientAuth]: 'clientAuth',
  [EKU.codeSigning]: 'codeSigning',
  [EKU.emailProtection]: 'emailProtection',
  [EKU.timeStamping]: 'timeStamping',
  [EKU.ocspSigning]: 'OCSPSigning',
  [EKU.msSGC]: 'msSGC',
  [EKU.nsSGC]: 'nsSGC',
};

/** Key usage bits in RFC 5280 order (bit 0 first). */
export const KEY_USAGE_BITS = [
  'digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement',
  'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly',
] as const;
export type KeyUsageName = (typeof KEY_USAGE_BITS)[number];
