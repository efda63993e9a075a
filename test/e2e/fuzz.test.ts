// The seeded mutation fuzzer (test/helpers/fuzz.ts) at suite size: a few thousand damaged
// PEM/DER/PKCS#7/PKCS#12 inputs through every reader and both verifiers in process, and a few
// dozen through the CLI. Pass: no exception but a reader's own refusal, no slow case, and in
// the CLI no exit 3, no time-out, a message with every exit 2. `npm run fuzz` runs more.
import { describe, expect, it } from 'vitest';
import { cliFuzz, fuzz } from '../helpers/fuzz.js';

const SEED = 20261204;

describe('fuzz', () => {
  it('in process: 4,000 mutated inputs, no crash, no case over 2 s', async () => {
    const s = await fuzz({ cases: 4000, seed: SEED, hangMs: 2000 });
    expect(s.cases).toBe(4000);
    expect(s.crashes, JSON.stringify(s.crashes.slice(0, 3), null, 1)).toEqual([]);
    expect(s.hangs).toEqual([]);
  }, 60_000);

  it('CLI: 24 runs of doctor --ca and trust --ca --dry-run end 0, 1 or 2, with a message', async () => {
    const s = await cliFuzz({ runs: 24, seed: SEED, timeoutMs: 30_000 });
    expect(s.runs).toBe(24);
    expect(s.failures, JSON.stringify(s.failures.slice(0, 3), null, 1)).toEqual([]);
  }, 120_000);
});
