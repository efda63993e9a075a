// Content addresses as the image formats write them: "sha256:<64 hex>". Only sha256 is accepted:
// it is what every registry, Docker and the OCI layout use, and a digest that does not match
// this shape is never turned into a path (it could name a file outside blobs/).
import { createHash } from 'node:crypto';

const DIGEST = /^sha256:([0-9a-f]{64})$/;

export const sha256Digest = (data: Buffer): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** The hex part of a digest; throws on anything but a well-formed sha256 digest. */
export function digestHex(digest: string): string {
  const m = DIGEST.exec(digest);
  if (!m) throw new Error(`unsupported or malformed digest: ${JSON.stringify(digest)}`);
  return m[1]!;
}

export const isDigest = (s: unknown): boolean => typeof s === 'string' && DIGEST.test(s);

/** Where a blob lives in an OCI image layout (and in Docker 25+'s docker save). */
export const blobPath = (digest: string): string => `blobs/sha256/${digestHex(digest)}`;
