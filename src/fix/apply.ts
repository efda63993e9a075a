// Carry out a plan, step by step, in its tree. Files are written atomically (a temp file in the
// same directory, then rename), so a reader never sees half a bundle and an interrupted run
// leaves the old file; programs run from absolute paths with argument arrays, never a shell.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { DirTree, RootFs } from '../platform/rootfs.js';
import { beginJournal, entryPath, finishInterrupted, JOURNAL_TMP, journaled, type OpenJournal, type Recovery } from './journal.js';
import { appendBlock, stripBlock, type Plan, type Step } from './plan.js';

export class ApplyError extends Error {
  constructor(readonly step: Step, message: string, readonly output = '') {
    super(message);
  }
}

export interface StepOutcome {
  step: Step;
  /** 'unchanged' when the step found its work already done (a block already there, nothing to remove). */
  result: 'done' | 'unchanged';
  output?: string;
}

/** Host path of the file an in-tree path finally names (bundles are often symlinks). */
function filePath(fs: DirTree, p: string): string {
  return fs.isHostRoot ? safeRealpath(p) : fs.resolve(p);
}

function safeRealpath(p: string): string {
  // Follow links on the host as the readers will; a missing file is written where it is named.
  let current = p;
  for (let hops = 0; hops < 40; hops++) {
    let st;
    try {
      st = lstatSync(current);
    } catch {
      return current;
    }
    if (!st.isSymbolicLink()) return current;
    const target = readLinkSafe(current);
    if (target === undefined) return current;
    current = path.resolve(path.dirname(current), target);
  }
  return current;
}

function readLinkSafe(p: string): string | undefined {
  try {
    return readlinkSync(p);
  } catch {
    return undefined;
  }
}

