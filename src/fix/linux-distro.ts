// The distributions' own trust stores: drop the CA in the anchor directory and run the update
// tool, which rebuilds every bundle and link from the anchors (so undo is: remove the anchor, run
// the tool again). The family comes from /etc/os-release ID/ID_LIKE and is confirmed by the tool
// being there, at an absolute path: /usr/sbin is not on every PATH (sudo, cron, containers).
import path from 'node:path';
import type { LinuxFamily } from '../platform/os-release.js';
import type { Certificate } from '../x509/certificate.js';
import type { TrustContext } from './context.js';
import { linuxStoreChecks } from './linux-checks.js';
import { nativeTrustSteps, nativeUndoSteps } from './linux-native.js';
import { caLabel, fileStem, type CaRef, type Plan, type Step, type TargetId, type TrustTarget } from './plan.js';

type Family = Exclude<LinuxFamily, 'unknown'>;

interface DistroStore {
  title: string;
  /** Where an administrator's CAs go; the tool picks up every file in it. */
  anchorDir: string;
  /** Debian's tool only reads files ending in .crt there. */
  suffix: '.crt';
  /** The update tools, first one present wins. */
  tools: { path: string; args: string[] }[];
  /**
   * Options that point the tool at a tree from outside (Debian's shell script has them), or
   * undefined: then a tree gets the anchor plus a native update, and the image's own tool
   * rebuilds the same result the next time it runs.
   */
  treeArgs?: (root: string) => string[];
  /** The directory the tool fills with <name>.pem links and subject-hash links, when it does. */
  linkDir?: string;
}

// Sources: mkcert truststore_linux.go (github.com/FiloSottile/mkcert), smallstep/truststore
// truststore_linux.go, and each distribution's update-ca-certificates / update-ca-trust man page.
const DISTROS: Record<Family, DistroStore> = {
  debian: {
    title: 'Debian/Ubuntu system store',
    anchorDir: '/usr/local/share/ca-certificates', suffix: '.crt',
    tools: [{ path: '/usr/sbin/update-ca-certificates', args: [] }],
    treeArgs: (r) => [
      '--certsconf', path.join(r, 'etc/ca-certificates.conf'),
      '--certsdir', path.join(r, 'usr/share/ca-certificates'),
      '--localcertsdir', path.join(r, 'usr/local/share/ca-certificates'),
      '--etccertsdir', path.join(r, 'etc/ssl/certs'),
      '--hooksdir', path.join(r, 'etc/ca-certificates/update.d'),
    ],
    linkDir: '/etc/ssl/certs',
  },
  alpine: {
    title: 'Alpine system store',
    anchorDir: '/usr/local/share/ca-certificates', suffix: '.crt',
    tools: [{ path: '/usr/sbin/update-ca-certificates', args: [] }],
    linkDir: '/etc/ssl/certs',
  },
  rhel: {
    title: 'RHEL/Fedora/CentOS/Rocky/Alma/Amazon Linux system store (ca-trust)',
    anchorDir: '/etc/pki/ca-trust/source/anchors', suffix: '.crt',
    tools: [{ path: '/usr/bin/update-ca-trust', args: ['extract'] }, { path: '/bin/update-ca-trust', args: ['extract'] }],
  },
  suse: {
    title: 'SUSE system store',
    anchorDir: '/etc/pki/trust/anchors', suffix: '.crt',
    tools: [{ path: '/usr/sbin/update-ca-certificates', args: [] }],
  },
  arch: {
    title: 'Arch Linux system store (p11-kit trust)',
    anchorDir: '/etc/ca-certificates/trust-source/anchors', suffix: '.crt',
    tools: [{ path: '/usr/bin/update-ca-trust', args: [] }, { path: '/usr/bin/trust', args: ['extract-compat'] }],
  },
};

const CHROOT = ['/usr/sbin/chroot', '/usr/bin/chroot'];
const OPENSSL = ['/usr/bin/openssl', '/bin/openssl'];

/** How the tool will be run for this context, or why it cannot be. */
type Runner =
  | { mode: 'host'; argv: string[] }
  | { mode: 'chroot'; argv: string[] }
  | { mode: 'tree-options'; argv: string[] }
  | { mode: 'native'; why: string };

