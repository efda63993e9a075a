// Java's cacerts on Debian: ca-certificates-java's hook (/etc/ca-certificates/update.d/jks-keystore)
// adds each CA update-ca-certificates reports, so a trust reaches Java too, and an untrust must
// take it out again. Read back from the keystore file itself.
import type { TrustContext } from './context.js';
import { readJks } from '../trust/jks.js';
import type { CaRef, Check } from './plan.js';

const HOOK = '/etc/ca-certificates/update.d/jks-keystore';
const CACERTS = '/etc/ssl/certs/java/cacerts';

/** The hook's in-tree path when it is installed (and may run here), else undefined. */
export const javaHook = (ctx: TrustContext): string | undefined => (ctx.hasTool(HOOK) ? HOOK : undefined);

/** Whether Java's cacerts holds each CA (or no longer does); nothing when the hook or the keystore is absent. */
export function javaChecks(ctx: TrustContext, refs: CaRef[], want: 'present' | 'absent'): Check[] {
  if (!javaHook(ctx)) return [];
  let shas: Set<string>;
  try {
    shas = new Set(readJks(ctx.fs.readFile(CACERTS)).flatMap((e) => (e.kind === 'trusted' ? e.sha256 : [])));
  } catch {
    return [];
  }
  return refs.map((ref) => {
    const name = ref.cert?.commonName ?? ref.sha256.slice(0, 16);
    const has = shas.has(ref.sha256);
    return want === 'present'
      ? { ok: has, what: has ? `Java finds "${name}" in ${CACERTS}` : `Java's ${CACERTS} does not hold "${name}" (${HOOK} did not add it)` }
      : { ok: !has, what: has ? `Java's ${CACERTS} still holds "${name}"` : `Java's ${CACERTS} no longer holds "${name}"` };
  });
}