/** Write `content` to `file` through a temp file in the same directory and a rename. */
export function writeAtomic(file: string, content: string | Buffer, mode: number): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.ollama-tls-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const fd = openSync(tmp, 'wx', mode);
    try {
      const data = typeof content === 'string' ? Buffer.from(content, 'latin1') : content;
      let off = 0;
      while (off < data.length) off += writeSync(fd, data, off, data.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    // openSync's mode is filtered by the umask; the store wants exactly this mode.
    chmodSync(tmp, mode);
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

function run(step: Extract<Step, { kind: 'run' }>, onSpawn?: (pid: number | undefined) => void): Promise<string> {
  const { argv } = step;
  return new Promise<string>((resolve, reject) => {
    const child = execFile(argv[0]!, argv.slice(1), { maxBuffer: 16 << 20, windowsHide: true, ...(step.env ? { env: { ...process.env, ...step.env } } : {}) }, (err, stdout, stderr) => {
      const output = `${stdout}${stderr}`.trim();
      if (err) reject(Object.assign(err, { output }));
      else resolve(output);
    });
    child.stdin?.end(step.stdin ?? '');
    onSpawn?.(child.pid);
  }).finally(() => onSpawn?.(undefined));
}

export async function applyStep(fs: DirTree, step: Step, onSpawn?: (pid: number | undefined) => void): Promise<StepOutcome> {
  switch (step.kind) {
    case 'write': {
      writeAtomic(filePath(fs, step.path), step.content, step.mode);
      return { step, result: 'done' };
    }
    case 'append-block':
    case 'strip-block': {
      const file = filePath(fs, step.path);
      let before = '';
      let mode = 0o644;
      try {
        before = readFileSync(file, 'latin1');
        mode = statSync(file).mode & 0o7777;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || step.kind === 'strip-block') return { step, result: 'unchanged' };
      }
      const after = step.kind === 'append-block' ? appendBlock(before, step.fingerprint, step.pem, step.label) : stripBlock(before, step.fingerprint);
      if (after === before) return { step, result: 'unchanged' };
      writeAtomic(file, after, mode);
      return { step, result: 'done' };
    }
    case 'remove': {
      const p = entryPath(fs, step.path);
      try {
        unlinkSync(p);
        return { step, result: 'done' };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { step, result: 'unchanged' };
        throw e;
      }
    }
    case 'symlink': {
      const p = entryPath(fs, step.path);
      mkdirSync(path.dirname(p), { recursive: true, mode: 0o755 });
      rmSync(p, { force: true });
      symlinkSync(step.target, p);
      return { step, result: 'done' };
    }
    case 'run': {
      const output = await run(step, onSpawn);
      return { step, result: 'done', output };
    }
    case 'image': {
      // Loaded only for images: the tar and gzip machinery is not needed by any other plan.
      const img = await import('./image/index.js');
      const { certificatesFromPem } = await import('../x509/load.js');
      // The plan read SRC a moment ago (image-target.ts): its reading is reused unless SRC changed.
      const opts = { ...onProgressFor(step), reuseLatest: true };
      const r = step.action === 'trust'
        ? await img.trustImage(step.src, step.dst, step.pems.flatMap((p) => certificatesFromPem(p).certificates), opts)
        : await img.untrustImage(step.src, step.dst, step.fingerprints, opts);
      return { step, result: r.changed ? 'done' : 'unchanged', output: r.notes.join('\n') };
    }
  }
}

/** Image steps report bytes processed; the caller's spinner shows them. */
let progress: ((done: number, total: number) => void) | undefined;
const onProgressFor = (_step: Step) => (progress ? { onProgress: progress } : {});

/** Apply every step in order; the first failure stops the plan and says which step and why. */
export async function applyPlan(plan: Plan, onStep?: (step: Step, index: number) => void, onBytes?: (done: number, total: number) => void): Promise<StepOutcome[]> {
  const fs = new RootFs(plan.root);
  progress = onBytes;
  const outcomes: StepOutcome[] = [];
  const escape = plan.steps.map((s) => treeEscape(fs, s)).find((e) => e);
  if (escape) throw new ApplyError(escape.step, escape.message);
  const journalEscape = journaled(plan) && !fs.isHostRoot ? fs.escape(JOURNAL_TMP) : undefined;
  if (journalEscape) throw new ApplyError(plan.steps[0]!, `refusing to write the journal in ${fs.root}: ${journalEscape.message}`);
  // A system store's plan is journaled, so that a kill half-way is finished by the next run.
  let journal: OpenJournal | undefined;
  try {
    journal = journaled(plan) ? beginJournal(fs, plan, writeAtomic) : undefined;
  } catch (e) {
    throw new ApplyError(plan.steps[0]!, `cannot write the journal in ${path.join(fs.root, JOURNAL_TMP)}: ${(e as Error).message}`);
  }
  try {
    await applySteps(fs, plan, outcomes, onStep, journal ? (pid) => journal.running(pid) : undefined);
  } finally {
    journal?.end();
  }
  return outcomes;
}

/**
 * The first path of the plan that a link would take out of the tree, or undefined. Never
 * followed: the plan is refused before any change.
 */
export function treeEscape(fs: DirTree, step: Step): { step: Step; message: string } | undefined {
  if (fs.isHostRoot || !('path' in step)) return undefined;
  const follows = step.kind === 'write' || step.kind === 'append-block' || step.kind === 'strip-block';
  const e = fs.escape(step.path, follows);
  return e ? { step, message: `refusing to change ${step.path} in ${fs.root}: ${e.message}` } : undefined;
}

/** Finish a system-store plan that a kill interrupted in this tree (see journal.ts). */
export const recoverInterrupted = (root: string): Promise<Recovery | undefined> => finishInterrupted(root, applyStep, writeAtomic);

async function applySteps(fs: DirTree, plan: Plan, outcomes: StepOutcome[], onStep?: (step: Step, index: number) => void, onSpawn?: (pid: number | undefined) => void): Promise<void> {
  for (const [i, step] of plan.steps.entries()) {
    onStep?.(step, i);
    try {
      outcomes.push(await applyStep(fs, step, onSpawn));
    } catch (e) {
      const err = e as NodeJS.ErrnoException & { output?: string };
      const what = step.kind === 'run'
        ? `${step.argv[0]} failed${err.code !== undefined ? ` (${typeof err.code === 'number' ? `exit ${err.code}` : err.code})` : ''}`
        : step.kind === 'image' ? `image ${step.src} -> ${step.dst}: ${err.message}` : `${step.kind} ${step.path}: ${err.message}`;
      throw new ApplyError(step, what, err.output ?? '');
    }
  }
}
