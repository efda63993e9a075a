// The distributions' own trust stores: drop the CA in the anchor directory and run the update
// tool, which rebuilds every bundle and link from the anchors (so undo is: remove the anchor, run
// the tool again). The family comes from /etc/os-release ID/ID_LIKE and is confirmed by the tool
// being there, at an absolute path: /usr/sbin is not on every PATH (sudo, cron, containers).
// A tree's own programs run only inside a chroot of that tree (never on this machine: an image's
// update-ca-certificates is the image's code); without one, the bundles are written directly
// (ca-into-tree.ts). Each family's anchor directory, tools, links and interrupted-run facts are
// its row in platform/linux-families.ts, with their sources.
import path from 'node:path';
import { systemProgram } from '../platform/executable.js';
import { LINUX_FAMILIES, LINUX_FAMILY_NAMES, type LinuxFamily, type LinuxFamilyFacts } from '../platform/linux-families.js';
import type { Certificate } from '../x509/certificate.js';
import type { TrustContext } from './context.js';
import { linuxStoreChecks } from './linux-checks.js';
import { anchorEdits, anchorPath } from './ca-into-tree.js';
import { nativeTrustSteps, nativeUndoSteps } from './linux-native.js';
import { GO_CERT_FILES } from '../trust/store-paths.js';
import { certificatesFromPem } from '../x509/load.js';
import { javaChecks, javaHook } from './java-checks.js';
import { JOURNAL_TMP } from './journal.js';
import { caLabel, fileStem, hasBlock, type CaRef, type Plan, type Step, type TargetId, type TrustTarget } from './plan.js';


/** How the tool will be run for this context, or why it cannot be. */
type Runner =
  | { mode: 'host'; argv: string[]; prefix: string[] }
  | { mode: 'chroot'; argv: string[]; prefix: string[] }
  | { mode: 'native'; why: string };

function runner(ctx: TrustContext, d: LinuxFamilyFacts): Runner {
  const tool = d.tools.find((t) => ctx.hasTool(t.path));
  if (!tool) return { mode: 'native', why: `${d.tools.map((t) => t.path).join(' or ')} is not installed` };
  if (ctx.live) return { mode: 'host', argv: [tool.path, ...tool.args], prefix: [] };
  // A tree's tool is the tree's code: it runs inside a chroot of the tree (as root, with the
  // tree's own shell), where its links point where the image expects them; never on this machine.
  const chroot = systemProgram('chroot', (p) => ctx.hostTool(p));
  // Its scripts write to /dev/null, which an unpacked image may lack (its runtime mounts /dev).
  if (ctx.privileged && chroot && ctx.hasTool('/bin/sh') && ctx.fs.exists('/dev/null')) return { mode: 'chroot', argv: [chroot, ctx.root, tool.path, ...tool.args], prefix: [chroot, ctx.root] };
  const missing = !ctx.privileged ? 'that needs root' : !chroot ? 'chroot is not installed here' : !ctx.hasTool('/bin/sh') ? 'the tree has no /bin/sh' : 'the tree has no /dev/null';
  return { mode: 'native', why: `the tree's own ${tool.path} runs only inside a chroot of the tree, never on this machine, and ${missing}` };
}

/** The run step of the tool, with what a later run needs if this one is killed. */
function toolStep(d: LinuxFamilyFacts, r: Extract<Runner, { argv: string[] }>, why: string): Step {
  return {
    kind: 'run', argv: r.argv, why,
    // Its temp files go to the journal's directory, which the next run may clear.
    env: { TMPDIR: JOURNAL_TMP },
    ...(d.interrupted ? { leftovers: [...d.interrupted.leftovers], recover: [...r.argv, ...d.interrupted.rebuildArgs] } : {}),
  };
}

/** Whether the bundle Go reads first holds every CA: the effective store, not the anchor file. */
function goBundleHasAll(ctx: TrustContext, cas: Certificate[]): boolean {
  const file = GO_CERT_FILES.find((f) => ctx.fs.exists(f));
  if (!file) return false;
  let text: string;
  try {
    text = ctx.fs.readFile(file).toString('latin1');
  } catch {
    return false;
  }
  const inFile = new Set(certificatesFromPem(text).certificates.map((c) => c.sha256));
  return cas.every((ca) => inFile.has(ca.sha256) || hasBlock(text, ca.sha256));
}

function readAnchor(ctx: TrustContext, p: string): string | undefined {
  try {
    return ctx.fs.readFile(p).toString('latin1');
  } catch {
    return undefined;
  }
}

