// Any Linux tree without its distribution's update tool (minimal images, distroless, a plain
// alpine): do what the tool would have done, by hand. Append the CA to the bundle Go reads first
// and to the one OpenSSL reads, and put it in the certificate directory with its OpenSSL
// subject-hash link, so Go, OpenSSL and curl all find it. Every change is marked or named from
// the CA's fingerprint, so untrust removes exactly it. A bundle that is absent or empty is first
// seeded with Mozilla's roots, marked with what the file was, so untrust removes it again or
// empties it again. The edits are ca-into-tree.ts's, the same rule `trust --image` uses; this
// module words them for a plan.
import type { OsRelease } from '../platform/os-release.js';
import type { RootFs } from '../platform/rootfs.js';
import type { Certificate } from '../x509/certificate.js';
import { caIntoTree, caOutOfTree } from './ca-into-tree.js';
import type { TrustContext } from './context.js';
import { linuxStoreChecks } from './linux-checks.js';
import type { CaRef, Plan, Step, TrustTarget } from './plan.js';

export interface StepSet {
  steps: Step[];
  unchanged: string[];
  notes: string[];
}

export function nativeTrustSteps(fs: RootFs, family: OsRelease['family'] | undefined, cas: Certificate[]): StepSet {
  const edits = caIntoTree(fs, { family }, cas);
  const notes = edits.seeded.map(({ file, was }) => `${file} is ${was} in this tree: it is seeded with Node.js ${process.version}'s Mozilla roots before the CAs, so Go keeps trusting public CAs.`);
  return { steps: edits.steps, unchanged: edits.unchanged, notes };
}

export function nativeUndoSteps(fs: RootFs, family: OsRelease['family'] | undefined, refs: CaRef[]): StepSet {
  return { ...caOutOfTree(fs, { family }, refs), notes: [] };
}

export const linuxNative: TrustTarget = {
  id: 'linux-native',
  detect: (ctx) =>
    ctx.platform === 'linux'
      ? { applies: true, why: `no distribution tool to run${ctx.release ? ` for ${ctx.release.prettyName}` : ''}: the bundle files and hash links are edited directly` }
      : { applies: false, why: 'not Linux' },
  plan(ctx: TrustContext, cas: Certificate[]): Plan {
    const set = nativeTrustSteps(ctx.fs, ctx.release?.family, cas);
    return planOf(ctx, 'trust', set);
  },
  planUndo(ctx: TrustContext, refs: CaRef[]): Plan {
    return planOf(ctx, 'untrust', nativeUndoSteps(ctx.fs, ctx.release?.family, refs));
  },
  verify: (ctx, refs, action) => linuxStoreChecks(ctx.root, refs, action === 'trust' ? 'present' : 'absent'),
};

function planOf(ctx: TrustContext, action: 'trust' | 'untrust', set: StepSet): Plan {
  const dirs = [...new Set(set.steps.map((s) => ('path' in s ? s.path.slice(0, s.path.lastIndexOf('/')) || '/' : '/')))];
  return {
    target: 'linux-native', action, root: ctx.root,
    title: `Linux CA bundle and certificate directory, edited directly${ctx.release ? ` (${ctx.release.prettyName})` : ''}`,
    steps: set.steps, unchanged: set.unchanged, notes: set.notes,
    needsPrivilege: dirs.some((d) => !ctx.canWrite(d)),
    readers: 'Ollama (Go), curl, wget, git, Python, OpenSSL',
  };
}
