// The client identity for mutual TLS: what the user gives (`--cert FILE --key FILE` or
// `--pkcs12 FILE --password PW`), read and checked before any connection.
//
// Keys are read by Node's own crypto (RSA, EC, Ed25519, encrypted PEM) and only ever handed to
// Node's TLS; PKCS#12 goes to Node's TLS as is (pfx + passphrase). The certificates inside a
// PKCS#12 (and in --cert) are read by the one certificate-file reader (src/x509/files.ts).
import { InputError } from '../platform/input-error.js';
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { InputFileError, readInputFile } from '../platform/input-file.js';
import * as tls from 'node:tls';
import { CertificateInputError, certificateFileFromBytes, type CertificateFile } from '../x509/files.js';
import { formatName, type Certificate } from '../x509/certificate.js';
import { certificateFromDer } from '../x509/load.js';
/** A mistake the user can fix (a missing file, a wrong password, a key that is not the certificate's). */
export class ClientCertError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = 'ClientCertError';
  }
}

export interface ClientIdentityInput {
  /** --cert: PEM (or DER) certificate, optionally followed by intermediates and the key. */
  cert?: string;
  /** --key: PEM (or DER) private key. */
  key?: string;
  /** --pkcs12: a .p12/.pfx file. */
  pkcs12?: string;
  /** --password: the PKCS#12 password, or the passphrase of an encrypted --key. */
  password?: string;
}

export interface ClientIdentity {
  /** Exactly what goes into tls.connect. */
  tls: Pick<tls.ConnectionOptions, 'cert' | 'key' | 'pfx' | 'passphrase'>;
  /** The certificate presented. */
  certificate: Certificate;
  /** The certificate and any intermediates sent with it, leaf first. */
  chain: Certificate[];
  /** For messages: "--cert client.pem" or "--pkcs12 client.p12". */
  source: string;
}
// ---------------------------------------------------------------------------------------------
// Loading the identity
// ---------------------------------------------------------------------------------------------

async function readInput(flag: string, path: string): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readInputFile(path, `${flag} ${path}`);
  } catch (err) {
    if (err instanceof InputFileError) throw new ClientCertError(err.message);
    throw err;
  }
  if (bytes.length === 0) throw new ClientCertError(`${flag} ${path}: the file is empty`);
  return bytes;
}

function describe(cert: Certificate): string {
  return formatName(cert.subject) || `serial ${cert.serialHex}`;
}

/** A private key from PEM (any of PKCS#8, PKCS#1, SEC1, encrypted) or DER; Node's crypto decides. */
function parseKey(flag: string, path: string, bytes: Buffer, password: string | undefined): KeyObject {
  const pem = bytes.toString('latin1').includes('-----BEGIN');
  const attempts: Parameters<typeof createPrivateKey>[0][] = pem
    ? [{ key: bytes, format: 'pem', ...(password !== undefined ? { passphrase: password } : {}) }]
    : [
      { key: bytes, format: 'der', type: 'pkcs8', ...(password !== undefined ? { passphrase: password } : {}) },
      { key: bytes, format: 'der', type: 'pkcs1' },
      { key: bytes, format: 'der', type: 'sec1' },
    ];
  let first: unknown;
  for (const options of attempts) {
    try {
      return createPrivateKey(options);
    } catch (err) {
      first ??= err;
    }
  }
  const e = first as NodeJS.ErrnoException;
  const text = `${e.code ?? ''} ${e.message}`;
  if (/MISSING_PASSPHRASE|passphrase required|interrupted or cancelled/i.test(text)) {
    throw new ClientCertError(`${flag} ${path}: the private key is encrypted; give its passphrase with --password`);
  }
  if (/bad decrypt|BAD_DECRYPT|decrypt error/i.test(text) && password !== undefined) {
    throw new ClientCertError(`${flag} ${path}: wrong --password for this private key (it does not decrypt)`);
  }
  throw new ClientCertError(`${flag} ${path}: no private key could be read from it (${e.message.replace(/^error:[0-9A-F]+:/, '')})`);
}

/** The first PEM private key block, armour included (its headers matter to an encrypted key). */
function armouredKey(text: string): string | undefined {
  // One BEGIN search, then one END search: a file of BEGIN lines without END stays linear.
  const m = /-----BEGIN ([A-Z0-9 ]*PRIVATE KEY)-----/.exec(text);
  if (!m) return undefined;
  const end = `-----END ${m[1]}-----`;
  const at = text.indexOf(end, m.index);
  return at < 0 ? undefined : text.slice(m.index, at + end.length);
}

/** The file's certificates in order, each once. */
function uniqueCertificates(file: CertificateFile): Certificate[] {
  const seen = new Set<string>();
  return file.entries.map((e) => e.cert).filter((c) => !seen.has(c.sha256) && Boolean(seen.add(c.sha256)));
}

