// Java's keystore file format (JKS), read far enough to list the trusted certificates: Debian's
// ca-certificates-java keeps /etc/ssl/certs/java/cacerts in it. Layout (sun.security.provider.
// JavaKeyStore): magic FEEDFEED, version (1 or 2), entry count; per entry a tag (1 private key,
// 2 trusted certificate), an alias (modified UTF-8 with a 16-bit length), a 64-bit date; a
// certificate is (version 2: its type as UTF) a 32-bit length and the DER; a key entry is its
// protected key and a chain of certificates. A SHA-1 over the store closes the file (not checked:
// listing needs no password).
import { createHash } from 'node:crypto';

export interface JksEntry {
  alias: string;
  /** 'trusted' for a CA entry, 'key' for a private key with its chain. */
  kind: 'trusted' | 'key';
  /** SHA-256 of each certificate's DER (one for a CA entry, the chain for a key entry). */
  sha256: string[];
}

export class JksError extends Error {}

export function readJks(buf: Buffer): JksEntry[] {
  let off = 0;
  const need = (n: number) => {
    if (off + n > buf.length) throw new JksError('truncated keystore');
  };
  const u32 = () => {
    need(4);
    const v = buf.readUInt32BE(off);
    off += 4;
    return v;
  };
  const utf = () => {
    need(2);
    const n = buf.readUInt16BE(off);
    off += 2;
    need(n);
    const s = buf.subarray(off, off + n).toString('utf8');
    off += n;
    return s;
  };
  const bytes = () => {
    const n = u32();
    need(n);
    const b = buf.subarray(off, off + n);
    off += n;
    return b;
  };
  if (u32() !== 0xfeedfeed) throw new JksError('not a JKS keystore');
  const version = u32();
  if (version !== 1 && version !== 2) throw new JksError(`JKS version ${version}`);
  const count = u32();
  const entries: JksEntry[] = [];
  const cert = () => {
    if (version === 2) utf(); // "X.509"
    return createHash('sha256').update(bytes()).digest('hex');
  };
  for (let i = 0; i < count; i++) {
    const tag = u32();
    const alias = utf();
    need(8);
    off += 8;
    if (tag === 2) entries.push({ alias, kind: 'trusted', sha256: [cert()] });
    else if (tag === 1) {
      bytes();
      const n = u32();
      const chain: string[] = [];
      for (let j = 0; j < n; j++) chain.push(cert());
      entries.push({ alias, kind: 'key', sha256: chain });
    } else throw new JksError(`unknown JKS entry tag ${tag}`);
  }
  return entries;
}
