// Root stores kept between runs (trust/store-snapshot.ts): a store served from the snapshot is the
// store read afresh, and any change to what it was read from (a file written in place, a file
// added, a link re-pointed, a file removed), a change too recent to trust, a damaged snapshot or
// another build's means it is read afresh again. Real files on this machine, as Go's loader reads them.
import { mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirTree } from '../../../src/platform/rootfs.js';
import { StoreSnapshot } from '../../../src/trust/store-snapshot.js';
import { loadUnixRoots, useStoreSnapshot, type Env, type TrustStore } from '../../../src/trust/stores.js';
import { tempDir } from '../../helpers/servers.js';

// A new tree per read: the loaders keep what they read per tree, for the length of one run.
const host = () => new DirTree('/');
const roots = tls.rootCertificates;
let base: string;
let env: Env;

/** Everything a view reads from a store. */
function described(store: TrustStore): unknown {
  return {
    certificates: store.certificates.map((c) => c.der.toString('base64')),
    origins: store.certificates.map((c) => store.origin.get(c)),
    sources: store.sources,
  };
}

/** The store as read with no snapshot at all. */
async function afresh(reader: 'go' | 'openssl' = 'go'): Promise<TrustStore> {
  useStoreSnapshot(undefined);
  return loadUnixRoots(host(), env, reader);
}

/** The store through a snapshot in `file`: what it gave, whether it came from the snapshot, and the snapshot written. */
async function through(file: string, reader: 'go' | 'openssl' = 'go', id = 'build-1'): Promise<{ store: TrustStore; served: boolean }> {
  const snapshot = new StoreSnapshot(file, id);
  useStoreSnapshot(snapshot);
  try {
    const store = await loadUnixRoots(host(), env, reader);
    snapshot.save();
    return { store, served: snapshot.served > 0 };
  } finally {
    useStoreSnapshot(undefined);
  }
}

const snapshotFile = () => path.join(tempDir('ollama-tls-snapshot-'), 'sub', 'root-stores.bin');

beforeAll(async () => {
  // A bundle and a directory as Go reads them: certificates in files, an OpenSSL hash link (which
  // Go skips), a link to a file elsewhere, a damaged block, a sub-directory.
  base = tempDir('ollama-tls-stores-');
  const dir = path.join(base, 'certs');
  mkdirSync(path.join(dir, 'sub'), { recursive: true });
  writeFileSync(path.join(base, 'bundle.pem'), `${roots[0]}\n${roots[1]}\n`);
  writeFileSync(path.join(dir, 'a.pem'), `${roots[2]}\n`);
  writeFileSync(path.join(dir, 'b.pem'), `${roots[3]}\n${roots[4]}\n`);
  symlinkSync('a.pem', path.join(dir, '0a1b2c3d.0'));
  writeFileSync(path.join(base, 'elsewhere.pem'), `${roots[5]}\n`);
  symlinkSync(path.join(base, 'elsewhere.pem'), path.join(dir, 'c.pem'));
  writeFileSync(path.join(dir, 'damaged.pem'), '-----BEGIN CERTIFICATE-----\nMIIBAAAA\n-----END CERTIFICATE-----\n');
  env = { SSL_CERT_FILE: path.join(base, 'bundle.pem'), SSL_CERT_DIR: dir };
  // Inputs changed in the last two seconds are not recorded (the snapshot's racy rule).
  await sleep(2100);
});

afterAll(() => {
  useStoreSnapshot(undefined);
  rmSync(base, { recursive: true, force: true });
});

describe('a root store kept between runs', () => {
  it('is served to the next run, equal to the store read afresh (Go and OpenSSL readers)', async () => {
    for (const reader of ['go', 'openssl'] as const) {
      const file = snapshotFile();
      const first = await through(file, reader);
      expect(first.served).toBe(false);
      const second = await through(file, reader);
      expect(second.served, reader).toBe(true);
      const fresh = await afresh(reader);
      expect(described(second.store)).toEqual(described(fresh));
      expect(described(first.store)).toEqual(described(fresh));
      // Not vacuous: the directory's certificates, its skipped link and its damaged file are all there.
      expect(fresh.certificates.length).toBe(6);
      expect(JSON.stringify(fresh.sources)).toMatch(/same-directory links skipped/);
    }
  });

  it('is not believed from another build, or damaged', async () => {
    const file = snapshotFile();
    await through(file);
    expect((await through(file, 'go', 'build-2')).served).toBe(false);
    // One outline number changed on disk: that snapshot's certificates are not believed.
    const bytes = readFileSync(file);
    const intsStart = (8 + bytes.readUInt32LE(4) + 3) & ~3;
    bytes.writeInt32LE(0x7fffffff, intsStart + 4 * 2); // the first certificate's version
    writeFileSync(file, bytes);
    const altered = await through(file);
    expect(altered.served).toBe(false);
    expect(described(altered.store)).toEqual(described(await afresh()));
    writeFileSync(file, Buffer.from('OTS3 not a snapshot at all'));
    const damaged = await through(file);
    expect(damaged.served).toBe(false);
    expect(described(damaged.store)).toEqual(described(await afresh()));
  });

  it('is read afresh after any change to what it was read from, and then equals the new store', { timeout: 30_000 }, async () => {
    const dir = env.SSL_CERT_DIR!;
    const changes: [string, () => void][] = [
      ['a file written in place', () => writeFileSync(path.join(dir, 'b.pem'), `${roots[4]}\n${roots[3]}\n`)],
      ['a file added to the directory', () => writeFileSync(path.join(dir, 'd.pem'), `${roots[6]}\n`)],
      ['a link re-pointed', () => {
        writeFileSync(path.join(base, 'other.pem'), `${roots[7]}\n`);
        unlinkSync(path.join(dir, 'c.pem'));
        symlinkSync(path.join(base, 'other.pem'), path.join(dir, 'c.pem'));
      }],
      ['a file replaced by rename', () => {
        writeFileSync(path.join(base, 'new-elsewhere.pem'), `${roots[8]}\n`);
        renameSync(path.join(base, 'new-elsewhere.pem'), path.join(base, 'other.pem'));
      }],
      ['the bundle removed', () => rmSync(env.SSL_CERT_FILE!)],
    ];
    for (const [what, change] of changes) {
      await sleep(2100); // the previous change is then old enough to be recorded
      const file = snapshotFile();
      const before = await through(file);
      expect((await through(file)).served, `recorded before: ${what}`).toBe(true);
      change();
      const after = await through(file);
      expect(after.served, what).toBe(false);
      const fresh = await afresh();
      expect(described(after.store), what).toEqual(described(fresh));
      expect(described(fresh), what).not.toEqual(described(before.store));
    }
  });

  it('is not recorded while an input changed too recently to be sure of (git\'s racily clean case)', async () => {
    writeFileSync(path.join(env.SSL_CERT_DIR!, 'e.pem'), `${roots[9]}\n`);
    const file = snapshotFile();
    await through(file);
    expect((await through(file)).served).toBe(false);
  });
});
