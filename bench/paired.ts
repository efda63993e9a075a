// Paired timing for `npm run bench`: A and B run in turn (A B A B ...), and the ratio A/B is taken
// pair by pair, so that the machine's speed drifting during the run (other processes, thermal
// limits) moves both sides of a pair alike. Reported as min / median / max of those ratios.
import { spawn } from 'node:child_process';

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
  goal: number;
  ratios: number[];
  a: number[];
  b: number[];
}

/** One whole process, from spawn to exit, in milliseconds. */
export async function timeRun(run: Run): Promise<number> {
  await run.before?.();
  const t0 = performance.now();
  const [code, out, err] = await new Promise<[number | null, string, string]>((resolve, reject) => {
    const child = spawn(run.argv[0]!, run.argv.slice(1), { env: run.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (c) => resolve([c, out, err]));
  });
  const ms = performance.now() - t0;
  if (run.check) run.check(code, out, err);
  else if (code !== 0) throw new Error(`${run.argv.join(' ')} exited ${code}:\n${err}`);
  return ms;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

const spread = (xs: number[], digits: number) => `${Math.min(...xs).toFixed(digits)} / ${median(xs).toFixed(digits)} / ${Math.max(...xs).toFixed(digits)}`;

/** A against B, `runs` pairs after `warmup` unmeasured pairs. */
export async function paired(name: string, a: Run, b: Run, goal: number, runs: number, warmup = 1): Promise<Figure> {
  for (let i = 0; i < warmup; i++) {
    await timeRun(a);
    await timeRun(b);
  }
  const f: Figure = { name, goal, ratios: [], a: [], b: [] };
  for (let i = 0; i < runs; i++) {
    const ta = await timeRun(a);
    const tb = await timeRun(b);
    f.a.push(ta);
    f.b.push(tb);
    f.ratios.push(ta / tb);
  }
  const m = median(f.ratios);
  console.log(`${name}\n  A ms min/median/max ${spread(f.a, 1)}\n  B ms min/median/max ${spread(f.b, 1)}`);
  console.log(`  A/B min/median/max ${spread(f.ratios, 2)} (goal <= ${goal}x): ${m <= goal ? 'met' : 'NOT met'}\n`);
  return f;
}

/** The closing table: every figure's ratio, min / median / max, and whether its median meets the goal. */
export function summary(figures: Figure[]): void {
  console.log('| figure | A/B min / median / max | goal | met |');
  console.log('|---|---|---|---|');
  for (const f of figures) console.log(`| ${f.name} | ${spread(f.ratios, 2)} | <= ${f.goal}x | ${median(f.ratios) <= f.goal ? 'yes' : 'no'} |`);
  console.log('');
}
