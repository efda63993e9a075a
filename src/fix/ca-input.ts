// The CA files `ollama-tls trust --ca FILE` accepts, and the rules that decide what may be
// installed: CAs and self-signed certificates, in their validity period, that Go can parse.
// Reading (PEM, DER, PKCS#7, PKCS#12, by content) is src/x509/files.ts, shared with doctor,
// inspect and verify; this module adds what trust needs on top: one copy of each certificate,
// the plan's notes, and the refusals.
import { CertificateInputError, readCertificateFile, certificateFileFromBytes, type CertificateFile } from '../x509/files.js';
import { formatName, type Certificate } from '../x509/certificate.js';
import { EKU } from '../x509/oids.js';
import { goParseErrors, type GoDebug } from '../trust/go-verify.js';
import { InputError } from '../platform/input-error.js';

export type CaInputErrorKind =
  | 'unreadable' | 'empty' | 'garbage' | 'key-only' | 'password-required' | 'bad-password'
  | 'not-a-ca' | 'expired' | 'not-yet-valid' | 'go-unparsable' | 'unsupported';

/** A CA file that cannot be used: the user's to fix (exit 2). */
export class CaInputError extends InputError {
  constructor(readonly kind: CaInputErrorKind, message: string) {
    super(message);
    this.name = 'CaInputError';
  }
}

