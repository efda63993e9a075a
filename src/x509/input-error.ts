// Why a user's certificate file (--ca, --cert, --pkcs12, --roots, inspect, verify) cannot be read.
// The message names the file and says what to do; `kind` lets callers choose an exit path.
import { InputError } from '../platform/input-error.js';

export type CertificateInputErrorKind =
  | 'unreadable' | 'empty' | 'garbage' | 'key-only' | 'password-required' | 'bad-password' | 'unsupported';

export class CertificateInputError extends InputError {
  constructor(readonly kind: CertificateInputErrorKind, message: string) {
    super(message);
    this.name = 'CertificateInputError';
  }
}

/** A file with a private key and no certificate. */
export function keyOnly(path: string, what: string): CertificateInputError {
  return new CertificateInputError('key-only',
    `${path} holds only a private key (${what}), no certificate: give the CA certificate (a -----BEGIN CERTIFICATE----- block, .crt/.cer, .p7b or .p12). A CA's private key is never needed to trust it; keep it secret.`);
}
