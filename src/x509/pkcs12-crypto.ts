// The password-based cryptography of PKCS#12 files, on node:crypto: PBKDF2 (PBES2, OpenSSL 3's
// AES default) is native; the PKCS#12 KDF (RFC 7292 appendix B.2: the MAC key, and the legacy
// 3DES and RC2-40 ciphers) has no native entry point in Node, so it runs as a tight loop over
// the one-shot hash. RC2 is the one cipher OpenSSL 3 keeps out of its default provider; only it
// comes from node-forge, loaded when a file needs it.
import * as nodeCrypto from 'node:crypto';
import { createDecipheriv, createHash, pbkdf2Sync } from 'node:crypto';

/**
 * Work-factor caps, checked before any work. PBKDF2 is native (about 1 s for 2,000,000 rounds
 * of HMAC-SHA-256 here). The PKCS#12 KDF costs about 2 us a round in a JavaScript loop, and a
 * file needs up to four derivations per password tried, so its cap is what real files use with
 * a wide margin: OpenSSL writes 2048 (PKCS12_DEFAULT_ITER, include/openssl/pkcs12.h), Java's
 * keytool 10000 (keystore.pkcs12.macIterationCount in java.security, JDK 12+), Windows'
 * PFXExportCertStoreEx 2000. At 100,000 a file reads in about a second.
 */
export const MAX_PBKDF2_ITERATIONS = 2_000_000;
export const MAX_PKCS12_KDF_ITERATIONS = 100_000;

export class Pkcs12CryptoError extends Error {
  constructor(readonly kind: 'unsupported' | 'malformed', message: string) {
    super(message);
  }
}

interface HashInfo { node: string; bytes: number; block: number }

export const PKCS12_HASHES: Record<string, HashInfo> = {
  '1.3.14.3.2.26': { node: 'sha1', bytes: 20, block: 64 },
  '2.16.840.1.101.3.4.2.4': { node: 'sha224', bytes: 28, block: 64 },
  '2.16.840.1.101.3.4.2.1': { node: 'sha256', bytes: 32, block: 64 },
  '2.16.840.1.101.3.4.2.2': { node: 'sha384', bytes: 48, block: 128 },
  '2.16.840.1.101.3.4.2.3': { node: 'sha512', bytes: 64, block: 128 },
  '1.2.840.113549.2.5': { node: 'md5', bytes: 16, block: 64 },
};

// crypto.hash (Node 20.12+) is a one-shot digest without a Hash object per round.
const oneShot = (nodeCrypto as unknown as { hash?: (alg: string, data: Buffer, enc: 'buffer') => Buffer }).hash;
const digest = (alg: string, data: Buffer): Buffer => (oneShot ? oneShot(alg, data, 'buffer') : createHash(alg).update(data).digest());

/**
 * RFC 7292 B.2. `password` is the BMPString with its two-byte terminator already appended, or
 * empty for a NULL password. `id`: 1 key, 2 IV, 3 MAC key.
 */
export function pkcs12Kdf(password: Buffer, salt: Buffer, id: 1 | 2 | 3, iterations: number, n: number, hash: HashInfo): Buffer {
  if (!(iterations >= 1 && iterations <= MAX_PKCS12_KDF_ITERATIONS)) throw new Pkcs12CryptoError('unsupported', `iteration count ${iterations}`);
  const v = hash.block;
  const u = hash.bytes;
  const repeat = (b: Buffer) => {
    const out = Buffer.alloc(v * Math.ceil(b.length / v));
    for (let i = 0; i < out.length; i++) out[i] = b[i % b.length]!;
    return out;
  };
  const I = Buffer.concat([repeat(salt), repeat(password)]);
  const D = Buffer.alloc(v, id);
  const out = Buffer.alloc(Math.ceil(n / u) * u);
  for (let block = 0; block * u < n; block++) {
    let A = digest(hash.node, Buffer.concat([D, I]));
    for (let r = 1; r < iterations; r++) A = digest(hash.node, A);
    A.copy(out, block * u);
    // I_j = (I_j + B + 1) mod 2^(8v), B = A repeated to v bytes.
    for (let j = 0; j < I.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const x = I[j + k]! + A[k % u]! + carry;
        I[j + k] = x & 0xff;
        carry = x >> 8;
      }
    }
  }
  return out.subarray(0, n);
}

/** A password as the PKCS#12 KDF takes it: UTF-16BE code units and a terminator; null: nothing. */
export function bmpPassword(password: string | null): Buffer {
  if (password === null) return Buffer.alloc(0);
  const out = Buffer.alloc(password.length * 2 + 2);
  for (let i = 0; i < password.length; i++) out.writeUInt16BE(password.charCodeAt(i), i * 2);
  return out;
}

