// Windows: Go asks CryptoAPI, which builds chains from the Root store of the user running the
// program and of the machine. The Ollama app runs as the user, so the user's store is enough for
// it; a service running as SYSTEM (or another user) only sees the machine store, which needs an
// elevated prompt. certutil ships with Windows; the CA is also kept as a file beside, for untrust.
// Also used from WSL (wsl-windows), where certutil.exe is reached through the Windows drive.
import type { Certificate } from '../x509/certificate.js';
import type { TrustContext } from './context.js';
import { caLabel, fileStem, readCopy, type CaRef, type Check, type Plan, type Step, type TargetId, type TrustTarget } from './plan.js';

export interface WindowsPaths {
  /** certutil as this process runs it. */
  certutil: string;
  /** The kept copy of a CA file, as this process writes it... */
  copy(name: string): string;
  /** ...and as certutil reads it. */
  copyForCertutil(name: string): string;
}

function windowsPaths(ctx: TrustContext): WindowsPaths {
  const systemRoot = ctx.env.SystemRoot ?? 'C:\\Windows';
  const base = ctx.scope === 'machine' ? (ctx.env.ProgramData ?? 'C:\\ProgramData') : (ctx.env.LOCALAPPDATA ?? `${ctx.home}\\AppData\\Local`);
  const copy = (name: string) => `${base}\\ollama-tls\\${name}`;
  return { certutil: `${systemRoot}\\System32\\certutil.exe`, copy, copyForCertutil: copy };
}

const storeArgs = (ctx: TrustContext) => (ctx.scope === 'machine' ? [] : ['-user']);

export function windowsTarget(id: TargetId, paths: (ctx: TrustContext) => WindowsPaths, applies: (ctx: TrustContext) => { applies: boolean; why: string }, extraNotes: (ctx: TrustContext) => string[] = () => []): TrustTarget {
  const planOf = (ctx: TrustContext, action: 'trust' | 'untrust', steps: Step[], unchanged: string[]): Plan => {
    const machine = ctx.scope === 'machine';
    return {
      target: id, action, root: ctx.root,
      title: machine ? 'Windows machine Root store (Local Computer > Trusted Root Certification Authorities)' : 'Windows user Root store (Current User > Trusted Root Certification Authorities)',
      steps, unchanged,
      // certutil -addstore Root needs an elevated prompt; the user store asks the user in a dialog.
      needsPrivilege: machine && !(ctx.platform === 'win32' && ctx.privileged),
      readers: 'Ollama for Windows (Go asks CryptoAPI), Edge, Chrome, curl.exe (Schannel), PowerShell',
      notes: [
        ...(machine ? [] : ['Windows shows a security dialog to confirm a user-store root. An Ollama service running as SYSTEM needs `--scope machine` from an elevated prompt.']),
        ...extraNotes(ctx),
      ],
    };
  };
  return {
    id,
    detect: applies,
    plan(ctx, cas: Certificate[]) {
      const p = paths(ctx);
      const steps: Step[] = [];
      const unchanged: string[] = [];
      for (const ca of cas) {
        const name = `${fileStem(ca.sha256)}.crt`;
        const copy = p.copy(name);
        if (ctx.fs.exists(copy)) {
          unchanged.push(`"${caLabel(ca)}" was already trusted by ollama-tls (${copy})`);
          continue;
        }
        steps.push(
          { kind: 'write', path: copy, content: ca.toPem(), mode: 0o644, why: 'a copy, for certutil and for untrust' },
          { kind: 'run', argv: [p.certutil, ...storeArgs(ctx), '-addstore', '-f', 'Root', p.copyForCertutil(name)], why: `add "${caLabel(ca)}" to the Root store` },
        );
      }
      return planOf(ctx, 'trust', steps, unchanged);
    },
    planUndo(ctx, refs: CaRef[]) {
      const p = paths(ctx);
      const steps: Step[] = [];
      const unchanged: string[] = [];
      for (const ref of refs) {
        const copy = p.copy(`${fileStem(ref.sha256)}.crt`);
        const cert = ref.cert ?? readCopy(ctx.fs, copy, ref.sha256);
        if (!cert) {
          unchanged.push(`${ref.sha256.slice(0, 16)} was not trusted by ollama-tls here (no ${copy}); give the CA file (--ca) to remove it anyway`);
          continue;
        }
        steps.push({ kind: 'run', argv: [p.certutil, ...storeArgs(ctx), '-delstore', 'Root', cert.digest('sha1')], why: `remove "${caLabel(cert)}" from the Root store` });
        if (ctx.fs.exists(copy)) steps.push({ kind: 'remove', path: copy, why: 'the copy ollama-tls kept' });
      }
      return planOf(ctx, 'untrust', steps, unchanged);
    },
    async verify(ctx, refs, action): Promise<Check[]> {
      const { execFile } = await import('node:child_process');
      const p = paths(ctx);
      const out: Check[] = [];
      for (const ref of refs) {
        if (!ref.cert) continue;
        const present = await new Promise<boolean>((resolve) => {
          execFile(p.certutil, [...storeArgs(ctx), '-store', 'Root', ref.cert!.digest('sha1')], (e) => resolve(!e));
        });
        const name = caLabel(ref.cert);
        out.push(action === 'trust'
          ? { ok: present, what: `"${name}" ${present ? 'is' : 'is not'} in the ${ctx.scope} Root store` }
          : { ok: !present, what: `"${name}" ${present ? 'is still' : 'is no longer'} in the ${ctx.scope} Root store` });
      }
      return out;
    },
  };
}

export const windows: TrustTarget = windowsTarget('windows', windowsPaths, (ctx) =>
  ctx.platform === 'win32' ? { applies: true, why: `Windows ${ctx.scope} Root store` } : { applies: false, why: 'not Windows' });
