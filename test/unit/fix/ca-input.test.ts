// The files `ollama-tls trust --ca FILE` reads, made by the real openssl CLI: PEM in its many
// shapes, DER, PKCS#7 and PKCS#12 (OpenSSL 3's AES default, -legacy RC2/3DES, no password, EC
// keys), and the inputs it must refuse. Fingerprints are held against openssl's own.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { execFile } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaInputError, checkCas, readCaFile, type CaFile } from '../../../src/fix/ca-input.js';

x509.cryptoProvider.set(webcrypto);
const run = promisify(execFile);

let dir: string;
const f = (name: string) => path.join(dir, name);
const openssl = async (...args: string[]): Promise<string> => (await run('openssl', args, { cwd: dir })).stdout;
const read = (name: string) => readFileSync(f(name));
const NOW = new Date(Date.now() + 3_600_000); // after every certificate made in beforeAll

/** openssl's own SHA-256 fingerprint of a PEM or DER certificate file, lower-case hex. */
async function fingerprint(name: string, form: 'PEM' | 'DER' = 'PEM'): Promise<string> {
  const out = await openssl('x509', '-in', f(name), '-inform', form, '-noout', '-fingerprint', '-sha256');
  return out.trim().split('=')[1]!.replace(/:/g, '').toLowerCase();
}

async function refusal(p: Promise<unknown> | (() => unknown)): Promise<CaInputError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    expect(err).toBeInstanceOf(CaInputError);
    expect((err as Error).message).not.toMatch(/\n\s+at /); // never a stack trace
    return err as CaInputError;
  }
  throw new Error('expected a CaInputError');
}