const PBES2_PRFS: Record<string, string> = {
  '1.2.840.113549.2.7': 'sha1',
  '1.2.840.113549.2.8': 'sha224',
  '1.2.840.113549.2.9': 'sha256',
  '1.2.840.113549.2.10': 'sha384',
  '1.2.840.113549.2.11': 'sha512',
};

/** PBES2 encryption schemes: Node's cipher name and key length; DES-CBC needs the legacy provider. */
const PBES2_CIPHERS: Record<string, { node: string; keyBytes: number }> = {
  '2.16.840.1.101.3.4.1.2': { node: 'aes-128-cbc', keyBytes: 16 },
  '2.16.840.1.101.3.4.1.22': { node: 'aes-192-cbc', keyBytes: 24 },
  '2.16.840.1.101.3.4.1.42': { node: 'aes-256-cbc', keyBytes: 32 },
  '1.2.840.113549.3.7': { node: 'des-ede3-cbc', keyBytes: 24 },
};

export interface Pbes2Params {
  kdfOid: string;
  salt: Buffer;
  iterations: number;
  keyLength?: number;
  prfOid: string;
  cipherOid: string;
  iv: Buffer;
}

export function checkPbes2(p: Pbes2Params): { prf: string; cipher: { node: string; keyBytes: number } } {
  if (p.kdfOid !== '1.2.840.113549.1.5.12') throw new Pkcs12CryptoError('unsupported', `the key derivation function ${p.kdfOid}`);
  const prf = PBES2_PRFS[p.prfOid];
  if (!prf) throw new Pkcs12CryptoError('unsupported', `the PBKDF2 PRF ${p.prfOid}`);
  const cipher = PBES2_CIPHERS[p.cipherOid];
  if (!cipher) throw new Pkcs12CryptoError('unsupported', p.cipherOid === '1.3.14.3.2.7' ? 'DES-CBC (single DES)' : `the cipher ${p.cipherOid}`);
  if (!(p.iterations >= 1 && p.iterations <= MAX_PBKDF2_ITERATIONS)) throw new Pkcs12CryptoError('unsupported', `iteration count ${p.iterations}`);
  return { prf, cipher };
}

/** PBES2 decryption; undefined when the padding is wrong (a wrong password, nearly always). */
export function decryptPbes2(p: Pbes2Params, password: Buffer, data: Buffer): Buffer | undefined {
  const { prf, cipher } = checkPbes2(p);
  const key = pbkdf2Sync(password, p.salt, p.iterations, p.keyLength ?? cipher.keyBytes, prf);
  return runCipher(cipher.node, key, p.iv, data);
}

function runCipher(name: string, key: Buffer, iv: Buffer, data: Buffer): Buffer | undefined {
  try {
    const d = createDecipheriv(name, key, iv);
    return Buffer.concat([d.update(data), d.final()]);
  } catch {
    return undefined;
  }
}

export const PKCS12_PBE = {
  sha3Des: '1.2.840.113549.1.12.1.3',
  shaRc2_40: '1.2.840.113549.1.12.1.6',
} as const;

interface Rc2 { createDecryptionCipher(key: unknown, bits: number): { start(iv: unknown, out: null): void; update(b: unknown): void; finish(): boolean; output: { getBytes(): string } } }
interface ForgeRc2 { rc2: Rc2; util: { createBuffer(bytes: string): unknown } }
let forgeRc2: Promise<ForgeRc2> | undefined;

/** pbeWithSHAAnd3-KeyTripleDES-CBC or pbeWithSHAAnd40BitRC2-CBC (RFC 7292 appendix C). */
export async function decryptPkcs12Pbe(oid: string, salt: Buffer, iterations: number, password: Buffer, data: Buffer): Promise<Buffer | undefined> {
  const sha1 = PKCS12_HASHES['1.3.14.3.2.26']!;
  if (oid === PKCS12_PBE.sha3Des) {
    const key = pkcs12Kdf(password, salt, 1, iterations, 24, sha1);
    const iv = pkcs12Kdf(password, salt, 2, iterations, 8, sha1);
    return runCipher('des-ede3-cbc', key, iv, data);
  }
  if (oid === PKCS12_PBE.shaRc2_40) {
    const key = pkcs12Kdf(password, salt, 1, iterations, 5, sha1);
    const iv = pkcs12Kdf(password, salt, 2, iterations, 8, sha1);
    const forge = await (forgeRc2 ??= import('node-forge').then((m) => ((m as { default?: unknown }).default ?? m) as ForgeRc2));
    const cipher = forge.rc2.createDecryptionCipher(forge.util.createBuffer(key.toString('latin1')), 40);
    cipher.start(forge.util.createBuffer(iv.toString('latin1')), null);
    cipher.update(forge.util.createBuffer(data.toString('latin1')));
    if (!cipher.finish()) return undefined;
    return Buffer.from(cipher.output.getBytes(), 'latin1');
  }
  throw new Pkcs12CryptoError('unsupported', `the algorithm ${oid}`);
}
