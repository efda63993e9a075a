// PKCS#12 (.p12/.pfx): the certificates inside, byte for byte as stored, with or without a
// password. The ASN.1 is walked with ber.ts (indefinite lengths from Windows and Java exports);
// the password-based cryptography is pkcs12-crypto.ts. Key bags are counted, never decoded or
// decrypted: the key is never used here.
import { createHmac } from 'node:crypto';
import {
  MAX_PBKDF2_ITERATIONS, MAX_PKCS12_KDF_ITERATIONS, PKCS12_HASHES, PKCS12_PBE, Pkcs12CryptoError, bmpPassword, checkPbes2, decryptPbes2, decryptPkcs12Pbe,
  pkcs12Kdf, type Pbes2Params,
} from './pkcs12-crypto.js';
import { DerError, TAG } from './der.js';
import { ber, berChildren, expect, expectOctetString, integerValue, octets, oidOf, type Ber } from './ber.js';
import { CertificateInputError, keyOnly } from './input-error.js';
import { LEGACY_PBE_NAMES, OID } from './container-oids.js';

/** What a PKCS#12 file holds: certificates as DER in bag order, and how many key bags. */
export interface Pkcs12Contents {
  format: 'pkcs12';
  ders: { der: Buffer; where: string }[];
  /** 'PKCS#12 key bag' when the file holds a key. */
  keys: string[];
  notes: string[];
}

const unique = <T>(xs: T[]): T[] => [...new Set(xs)];

/**
 * One way to present a password. The PKCS#12 KDF (MAC, legacy ciphers) takes it as UTF-16 with
 * a terminator (or nothing at all for a NULL password); PBES2 (OpenSSL 3's AES) as UTF-8 bytes.
 */
interface Credential { given: boolean; kdf12: Buffer; pbes2: Buffer }

function credentials(password: string | undefined): Credential[] {
  const out: Credential[] = [];
  if (password !== undefined && password !== '') {
    const utf8 = Buffer.from(password, 'utf8');
    out.push({ given: true, kdf12: bmpPassword(password), pbes2: utf8 });
    // OpenSSL 1.x derived the MAC key from the UTF-8 bytes one by one; OpenSSL 3 retries so too.
    const bytewise = utf8.toString('latin1');
    if (bytewise !== password) out.push({ given: true, kdf12: bmpPassword(bytewise), pbes2: utf8 });
  }
  // No password: "" (a terminator only) as OpenSSL's -passout pass: writes, or a NULL password.
  out.push({ given: false, kdf12: bmpPassword(''), pbes2: Buffer.alloc(0) }, { given: false, kdf12: bmpPassword(null), pbes2: Buffer.alloc(0) });
  return out;
}


interface Bags { ders: Buffer[]; keys: number; other: string[] }