function runner(ctx: TrustContext, d: DistroStore): Runner {
  const tool = d.tools.find((t) => ctx.hasTool(t.path));
  if (!tool) return { mode: 'native', why: `${d.tools.map((t) => t.path).join(' or ')} is not installed` };
  if (ctx.live) return { mode: 'host', argv: [tool.path, ...tool.args] };
  // A tree with its own shell can run its own tool inside a chroot (as root): links then point
  // where the image expects them.
  const chroot = CHROOT.find((p) => ctx.hostTool(p));
  if (ctx.privileged && chroot && ctx.hasTool('/bin/sh')) return { mode: 'chroot', argv: [chroot, ctx.root, tool.path, ...tool.args] };
  if (d.treeArgs) return { mode: 'tree-options', argv: [path.join(ctx.root, tool.path), ...tool.args, ...d.treeArgs(ctx.root)] };
  return { mode: 'native', why: `${tool.path} cannot be pointed at a tree from outside` };
}

function anchorPath(d: DistroStore, sha256: string): string {
  return `${d.anchorDir}/${fileStem(sha256)}${d.suffix}`;
}

function readAnchor(ctx: TrustContext, p: string): string | undefined {
  try {
    return ctx.fs.readFile(p).toString('latin1');
  } catch {
    return undefined;
  }
}

function distroTarget(family: Family): TrustTarget {
  const d = DISTROS[family];
  const id = family as TargetId;
  const base = (ctx: TrustContext, action: 'trust' | 'untrust', r: Runner): Omit<Plan, 'steps' | 'unchanged' | 'notes'> => ({
    target: id, action, root: ctx.root,
    title: `${d.title} (${d.anchorDir})`,
    needsPrivilege: !ctx.canWrite(d.anchorDir) || (r.mode === 'host' && !ctx.privileged) || (r.mode === 'chroot' && !ctx.privileged),
    readers: 'Ollama (Go), curl, wget, git, apt/dnf, Python, OpenSSL',
  });
  return {
    id,
    detect(ctx) {
      if (ctx.platform !== 'linux') return { applies: false, why: 'not Linux' };
      if (ctx.release?.family !== family) return { applies: false, why: `/etc/os-release does not name a ${family} system` };
      const r = runner(ctx, d);
      if (r.mode === 'native' && ctx.live) return { applies: false, why: r.why };
      return { applies: true, why: `${ctx.release.prettyName}${r.mode === 'native' ? `; ${r.why}, so the bundles are updated directly` : ''}` };
    },
    plan(ctx, cas: Certificate[]): Plan {
      const r = runner(ctx, d);
      const steps: Step[] = [];
      const unchanged: string[] = [];
      const notes: string[] = [];
      for (const ca of cas) {
        const p = anchorPath(d, ca.sha256);
        if (readAnchor(ctx, p) === ca.toPem()) {
          unchanged.push(`"${caLabel(ca)}" is already in ${p}`);
          continue;
        }
        steps.push({ kind: 'write', path: p, content: ca.toPem(), mode: 0o644, why: `the CA "${caLabel(ca)}" as an anchor (${d.suffix} is required)` });
      }
      if (r.mode === 'native') {
        // The anchor stays for the image's own tool; the bundles are brought up to date now.
        const set = nativeTrustSteps(ctx.fs, family, cas);
        steps.push(...set.steps);
        notes.push(...set.notes, `${r.why}: the bundles and links are written directly; the anchor makes the image's own tool keep the CA when it next runs.`);
        // "Already there" only when neither the anchor nor the bundles need anything.
        if (steps.length > 0) unchanged.length = 0;
        else unchanged.push(...set.unchanged);
      } else if (steps.length > 0 || !allLinked(ctx, d, cas)) {
        steps.push({ kind: 'run', argv: r.argv, why: r.mode === 'chroot' ? 'rebuild the bundle and links inside the tree' : 'rebuild the bundle and the links from the anchors' });
        if (r.mode === 'tree-options') {
          notes.push(`The tool runs from outside the tree, so the links it makes in ${d.linkDir ?? 'the tree'} point at ${ctx.root} paths: right for this tree on this machine. For an image, run ollama-tls inside it, or as root so it can chroot.`);
        }
      }
      return { ...base(ctx, 'trust', r), steps, unchanged, notes };
    },
    planUndo(ctx, refs: CaRef[]): Plan {
      const r = runner(ctx, d);
      const steps: Step[] = [];
      const unchanged: string[] = [];
      const notes: string[] = [];
      let removedAnchor = false;
      for (const ref of refs) {
        const p = anchorPath(d, ref.sha256);
        const label = ref.cert ? caLabel(ref.cert) : ref.sha256.slice(0, 16);
        if (readAnchor(ctx, p) !== undefined) {
          steps.push({ kind: 'remove', path: p, why: `the anchor ollama-tls wrote for "${label}"` });
          removedAnchor = true;
        } else if (r.mode !== 'native') {
          unchanged.push(`"${label}" was not added by ollama-tls here (no ${p}); nothing to remove`);
        }
        if (d.linkDir && r.mode !== 'native') steps.push(...staleLinks(ctx, d.linkDir, ref.sha256));
      }
      if (r.mode === 'native') {
        const set = nativeUndoSteps(ctx.fs, family, refs);
        steps.push(...set.steps);
        if (!removedAnchor) unchanged.push(...set.unchanged);
        notes.push(...set.notes);
      } else if (removedAnchor) {
        steps.push({ kind: 'run', argv: r.argv, why: 'rebuild the bundle without it' });
        if (d.linkDir && hashCollision(ctx, d.linkDir, steps)) {
          const openssl = OPENSSL.find((p) => ctx.hostTool(p));
          if (openssl) steps.push({ kind: 'run', argv: [openssl, 'rehash', ctx.live ? d.linkDir : path.join(ctx.root, d.linkDir)], why: 'renumber the subject-hash links it shared with another CA' });
        }
      }
      return { ...base(ctx, 'untrust', r), steps, unchanged, notes };
    },
    verify: (ctx, refs, action) => linuxStoreChecks(ctx.root, refs, action === 'trust' ? 'present' : 'absent'),
  };
}

