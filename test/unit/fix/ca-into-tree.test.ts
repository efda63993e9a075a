// One rule for a CA into a Linux tree (src/fix/ca-into-tree.ts): `trust --root` on a tree without
// the update tool (the distribution target's native mode, or linux-native) and `trust --image`
// must leave the same files in the same tree. Each input tree is copied twice: the host path
// plans and applies to one copy, the image path reads the other as one layer and its new layer is
// written over it; the two trees must then be equal entry for entry, with a bundle and without.
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyStep } from '../../../src/fix/apply.js';
import { trustContext } from '../../../src/fix/context.js';
import { locateTrust, trustFiles } from '../../../src/fix/image/trust-files.js';
import { chooseTargets } from '../../../src/fix/targets.js';
import { RootFs } from '../../../src/platform/rootfs.js';
import { certificatesFromPem } from '../../../src/x509/load.js';
import { viewOfDir, writeLayer } from '../../helpers/dir-image.js';
import { loadScenario, tempDir } from '../../helpers/servers.js';
import { debianTree, haveDebianTool, snapshot, snapshotDiff } from '../../helpers/trees.js';

const ca = certificatesFromPem(loadScenario('valid-rsa').caPem).certificates[0]!;
const hostBundle = '/etc/ssl/certs/ca-certificates.crt';

const osRelease = (root: string, text: string) => {
  mkdirSync(path.join(root, 'etc'), { recursive: true });
  writeFileSync(path.join(root, 'etc/os-release'), text);
};

/** Input trees: a name, how to make it, and the target the host path picks there. */
const trees: { name: string; make: () => string; target: string }[] = [
  {
    name: 'Alpine, its bundle at certs/ca-certificates.crt with cert.pem linked to it', target: 'alpine',
    make: () => {
      const root = tempDir('ollama-tls-alpine-');
      osRelease(root, 'ID=alpine\nPRETTY_NAME="Alpine Linux v3.20"\n');
      mkdirSync(path.join(root, 'etc/ssl/certs'), { recursive: true });
      writeFileSync(path.join(root, 'etc/ssl/certs/ca-certificates.crt'), readFileSync(hostBundle));
      symlinkSync('certs/ca-certificates.crt', path.join(root, 'etc/ssl/cert.pem'));
      return root;
    },
  },
  {
    name: 'Alpine without ca-certificates (no bundle at all)', target: 'alpine',
    make: () => {
      const root = tempDir('ollama-tls-alpine-bare-');
      osRelease(root, 'ID=alpine\nPRETTY_NAME="Alpine Linux v3.20"\n');
      mkdirSync(path.join(root, 'etc/ssl'), { recursive: true });
      return root;
    },
  },
  {
    name: 'Rocky, the bundle behind Fedora\'s symlink chain and /etc/ssl/certs an absolute link', target: 'rhel',
    make: () => {
      const root = tempDir('ollama-tls-rhel-');
      osRelease(root, 'ID="rocky"\nID_LIKE="rhel centos fedora"\nPRETTY_NAME="Rocky Linux 9.4"\n');
      for (const d of ['etc/pki/ca-trust/extracted/pem', 'etc/pki/ca-trust/source/anchors', 'etc/pki/tls/certs']) mkdirSync(path.join(root, d), { recursive: true });
      writeFileSync(path.join(root, 'etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem'), readFileSync(hostBundle));
      symlinkSync('../../ca-trust/extracted/pem/tls-ca-bundle.pem', path.join(root, 'etc/pki/tls/certs/ca-bundle.crt'));
      symlinkSync('/etc/pki/tls/certs', path.join(root, 'etc/ssl'));
      return root;
    },
  },
  {
    name: 'Rocky with an empty bundle', target: 'rhel',
    make: () => {
      const root = tempDir('ollama-tls-rhel-empty-');
      osRelease(root, 'ID="rocky"\nID_LIKE="rhel centos fedora"\nPRETTY_NAME="Rocky Linux 9.4"\n');
      mkdirSync(path.join(root, 'etc/pki/tls/certs'), { recursive: true });
      writeFileSync(path.join(root, 'etc/pki/tls/certs/ca-bundle.crt'), '');
      return root;
    },
  },
  {
    name: 'no os-release and no bundle (scratch, distroless static)', target: 'linux-native',
    make: () => tempDir('ollama-tls-scratch-'),
  },
  ...(haveDebianTool()
    ? [
      { name: 'Debian, the store built by Debian\'s update-ca-certificates, the tool then removed', target: 'debian', make: () => debianTree({ withTool: false }) },
      {
        name: 'Debian slim: no bundle', target: 'debian',
        make: () => {
          const root = debianTree({ withTool: false });
          rmSync(path.join(root, 'etc/ssl/certs'), { recursive: true });
          mkdirSync(path.join(root, 'etc/ssl/certs'));
          return root;
        },
      },
    ]
    : []),
];

describe('trust --root (no update tool) and trust --image leave the same files', () => {
  it.each(trees)('$name', async ({ make, target }) => {
    const input = make();
    const viaHost = tempDir('ollama-tls-via-host-');
    const viaImage = tempDir('ollama-tls-via-image-');
    cpSync(input, viaHost, { recursive: true, verbatimSymlinks: true });
    cpSync(input, viaImage, { recursive: true, verbatimSymlinks: true });

    // The host path: the target trust --root picks for the tree, its plan applied step by step.
    const ctx = trustContext({ root: viaHost, platform: 'linux', env: {}, overrides: { privileged: false } });
    const chosen = chooseTargets(ctx).chosen.map((c) => c.target);
    expect(chosen.map((t) => t.id)).toEqual([target]);
    const plan = await chosen[0]!.plan(ctx, [ca]);
    expect(plan.steps.filter((s) => s.kind === 'run')).toEqual([]);
    for (const step of plan.steps) await applyStep(new RootFs(viaHost), step);

    // The image path: the tree read as a layer, the new layer's entries written over it.
    const { view, read } = viewOfDir(viaImage);
    const where = await locateTrust(view, [], read);
    const files = await trustFiles(view, where, [ca], read);
    writeLayer(viaImage, files.entries);

    expect(snapshotDiff(snapshot(viaHost), snapshot(viaImage))).toEqual([]);
    // And the tree trusts the CA and the public roots, as Go reads it.
    const go = new RootFs(viaHost);
    const goFile = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt'].find((f) => go.exists(f))!;
    const inBundle = certificatesFromPem(go.readFile(goFile).toString('latin1')).certificates.map((c) => c.sha256);
    expect(inBundle).toContain(ca.sha256);
    // Public roots stay trusted: the tree's own (Debian's 140-odd) or, seeded, Node's Mozilla roots.
    expect(inBundle.length).toBeGreaterThan(100);
  });
});
