// A journal for the system-store plans: written (atomically, synced) before the first change, so
// a run killed half-way (SIGKILL, a power cut, a closed terminal) is finished by the next run
// before it plans anything. Finishing is rolling forward: every step is idempotent (a write, a
// block appended once, a link, a removal), and a program that may have been cut off is re-run in
// a form that repairs whatever it had half done (Debian's tool with --fresh). The journal also
// holds the previous state's digests, which say what the interrupted run found.
import { InputError } from '../platform/input-error.js';
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, rmdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { DirTree, RootFs } from '../platform/rootfs.js';
import type { Plan, Step, TargetId } from './plan.js';

/** In-tree directory of the journal; also the TMPDIR of the programs a journaled plan runs. */
export const JOURNAL_DIR = '/var/lib/ollama-tls';
export const JOURNAL_TMP = `${JOURNAL_DIR}/tmp`;
const FILE = 'journal.json';

/** The targets that change a Linux tree's own store: the ones a kill can leave half-done. */
export const SYSTEM_STORES: TargetId[] = ['debian', 'rhel', 'suse', 'arch', 'alpine', 'linux-native'];
export const journaled = (plan: Plan): boolean => SYSTEM_STORES.includes(plan.target) && plan.steps.length > 0;

export interface Journal {
  schema: 1;
  pid: number;
  started: string;
  action: 'trust' | 'untrust';
  target: TargetId;
  title: string;
  steps: Step[];
  /** For each path a step touches: what was there before ("absent", "link TARGET", "sha256 HEX"). */
  before: Record<string, string>;
  /** Directories this run created for the journal (a tree without /var/lib): removed with it. */
  createdDirs: string[];
  /** The program a run step has started, while it runs: it outlives us if only we are killed. */
  child?: number;
}

export interface OpenJournal {
  /** Record the program now running (or none), so that the next run waits for it. */
  running(pid: number | undefined): void;
  end(): void;
}

/** Another ollama-tls is changing the same store right now. */
export class JournalBusy extends InputError {}

function describe(host: string): string {
  try {
    const st = lstatSync(host);
    if (st.isSymbolicLink()) return `link ${readlinkSync(host)}`;
    if (!st.isFile()) return 'not a file';
    return `sha256 ${createHash('sha256').update(readFileSync(host)).digest('hex')}`;
  } catch {
    return 'absent';
  }
}

function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // not every filesystem syncs directories; the rename is still atomic
  }
}

/** Host path of an in-tree path, without following its last component. */
export function entryPath(fs: DirTree, p: string): string {
  if (fs.isHostRoot) return p;
  return path.join(fs.resolve(path.posix.dirname(p)), path.posix.basename(p));
}

/**
 * Write the journal for `plan` before its first step. `write` is the atomic writer of apply.ts
 * (passed in so this module does not import it back).
 */
export function beginJournal(fs: DirTree, plan: Plan, write: (file: string, content: string, mode: number) => void): OpenJournal {
  const dir = entryPath(fs, JOURNAL_DIR);
  const createdDirs: string[] = [];
  for (const d of ['/var', '/var/lib', JOURNAL_DIR, JOURNAL_TMP]) {
    if (fs.exists(d)) continue;
    // resolve(): a dangling link inside the tree (var/lib -> ../data) is created where it points.
    mkdirSync(fs.resolve(d), { recursive: true, mode: d === JOURNAL_TMP ? 0o700 : 0o755 });
    if (d === '/var' || d === '/var/lib') createdDirs.push(d);
  }
  const before: Record<string, string> = {};
  for (const s of plan.steps) if ('path' in s) before[s.path] = describe(s.kind === 'remove' || s.kind === 'symlink' ? entryPath(fs, s.path) : safeResolve(fs, s.path));
  const journal: Journal = { schema: 1, pid: process.pid, started: new Date().toISOString(), action: plan.action, target: plan.target, title: plan.title, steps: plan.steps, before, createdDirs };
  const save = (j: Journal) => {
    write(path.join(dir, FILE), `${JSON.stringify(j, null, 1)}\n`, 0o600);
    syncDir(dir);
  };
  save(journal);
  return {
    running: (pid) => save(pid === undefined ? journal : { ...journal, child: pid }),
    end: () => endJournal(fs, createdDirs),
  };
}

function safeResolve(fs: DirTree, p: string): string {
  try {
    return fs.resolve(p);
  } catch {
    return entryPath(fs, p);
  }
}