/**
 * The tool leaves `<name>.pem` and its hash links behind when an anchor disappears (Debian's only
 * cleans up on --fresh, #895482), so undo removes them itself.
 */
function staleLinks(ctx: TrustContext, dir: string, sha256: string): Step[] {
  const stem = fileStem(sha256);
  const steps: Step[] = [];
  let entries;
  try {
    entries = ctx.fs.readdir(dir);
  } catch {
    return steps;
  }
  for (const e of entries) {
    if (!e.isSymbolicLink()) continue;
    let target = '';
    try {
      target = ctx.fs.readlink(`${dir}/${e.name}`);
    } catch {
      continue;
    }
    if (e.name === `${stem}.pem` || target === `${stem}.pem` || path.posix.basename(target) === `${stem}.crt`) {
      steps.push({ kind: 'remove', path: `${dir}/${e.name}`, why: e.name === `${stem}.pem` ? 'the link the tool made to the anchor' : 'its subject-hash link' });
    }
  }
  return steps;
}

/** Whether a hash link being removed shares its hash with a link that stays (numbering must close up). */
function hashCollision(ctx: TrustContext, dir: string, steps: Step[]): boolean {
  const removed = steps.filter((s) => s.kind === 'remove' && /\/[0-9a-f]{8}\.\d+$/.test(s.path)).map((s) => (s as { path: string }).path);
  if (removed.length === 0) return false;
  let names: string[];
  try {
    names = ctx.fs.readdir(dir).map((e) => e.name);
  } catch {
    return false;
  }
  return removed.some((p) => {
    const hash = path.posix.basename(p).split('.')[0]!;
    return names.some((n) => n.startsWith(`${hash}.`) && `${dir}/${n}` !== p && !removed.includes(`${dir}/${n}`));
  });
}

/** Whether the tool already made its link for every anchor (otherwise it still has to run). */
function allLinked(ctx: TrustContext, d: DistroStore, cas: Certificate[]): boolean {
  if (!d.linkDir) return true;
  return cas.every((ca) => ctx.fs.exists(`${d.linkDir}/${fileStem(ca.sha256)}.pem`));
}

export const DISTRO_TARGETS: TrustTarget[] = (Object.keys(DISTROS) as Family[]).map(distroTarget);
