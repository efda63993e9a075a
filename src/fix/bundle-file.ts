// --bundle-out FILE: the OS roots plus the CA as one PEM file, for SSL_CERT_FILE (Ollama's Go
// reads it instead of the system bundles) when the system store cannot or should not change.
// The file is the user's own, on this machine, even when --root reads the roots from a tree.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadOsRoots } from '../trust/stores.js';
import type { Certificate } from '../x509/certificate.js';
import { certificatesFromPem } from '../x509/load.js';
import { writableHostDir, type TrustContext } from './context.js';
import { caLabel, hasBlock, type CaRef, type Check, type Plan, type Step, type TrustTarget } from './plan.js';

function readHost(file: string): string | undefined {
  try {
    return readFileSync(file, 'latin1');
  } catch {
    return undefined;
  }
}

export function bundleTarget(file: string): TrustTarget {
  const out = path.resolve(file);
  return {
    id: 'bundle',
    detect: () => ({ applies: true, why: `--bundle-out ${file}` }),
    plan: (ctx, cas) => planBundle(ctx, out, cas),
    planUndo(ctx, refs: CaRef[]) {
      const text = readHost(out);
      const steps: Step[] = [];
      const unchanged: string[] = [];
      for (const ref of refs) {
        if (text !== undefined && hasBlock(text, ref.sha256)) steps.push({ kind: 'strip-block', path: out, fingerprint: ref.sha256, why: 'take the CA out of the bundle' });
        else unchanged.push(`${ref.cert ? `"${caLabel(ref.cert)}"` : ref.sha256.slice(0, 16)} is not in ${out} as ollama-tls added it; nothing to remove`);
      }
      return bundlePlan(ctx, out, 'untrust', steps, unchanged, []);
    },
    async verify(_ctx, refs, action): Promise<Check[]> {
      const have = new Set(certificatesFromPem(readHost(out) ?? '').certificates.map((c) => c.sha256));
      return refs.map((r) => {
        const name = r.cert ? caLabel(r.cert) : r.sha256.slice(0, 16);
        return action === 'trust'
          ? { ok: have.has(r.sha256), what: `"${name}" ${have.has(r.sha256) ? 'is' : 'is not'} in ${out} (${have.size} certificates)` }
          : { ok: !have.has(r.sha256), what: `"${name}" ${have.has(r.sha256) ? 'is still' : 'is no longer'} in ${out}` };
      });
    },
  };
}

/** The trust plan: the OS roots are read now, at planning time, and written as they were seen. */
async function planBundle(ctx: TrustContext, out: string, cas: Certificate[]): Promise<Plan> {
  const existing = readHost(out);
  const steps: Step[] = [];
  const unchanged: string[] = [];
  const notes: string[] = [];
  if (existing === undefined) {
    const os = await loadOsRoots(ctx.fs, ctx.env, ctx.platform);
    const sources = os.sources.filter((s) => s.status === 'loaded').map((s) => s.path).join(', ');
    const body = os.certificates.map((c) => c.toPem()).join('');
    steps.push({ kind: 'write', path: out, content: `# The OS roots (${os.certificates.length}, from ${sources || 'nowhere'}), then the CAs ollama-tls adds.\n${body}`, mode: 0o644, why: `start from the ${os.certificates.length} roots of the OS store` });
    if (os.certificates.length === 0) notes.push('No OS roots were found: the bundle will hold only the CAs given, so nothing public is trusted through it.');
  } else {
    notes.push(`${out} exists: the CAs are added to what it holds.`);
  }
  const have = new Set(certificatesFromPem(existing ?? '').certificates.map((c) => c.sha256));
  for (const ca of cas) {
    if (have.has(ca.sha256)) {
      unchanged.push(`"${caLabel(ca)}" is already in ${out}`);
      continue;
    }
    steps.push({ kind: 'append-block', path: out, fingerprint: ca.sha256, pem: ca.toPem(), label: caLabel(ca), why: `add "${caLabel(ca)}"` });
  }
  return bundlePlan(ctx, out, 'trust', steps, unchanged, notes);
}

function bundlePlan(_ctx: TrustContext, out: string, action: 'trust' | 'untrust', steps: Step[], unchanged: string[], notes: string[]): Plan {
  return {
    target: 'bundle', action, root: '/', title: `CA bundle file ${out}`, steps, unchanged, notes,
    needsPrivilege: !writableHostDir(path.dirname(out)),
    readers: `whatever you point at it: SSL_CERT_FILE=${out} for Ollama (Go), curl and Python; NODE_EXTRA_CA_CERTS=${out} for Node`,
  };
}
