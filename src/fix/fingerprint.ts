// --fingerprint as users paste it (trust, untrust, doctor --fix): a module of its own, so that a
// run without --from-host does not load the doctor behind from-host.ts to read a flag.
import { InputError } from '../platform/input-error.js';

/** --fingerprint values, normalised; a malformed one is the user's to fix. */
export function parseFingerprints(list: string[] | undefined): string[] {
  return (list ?? []).map((f) => {
    const fp = normaliseFingerprint(f);
    if (!fp) throw new InputError(`--fingerprint "${f}": give the certificate's SHA-256 as 64 hex digits (colons allowed), as doctor prints it`);
    return fp;
  });
}

/** A SHA-256 fingerprint as users paste it (colons, spaces, any case) in the form the tool prints. */
export function normaliseFingerprint(text: string): string | undefined {
  const hex = text.replace(/^sha-?256[:= ]*/i, '').replace(/[\s:]/g, '').toLowerCase();
  return /^[0-9a-f]{64}$/.test(hex) ? hex : undefined;
}
