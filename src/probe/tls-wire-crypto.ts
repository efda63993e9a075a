// TLS 1.3 record protection, just enough to read the server's encrypted
// handshake flight (EncryptedExtensions, Certificate, ...) when we know the
// server handshake traffic secret (from Node's `keylog` event).
//
// Everything here is a pure function over bytes built on node:crypto.

import { createDecipheriv, createHmac } from 'node:crypto';

export type Tls13Hash = 'sha256' | 'sha384';
export type Tls13Aead = 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305' | 'aes-128-ccm';

/** A TLS 1.3 cipher suite (RFC 8446 B.4): AEAD + HKDF hash. */
export interface Tls13Suite {
  id: number;
  name: string;
  aead: Tls13Aead;
  hash: Tls13Hash;
  keyLength: number;
  tagLength: number;
}

/** RFC 8446 B.4 cipher suites. All use a 12-byte IV (RFC 8446 5.3). */
export const TLS13_SUITES: ReadonlyMap<number, Tls13Suite> = new Map(
  (
    [
      [0x1301, 'TLS_AES_128_GCM_SHA256', 'aes-128-gcm', 'sha256', 16, 16],
      [0x1302, 'TLS_AES_256_GCM_SHA384', 'aes-256-gcm', 'sha384', 32, 16],
      [0x1303, 'TLS_CHACHA20_POLY1305_SHA256', 'chacha20-poly1305', 'sha256', 32, 16],
      [0x1304, 'TLS_AES_128_CCM_SHA256', 'aes-128-ccm', 'sha256', 16, 16],
      [0x1305, 'TLS_AES_128_CCM_8_SHA256', 'aes-128-ccm', 'sha256', 16, 8],
    ] as const
  ).map(([id, name, aead, hash, keyLength, tagLength]) => [id, { id, name, aead, hash, keyLength, tagLength }]),
);

const IV_LENGTH = 12;

/** HKDF-Expand (RFC 5869 2.3). */
export function hkdfExpand(hash: Tls13Hash, prk: Buffer, info: Buffer, length: number): Buffer {
  const blocks: Buffer[] = [];
  let previous = Buffer.alloc(0);
  let total = 0;
  for (let counter = 1; total < length; counter++) {
    previous = createHmac(hash, prk)
      .update(previous)
      .update(info)
      .update(Buffer.from([counter]))
      .digest();
    blocks.push(previous);
    total += previous.length;
  }
  return Buffer.concat(blocks).subarray(0, length);
}

/**
 * HKDF-Expand-Label (RFC 8446 7.1):
 *   struct { uint16 length; opaque label<7..255> = "tls13 " + Label; opaque context<0..255>; } HkdfLabel;
 */
export function hkdfExpandLabel(hash: Tls13Hash, secret: Buffer, label: string, context: Buffer, length: number): Buffer {
  const fullLabel = Buffer.from(`tls13 ${label}`, 'ascii');
  const info = Buffer.concat([
    Buffer.from([length >> 8, length & 0xff, fullLabel.length]),
    fullLabel,
    Buffer.from([context.length]),
    context,
  ]);
  return hkdfExpand(hash, secret, info, length);
}

/** Record protection keys for one direction and epoch (RFC 8446 7.3). */
export interface TrafficKeys {
  suite: Tls13Suite;
  key: Buffer;
  iv: Buffer;
}

/** [sender]_write_key / [sender]_write_iv from a traffic secret (RFC 8446 7.3). */
export function deriveTrafficKeys(suite: Tls13Suite, secret: Buffer): TrafficKeys {
  return {
    suite,
    key: hkdfExpandLabel(suite.hash, secret, 'key', Buffer.alloc(0), suite.keyLength),
    iv: hkdfExpandLabel(suite.hash, secret, 'iv', Buffer.alloc(0), IV_LENGTH),
  };
}

/** Per-record nonce (RFC 8446 5.3): the 64-bit sequence number, left-padded, XORed into the IV. */
export function recordNonce(iv: Buffer, seq: number): Buffer {
  const nonce = Buffer.from(iv);
  let s = BigInt(seq);
  for (let i = nonce.length - 1; i >= nonce.length - 8; i--) {
    nonce[i] = nonce[i]! ^ Number(s & 0xffn);
    s >>= 8n;
  }
  return nonce;
}

/**
 * Decrypts one TLSCiphertext (RFC 8446 5.2) and returns the TLSInnerPlaintext
 * (content || content_type || zeros). AAD is the 5-byte record header.
 * Throws if authentication fails (wrong secret, wrong sequence number, ...).
 */
export function decryptRecord(keys: TrafficKeys, seq: number, header: Buffer, encryptedRecord: Buffer): Buffer {
  const { suite } = keys;
  if (encryptedRecord.length < suite.tagLength) throw new Error('encrypted record shorter than its authentication tag');
  const ciphertext = encryptedRecord.subarray(0, encryptedRecord.length - suite.tagLength);
  const tag = encryptedRecord.subarray(encryptedRecord.length - suite.tagLength);
  const nonce = recordNonce(keys.iv, seq);
  let decipher;
  switch (suite.aead) {
    case 'aes-128-ccm':
      decipher = createDecipheriv(suite.aead, keys.key, nonce, { authTagLength: suite.tagLength });
      decipher.setAuthTag(tag);
      decipher.setAAD(header, { plaintextLength: ciphertext.length });
      break;
    case 'chacha20-poly1305':
      decipher = createDecipheriv(suite.aead, keys.key, nonce, { authTagLength: suite.tagLength });
      decipher.setAuthTag(tag);
      decipher.setAAD(header, { plaintextLength: ciphertext.length });
      break;
    default:
      decipher = createDecipheriv(suite.aead, keys.key, nonce, { authTagLength: suite.tagLength });
      decipher.setAuthTag(tag);
      decipher.setAAD(header);
  }
  return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
}

/**
 * Splits a TLSInnerPlaintext (RFC 8446 5.2) into its real content type and
 * content: strip the zero padding, the last non-zero byte is the type.
 */
export function unwrapInnerPlaintext(inner: Buffer): { type: number; content: Buffer } {
  let end = inner.length - 1;
  while (end >= 0 && inner[end] === 0) end--;
  if (end < 0) throw new Error('TLSInnerPlaintext is all padding (no content type)');
  return { type: inner[end]!, content: inner.subarray(0, end) };
}
