// `trust --image SRC --output DST`: a container image (docker save tarball, OCI layout or OCI
// archive) gets one layer holding the CA, the merged bundle and the hash link, written without a
// Docker daemon (src/fix/image). The plan comes from reading the image; applying writes DST.
import path from 'node:path';
import type { Certificate } from '../x509/certificate.js';
import { writableHostDir } from './context.js';
import type { ImageAnalysis } from './image/index.js';
import { caLabel, PlanError, type CaRef, type Check, type Plan, type Step, type TrustTarget } from './plan.js';

function describe(a: ImageAnalysis): string[] {
  return a.images.map((i) => {
    const where = i.bundle ? `bundle ${i.bundle}${i.bundleNamed && i.bundleNamed !== i.bundle ? ` (as ${i.bundleNamed})` : ''}, ${i.bundleCertificates} certificates` : 'no CA bundle';
    return `${i.ref ?? i.imageId.slice(0, 19)}${i.platform ? ` [${i.platform}]` : ''}: ${i.osName ?? i.family}, ${where}`;
  });
}

export function imageTarget(src: string, dst: string | undefined, onProgress?: (done: number, total: number) => void): TrustTarget {
  const from = path.resolve(src);
  const to = path.resolve(dst ?? src);
  // The plan's reading of SRC: apply reuses it (image/index.ts analysisOf), and verify reads back
  // only the layers of DST that it does not already know by digest.
  let planned: ImageAnalysis | undefined;
  const analyse = async (cas?: Certificate[]): Promise<ImageAnalysis> => {
    const { analyseImage } = await import('./image/index.js');
    try {
      return (planned = await analyseImage(from, { ...(cas ? { cas } : {}), ...(onProgress ? { onProgress } : {}) }));
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'ENOENT' || err.code === 'EACCES' || err.code === 'EISDIR') throw new PlanError(`--image ${src}: ${err.message}`);
      throw new PlanError(`--image ${src}: ${err.message}`);
    }
  };
  const planOf = (action: 'trust' | 'untrust', a: ImageAnalysis, steps: Step[], unchanged: string[], notes: string[]): Plan => ({
    target: 'image', action, root: '/',
    title: `image ${from}${to !== from ? ` -> ${to}` : ' (in place)'} (${a.format}, ${a.images.length} image${a.images.length === 1 ? '' : 's'})`,
    steps, unchanged,
    notes: [...describe(a), ...a.notes, ...a.skipped.map((s) => `left as it is: ${JSON.stringify(s)}`), ...notes],
    needsPrivilege: !writableHostDir(path.dirname(to)),
    readers: 'containers started from the written image; load it with docker load / skopeo copy',
  });
  return {
    id: 'image',
    detect: () => ({ applies: true, why: `--image ${src}` }),
    async plan(_ctx, cas) {
      const a = await analyse(cas);
      const add = a.images.flatMap((i) => i.plan?.add ?? []);
      const files = [...new Set(a.images.flatMap((i) => i.plan?.files ?? []))];
      const already = a.images.every((i) => (i.plan?.add.length ?? 0) === 0);
      const steps: Step[] = already && to === from ? [] : [{
        kind: 'image', src: from, dst: to, action: 'trust', pems: cas.map((c) => c.toPem()), fingerprints: cas.map((c) => c.sha256),
        why: `add one layer with ${files.join(', ')}${add.length ? '' : ' (the CAs are already in it: copied as it is)'}`,
      }];
      return planOf('trust', a, steps, already ? cas.map((c) => `"${caLabel(c)}" is already in every image`) : [], a.images.flatMap((i) => i.plan?.notes ?? []));
    },
    async planUndo(_ctx, refs: CaRef[]) {
      const a = await analyse();
      const ours = a.images.some((i) => refs.some((r) => i.hasCas.includes(r.sha256)));
      const steps: Step[] = ours || to !== from ? [{
        kind: 'image', src: from, dst: to, action: 'untrust', pems: [], fingerprints: refs.map((r) => r.sha256),
        why: ours ? 'take the CAs out of ollama-tls\'s layer (the layer goes when it holds no other CA)' : 'copy it as it is: ollama-tls added none of these CAs',
      }] : [];
      return planOf('untrust', a, steps, ours ? [] : ['ollama-tls added none of these CAs to this image'], []);
    },
    async verify(_ctx, refs, action): Promise<Check[]> {
      const { analyseImage } = await import('./image/index.js');
      const a = await analyseImage(to, { layersFrom: planned });
      const checks: Check[] = [];
      for (const i of a.images) {
        for (const r of refs) {
          const has = i.hasCas.includes(r.sha256);
          const name = `${i.ref ?? i.imageId.slice(0, 19)}${i.platform ? ` [${i.platform}]` : ''}`;
          checks.push(action === 'trust'
            ? { ok: has, what: `${name}: ${has ? 'holds' : 'lacks'} ${r.cert ? `"${caLabel(r.cert)}"` : r.sha256.slice(0, 16)} (bundle ${i.bundle ?? 'none'})` }
            : { ok: !has, what: `${name}: ${has ? 'still holds' : 'no longer holds'} ${r.sha256.slice(0, 16)}` });
        }
      }
      return checks;
    },
  };
}
