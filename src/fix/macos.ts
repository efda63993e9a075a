// macOS: Go (and so Ollama) asks the system's trust evaluation, which reads the keychains and
// their trust settings. With administrator rights the CA goes into the System keychain (every
// user, and launchd services); otherwise into the user's login keychain (the Ollama app runs as
// the user, so that is enough for it). A copy of the CA is kept beside, because removing trust
// settings needs the certificate file, and untrust --fingerprint must work without one.
// Commands as in mkcert's truststore_darwin.go and `man security`.
import path from 'node:path';
import type { Certificate } from '../x509/certificate.js';
import type { TrustContext } from './context.js';
import { caLabel, fileStem, readCopy, type CaRef, type Check, type Plan, type Step, type TrustTarget } from './plan.js';

const SECURITY = '/usr/bin/security';
const SYSTEM_KEYCHAIN = '/Library/Keychains/System.keychain';

interface Where {
  keychain: string;
  /** Trust settings domain flag: -d is the admin domain. */
  domain: string[];
  copies: string;
  machine: boolean;
}

function where(ctx: TrustContext): Where {
  return ctx.scope === 'machine'
    ? { keychain: SYSTEM_KEYCHAIN, domain: ['-d'], copies: '/Library/Application Support/ollama-tls', machine: true }
    : { keychain: path.posix.join(ctx.home, 'Library/Keychains/login.keychain-db'), domain: [], copies: path.posix.join(ctx.home, 'Library/Application Support/ollama-tls'), machine: false };
}

const copyPath = (w: Where, sha256: string) => `${w.copies}/${fileStem(sha256)}.pem`;

function plan(ctx: TrustContext, action: 'trust' | 'untrust', steps: Step[], unchanged: string[]): Plan {
  const w = where(ctx);
  return {
    target: 'macos', action, root: ctx.root,
    title: w.machine ? `macOS System keychain (${SYSTEM_KEYCHAIN}), trusted for every user` : `macOS login keychain (${w.keychain}), trusted for ${path.posix.basename(ctx.home)}`,
    steps, unchanged,
    needsPrivilege: w.machine && !ctx.privileged,
    readers: 'Ollama (Go asks the system), Safari, Chrome, curl (Apple\'s), Python with truststore',
    notes: w.machine ? [] : ['Only this user trusts it; `--scope machine` (as an administrator) puts it in the System keychain for every user and for services.'],
  };
}

export const macos: TrustTarget = {
  id: 'macos',
  detect: (ctx) => (ctx.platform === 'darwin' ? { applies: true, why: 'macOS keychains' } : { applies: false, why: 'not macOS' }),
  plan(ctx, cas: Certificate[]) {
    const w = where(ctx);
    const steps: Step[] = [];
    const unchanged: string[] = [];
    for (const ca of cas) {
      const copy = copyPath(w, ca.sha256);
      if (ctx.fs.exists(copy)) {
        unchanged.push(`"${caLabel(ca)}" was already trusted by ollama-tls (${copy})`);
        continue;
      }
      steps.push(
        { kind: 'write', path: copy, content: ca.toPem(), mode: 0o644, why: 'a copy, for untrust' },
        { kind: 'run', argv: [SECURITY, 'add-trusted-cert', ...w.domain, '-r', 'trustRoot', '-k', w.keychain, copy], why: `trust "${caLabel(ca)}" for TLS` },
      );
    }
    return plan(ctx, 'trust', steps, unchanged);
  },
  planUndo(ctx, refs: CaRef[]) {
    const w = where(ctx);
    const steps: Step[] = [];
    const unchanged: string[] = [];
    for (const ref of refs) {
      const copy = copyPath(w, ref.sha256);
      const cert = ref.cert ?? readCopy(ctx.fs, copy, ref.sha256);
      if (!ctx.fs.exists(copy) && !cert) {
        unchanged.push(`${ref.sha256.slice(0, 16)} was not trusted by ollama-tls in this keychain; nothing to remove`);
        continue;
      }
      const sha1 = cert?.digest('sha1');
      steps.push({ kind: 'run', argv: [SECURITY, 'remove-trusted-cert', ...w.domain, copy], why: 'remove its trust settings' });
      if (sha1) steps.push({ kind: 'run', argv: [SECURITY, 'delete-certificate', '-Z', sha1.toUpperCase(), w.keychain], why: 'remove the certificate from the keychain' });
      steps.push({ kind: 'remove', path: copy, why: 'the copy ollama-tls kept' });
    }
    return plan(ctx, 'untrust', steps, unchanged);
  },
  async verify(ctx, refs, action): Promise<Check[]> {
    const { execFile } = await import('node:child_process');
    const w = where(ctx);
    const found = await new Promise<string>((resolve) => {
      execFile(SECURITY, ['find-certificate', '-a', '-Z', w.keychain], { maxBuffer: 64 << 20 }, (_e, out) => resolve(String(out ?? '')));
    });
    return refs.map((ref) => {
      const sha1 = ref.cert?.digest('sha1').toUpperCase();
      const present = sha1 ? found.includes(sha1) : false;
      const name = ref.cert ? caLabel(ref.cert) : ref.sha256.slice(0, 16);
      return action === 'trust'
        ? { ok: present, what: `"${name}" ${present ? 'is' : 'is not'} in ${w.keychain}` }
        : { ok: !present, what: `"${name}" ${present ? 'is still' : 'is no longer'} in ${w.keychain}` };
    });
  },
};