const CA_EXT = ['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'];
const fp: Record<string, string> = {};
let forgeImportMs = 0;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'ollama-tls-ca-input-'));
  const t = performance.now();
  await import('node-forge');
  forgeImportMs = performance.now() - t;

  // Roots: RSA and EC (P-256).
  await openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'root.key', '-out', 'root.pem', '-days', '3650',
    '-subj', '/O=ca-input tests/CN=Test RSA Root CA', ...CA_EXT);
  await openssl('ecparam', '-name', 'prime256v1', '-genkey', '-out', 'ecroot-sec1.key'); // EC PARAMETERS + EC PRIVATE KEY
  await openssl('pkey', '-in', 'ecroot-sec1.key', '-out', 'ecroot.key'); // PKCS#8
  await openssl('req', '-x509', '-key', 'ecroot.key', '-out', 'ecroot.pem', '-days', '3650', '-subj', '/O=ca-input tests/CN=Test EC Root CA', ...CA_EXT);
  // Intermediate under the RSA root, and a server leaf under the intermediate.
  writeFileSync(f('ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');
  writeFileSync(f('leaf.ext'), 'basicConstraints=CA:FALSE\nsubjectAltName=DNS:server.test,DNS:www.server.test\nextendedKeyUsage=serverAuth\n');
  await openssl('req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'int.key', '-out', 'int.csr', '-subj', '/O=ca-input tests/CN=Test Intermediate CA');
  await openssl('x509', '-req', '-in', 'int.csr', '-CA', 'root.pem', '-CAkey', 'root.key', '-set_serial', '1001', '-days', '1000', '-extfile', 'ca.ext', '-out', 'int.pem');
  await openssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=server.test');
  await openssl('x509', '-req', '-in', 'leaf.csr', '-CA', 'int.pem', '-CAkey', 'int.key', '-set_serial', '1002', '-days', '300', '-extfile', 'leaf.ext', '-out', 'leaf.pem');
  // A self-signed server certificate (not a CA).
  await openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'selfleaf.key', '-out', 'selfleaf.pem', '-days', '365',
    '-subj', '/CN=nas.home.test', '-addext', 'basicConstraints=critical,CA:FALSE', '-addext', 'subjectAltName=DNS:nas.home.test');
  for (const name of ['root', 'ecroot', 'int', 'leaf', 'selfleaf']) fp[name] = await fingerprint(`${name}.pem`);

  // PEM shapes.
  writeFileSync(f('bundle.pem'), read('root.pem').toString() + read('int.pem').toString());
  writeFileSync(f('crlf.pem'), read('root.pem').toString().replace(/\n/g, '\r\n'));
  const text = await openssl('x509', '-in', 'root.pem', '-text'); // a text dump, then the PEM block
  writeFileSync(f('text.pem'), `Issued by the IT team, see the wiki.\n${text}\n# end of file\n`);
  await openssl('x509', '-in', 'root.pem', '-trustout', '-out', 'trusted.pem');
  await openssl('x509', '-in', 'root.pem', '-trustout', '-addtrust', 'serverAuth', '-out', 'trusted-aux.pem');
  await openssl('x509', '-in', 'root.pem', '-outform', 'DER', '-out', 'root.der');
  writeFileSync(f('utf16.pem'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(read('root.pem').toString(), 'utf16le')]));
  writeFileSync(f('oneline.pem'), read('root.pem').toString().replace(/\n/g, ' ').trim());
  writeFileSync(f('dup.pem'), read('root.pem').toString().repeat(2));
  writeFileSync(f('truncated.pem'), read('root.pem').toString().split('-----END')[0]!);
  // Certificate + key, in every key encoding.
  await openssl('pkey', '-in', 'ecroot.key', '-aes256', '-passout', 'pass:k3y', '-out', 'ecroot-enc.key');
  await openssl('pkey', '-in', 'root.key', '-traditional', '-out', 'root-trad.key');
  writeFileSync(f('root+key.pem'), read('root.pem').toString() + read('root.key').toString());
  writeFileSync(f('root+rsakey.pem'), read('root-trad.key').toString() + read('root.pem').toString());
  writeFileSync(f('ecroot+eckey.pem'), read('ecroot-sec1.key').toString() + read('ecroot.pem').toString());
  writeFileSync(f('ecroot+enckey.pem'), read('ecroot.pem').toString() + read('ecroot-enc.key').toString());
  await openssl('pkey', '-in', 'root.key', '-outform', 'DER', '-out', 'root-key.der');
  await openssl('req', '-new', '-key', 'root.key', '-subj', '/CN=request', '-out', 'request.csr');

  // PKCS#7: PEM and DER (certs-only), and a BER (indefinite-length) signed message.
  await openssl('crl2pkcs7', '-nocrl', '-certfile', 'root.pem', '-certfile', 'ecroot.pem', '-out', 'bundle.p7b.pem');
  await openssl('crl2pkcs7', '-nocrl', '-certfile', 'root.pem', '-certfile', 'int.pem', '-outform', 'DER', '-out', 'bundle.p7b');
  writeFileSync(f('message.txt'), 'hello\n');
  await openssl('cms', '-sign', '-in', 'message.txt', '-signer', 'int.pem', '-inkey', 'int.key', '-certfile', 'root.pem',
    '-outform', 'DER', '-stream', '-nodetach', '-out', 'signed-ber.p7m');

  // PKCS#12.
  const p12 = (out: string, ...args: string[]) => openssl('pkcs12', '-export', '-out', out, ...args);
  await p12('default.p12', '-in', 'int.pem', '-inkey', 'int.key', '-certfile', 'root.pem', '-passout', 'pass:s3cret');
  await p12('legacy.p12', '-legacy', '-in', 'int.pem', '-inkey', 'int.key', '-certfile', 'root.pem', '-passout', 'pass:s3cret');
  await p12('nopass.p12', '-in', 'root.pem', '-inkey', 'root.key', '-passout', 'pass:');
  await p12('ec.p12', '-in', 'ecroot.pem', '-inkey', 'ecroot.key', '-passout', 'pass:s3cret');
  await p12('ec-legacy.p12', '-legacy', '-in', 'ecroot.pem', '-inkey', 'ecroot.key', '-passout', 'pass:s3cret');
  await p12('unicode.p12', '-in', 'root.pem', '-inkey', 'root.key', '-passout', 'pass:pässwörd');
  await p12('leaf.p12', '-in', 'leaf.pem', '-inkey', 'leaf.key', '-certfile', 'int.pem', '-passout', 'pass:s3cret');
  await p12('certs-only.p12', '-nokeys', '-in', 'bundle.pem', '-passout', 'pass:s3cret');

  // Garbage, emptiness, a directory, a huge file.
  writeFileSync(f('random.bin'), Buffer.concat([Buffer.from([0x30, 0x82, 0xff]), webcrypto.getRandomValues(new Uint8Array(4096))]));
  writeFileSync(f('random2.bin'), webcrypto.getRandomValues(new Uint8Array(4096)));
  writeFileSync(f('notes.txt'), 'please trust our proxy\n');
  writeFileSync(f('empty.pem'), '');
  writeFileSync(f('blank.pem'), '\n  \r\n');
  mkdirSync(f('adir'));
  writeFileSync(f('huge.pem'), '');
  truncateSync(f('huge.pem'), 16 * 1024 * 1024 + 1);

  // A CA with a negative serial (Go 1.23+ cannot parse it).
  await openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'neg.key', '-out', 'negative.pem', '-days', '365',
    '-subj', '/CN=Negative Serial CA', '-set_serial', '-0x1234567890abcdef', ...CA_EXT);

  // Expired and not-yet-valid CAs. This openssl (3.0) has no -not_before/-not_after, so
  // @peculiar/x509 writes them, with explicit dates.
  for (const [name, notBefore, notAfter] of [
    ['expired', '2020-01-01T00:00:00Z', '2021-01-01T00:00:00Z'],
    ['future', '2099-01-01T00:00:00Z', '2100-01-01T00:00:00Z'],
  ] as const) {
    const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
    const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '0102', name: `CN=Test ${name} CA`, notBefore: new Date(notBefore), notAfter: new Date(notAfter), keys, signingAlgorithm: alg,
      extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)],
    });
    writeFileSync(f(`${name}.pem`), cert.toString('pem') + '\n');
  }
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const sha = (file: CaFile) => file.certificates.map((c) => c.sha256);

