// Measuring helpers shared by the router benchmarks: heap after collection, clock overhead, quantiles.

/** V8's collector, when node runs with --expose-gc (heap figures are unstable without it). */
export const gc = (globalThis as { gc?: () => void }).gc;

/** V8 heap plus typed-array backing stores: the router's KeyTables and entry columns live outside the heap. */
export function heapUsed(): number {
  if (gc !== undefined) {
    gc();
    gc();
  }
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** The q-quantile of an ascending array (NaN when empty). */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

/** The cost of reading the clock twice (median ns), subtracted from per-change samples. */
export function timerOverhead(): number {
  const s = new Float64Array(10_000);
  for (let i = 0; i < s.length; i++) {
    const t0 = process.hrtime.bigint();
    s[i] = Number(process.hrtime.bigint() - t0);
  }
  s.sort();
  return quantile(s, 0.5);
}
