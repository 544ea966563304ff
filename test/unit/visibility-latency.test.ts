// Visibility latency: quantiles over a bounded window of the most recent transactions, from both starting points.
import { expect, it } from 'vitest';
import { VisibilityLatency } from '../../src/shapes/visibility-latency.js';

it('gives NaN quantiles before the first transaction and only the commit side when receipt is unknown', () => {
  const v = new VisibilityLatency();
  expect(v.stats().fromCommit.count).toBe(0);
  expect(v.stats().fromCommit.p50).toBeNaN();
  v.record(BigInt(Date.now() - 40) * 1000n, undefined);
  const s = v.stats();
  expect(s.fromCommit.count).toBe(1);
  expect(s.fromCommit.p50).toBeGreaterThanOrEqual(40);
  expect(s.fromReceipt.count).toBe(0);
});

it('keeps the last 1,024 transactions: old slow ones leave the window', () => {
  const v = new VisibilityLatency();
  for (let i = 0; i < 100; i++) v.record(BigInt(Date.now() - 10_000) * 1000n, performance.now() - 10_000);
  expect(v.stats().fromReceipt.p50).toBeGreaterThanOrEqual(10_000);
  for (let i = 0; i < 1024; i++) v.record(BigInt(Date.now()) * 1000n, performance.now());
  const s = v.stats();
  expect(s.fromReceipt.count).toBe(1024);
  expect(s.fromReceipt.max).toBeLessThan(10_000);
  expect(s.fromCommit.max).toBeLessThan(10_000);
  // A commit timestamp ahead of this clock (skew) counts as zero, never negative.
  v.record(BigInt(Date.now() + 5_000) * 1000n, undefined);
  expect(v.stats().fromCommit.p50).toBeGreaterThanOrEqual(0);
  v.reset();
  expect(v.stats().fromCommit.count).toBe(0);
  expect(v.stats().fromReceipt.p99).toBeNaN();
});
