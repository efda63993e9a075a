// Elapsed time for the probe's timings and deadlines. Not `performance.now()`: in Node 20 the
// `performance` global loads perf_hooks and eight modules behind it on first use (~0.6 ms of every
// doctor run); process.hrtime is the same monotonic clock, already loaded.

/** Milliseconds on a monotonic clock (differences only). */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
