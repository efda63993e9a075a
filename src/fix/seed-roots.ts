// One rule for putting a CA into a Linux tree, whatever the way in: when the bundle Go reads is
// absent or empty, it is first seeded with Mozilla's roots (the ones Node.js bundles,
// tls.rootCertificates), then the CA is appended; when it holds certificates, only the CA is
// added. Appending to a bundle that did not exist would leave one holding the CA alone, and Go
// (Ollama) would then trust no public root: the pull from the real registry would break.
//
// The two places it is implemented, kept to this one decision:
// - src/fix/ca-into-tree.ts, the edits for `trust --root` without the update tool (linux-native,
//   a distribution target's native mode) and `trust --image` alike: the bundle is first written
//   as seedBlock(), marked with what the file was, so that untrust gives back exactly that
//   (seededAs(): the file removed again, or emptied again; an image's untrust drops the layer);
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

// A seed written into a tree's own bundle (ca-into-tree.ts) is marked, with what the file was before,
// so untrust can give the tree back exactly. Go and OpenSSL skip the text between PEM blocks.
const SEED_HEAD = /^# ollama-tls seeded this bundle \(it was (absent|empty)\)[^\n]*\n/;
const SEED_END = '# ollama-tls end of seeded roots\n';

/** The marked seed for a bundle that was absent or empty: Mozilla's roots between two marker lines. */
export const seedBlock = (was: 'absent' | 'empty', roots?: Certificate[]): string =>
  `# ollama-tls seeded this bundle (it was ${was}) with Mozilla's roots, as Node.js bundles them\n${seedRootsPem(roots)}${SEED_END}`;

/** What a bundle was before seeding, when `text` is exactly one marked seed and nothing else; else undefined. */
export function seededAs(text: string): 'absent' | 'empty' | undefined {
  const head = SEED_HEAD.exec(text);
  if (!head || !text.endsWith(SEED_END)) return undefined;
  const body = text.slice(head[0].length, text.length - SEED_END.length);
  return body.includes('# ollama-tls') ? undefined : (head[1] as 'absent' | 'empty');
}