describe('PEM', () => {
  it('reads a single certificate', async () => {
    const file = await readCaFile(f('root.pem'));
    expect(file).toMatchObject({ path: f('root.pem'), format: 'pem', keyIgnored: false, notes: [] });
    expect(sha(file)).toEqual([fp.root]);
    expect(file.certificates[0]!.commonName).toBe('Test RSA Root CA');
    expect(checkCas([file], { now: NOW, force: false }).map((c) => c.sha256)).toEqual([fp.root]);
  });

  it('reads a bundle in file order (root then intermediate), with no intermediate note', async () => {
    const file = await readCaFile(f('bundle.pem'));
    expect(sha(file)).toEqual([fp.root, fp.int]);
    expect(file.notes).toEqual([]);
    expect(checkCas([file], { now: NOW, force: false })).toHaveLength(2);
  });

  it('says when an intermediate comes without its root', async () => {
    const file = await readCaFile(f('int.pem'));
    expect(sha(file)).toEqual([fp.int]);
    expect(file.notes.join('\n')).toMatch(/intermediate CA "Test Intermediate CA" \(issued by "Test RSA Root CA"\).*Go \(Ollama\).*trust anchor.*root/);
    expect(checkCas([file], { now: NOW, force: false })).toHaveLength(1);
  });

  it('reads CRLF line endings, text around the block, UTF-16 with a BOM, a block pasted on one line', async () => {
    for (const name of ['crlf.pem', 'text.pem', 'utf16.pem', 'oneline.pem']) {
      const file = await readCaFile(f(name));
      expect(file.format, name).toBe('pem');
      expect(sha(file), name).toEqual([fp.root]);
    }
  });

  it('reads TRUSTED CERTIFICATE blocks and says when trust settings are dropped', async () => {
    const plain = await readCaFile(f('trusted.pem'));
    expect(sha(plain)).toEqual([fp.root]);
    const aux = await readCaFile(f('trusted-aux.pem'));
    expect(sha(aux)).toEqual([fp.root]);
    expect(aux.notes.join('\n')).toMatch(/TRUSTED CERTIFICATE; its OpenSSL-only trust settings are dropped/);
  });

  it('removes duplicates within a file, with a note', async () => {
    const file = await readCaFile(f('dup.pem'));
    expect(sha(file)).toEqual([fp.root]);
    expect(file.notes.join('\n')).toMatch(/same certificate more than once/);
  });

  it('uses the certificate of a cert+key file and never the key: PKCS#8, RSA, EC (with EC PARAMETERS), ENCRYPTED', async () => {
    for (const [name, root] of [['root+key.pem', fp.root], ['root+rsakey.pem', fp.root], ['ecroot+eckey.pem', fp.ecroot], ['ecroot+enckey.pem', fp.ecroot]] as const) {
      const file = await readCaFile(f(name));
      expect(file.keyIgnored, name).toBe(true);
      expect(sha(file), name).toEqual([root]);
      expect(file.notes, name).toContain(`${f(name)} also holds a private key; only the certificates are used (the key is never copied).`);
    }
  });

  it('refuses a key-only file (PEM of every kind, and DER)', async () => {
    for (const name of ['root.key', 'ecroot-sec1.key', 'ecroot-enc.key', 'root-trad.key', 'root-key.der']) {
      const err = await refusal(readCaFile(f(name)));
      expect(err.kind, name).toBe('key-only');
      expect(err.message).toContain(`${f(name)} holds only a private key`);
    }
    expect((await refusal(readCaFile(f('ecroot-sec1.key')))).message).toContain('(an EC PRIVATE KEY block)');
  });

  it('refuses a certificate request and a truncated PEM', async () => {
    const csr = await refusal(readCaFile(f('request.csr')));
    expect(csr.kind).toBe('unsupported');
    expect(csr.message).toMatch(/CERTIFICATE REQUEST block, no certificate/);
    const cut = await refusal(readCaFile(f('truncated.pem')));
    expect(cut.kind).toBe('garbage');
    expect(cut.message).toMatch(/no matching -----END/);
  });
});

