// npm run killtest [-- --runs N --seed S --mode native --bin PATH]: SIGKILL `trust --root` at seeded random
// moments, spread over its measured duration; print how many runs the next `trust` left
// consistent and how many `untrust` restored exactly. --bin runs another build (e.g. an older one).
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { BIN } from '../test/helpers/cli.js';
import { rng } from '../test/helpers/rng.js';
import { baseTree, measure, oneKill } from '../test/helpers/kill.js';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
};
const runs = Number(arg('runs', '100'));
const seed = Number(arg('seed', '11'));
const bin = arg('bin', BIN);
const mode = arg('mode', 'auto');

const t = baseTree(mode === 'native' ? { chroot: false } : {});
const ms = await measure(t, bin);
console.log(`tree: Debian store (${t.chroot ? "the tree's update-ca-certificates in a chroot" : 'native method: not root, no chroot'}); uninterrupted trust ${ms} ms; ${runs} kills, seed ${seed}`);
const next = rng(seed);
let clean = 0;
let consistent = 0;
let restored = 0;
for (let i = 0; i < runs; i++) {
  const delay = Math.round(next() * ms * 1.1);
  const r = await oneKill(t, delay, bin);
  if (r.cleanAfterKill) clean++;
  if (r.consistent) consistent++;
  if (r.restored) restored++;
  if (r.problems.length) console.log(`  run ${i} (kill at ${delay} ms): ${r.problems.join(' | ')}`);
}
console.log(`clean right after the kill: ${clean}/${runs}; consistent after the next trust: ${consistent}/${runs}; exact restore after untrust: ${restored}/${runs}`);
rmSync(t.base, { recursive: true, force: true });
assert.equal(consistent, runs, 'every kill is followed by a consistent store after the next trust');
assert.equal(restored, runs, 'every kill is followed by an exact restore after untrust');
