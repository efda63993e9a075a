// `trust --dockerfile PATH`: the Dockerfile patcher (dockerfile.ts) as a trust target. The plan
// rewrites the Dockerfile (only the marked block changes) and writes the files the block COPYs
// into the build context; undo restores the Dockerfile byte for byte and removes those files.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Certificate } from '../x509/certificate.js';
import { writableHostDir } from './context.js';
import { planDockerfileTrust, planDockerfileUntrust, type BaseFamily, type ContextFile, type StageInfo } from './dockerfile.js';
import { hasBlock, PlanError, type Check, type Plan, type Step, type TrustTarget } from './plan.js';

/** The Dockerfile's base image is not in the table: the caller asks the user, or needs --base-family. */
export class UnknownBaseFamily extends PlanError {
  constructor(readonly image: string, readonly reason: string) {
    super(`the base image of the final stage, ${image}, is not one ollama-tls knows (${reason}): say which family it is with --base-family debian|alpine|rhel|suse|arch|shellless`);
  }
}

function read(p: string): string | undefined {
  try {
    return readFileSync(p, 'latin1');
  } catch {
    return undefined;
  }
}

function modeOf(p: string): number {
  try {
    return statSync(p).mode & 0o7777;
  } catch {
    return 0o644;
  }
}

function describeStage(stage: StageInfo): string {
  const name = stage.name ? ` "${stage.name}"` : '';
  const via = stage.image !== stage.base ? ` (${stage.image} -> ${stage.base})` : ` (${stage.base})`;
  return `final stage${name}${via}, ${stage.family} family${stage.familySource === 'mirror' ? ' (matched by name on another registry: check it)' : ''}${stage.user ? `, user ${stage.user}` : ''}`;
}

export function dockerfileTarget(file: string, opts: { contextDir?: string; family?: BaseFamily; roots?: Certificate[] }): TrustTarget {
  const abs = path.resolve(file);
  const contextDir = path.resolve(opts.contextDir ?? path.dirname(abs));
  const planOf = (action: 'trust' | 'untrust', steps: Step[], unchanged: string[], notes: string[], stage?: StageInfo): Plan => ({
    target: 'dockerfile', action, root: '/',
    title: `Dockerfile ${abs}${stage ? `, ${describeStage(stage)}` : ''}`,
    steps, unchanged, notes,
    needsPrivilege: !writableHostDir(path.dirname(abs)) || !writableHostDir(contextDir),
    readers: 'images built from it from now on (docker build); containers already running keep their roots',
  });
  const fileSteps = (files: ContextFile[]): Step[] =>
    files.filter((f) => read(f.path) !== f.content).map((f) => ({ kind: 'write', path: f.path, content: f.content, mode: f.mode, why: f.why }));
  return {
    id: 'dockerfile',
    detect: () => ({ applies: true, why: `--dockerfile ${file}` }),
    plan(_ctx, cas) {
      const text = read(abs);
      if (text === undefined) throw new PlanError(`--dockerfile ${file}: cannot read it`);
      const p = planDockerfileTrust({ path: file, text, contextDir, cas, ...(opts.family ? { family: opts.family } : {}), ...(opts.roots ? { roots: opts.roots } : {}) });
      if (p.kind === 'unknown-family') throw new UnknownBaseFamily(p.image, p.reason);
      if (p.kind === 'unchanged') {
        const missing = fileSteps(p.files);
        return planOf('trust', missing, missing.length ? [] : ['the Dockerfile already holds this block, and its files are in the build context'], p.notes, p.stage);
      }
      const steps: Step[] = [
        ...fileSteps(p.files),
        ...p.remove.map((r): Step => ({ kind: 'remove', path: r, why: 'a file of the block for other CAs, which this one replaces' })),
        { kind: 'write', path: abs, content: p.text, mode: modeOf(abs), why: `insert the marked block after the final FROM (${describeStage(p.stage)})` },
      ];
      return planOf('trust', steps, [], p.notes, p.stage);
    },
    planUndo() {
      const text = read(abs);
      if (text === undefined) throw new PlanError(`--dockerfile ${file}: cannot read it`);
      const u = planDockerfileUntrust({ path: file, text, contextDir });
      if (u.kind === 'unchanged') return planOf('untrust', [], ['the Dockerfile holds no ollama-tls block'], []);
      return planOf('untrust', [
        { kind: 'write', path: abs, content: u.text, mode: modeOf(abs), why: 'take the marked block out' },
        ...u.remove.map((r): Step => ({ kind: 'remove', path: r, why: 'a file the block copied' })),
      ], [], u.notes);
    },
    async verify(_ctx, refs, action): Promise<Check[]> {
      const text = read(abs) ?? '';
      return refs.map((r) => {
        const there = text.includes(`sha256:${r.sha256}`);
        return action === 'trust'
          ? { ok: there, what: `${path.basename(abs)} ${there ? 'installs' : 'does not install'} ${r.sha256.slice(0, 16)}` }
          : { ok: !there && !hasBlock(text, r.sha256), what: `${path.basename(abs)} ${there ? 'still installs' : 'no longer installs'} ${r.sha256.slice(0, 16)}` };
      });
    },
  };
}

/** The final stage as the patcher sees it (base, family, user), for --print; throws UnknownBaseFamily. */
export function finalStage(file: string, cas: Certificate[], family?: BaseFamily): StageInfo {
  const abs = path.resolve(file);
  const text = read(abs);
  if (text === undefined) throw new PlanError(`--dockerfile ${file}: cannot read it`);
  const p = planDockerfileTrust({ path: file, text, contextDir: path.dirname(abs), cas, ...(family ? { family } : {}) });
  if (p.kind === 'unknown-family') throw new UnknownBaseFamily(p.image, p.reason);
  return p.stage;
}