/** The plan is done (or failed and said so): the journal, its temp directory and any directory it made go. */
function endJournal(fs: DirTree, createdDirs: string[]): void {
  const dir = entryPath(fs, JOURNAL_DIR);
  rmSync(path.join(dir, FILE), { force: true });
  syncDir(dir);
  removeOwnLeftovers(dir);
  for (const d of [JOURNAL_DIR, ...[...createdDirs].reverse()]) {
    try {
      rmdirSync(entryPath(fs, d));
    } catch {
      // not empty (someone else's files) or already gone: leave it
    }
  }
}

/** In the journal's own directory everything but the journal is ours: temp files, the programs' TMPDIR. */
function removeOwnLeftovers(dir: string): void {
  rmSync(path.join(dir, 'tmp'), { recursive: true, force: true });
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) if (n.startsWith(`.${FILE}.ollama-tls-`)) rmSync(path.join(dir, n), { force: true });
}

function alive(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A killed process whose parent died too stays a zombie until something reaps it (a container's
  // init may never): it answers signal 0, but it is not running.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true; // no /proc (macOS): signal 0 is all there is
  }
}

export interface Recovery {
  journal: Journal;
  /** What was removed before finishing: temp files and a program's half-written output. */
  removed: string[];
}

/**
 * Finish what an interrupted run left in this tree, if anything: remove the temp files it can
 * prove are its own (named with the dead run's pid) or the program's (the journal names them),
 * then run the plan's steps again. `apply` applies one step (apply.ts), `write` writes atomically.
 * Returns undefined when there was nothing to finish.
 */
export async function finishInterrupted(
  root: string,
  apply: (fs: DirTree, step: Step) => Promise<unknown>,
  write: (file: string, content: string, mode: number) => void,
): Promise<Recovery | undefined> {
  const fs = new RootFs(root);
  if (fs.escape(JOURNAL_DIR)) return undefined;
  const dir = entryPath(fs, JOURNAL_DIR);
  let journal: Journal | undefined;
  try {
    journal = JSON.parse(readFileSync(path.join(dir, FILE), 'utf8')) as Journal;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      // Killed before the journal was in place: only our directory (and its temp files) to remove.
      try {
        lstatSync(dir);
      } catch {
        return undefined;
      }
      removeOwnLeftovers(dir);
      try {
        rmdirSync(dir);
      } catch {
        // someone else's files in it: leave it
      }
      return undefined;
    }
    // Torn JSON cannot happen (the journal is renamed into place); anything else is not ours to guess.
    throw e;
  }
  if (typeof journal !== 'object' || journal === null || journal.schema !== 1 || !Array.isArray(journal.steps) || typeof journal.pid !== 'number') {
    throw new JournalBusy(`${path.join(dir, FILE)} is not a journal this version of ollama-tls wrote; look at it, remove it, and run this again`);
  }
  if (alive(journal.pid)) throw new JournalBusy(`another ollama-tls (pid ${journal.pid}, started ${journal.started}) is changing this store; wait for it to finish`);
  if (journal.child !== undefined && alive(journal.child)) {
    throw new JournalBusy(`an interrupted ollama-tls run left a program running on this store (pid ${journal.child}); wait for it to finish, then run this again`);
  }
  const removed: string[] = [];
  // Re-journal under our pid, so a kill during recovery is recovered the same way.
  const { child: _done, ...rest } = journal;
  const again: Journal = { ...rest, pid: process.pid };
  write(path.join(dir, FILE), `${JSON.stringify(again, null, 1)}\n`, 0o600);
  syncDir(dir);
  rmSync(path.join(dir, 'tmp'), { recursive: true, force: true });
  mkdirSync(path.join(dir, 'tmp'), { mode: 0o700 });
  for (const step of journal.steps) {
    if (step.kind === 'run') {
      for (const p of step.leftovers ?? []) {
        const host = entryPath(fs, p);
        try {
          lstatSync(host);
          rmSync(host, { force: true });
          removed.push(p);
        } catch {
          // not left behind
        }
      }
      await apply(fs, step.recover ? { ...step, argv: step.recover } : step);
      continue;
    }
    if ('path' in step) {
      // writeAtomic's temp files: ".<name>.ollama-tls-<pid>-<hex>" beside the file, the dead run's pid.
      const hostDir = path.dirname(safeResolve(fs, step.path));
      const prefix = `.${path.basename(safeResolve(fs, step.path))}.ollama-tls-${journal.pid}-`;
      let names: string[] = [];
      try {
        names = readdirSync(hostDir);
      } catch {
        // no directory, no temp file
      }
      for (const n of names) {
        if (n.startsWith(prefix)) {
          rmSync(path.join(hostDir, n), { force: true });
          removed.push(path.posix.join(path.posix.dirname(step.path), n));
        }
      }
    }
    await apply(fs, step);
  }
  endJournal(fs, journal.createdDirs);
  return { journal, removed };
}
