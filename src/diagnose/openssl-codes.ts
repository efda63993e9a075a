// The finding code of each OpenSSL verify error (X509_V_ERR_*): one table, read by the verdicts
// (verdict-codes.ts, from the emulation's error name) and by explain's wordings (catalogue.ts, from
// the names and texts programs print). Its own module, so that the doctor does not initialise
// explain's catalogue of wordings to look up one code.
import type { OpenSslErrorName } from '../trust/openssl-verify.js';
import type { FindingCode } from './finding.js';

/** What an OpenSSL verify error means, whoever prints it (Node, curl, Python, git, openssl). */
export const OPENSSL_CODES: Record<OpenSslErrorName, FindingCode> = {
  UNABLE_TO_GET_ISSUER_CERT: 'unknown-authority',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unknown-authority',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'missing-intermediate',
  SELF_SIGNED_CERT_IN_CHAIN: 'untrusted-root',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed-leaf',
  CERT_SIGNATURE_FAILURE: 'unknown-authority',
  CERT_NOT_YET_VALID: 'not-yet-valid',
  CERT_HAS_EXPIRED: 'expired',
  CERT_CHAIN_TOO_LONG: 'invalid-ca',
  INVALID_CA: 'invalid-ca',
  PATH_LENGTH_EXCEEDED: 'invalid-ca',
  KEYUSAGE_NO_CERTSIGN: 'invalid-ca',
  INVALID_PURPOSE: 'wrong-eku',
  UNHANDLED_CRITICAL_EXTENSION: 'unhandled-critical-extension',
  PERMITTED_VIOLATION: 'invalid-ca',
  EXCLUDED_VIOLATION: 'invalid-ca',
  HOSTNAME_MISMATCH: 'hostname-mismatch',
  // Whether the certificate has IP SANs at all is not in the message.
  IP_ADDRESS_MISMATCH: 'hostname-mismatch',
  EE_KEY_TOO_SMALL: 'weak-key',
  CA_KEY_TOO_SMALL: 'weak-key',
  CA_MD_TOO_WEAK: 'weak-signature',
  // Name-constraint machinery refusing a name or a constraint: the CA limits what it may sign.
  SUBTREE_MINMAX: 'invalid-ca',
  UNSUPPORTED_CONSTRAINT_TYPE: 'invalid-ca',
  UNSUPPORTED_CONSTRAINT_SYNTAX: 'invalid-ca',
  UNSUPPORTED_NAME_SYNTAX: 'invalid-ca',
  // What OpenSSL reports when verification stops on an internal refusal (an undecodable key,
  // the name-constraint work limit): no trusted path came out of it.
  UNSPECIFIED: 'unknown-authority',
  UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY: 'malformed-certificate',
  // check_curve: an EC key with explicit curve parameters must be reissued with a named curve.
  EC_KEY_EXPLICIT_PARAMS: 'weak-key',
};