/** The contents of the PKCS#12 whose top-level elements are `kids`. */
export async function readPkcs12(path: string, der: Buffer, kids: Ber[], password: string | undefined): Promise<Pkcs12Contents> {
  const damaged = (why: string) => new CertificateInputError('garbage', `${path} is a damaged PKCS#12 file (${why}).`);
  const given = password !== undefined && password !== '';
  const needPassword = () => given
    ? new CertificateInputError('bad-password', `${path}: wrong password for this PKCS#12 file (its integrity check fails with it); nothing was changed.`)
    : new CertificateInputError('password-required', `${path} is a password-protected PKCS#12 file: give its password (--password, or type it when asked).`);

  // PFX ::= SEQUENCE { version 3, authSafe ContentInfo, macData MacData OPTIONAL }
  let authData: Buffer;
  let mac: { oid: string; digest: Buffer; salt: Buffer; iterations: number } | undefined;
  try {
    const [, authSafe, macData] = kids;
    const [typeT, explicit] = berChildren(der, authSafe!);
    const type = oidOf(der, typeT, 'authSafe contentType');
    if (type === OID.signedData) {
      throw new CertificateInputError('unsupported', `${path} is a PKCS#12 file in public-key integrity mode, which this tool does not read: export it again with a password, or give the CA certificate as PEM.`);
    }
    if (type !== OID.data) throw damaged(`authSafe of type ${type}`);
    authData = octets(der, expectOctetString(berChildren(der, expect(explicit, 0xa0, 'authSafe content'))[0], 'authSafe data'));
    if (macData) {
      const [digestInfo, saltT, iterT] = berChildren(der, expect(macData, TAG.SEQUENCE, 'MacData'));
      const [algId, digestT] = berChildren(der, expect(digestInfo, TAG.SEQUENCE, 'DigestInfo'));
      const oid = oidOf(der, berChildren(der, expect(algId, TAG.SEQUENCE, 'digestAlgorithm'))[0], 'MAC digest');
      mac = {
        oid,
        digest: octets(der, expect(digestT, TAG.OCTET_STRING, 'MAC digest')),
        salt: octets(der, expect(saltT, TAG.OCTET_STRING, 'MAC salt')),
        iterations: iterT ? integerValue(der, expect(iterT, TAG.INTEGER, 'MAC iterations')) : 1,
      };
    }
  } catch (err) {
    if (err instanceof CertificateInputError) throw err;
    throw damaged((err as Error).message);
  }

  // Each ContentInfo of the AuthenticatedSafe: plain data, or password-encrypted data.
  type Part = { plain: Buffer } | { alg: string; params: Buffer; encrypted: Buffer };
  const parts: Part[] = [];
  try {
    const seq = expect(ber(authData, 0, authData.length), TAG.SEQUENCE, 'AuthenticatedSafe');
    for (const ci of berChildren(authData, seq)) {
      const [typeT, explicit] = berChildren(authData, expect(ci, TAG.SEQUENCE, 'ContentInfo'));
      const type = oidOf(authData, typeT, 'contentType');
      const inner = berChildren(authData, expect(explicit, 0xa0, 'content'))[0];
      if (type === OID.data) {
        parts.push({ plain: octets(authData, expectOctetString(inner, 'data')) });
      } else if (type === OID.encryptedData) {
        // EncryptedData ::= SEQUENCE { version, EncryptedContentInfo { contentType, algorithm, [0] IMPLICIT encryptedContent } }
        const eci = expect(berChildren(authData, expect(inner, TAG.SEQUENCE, 'EncryptedData'))[1], TAG.SEQUENCE, 'EncryptedContentInfo');
        const [, algT, contentT] = berChildren(authData, eci);
        const [algOidT, paramsT] = berChildren(authData, expect(algT, TAG.SEQUENCE, 'encryption algorithm'));
        if (!contentT || (contentT.tag & 0xdf) !== 0x80) throw new DerError('missing encrypted content');
        parts.push({
          alg: oidOf(authData, algOidT, 'encryption algorithm'),
          params: paramsT ? authData.subarray(paramsT.start, paramsT.end) : Buffer.alloc(0),
          encrypted: octets(authData, contentT),
        });
      } else if (type === OID.envelopedData) {
        throw new CertificateInputError('unsupported', `${path} is a PKCS#12 file encrypted to a public key (public-key privacy mode), which this tool does not read: export it again with a password.`);
      } else {
        throw damaged(`content of type ${type}`);
      }
    }
  } catch (err) {
    if (err instanceof CertificateInputError) throw err;
    // The MAC covers these bytes; a wrong password cannot produce this.
    throw damaged((err as Error).message);
  }

  const candidates = credentials(password);
  let verified: Credential | undefined;
  if (mac) {
    const digest = PKCS12_HASHES[mac.oid];
    if (!digest) {
      const what = mac.oid === OID.pbmac1 ? 'PBMAC1 (OpenSSL 3.4+ -pbmac1_pbkdf2)' : `the MAC algorithm ${mac.oid}`;
      throw new CertificateInputError('unsupported', `${path} is a PKCS#12 file protected with ${what}, which this tool does not read yet: export the certificates as PEM (openssl pkcs12 -in ${path} -nokeys -out ca.pem) and give that file.`);
    }
    if (!(mac.iterations >= 1 && mac.iterations <= MAX_PKCS12_KDF_ITERATIONS)) throw tooManyIterations(path, 'MAC', mac.iterations, MAX_PKCS12_KDF_ITERATIONS);
    for (const cred of candidates) {
      const key = pkcs12Kdf(cred.kdf12, mac.salt, 3, mac.iterations, digest.bytes, digest);
      const got = createHmac(digest.node, key).update(authData).digest();
      if (got.equals(mac.digest)) { verified = cred; break; }
    }
    if (!verified) throw needPassword();
  }

  const found: Bags = { ders: [], keys: 0, other: [] };
  let encryptedParts = 0;
  for (const part of parts) {
    if ('plain' in part) {
      try {
        mergeBags(found, walkBags(part.plain));
      } catch (err) {
        throw damaged((err as Error).message);
      }
      continue;
    }
    encryptedParts++;
    const order = verified ? [verified, ...candidates.filter((c) => c !== verified)] : candidates;
    let bags: Bags | undefined;
    for (const cred of order) {
      const plain = await decrypt(path, part, cred);
      if (!plain) continue;
      try {
        bags = walkBags(plain);
        break;
      } catch {
        // A wrong key that happened to leave valid padding: try the next way.
      }
    }
    if (!bags) {
      if (verified) {
        throw new CertificateInputError('bad-password', `${path}: the password checks out but does not decrypt the certificates (the file uses a second, different encryption password?); nothing was changed.`);
      }
      throw needPassword();
    }
    mergeBags(found, bags);
  }

  if (found.ders.length === 0) {
    if (found.keys > 0) throw keyOnly(path, 'a PKCS#12 file with a key and no certificate');
    throw new CertificateInputError('empty', `${path} is a PKCS#12 file with no certificates in it.`);
  }
  const notes: string[] = [];
  if (found.other.length > 0) notes.push(`${path} also holds ${unique(found.other).join(', ')}; ignored.`);
  if (!mac && encryptedParts === 0) notes.push(`${path} is a PKCS#12 file without any integrity check (no MAC); make sure it came from your IT team.`);
  return {
    format: 'pkcs12',
    ders: found.ders.map((d, i) => ({ der: d, where: `certificate ${i + 1}` })),
    keys: found.keys > 0 ? ['PKCS#12 key bag'] : [],
    notes,
  };
}

