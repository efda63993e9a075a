// Certificates minted inside a test: an interception CA with the name a product would give it,
// and leaves for public host names (which the fixture scenarios, all under .test, never use).
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { execFileSync } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

x509.cryptoProvider.set(webcrypto);

const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 } as const;

export interface TestCa {
  name: string;
  certPem: string;
  /** This CA and the CAs above it, as a server sends them after its leaf. */
  chainPem: string;
  keyPem: string;
  cert: x509.X509Certificate;
  keys: webcrypto.CryptoKeyPair;
}

export interface TestLeaf {
  /** Leaf then the CA, as a server sends it. */
  chainPem: string;
  keyPem: string;
}

function pem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

function serial(): string {
  // Positive, 16 random bytes.
  return '01' + Buffer.from(webcrypto.getRandomValues(new Uint8Array(15))).toString('hex');
}

/** A self-signed RSA root, `CN=<name>, O=<org>`, valid from yesterday for ten years. */
/**
 * A CA, `CN=<name>, O=<org>`, valid from yesterday for ten years: self-signed, or an intermediate
 * when `issuer` is given (its chainPem is then the intermediate followed by the issuer's chain).
 */
export async function makeCa(name: string, org = name, opts: { negativeSerial?: boolean; issuer?: TestCa } = {}): Promise<TestCa> {
  if (opts.negativeSerial) return negativeSerialCa(name, org);
  const keys = (await webcrypto.subtle.generateKey(RSA, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const notBefore = new Date(Date.now() - 86_400_000);
  const common = {
    serialNumber: serial(),
    notBefore,
    notAfter: new Date(notBefore.getTime() + 10 * 365 * 86_400_000),
    signingAlgorithm: RSA,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ...(opts.issuer ? [await x509.AuthorityKeyIdentifierExtension.create(opts.issuer.cert)] : []),
    ],
  };
  const cert = opts.issuer
    ? await x509.X509CertificateGenerator.create({
      ...common, subject: `CN=${name}, O=${org}`, issuer: opts.issuer.cert.subjectName, publicKey: keys.publicKey, signingKey: opts.issuer.keys.privateKey,
    })
    : await x509.X509CertificateGenerator.createSelfSigned({ ...common, name: `CN=${name}, O=${org}`, keys });
  const certPem = cert.toString('pem') + '\n';
  return {
    name, cert, keys, certPem,
    chainPem: certPem + (opts.issuer?.chainPem ?? ''),
    keyPem: pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)),
  };
}

/**
 * A root whose serial number is negative, as tools built on node-forge mint half the time.
 * @peculiar/x509 always encodes a positive serial, so OpenSSL writes this one.
 */
async function negativeSerialCa(name: string, org: string): Promise<TestCa> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ollama-tls-negca-'));
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  const negative = '-0x' + Buffer.from(webcrypto.getRandomValues(new Uint8Array(15))).toString('hex');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '3650',
    '-subj', `/O=${org}/CN=${name}`, '-set_serial', negative, '-sha256',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ], { stdio: 'ignore' });
  const certPem = readFileSync(certFile, 'utf8');
  const keyPem = readFileSync(keyFile, 'utf8');
  const der = Buffer.from(keyPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  const privateKey = await webcrypto.subtle.importKey('pkcs8', der, RSA, true, ['sign']);
  const cert = new x509.X509Certificate(certPem);
  const publicKey = await cert.publicKey.export(RSA, ['verify']);
  return { name, cert, keys: { privateKey, publicKey }, certPem, chainPem: certPem, keyPem };
}

/**
 * A server leaf for `hosts` (DNS names), issued by `ca`; chainPem is the leaf and the CA's chain.
 * `issuedHoursAgo` makes it look freshly minted, as an intercepting proxy's leaves are (or, past
 * its 90 days, expired). `eku` replaces serverAuth (OIDs, e.g. x509.ExtendedKeyUsage.clientAuth for
 * a client certificate); `key: 'ec'` gives it a P-256 key; `aiaCaIssuers` is the URL it names
 * for its issuer's certificate (AIA caIssuers), as public and enterprise CAs write it.
 */
export async function issueLeaf(
  ca: TestCa, hosts: string[], opts: { issuedHoursAgo?: number; eku?: string[]; key?: 'rsa' | 'ec'; aiaCaIssuers?: string } = {},
): Promise<TestLeaf> {
  const keys = (opts.key === 'ec'
    ? await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])
    : await webcrypto.subtle.generateKey(RSA, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const notBefore = new Date(Date.now() - (opts.issuedHoursAgo ?? 30 * 24) * 3_600_000);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${hosts[0]}`,
    // The CA's own encoding of its name: Go links certificates by comparing names byte for byte.
    issuer: ca.cert.subjectName,
    notBefore,
    notAfter: new Date(notBefore.getTime() + 90 * 86_400_000),
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm: RSA,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | (opts.key === 'ec' ? 0 : x509.KeyUsageFlags.keyEncipherment), true),
      new x509.ExtendedKeyUsageExtension(opts.eku ?? [x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(hosts.map((h) => ({ type: 'dns' as const, value: h }))),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
      ...(opts.aiaCaIssuers ? [new x509.AuthorityInfoAccessExtension({ caIssuers: new x509.GeneralName('url', opts.aiaCaIssuers) })] : []),
    ],
  });
  return { chainPem: cert.toString('pem') + '\n' + ca.chainPem, keyPem: pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)) };
}

/** Writes a leaf as a server reads it: the chain to `certFile`, the key (owner-only) to `keyFile`. */
export function writeLeaf(leaf: TestLeaf, certFile: string, keyFile: string): void {
  writeFileSync(certFile, leaf.chainPem);
  writeFileSync(keyFile, leaf.keyPem, { mode: 0o600 });
}