describe('DER and PKCS#7', () => {
  it('reads a DER certificate', async () => {
    const file = await readCaFile(f('root.der'));
    expect(file.format).toBe('der');
    expect(sha(file)).toEqual([await fingerprint('root.der', 'DER')]);
  });

  it('reads PKCS#7 as PEM (with an EC certificate) and as DER, byte for byte', async () => {
    const pem = await readCaFile(f('bundle.p7b.pem'));
    expect(pem.format).toBe('pkcs7');
    expect(sha(pem)).toEqual([fp.root, fp.ecroot]);
    const der = await readCaFile(f('bundle.p7b'));
    expect(der.format).toBe('pkcs7');
    expect(sha(der)).toEqual([fp.root, fp.int]);
    // openssl's view of the same file.
    const printed = await openssl('pkcs7', '-in', f('bundle.p7b'), '-inform', 'DER', '-print_certs');
    writeFileSync(f('p7-printed.pem'), printed);
    expect(sha(await readCaFile(f('p7-printed.pem')))).toEqual(sha(der));
  });

  it('reads a BER (indefinite-length) CMS signed message for its certificates', async () => {
    const file = await readCaFile(f('signed-ber.p7m'));
    expect(file.format).toBe('pkcs7');
    expect([...sha(file)].sort()).toEqual([fp.root, fp.int].sort());
  });
});

