// The kill test in the suite: a few dozen SIGKILLs of `trust --root` at seeded random moments on
// a Debian tree; the next `trust` must leave a consistent store (bundle as Debian's rules build
// it, anchor present, nothing half-written left) and `untrust` must restore the tree exactly.
// `npm run killtest` runs 100 (see scripts/killtest.ts).
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { rng } from '../helpers/rng.js';
import { baseTree, measure, oneKill, type Tree } from '../helpers/kill.js';
import { canChroot, haveDebianTool } from '../helpers/trees.js';

const modes: [string, boolean, number][] = [
  ["the tree's own update-ca-certificates in a chroot", true, 4],
  ['the native method (no chroot)', false, 16],
];

describe.skipIf(!haveDebianTool())('SIGKILL at random moments of trust --root', () => {
  const trees: Tree[] = [];
  afterAll(() => {
    for (const t of trees) rmSync(t.base, { recursive: true, force: true });
  });
  it.each(modes.filter(([, chroot]) => !chroot || canChroot()))('%s: every kill is finished by the next trust and undone exactly by untrust', async (_name, chroot, runs) => {
    const t = baseTree({ chroot });
    trees.push(t);
    const ms = await measure(t);
    const next = rng(chroot ? 7 : 8);
    const failures: string[] = [];
    for (let i = 0; i < runs; i++) {
      const delay = Math.round(next() * ms * 1.1);
      const r = await oneKill(t, delay);
      if (!r.consistent || !r.restored) failures.push(`kill at ${delay} ms: ${r.problems.join(' | ')}`);
    }
    expect(failures).toEqual([]);
  }, 120_000);
});