async function loadPem(input: ClientIdentityInput): Promise<ClientIdentity> {
  const certPath = input.cert!;
  const certBytes = await readInput('--cert', certPath);
  let file: CertificateFile;
  try {
    file = await certificateFileFromBytes(certPath, certBytes);
  } catch (err) {
    if (!(err instanceof CertificateInputError)) throw err;
    if (err.kind === 'key-only') throw new ClientCertError(`--cert ${certPath}: it holds a private key but no certificate; give the certificate with --cert and the key with --key`);
    throw new ClientCertError(`--cert ${err.message}`);
  }
  const chain = uniqueCertificates(file);
  const leaf = chain[0]!;
  let key: KeyObject;
  let keyFrom: string;
  if (input.key) {
    key = parseKey('--key', input.key, await readInput('--key', input.key), input.password);
    keyFrom = `--key ${input.key}`;
  } else {
    // The whole armoured block: an old-style encrypted key keeps its cipher in PEM headers.
    const armoured = armouredKey(certBytes.toString('latin1'));
    if (!armoured) throw new ClientCertError(`--cert ${certPath} holds no private key: give it with --key FILE`);
    key = parseKey('--cert', certPath, Buffer.from(armoured, 'latin1'), input.password);
    keyFrom = `the key in ${certPath}`;
  }
  if (!new X509Certificate(leaf.der).checkPrivateKey(key)) {
    throw new ClientCertError(`${keyFrom} does not belong to the certificate in --cert ${certPath} (${describe(leaf)}): their public keys differ`);
  }
  return {
    tls: { cert: chain.map((c) => c.toPem()).join(''), key: key.export({ type: 'pkcs8', format: 'pem' }) },
    certificate: leaf,
    chain,
    source: `--cert ${certPath}`,
  };
}

async function loadPkcs12(input: ClientIdentityInput): Promise<ClientIdentity> {
  const path = input.pkcs12!;
  const bytes = await readInput('--pkcs12', path);
  let certs: Certificate[];
  try {
    const file = await certificateFileFromBytes(path, bytes, input.password !== undefined ? { password: input.password } : {});
    if (file.format !== 'pkcs12') {
      throw new ClientCertError(`--pkcs12 ${path}: this is a ${file.format.toUpperCase()} file, not PKCS#12; give it as --cert ${path} (with --key FILE)`);
    }
    certs = uniqueCertificates(file);
  } catch (err) {
    if (!(err instanceof CertificateInputError)) throw err;
    switch (err.kind) {
      case 'bad-password': throw new ClientCertError(`--pkcs12 ${path}: wrong --password (the file's integrity check fails with it)`);
      case 'password-required': throw new ClientCertError(`--pkcs12 ${path}: the file is password-protected; give its password with --password`);
      case 'key-only': throw new ClientCertError(`--pkcs12 ${path}: it holds a key but no certificate`);
      case 'empty': throw new ClientCertError(`--pkcs12 ${path}: it holds no certificate`);
      default: throw new ClientCertError(`--pkcs12 ${path}: ${err.message.replace(/^\S+ (is|holds) /, 'it $1 ')}`);
    }
  }
  const passphrase = input.password ?? '';
  let leafDer: Buffer | undefined;
  try {
    // Node loads the key and the certificate that goes with it exactly as it will for the connection.
    // No roots (`ca: []`): only whether OpenSSL can open the file is asked, and Node's default store costs ~17 ms to build.
    const context = tls.createSecureContext({ pfx: bytes, passphrase, ca: [] });
    const socket = new tls.TLSSocket(null as never, { secureContext: context });
    leafDer = (socket.getCertificate() as tls.PeerCertificate | null)?.raw;
    socket.destroy();
  } catch (err) {
    const text = `${(err as NodeJS.ErrnoException).code ?? ''} ${(err as Error).message}`;
    if (/mac verify/i.test(text)) throw new ClientCertError(`--pkcs12 ${path}: wrong --password (the file's integrity check fails with it)`);
    if (/private key/i.test(text)) throw new ClientCertError(`--pkcs12 ${path}: it holds no private key (only certificates); export it again with the key`);
    if (/unsupported/i.test(text)) {
      throw new ClientCertError(
        `--pkcs12 ${path}: it is encrypted with a legacy algorithm (RC2/RC4, older exports) that this Node.js's OpenSSL no longer loads; ` +
          `convert it: openssl pkcs12 -legacy -in ${path} -nodes -out client.pem, then use --cert client.pem`,
      );
    }
    throw new ClientCertError(`--pkcs12 ${path}: Node.js cannot use it (${(err as Error).message})`);
  }
  const leaf = (leafDer && certificateFromDer(Buffer.from(leafDer))) || certs.find((c) => !c.isCA) || certs[0];
  if (!leaf) throw new ClientCertError(`--pkcs12 ${path}: it holds no certificate`);
  const chain = [leaf, ...certs.filter((c) => !c.der.equals(leaf.der))];
  return { tls: { pfx: bytes, passphrase }, certificate: leaf, chain, source: `--pkcs12 ${path}` };
}

/** The client identity from the command line; throws ClientCertError on anything the user can fix. */
export async function loadClientIdentity(input: ClientIdentityInput): Promise<ClientIdentity> {
  if (input.pkcs12 && (input.cert || input.key)) throw new ClientCertError('--pkcs12 replaces --cert and --key: give one or the other');
  if (input.key && !input.cert) throw new ClientCertError('--key needs --cert FILE (the certificate that goes with the key)');
  if (input.pkcs12) return loadPkcs12(input);
  if (input.cert) return loadPem(input);
  throw new ClientCertError('--password goes with --pkcs12 FILE or an encrypted --key FILE');
}
