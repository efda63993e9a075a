// Paired timing for `npm run bench`: A and B run in turn (A B A B ...), and the ratio A/B is taken
// pair by pair, so that the machine's speed drifting during the run (other processes, thermal
// limits) moves both sides of a pair alike. Reported as min / median / max of those ratios.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// GNU time reports each run's user + system seconds: on a shared machine CPU time is the steadier
// figure (another process's load lengthens the wall time, hardly the CPU time).
const GNU_TIME = '/usr/bin/time';
const cpuDir = existsSync(GNU_TIME) ? mkdtempSync(path.join(os.tmpdir(), 'ollama-tls-bench-cpu-')) : undefined;
process.on('exit', () => cpuDir && rmSync(cpuDir, { recursive: true, force: true }));

export interface Run {
  /** The command and its arguments, run without a shell. */
  argv: string[];
  env?: NodeJS.ProcessEnv;
  /** Prepares the run, untimed (restoring an image changed in place, removing an output). */
  before?: () => void | Promise<void>;
  /** Checks the run's outcome, untimed: a benchmark of a failing command measures nothing. */
  check?: (code: number | null, stdout: string, stderr: string) => void;
}

export interface Figure {
  name: string;
  /** Undefined for a figure shown for reference only. */
  goal: number | undefined;
  /** Wall-time ratios A/B, pair by pair: the goal is judged on their median. */
  ratios: number[];
  /** CPU-time (user + system) ratios A/B, pair by pair, when GNU time is there. */
  cpuRatios: number[];
  a: number[];
  b: number[];
}

/** One whole process, from spawn to exit: wall milliseconds, and CPU milliseconds when measurable. */
export async function timeRun(run: Run): Promise<{ ms: number; cpuMs?: number }> {
  await run.before?.();
  const cpuFile = cpuDir ? path.join(cpuDir, 'cpu') : undefined;
  const argv = cpuFile ? [GNU_TIME, '-f', '%U %S', '-o', cpuFile, ...run.argv] : run.argv;
  const t0 = performance.now();
  const [code, out, err] = await new Promise<[number | null, string, string]>((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { env: run.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (c) => resolve([c, out, err]));
  });
  const ms = performance.now() - t0;
  // GNU time says "Command exited with non-zero status N" first when it did.
  const cpuLine = cpuFile ? readFileSync(cpuFile, 'utf8').trim().split('\n').pop()! : undefined;
  if (run.check) run.check(code, out, err);
  else if (code !== 0) throw new Error(`${run.argv.join(' ')} exited ${code}:\n${err}`);
  if (!cpuLine) return { ms };
  const [user, sys] = cpuLine.split(' ').map(Number);
  return { ms, cpuMs: (user! + sys!) * 1000 };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

const spread = (xs: number[], digits: number) => `${Math.min(...xs).toFixed(digits)} / ${median(xs).toFixed(digits)} / ${Math.max(...xs).toFixed(digits)}`;

/** A against B, `runs` pairs after `warmup` unmeasured pairs. */
export async function paired(name: string, a: Run, b: Run, goal: number | undefined, runs: number, warmup = 1): Promise<Figure> {
  for (let i = 0; i < warmup; i++) {
    await timeRun(a);
    await timeRun(b);
  }
  const f: Figure = { name, goal, ratios: [], cpuRatios: [], a: [], b: [] };
  for (let i = 0; i < runs; i++) {
    const ta = await timeRun(a);
    const tb = await timeRun(b);
    f.a.push(ta.ms);
    f.b.push(tb.ms);
    f.ratios.push(ta.ms / tb.ms);
    // CPU times of 0 (a command too short for the clock's 10 ms ticks) give no ratio.
    if (ta.cpuMs !== undefined && tb.cpuMs) f.cpuRatios.push(ta.cpuMs / tb.cpuMs);
  }
  const m = median(f.ratios);
  console.log(`${name}\n  A wall ms min/median/max ${spread(f.a, 1)}\n  B wall ms min/median/max ${spread(f.b, 1)}`);
  console.log(`  A/B wall min/median/max ${spread(f.ratios, 2)} ${goal === undefined ? '(for reference)' : `(goal <= ${goal}x): ${m <= goal ? 'met' : 'NOT met'}`}`);
  if (f.cpuRatios.length) console.log(`  A/B cpu  min/median/max ${spread(f.cpuRatios, 2)}`);
  console.log('');
  return f;
}

/** The closing table: every figure's ratio, min / median / max, and whether its median meets the goal. */
export function summary(figures: Figure[]): void {
  console.log('| figure | A/B wall min / median / max | A/B cpu min / median / max | goal (wall median) | met |');
  console.log('|---|---|---|---|---|');
  for (const f of figures) {
    const cpu = f.cpuRatios.length ? spread(f.cpuRatios, 2) : 'n/a';
    const met = f.goal === undefined ? 'n/a' : median(f.ratios) <= f.goal ? 'yes' : 'no';
    console.log(`| ${f.name} | ${spread(f.ratios, 2)} | ${cpu} | ${f.goal === undefined ? 'none' : `<= ${f.goal}x`} | ${met} |`);
  }
  console.log('');
}