function mergeBags(into: Bags, from: Bags): void {
  into.ders.push(...from.ders);
  into.keys += from.keys;
  into.other.push(...from.other);
}

function tooManyIterations(path: string, what: string, count: number, max: number): CertificateInputError {
  return new CertificateInputError('unsupported',
    `${path} is a PKCS#12 file with a ${what} iteration count of ${count}, outside what this tool accepts (1 to ${max}; OpenSSL writes 2048, Java 10000): ` +
    `export the certificates as PEM (openssl pkcs12 -in ${path} -nokeys -out ca.pem) and give that file.`);
}

/** PBES2 or PKCS#12 PBE parameters, read (and their work factor bounded) before any work. */
type Cipher = { kind: 'pbes2'; params: Pbes2Params } | { kind: 'pkcs12'; salt: Buffer; iterations: number };

function cipherParams(path: string, part: { alg: string; params: Buffer }): Cipher {
  const unsupported = (what: string) => new CertificateInputError('unsupported',
    `${path} is a PKCS#12 file encrypted with ${what}, which this tool cannot read: export the certificates as PEM (openssl pkcs12 -in ${path} -nokeys -out ca.pem) and give that file.`);
  if (part.alg !== OID.pbes2 && part.alg !== PKCS12_PBE.sha3Des && part.alg !== PKCS12_PBE.shaRc2_40) {
    throw unsupported(LEGACY_PBE_NAMES[part.alg] ?? `the algorithm ${part.alg}`);
  }
  const p = part.params;
  let cipher: Cipher;
  try {
    const top = berChildren(p, expect(ber(p, 0, p.length), TAG.SEQUENCE, 'parameters'));
    if (part.alg === OID.pbes2) {
      // PBES2-params ::= SEQUENCE { keyDerivationFunc, encryptionScheme }
      const [kdfOidT, kdfParamsT] = berChildren(p, expect(top[0], TAG.SEQUENCE, 'keyDerivationFunc'));
      const [encOidT, ivT] = berChildren(p, expect(top[1], TAG.SEQUENCE, 'encryptionScheme'));
      const kdfOid = oidOf(p, kdfOidT, 'KDF');
      const cipherOid = oidOf(p, encOidT, 'cipher');
      // PBKDF2-params ::= SEQUENCE { salt OCTET STRING, iterationCount, keyLength OPTIONAL, prf DEFAULT hmacWithSHA1 }
      let salt: Buffer = Buffer.alloc(0), iterations = 0, keyLength: number | undefined, prfOid = '1.2.840.113549.2.7';
      if (kdfOid === OID.pbkdf2) {
        const kp = berChildren(p, expect(kdfParamsT, TAG.SEQUENCE, 'PBKDF2-params'));
        salt = octets(p, expectOctetString(kp[0], 'salt'));
        iterations = integerValue(p, expect(kp[1], TAG.INTEGER, 'iterationCount'));
        for (const t of kp.slice(2)) {
          if (t.tag === TAG.INTEGER) keyLength = integerValue(p, t);
          if (t.tag === TAG.SEQUENCE) prfOid = oidOf(p, berChildren(p, t)[0], 'PRF');
        }
      }
      const iv = ivT && (ivT.tag === TAG.OCTET_STRING) ? octets(p, ivT) : Buffer.alloc(0);
      cipher = { kind: 'pbes2', params: { kdfOid, salt, iterations, ...(keyLength !== undefined ? { keyLength } : {}), prfOid, cipherOid, iv } };
    } else {
      // pkcs-12PbeParams ::= SEQUENCE { salt OCTET STRING, iterations INTEGER }
      cipher = { kind: 'pkcs12', salt: octets(p, expectOctetString(top[0], 'salt')), iterations: integerValue(p, expect(top[1], TAG.INTEGER, 'iterations')) };
    }
  } catch (err) {
    throw new CertificateInputError('garbage', `${path} is a damaged PKCS#12 file (encryption parameters: ${(err as Error).message}).`);
  }
  if (cipher.kind === 'pbes2') {
    const iterations = cipher.params.iterations;
    if (cipher.params.kdfOid === OID.pbkdf2 && !(iterations >= 1 && iterations <= MAX_PBKDF2_ITERATIONS)) {
      throw tooManyIterations(path, 'PBKDF2', iterations, MAX_PBKDF2_ITERATIONS);
    }
    try {
      checkPbes2(cipher.params);
    } catch (err) {
      if (err instanceof Pkcs12CryptoError) throw unsupported(err.message);
      throw err;
    }
  } else if (!(cipher.iterations >= 1 && cipher.iterations <= MAX_PKCS12_KDF_ITERATIONS)) {
    throw tooManyIterations(path, 'encryption', cipher.iterations, MAX_PKCS12_KDF_ITERATIONS);
  }
  return cipher;
}