function distroTarget(family: LinuxFamily): TrustTarget {
  const d = LINUX_FAMILIES[family];
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
      // The anchor, in every mode: the same edit as an image's (ca-into-tree.ts).
      const anchors = anchorEdits(ctx.fs, family, cas);
      steps.push(...anchors.steps);
      unchanged.push(...anchors.unchanged);
      if (r.mode === 'native') {
        // The anchor stays for the image's own tool; the bundles are brought up to date now.
        const set = nativeTrustSteps(ctx.fs, family, cas);
        steps.push(...set.steps);
        notes.push(...set.notes, `${r.why}: the bundles and links are written directly; the anchor makes the image's own tool keep the CA when it next runs.`);
        if (d.toolLinkDir && ctx.fs.exists('/etc/ca-certificates/update.d/jks-keystore')) notes.push("Java's cacerts in the tree is not updated: its hook runs only with the tree's own tool.");
        // "Already there" only when neither the anchor nor the bundles need anything.
        if (steps.length > 0) unchanged.length = 0;
        else unchanged.push(...set.unchanged);
      } else if (steps.length > 0 || !allLinked(ctx, d, cas) || !goBundleHasAll(ctx, cas)) {
        steps.push(toolStep(d, r, r.mode === 'chroot' ? 'rebuild the bundle and links inside the tree (in a chroot of it)' : 'rebuild the bundle and the links from the anchors'));
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
        const p = anchorPath(family, ref.sha256);
        const label = ref.cert ? caLabel(ref.cert) : ref.sha256.slice(0, 16);
        if (readAnchor(ctx, p) !== undefined) {
          steps.push({ kind: 'remove', path: p, why: `the anchor ollama-tls wrote for "${label}"` });
          removedAnchor = true;
        } else if (r.mode !== 'native') {
          unchanged.push(`"${label}" was not added by ollama-tls here (no ${p}); nothing to remove`);
        }
        if (d.toolLinkDir && r.mode !== 'native') steps.push(...staleLinks(ctx, d.toolLinkDir, ref.sha256));
      }
      if (r.mode === 'native') {
        const set = nativeUndoSteps(ctx.fs, family, refs);
        steps.push(...set.steps);
        if (!removedAnchor) unchanged.push(...set.unchanged);
        notes.push(...set.notes);
      } else if (removedAnchor) {
        steps.push(toolStep(d, r, 'rebuild the bundle without it'));
        if (d.toolLinkDir && hashCollision(ctx, d.toolLinkDir, steps)) {
          // The tree's openssl in its chroot: the host's would follow the tree's links on the host.
          const openssl = systemProgram('openssl', (p) => (r.mode === 'host' ? ctx.hostTool(p) : ctx.hasTool(p)));
          if (openssl) steps.push({ kind: 'run', argv: [...r.prefix, openssl, 'rehash', d.toolLinkDir], why: 'renumber the subject-hash links it shared with another CA' });
          else notes.push(`No openssl to renumber the subject-hash links in ${d.toolLinkDir}; \`openssl rehash ${d.toolLinkDir}\` in the system does it.`);
        }
        // Debian's tool tells its hooks only about links it removes itself (never a local anchor's):
        // the hooks (Java's cacerts) are told here, as the tool would have ("-<link>" on stdin).
        const hook = d.toolLinkDir ? javaHook(ctx) : undefined;
        if (hook) {
          const lines = refs.filter((ref) => readAnchor(ctx, anchorPath(family, ref.sha256)) !== undefined).map((ref) => `-${d.toolLinkDir}/${fileStem(ref.sha256)}.pem\n`).join('');
          steps.push({ kind: 'run', argv: [...r.prefix, hook], stdin: lines, env: { TMPDIR: JOURNAL_TMP }, why: `tell ${hook} the CA is gone, so it leaves Java's cacerts too (the tool only reports links it removes itself)` });
        }
      }
      return { ...base(ctx, 'untrust', r), steps, unchanged, notes };
    },
    verify: async (ctx, refs, action) => [
      ...(await linuxStoreChecks(ctx.root, refs, action === 'trust' ? 'present' : 'absent')),
      ...(family === 'debian' && runner(ctx, d).mode !== 'native' ? javaChecks(ctx, refs, action === 'trust' ? 'present' : 'absent') : []),
    ],
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
function allLinked(ctx: TrustContext, d: LinuxFamilyFacts, cas: Certificate[]): boolean {
  if (!d.toolLinkDir) return true;
  return cas.every((ca) => ctx.fs.exists(`${d.toolLinkDir}/${fileStem(ca.sha256)}.pem`));
}

export const DISTRO_TARGETS: TrustTarget[] = LINUX_FAMILY_NAMES.map(distroTarget);
