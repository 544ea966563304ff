// The /metrics registry: process metrics under one `switchyard_` prefix (not `switchyard_process_process_…`) beside
// the service's own, read from the service at scrape time.
import { expect, it } from 'vitest';
import { createMetricsRegistry } from '../../src/cli/service-metrics.js';
import type { ServiceMetrics } from '../../src/shapes/service.js';

const metrics: ServiceMetrics = {
  transactions: 3,
  changes: 7,
  messages: 5,
  evaluationErrors: 0,
  failOpenRoutes: 0,
  failOpenRechecks: 0,
  tooExpensiveShapes: 1,
  snapshotSkips: 0,
  replaySkips: 0,
  routeNanos: 2e9,
  shapes: 2,
  lanes: { equality: 1, expression: 0, range: 1, prefix: 0, inclusion: 0, always: 0, unindexed: 0 },
  logBytes: 1024,
  loadedLogs: 2,
  fsyncs: 4,
  groupCommits: 2,
  replicationLagBytes: 0,
  acknowledgedLsn: 0n,
  durableLsn: 0n,
  visibleLsn: 0n,
  waiters: 1,
  admissionRejected: { tooManyCreations: 2, creationLatency: 0, shapeLimit: 0, whereTooComplex: 1 },
  evaluationErrorsByTable: [{ schema: 'public', table: 'nums', count: 3 }],
  failOpenByTable: [
    { schema: 'public', table: 'nums', count: 2 },
    { schema: 'app', table: 'calm', count: 0 },
  ],
  evaluationWorkByTable: [{ schema: 'public', table: 'nums', count: 75_000_000 }],
  slowEvaluationsByTable: [{ schema: 'public', table: 'nums', count: 2 }],
  tooExpensiveByTable: [{ schema: 'public', table: 'nums', count: 1 }],
  processing: { slices: 9, yields: 6, longestSliceMs: 12.5, longestSliceCpuMs: 11 },
  subqueries: { moveQueries: 2, movedIn: 11, movedOut: 3, innerRows: 6, reloads: 1 },
  snapshotBatches: { batches: 4, claims: 29, largestBatch: 12, imports: 1 },
  visibilityLatency: {
    fromCommit: { p50: 4.5, p99: 20, max: 31, count: 10 },
    fromReceipt: { p50: NaN, p99: NaN, max: NaN, count: 0 },
  },
};

it('names process metrics switchyard_process_… and switchyard_nodejs_…, once prefixed', async () => {
  const text = await createMetricsRegistry(() => metrics).metrics();
  const names = new Set([...text.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]));
  expect(names).toContain('switchyard_process_cpu_seconds_total');
  expect(names).toContain('switchyard_nodejs_heap_size_used_bytes');
  expect([...names].filter((n) => n?.includes('process_process'))).toEqual([]);
  expect(text).toContain('switchyard_changes_total 7');
  expect(text).toContain('switchyard_routing_seconds_total 2');
  expect(text).toContain('switchyard_shapes_by_lane{lane="range"} 1');
  expect(text).toContain('switchyard_processing_yields_total 6');
  expect(text).toContain('switchyard_subquery_move_queries_total 2');
  expect(text).toContain('switchyard_subquery_rows_moved_in_total 11');
  expect(text).toContain('switchyard_snapshot_batches_total 4');
  expect(text).toContain('switchyard_snapshot_claims_total 29');
  expect(text).toContain('switchyard_processing_slice_max_seconds 0.0125');
  expect(text).toContain('switchyard_admission_rejected_total{reason="too_many_creations"} 2');
  expect(text).toContain('switchyard_admission_rejected_total{reason="shape_limit"} 0');
  expect(text).toContain('switchyard_admission_rejected_total{reason="where_too_complex"} 1');
  expect(text).toContain('switchyard_shape_evaluation_work_units_total{schema="public",table="nums"} 75000000');
  expect(text).toContain('switchyard_slow_shape_evaluations_total{schema="public",table="nums"} 2');
  expect(text).toContain('switchyard_shapes_too_expensive_total{schema="public",table="nums"} 1');
  expect(text).toContain('switchyard_visibility_latency_seconds{from="commit",quantile="0.5"} 0.0045');
  expect(text).toContain('switchyard_visibility_latency_seconds{from="commit",quantile="0.99"} 0.02');
  // A latency without samples is left out rather than reported as NaN.
  expect(text).not.toContain('from="receipt"');
});

it('exports evaluation errors and router fail-opens per table, as counters that follow the service', async () => {
  let m = metrics;
  const registry = createMetricsRegistry(() => m);
  let text = await registry.metrics();
  expect(text).toContain('# TYPE switchyard_evaluation_errors_total counter');
  expect(text).toContain('switchyard_evaluation_errors_total{schema="public",table="nums"} 3');
  expect(text).toContain('# TYPE switchyard_router_fail_open_total counter');
  expect(text).toContain('switchyard_router_fail_open_total{schema="public",table="nums"} 2');
  expect(text).toContain('switchyard_router_fail_open_total{schema="app",table="calm"} 0');
  m = {
    ...metrics,
    evaluationErrorsByTable: [
      { schema: 'public', table: 'nums', count: 5 },
      { schema: 'app', table: 'calm', count: 1 },
    ],
    failOpenByTable: [
      { schema: 'public', table: 'nums', count: 2 },
      { schema: 'app', table: 'calm', count: 4 },
    ],
  };
  await new Promise((r) => setImmediate(r)); // the next scrape reads the service again
  text = await registry.metrics();
  expect(text).toContain('switchyard_evaluation_errors_total{schema="public",table="nums"} 5');
  expect(text).toContain('switchyard_evaluation_errors_total{schema="app",table="calm"} 1');
  expect(text).toContain('switchyard_router_fail_open_total{schema="public",table="nums"} 2');
  expect(text).toContain('switchyard_router_fail_open_total{schema="app",table="calm"} 4');
});
