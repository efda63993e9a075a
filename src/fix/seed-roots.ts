// One rule for putting a CA into a Linux tree, whatever the way in: when the bundle Go reads is
// absent or empty, it is first seeded with Mozilla's roots (the ones Node.js bundles,
// tls.rootCertificates), then the CA is appended; when it holds certificates, only the CA is
// added. Appending to a bundle that did not exist would leave one holding the CA alone, and Go
// (Ollama) would then trust no public root: the pull from the real registry would break.
//
// The two implementations, kept to this one decision:
// - src/fix/image/trust-files.ts (`trust --image`): the new layer's bundle starts from
//   seedRootsPem() when needsSeed() says so;
// - src/fix/dockerfile.ts (`trust --dockerfile`): the block COPYs ROOTS_FILE (seedRootsPem())
//   and its RUN runs seedShellTest(), the same test in sh, before appending the CA.
import tls from 'node:tls';
import type { Certificate } from '../x509/certificate.js';

/** The roots file a Dockerfile block COPYs from the build context (removed by untrust with the CA file). */
export const ROOTS_FILE = 'ollama-tls-roots.pem';

/** Mozilla's roots as PEM: Node's bundled ones, or the `roots` given (tests, --roots). */
export function seedRootsPem(roots?: Certificate[]): string {
  return roots ? roots.map((r) => r.toPem()).join('') : `${tls.rootCertificates.join('\n')}\n`;
}

/** Whether a bundle must be seeded first: it is absent (undefined) or empty, as sh's `[ -s FILE ]` is false. */
export const needsSeed = (bundle: string | Buffer | undefined): boolean => bundle === undefined || bundle.length === 0;

/** The same decision in sh: seed `bundle` from `rootsPath` unless it exists with content. */
export const seedShellTest = (bundle: string, rootsPath: string): string => `{ [ -s ${bundle} ] || cat ${rootsPath} > ${bundle}; }`;