describe('PKCS#12', () => {
  it('reads OpenSSL 3 default files (PBES2/AES-256-CBC, HMAC-SHA256)', async () => {
    const info = await run('openssl', ['pkcs12', '-in', f('default.p12'), '-passin', 'pass:s3cret', '-info', '-noout']);
    expect(info.stderr).toMatch(/MAC: sha256/);
    expect(info.stderr).toMatch(/AES-256-CBC/);
    const file = await readCaFile(f('default.p12'), { password: 's3cret' });
    expect(file).toMatchObject({ format: 'pkcs12', keyIgnored: true });
    expect(sha(file)).toEqual([fp.int, fp.root]);
    expect(file.notes[0]).toBe(`${f('default.p12')} also holds a private key; only the certificates are used (the key is never copied).`);
  });

  it('reads -legacy files (RC2-40 certificates, 3DES key, HMAC-SHA1)', async () => {
    const info = await run('openssl', ['pkcs12', '-in', f('legacy.p12'), '-passin', 'pass:s3cret', '-info', '-noout', '-legacy']);
    expect(info.stderr).toMatch(/MAC: sha1/);
    expect(info.stderr).toMatch(/40BitRC2-CBC/);
    expect(info.stderr).toMatch(/3-KeyTripleDES-CBC/);
    const file = await readCaFile(f('legacy.p12'), { password: 's3cret' });
    expect(sha(file)).toEqual([fp.int, fp.root]);
    expect(file.keyIgnored).toBe(true);
  });

  it('reads a file with no password, with or without an empty password given', async () => {
    for (const opts of [{}, { password: '' }]) {
      const file = await readCaFile(f('nopass.p12'), opts);
      expect(sha(file)).toEqual([fp.root]);
      expect(file.keyIgnored).toBe(true);
    }
  });

  it('yields the certificates of files holding an EC key (default and legacy)', async () => {
    for (const name of ['ec.p12', 'ec-legacy.p12']) {
      const file = await readCaFile(f(name), { password: 's3cret' });
      expect(sha(file), name).toEqual([fp.ecroot]);
      expect(file.keyIgnored, name).toBe(true);
    }
  });

  it('reads a non-ASCII password and a certificates-only file', async () => {
    expect(sha(await readCaFile(f('unicode.p12'), { password: 'pässwörd' }))).toEqual([fp.root]);
    const only = await readCaFile(f('certs-only.p12'), { password: 's3cret' });
    expect(sha(only)).toEqual([fp.root, fp.int]);
    expect(only.keyIgnored).toBe(false);
  });

  it('matches openssl fingerprints for the certificates it extracts', async () => {
    await openssl('pkcs12', '-in', f('legacy.p12'), '-passin', 'pass:s3cret', '-nokeys', '-legacy', '-out', f('p12-printed.pem'));
    const printed = await readCaFile(f('p12-printed.pem'));
    expect(sha(await readCaFile(f('legacy.p12'), { password: 's3cret' }))).toEqual(sha(printed));
    expect(sha(await readCaFile(f('default.p12'), { password: 's3cret' }))).toEqual(sha(printed));
  });

  it('asks for a password when none is given, and says when it is wrong', async () => {
    for (const name of ['default.p12', 'legacy.p12']) {
      const missing = await refusal(readCaFile(f(name)));
      expect(missing.kind, name).toBe('password-required');
      expect(missing.message).toMatch(/password-protected PKCS#12 file: give its password/);
      const wrong = await refusal(readCaFile(f(name), { password: 'nope' }));
      expect(wrong.kind, name).toBe('bad-password');
      expect(wrong.message).toMatch(/wrong password/);
    }
  });

  it('refuses a server leaf in a PKCS#12 bundle, naming it', async () => {
    const file = await readCaFile(f('leaf.p12'), { password: 's3cret' });
    expect(sha(file)).toEqual([fp.leaf, fp.int]);
    const err = await refusal(() => checkCas([file], { now: NOW, force: true }));
    expect(err.kind).toBe('not-a-ca');
    expect(err.message).toContain('"server.test"');
    expect(err.message).not.toContain('Test Intermediate CA" (SHA-256');
  });
});

describe('refusals while reading', () => {
  it('refuses garbage, text, empty and blank files, and files over 16 MiB', async () => {
    for (const name of ['random.bin', 'random2.bin', 'notes.txt', 'huge.pem']) {
      expect((await refusal(readCaFile(f(name)))).kind, name).toBe('garbage');
    }
    for (const name of ['empty.pem', 'blank.pem']) {
      expect((await refusal(readCaFile(f(name)))).kind, name).toBe('empty');
    }
  });

  it('refuses a directory and a missing file as unreadable', async () => {
    const d = await refusal(readCaFile(f('adir')));
    expect(d.kind).toBe('unreadable');
    expect(d.message).toMatch(/is a directory/);
    const m = await refusal(readCaFile(f('missing.pem')));
    expect(m.kind).toBe('unreadable');
    expect(m.message).toBe(`${f('missing.pem')}: cannot read it (no such file).`);
  });
});

describe('checkCas', () => {
  it('refuses a server leaf, naming it with its issuer, SHA-256 and the fix', async () => {
    const file = await readCaFile(f('leaf.pem'));
    const err = await refusal(() => checkCas([file], { now: NOW, force: false }));
    expect(err.kind).toBe('not-a-ca');
    const colon = fp.leaf!.toUpperCase().match(/../g)!.join(':');
    expect(err.message).toContain(`${f('leaf.pem')}: "server.test" (SHA-256 ${colon}) is a server certificate for server.test, www.server.test issued by "Test Intermediate CA"`);
    expect(err.message).toContain('give the CA certificate instead (the last certificate of a chain file, or ask your IT team)');
  });

  it('refuses a whole set when any certificate is unacceptable, naming each one', async () => {
    const good = await readCaFile(f('root.pem'));
    writeFileSync(f('chain.pem'), read('leaf.pem').toString() + read('int.pem').toString());
    const chain = await readCaFile(f('chain.pem'));
    const expired = await readCaFile(f('expired.pem'));
    const err = await refusal(() => checkCas([good, chain, expired], { now: NOW, force: false }));
    expect(err.kind).toBe('not-a-ca');
    expect(err.message).toMatch(/2 problems/);
    expect(err.message).toContain('"server.test"');
    expect(err.message).toContain('"Test expired CA"');
    expect(err.message).not.toContain('"Test RSA Root CA"');
  });

  it('accepts a self-signed server certificate, with a note', async () => {
    const file = await readCaFile(f('selfleaf.pem'));
    expect(file.notes.join('\n')).toMatch(/self-signed server certificate, not a CA/);
    expect(checkCas([file], { now: NOW, force: false }).map((c) => c.sha256)).toEqual([fp.selfleaf]);
  });

  it('refuses an expired CA unless forced, and one not yet valid', async () => {
    const file = await readCaFile(f('expired.pem'));
    const err = await refusal(() => checkCas([file], { now: NOW, force: false }));
    expect(err.kind).toBe('expired');
    expect(err.message).toMatch(/"Test expired CA" \(SHA-256 [0-9A-F:]{95}\) expired on 2021-01-01 00:00:00 UTC; .*--force installs it anyway/);
    expect(checkCas([file], { now: NOW, force: true })).toHaveLength(1);
    const future = await readCaFile(f('future.pem'));
    expect((await refusal(() => checkCas([future], { now: NOW, force: false }))).kind).toBe('not-yet-valid');
    expect(checkCas([future], { now: NOW, force: true })).toHaveLength(1);
  });

  it('counts a certificate present in two files once', async () => {
    const files = [await readCaFile(f('bundle.pem')), await readCaFile(f('root.der')), await readCaFile(f('nopass.p12'))];
    expect(checkCas(files, { now: NOW, force: false }).map((c) => c.sha256)).toEqual([fp.root, fp.int]);
  });

  it('notes a CA Go cannot parse (negative serial)', async () => {
    const file = await readCaFile(f('negative.pem'));
    expect(file.notes.join('\n')).toMatch(/Go \(Ollama\) cannot parse "Negative Serial CA" \(x509: negative serial number\).*GODEBUG=x509negativeserial=1/);
    // Go would drop it: refused with the reason unless --force (or the GODEBUG that makes Go accept it).
    const err = await refusal(() => checkCas([file], { now: NOW, force: false }));
    expect(err.kind).toBe('go-unparsable');
    expect(err.message).toMatch(/"Negative Serial CA" .* cannot be parsed by Go \(Ollama\): x509: negative serial number.*--force installs it anyway/);
    expect(checkCas([file], { now: NOW, force: true })).toHaveLength(1);
    expect(checkCas([file], { now: NOW, force: false, godebug: { negativeSerial: true } })).toHaveLength(1);
  });

  it('loads node-forge in a reasonable time', () => {
    expect(forgeImportMs).toBeLessThan(5_000);
  });
});