export interface CaFile {
  /** As given. */
  path: string;
  format: CertificateFile['format'];
  /** In file order, duplicates removed. */
  certificates: Certificate[];
  /** The file also held a private key (any PEM key block, a PKCS#12 key bag): never copied. */
  keyIgnored: boolean;
  /** Plain-English remarks for the plan. */
  notes: string[];
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

export async function readCaFile(path: string, opts: { password?: string } = {}): Promise<CaFile> {
  return caFile(() => readCertificateFile(path, opts));
}

/** The same, for bytes already read (`path` names them in messages). */
export async function caFileFromBytes(path: string, bytes: Buffer, opts: { password?: string } = {}): Promise<CaFile> {
  return caFile(() => certificateFileFromBytes(path, bytes, opts));
}

async function caFile(read: () => Promise<CertificateFile>): Promise<CaFile> {
  let file: CertificateFile;
  try {
    file = await read();
  } catch (err) {
    if (err instanceof CertificateInputError) throw new CaInputError(err.kind, err.message);
    throw err;
  }
  return withNotes(file);
}

/** One copy of each certificate, and what the plan should say about the file. */
function withNotes(file: CertificateFile): CaFile {
  const path = file.path;
  const certificates: Certificate[] = [];
  const seen = new Set<string>();
  const notes = [...file.notes];
  let duplicates = 0;
  for (const { cert, trustAux } of file.entries) {
    if (seen.has(cert.sha256)) { duplicates++; continue; }
    seen.add(cert.sha256);
    certificates.push(cert);
    if (trustAux) {
      notes.push(`${path}: "${label(cert)}" is an OpenSSL TRUSTED CERTIFICATE; its OpenSSL-only trust settings are dropped and it is installed as a plain CA certificate.`);
    }
  }
  if (duplicates > 0) notes.push(`${path} lists the same certificate more than once; each is used once.`);
  if (file.keys.length > 0) {
    notes.push(`${path} also holds a private key; only the certificates are used (the key is never copied).`);
  }
  // How many certificates of the file bear each subject: "is its issuer here?" without a scan per certificate.
  const subjects = new Map<string, number>();
  for (const c of certificates) subjects.set(c.subjectRaw.toString('latin1'), (subjects.get(c.subjectRaw.toString('latin1')) ?? 0) + 1);
  const issuerHere = (cert: Certificate) => (subjects.get(cert.issuerRaw.toString('latin1')) ?? 0) - (cert.subjectRaw.equals(cert.issuerRaw) ? 1 : 0) > 0;
  for (const cert of certificates) {
    if (cert.isCA && !cert.selfSigned && !issuerHere(cert)) {
      notes.push(
        `${path} holds an intermediate CA "${label(cert)}" (issued by "${issuerLabel(cert)}") without its root: Go (Ollama) and curl accept it as a trust anchor, ` +
        'but Node.js, most Python tools and `openssl s_client` need its root too; add the root certificate if you have it.',
      );
    }
    // A self-signed v1 certificate (no extensions) is an old-style root; one that says cA:FALSE
    // or names servers is a server's own certificate.
    if (!cert.isCA && cert.selfSigned && (cert.basicConstraints || cert.san)) {
      notes.push(`${path}: "${label(cert)}" is a self-signed server certificate, not a CA: trusting it trusts that one certificate only (it must be renewed by hand when it changes).`);
    }
    if (cert.goParseErrors.length > 0) {
      const negative = cert.serialNegative ? ' (GODEBUG=x509negativeserial=1 makes Go accept a negative serial number)' : '';
      notes.push(`${path}: Go (Ollama) cannot parse "${label(cert)}" (${cert.goParseErrors.join('; ')}) and skips it without a word, so it will not help Ollama${negative}.`);
    }
  }
  return { path, format: file.format, certificates, keyIgnored: file.keys.length > 0, notes };
}

// ---------------------------------------------------------------------------------------------
// The CA rules
// ---------------------------------------------------------------------------------------------

/**
 * The CA certificates to install, de-duplicated across files (first occurrence wins). A file or
 * a set with any certificate that may not be installed is refused as a whole, naming each one.
 */
export function checkCas(files: CaFile[], opts: { now: Date; force: boolean; godebug?: GoDebug }): Certificate[] {
  const out = new Map<string, Certificate>();
  const problems: { kind: 'not-a-ca' | 'expired' | 'not-yet-valid' | 'go-unparsable'; text: string }[] = [];
  for (const file of files) {
    for (const cert of file.certificates) {
      const who = `${file.path}: "${label(cert)}" (SHA-256 ${colonHex(cert.sha256)})`;
      if (!cert.isCA && !cert.selfSigned) {
        problems.push({ kind: 'not-a-ca', text: `${who} is ${endEntityWords(cert)} issued by "${issuerLabel(cert)}", not a CA; give the CA certificate instead (the last certificate of a chain file, or ask your IT team).` });
        continue;
      }
      if (opts.now.getTime() > cert.notAfter.getTime()) {
        if (!opts.force) problems.push({ kind: 'expired', text: `${who} expired on ${day(cert.notAfter)}; get a current one from its owner (--force installs it anyway).` });
      } else if (opts.now.getTime() < cert.notBefore.getTime()) {
        if (!opts.force) problems.push({ kind: 'not-yet-valid', text: `${who} is not valid until ${day(cert.notBefore)} (check this computer's clock; --force installs it anyway).` });
      }
      // Go's AppendCertsFromPEM drops what its parser rejects: installed, the CA would do
      // nothing for Ollama. --force installs it anyway (for a GODEBUG setting the service has).
      const goErrors = goParseErrors(cert, opts.godebug);
      if (goErrors.length > 0 && !opts.force) {
        const negative = cert.serialNegative ? '; GODEBUG=x509negativeserial=1 in Ollama\'s environment makes Go accept a negative serial' : '';
        problems.push({ kind: 'go-unparsable', text: `${who} cannot be parsed by Go (Ollama): ${goErrors.join('; ')}. Go skips it without a word, so installing it would not help Ollama; get it reissued (--force installs it anyway${negative}).` });
      }
      if (!out.has(cert.sha256)) out.set(cert.sha256, cert);
    }
  }
  if (problems.length > 0) {
    const order = ['not-a-ca', 'expired', 'not-yet-valid', 'go-unparsable'] as const;
    const kind = order.find((k) => problems.some((p) => p.kind === k))!;
    const head = problems.length === 1 ? 'Refusing this CA input, nothing was changed:' : `Refusing this CA input (${problems.length} problems), nothing was changed:`;
    throw new CaInputError(kind, `${head}\n${problems.map((p) => `  - ${p.text}`).join('\n')}`);
  }
  return [...out.values()];
}

function label(cert: Certificate): string {
  return cert.commonName ?? (formatName(cert.subject) || `serial ${cert.serialHex}`);
}

function issuerLabel(cert: Certificate): string {
  const cn = cert.issuer.rdns.flat().find((a) => a.type === 'CN')?.value;
  return cn ?? (formatName(cert.issuer) || 'an empty name');
}

function endEntityWords(cert: Certificate): string {
  const names = [...(cert.san?.dns ?? []), ...(cert.san?.ip ?? [])];
  const server = names.length > 0 || cert.extKeyUsage?.includes(EKU.serverAuth);
  if (!server) return 'an end-entity certificate';
  const shown = names.length > 0 ? names.slice(0, 3).join(', ') + (names.length > 3 ? ` and ${names.length - 3} more` : '') : label(cert);
  return `a server certificate for ${shown}`;
}

const colonHex = (hex: string): string => hex.toUpperCase().match(/../g)!.join(':');
const day = (d: Date): string => d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