async function decrypt(path: string, part: { alg: string; params: Buffer; encrypted: Buffer }, cred: Credential): Promise<Buffer | undefined> {
  const cipher = cipherParams(path, part);
  if (cipher.kind === 'pbes2') return decryptPbes2(cipher.params, cred.pbes2, part.encrypted);
  return decryptPkcs12Pbe(part.alg, cipher.salt, cipher.iterations, cred.kdf12, part.encrypted);
}

/** SafeContents ::= SEQUENCE OF SafeBag. Key bags are counted, never decoded or decrypted. */
function walkBags(buf: Buffer, depth = 0): Bags {
  const out: Bags = { ders: [], keys: 0, other: [] };
  const top = expect(ber(buf, 0, buf.length), TAG.SEQUENCE, 'SafeContents');
  if (depth === 0 && top.end !== buf.length) throw new DerError('trailing data after SafeContents');
  for (const bag of berChildren(buf, top)) {
    const [idT, valueT] = berChildren(buf, expect(bag, TAG.SEQUENCE, 'SafeBag'));
    const id = oidOf(buf, idT, 'bagId');
    const value = berChildren(buf, expect(valueT, 0xa0, 'bagValue'))[0];
    switch (id) {
      case OID.keyBag:
      case OID.shroudedKeyBag:
        out.keys++;
        break;
      case OID.certBag: {
        const [certIdT, certValueT] = berChildren(buf, expect(value, TAG.SEQUENCE, 'CertBag'));
        const certId = oidOf(buf, certIdT, 'certId');
        const inner = berChildren(buf, expect(certValueT, 0xa0, 'certValue'))[0];
        if (certId === OID.x509Certificate) out.ders.push(Buffer.from(octets(buf, expectOctetString(inner, 'certificate'))));
        else out.other.push('a non-X.509 (SDSI) certificate');
        break;
      }
      case OID.crlBag: out.other.push('a CRL'); break;
      case OID.secretBag: out.other.push('a secret'); break;
      case OID.safeContentsBag: {
        if (depth > 4) throw new DerError('SafeContents nested too deeply');
        const sub = buf.subarray(value!.start, value!.end);
        mergeBags(out, walkBags(sub, depth + 1));
        break;
      }
      default: throw new DerError(`unknown bag type ${id}`);
    }
  }
  return out;
}
