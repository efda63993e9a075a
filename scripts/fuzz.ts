// npm run fuzz -- [--cases N] [--cli N] [--seed S] [--keep DIR]: the long run of the fuzzer
// (the suite runs a few thousand cases, test/e2e/fuzz.test.ts). An assertion fails (exit 1) on any crash, hang or CLI failure.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { cliFuzz, fuzz } from '../test/helpers/fuzz.js';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const keep = process.argv.includes('--keep') ? process.argv[process.argv.indexOf('--keep') + 1] : undefined;
if (keep) mkdirSync(keep, { recursive: true });
const seed = arg('seed', Date.now() % 1_000_000);
const t0 = performance.now();
const inProcess = await fuzz({ cases: arg('cases', 50_000), seed, hangMs: 2000, ...(keep ? { keepDir: keep } : {}) });
console.log(`in process: ${inProcess.cases} cases (seed ${seed}), ${inProcess.crashes.length} crashes, ${inProcess.hangs.length} hangs, slowest ${inProcess.maxMs.toFixed(0)} ms, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
for (const c of inProcess.crashes.slice(0, 10)) console.log(`  crash: ${c.seed} ${c.how.join('+')}${c.file ? ` (${c.file})` : ''}\n    ${c.error.replace(/\n/g, '\n    ')}`);
for (const h of inProcess.hangs.slice(0, 10)) console.log(`  hang: ${h.seed} ${h.how.join('+')} ${h.ms.toFixed(0)} ms`);
const t1 = performance.now();
const cli = await cliFuzz({ runs: arg('cli', 400), seed, timeoutMs: 30_000 });
console.log(`CLI: ${cli.runs} runs, ${cli.failures.length} failures, slowest ${cli.maxMs.toFixed(0)} ms, ${((performance.now() - t1) / 1000).toFixed(1)} s`);
for (const f of cli.failures.slice(0, 10)) console.log(`  exit ${f.code}: ${f.args.join(' ')} (${f.seed} ${f.how.join('+')})\n    ${f.stderr.replace(/\n/g, '\n    ')}`);
assert.equal(inProcess.crashes.length, 0, 'no reader or verifier may throw on damaged input');
assert.equal(inProcess.hangs.length, 0, 'no case may take longer than the hang bound');
assert.equal(cli.failures.length, 0, 'the CLI answers damaged files with exit 0, 1 or 2, never 3 or a timeout');
