// Prometheus metrics of the running service, read from SwitchyardService.metrics() at scrape time.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { ServiceMetrics } from '../shapes/service.js';
import type { TableCount } from '../shapes/table-counts.js';

/**
 * A registry with the Node process metrics (prom-client's defaults, which already start with `process_` / `nodejs_`,
 * so the prefix is only `switchyard_`) and the service's own.
 */
export function createMetricsRegistry(read: () => ServiceMetrics): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'switchyard_' });
  registerServiceMetrics(registry, read);
  return registry;
}

/**
 * Registers scrape-time collectors: counters mirror the service's cumulative counts (changes/s is `rate()` of
 * `switchyard_changes_total`), gauges its current state.
 */
export function registerServiceMetrics(registry: Registry, read: () => ServiceMetrics): void {
  const registers = [registry];
  let snapshot: ServiceMetrics | undefined;
  // One metrics() call per scrape, shared by every collector of that scrape: a scrape runs its collectors within one
  // turn of the event loop (microtasks only), so the snapshot is dropped at the next turn and never goes stale.
  const current = (): ServiceMetrics => {
    if (snapshot === undefined) {
      snapshot = read();
      setImmediate(() => {
        snapshot = undefined;
      });
    }
    return snapshot;
  };
  const counter = (name: string, help: string, value: (m: ServiceMetrics) => number): void => {
    let reported = 0;
    new Counter({
      name,
      help,
      registers,
      collect() {
        const v = value(current());
        if (v > reported) this.inc(v - reported);
        reported = Math.max(reported, v);
      },
    });
  };
  const gauge = (name: string, help: string, value: (m: ServiceMetrics) => number): void => {
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(value(current()));
      },
    });
  };
  counter('switchyard_transactions_total', 'Replicated transactions processed', (m) => m.transactions);
  counter('switchyard_changes_total', 'Replicated row changes processed (rate() gives changes/s)', (m) => m.changes);
  counter('switchyard_messages_total', 'Shape log messages written', (m) => m.messages);
  counter('switchyard_routing_seconds_total', 'Time spent routing changes to shapes', (m) => m.routeNanos / 1e9);
  /**
   * A counter with labels mirroring cumulative counts: each scrape adds what a label set gained since the last one
   * (inc(0) makes a label set appear from the first scrape that knows it).
   */
  const labelled = <L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    counts: (m: ServiceMetrics) => Iterable<readonly [Record<L, string>, number]>,
  ): void => {
    const reported = new Map<string, number>();
    new Counter({
      name,
      help,
      labelNames,
      registers,
      collect() {
        for (const [labels, count] of counts(current())) {
          const key = labelNames.map((l) => labels[l]).join('\u0000');
          const before = reported.get(key) ?? 0;
          this.inc(labels, Math.max(0, count - before));
          reported.set(key, Math.max(before, count));
        }
      },
    });
  };
  const perTable = (name: string, help: string, value: (m: ServiceMetrics) => readonly TableCount[]): void =>
    labelled(name, help, ['schema', 'table'], (m) =>
      value(m).map(({ schema, table, count }) => [{ schema, table }, count] as const),
    );
  perTable(
    'switchyard_evaluation_errors_total',
    'Rows left out of a shape because its where clause raised an error on them (snapshot, live or subset), per table',
    (m) => m.evaluationErrorsByTable,
  );
  perTable(
    'switchyard_router_fail_open_total',
    "Expressions that raised while routing a row, failing their shapes open for an exact re-check (the router's failOpen), per table",
    (m) => m.failOpenByTable,
  );
  perTable(
    'switchyard_shape_evaluation_work_units_total',
    "Work units (about a ns each: arbitrary-precision loops) charged evaluating shapes' where clauses on rows, router and exact re-checks, per table",
    (m) => m.evaluationWorkByTable,
  );
  perTable(
    'switchyard_slow_shape_evaluations_total',
    "Evaluations of a shape's where clause (or one of its router expressions) for one row that charged at least 1 nominal ms of work, per table",
    (m) => m.slowEvaluationsByTable,
  );
  perTable(
    'switchyard_shapes_too_expensive_total',
    'Shapes invalidated because evaluating their where clause for one row ran out of the shape row budget (--shape-row-budget), per table',
    (m) => m.tooExpensiveByTable,
  );
  counter(
    'switchyard_processing_yields_total',
    'Times processing a large transaction gave way to HTTP (time slicing)',
    (m) => m.processing.yields,
  );
  counter(
    'switchyard_processing_slices_total',
    'Time slices run while processing transactions',
    (m) => m.processing.slices,
  );
  gauge(
    'switchyard_processing_slice_max_seconds',
    'Longest time slice of transaction processing since start (wall time: GC pauses and descheduling count)',
    (m) => m.processing.longestSliceMs / 1000,
  );
  gauge(
    'switchyard_processing_slice_max_cpu_seconds',
    'Most process CPU time used during one time slice of transaction processing since start',
    (m) => m.processing.longestSliceCpuMs / 1000,
  );
  counter(
    'switchyard_subquery_move_queries_total',
    'Queries reading rows that move into subquery shapes (one per compared expression and transaction)',
    (m) => m.subqueries.moveQueries,
  );
  counter('switchyard_subquery_rows_moved_in_total', 'Rows moved into subquery shapes', (m) => m.subqueries.movedIn);
  counter(
    'switchyard_subquery_rows_moved_out_total',
    'Rows moved out of subquery shapes',
    (m) => m.subqueries.movedOut,
  );
  counter(
    'switchyard_snapshot_batches_total',
    'Snapshots taken for shape creations (creations arriving together share one)',
    (m) => m.snapshotBatches.batches,
  );
  counter(
    'switchyard_snapshot_claims_total',
    'Shape creations served by a shared snapshot',
    (m) => m.snapshotBatches.claims,
  );
  counter('switchyard_fsyncs_total', 'fsync calls on shape logs', (m) => m.fsyncs);
  gauge(
    'switchyard_replication_lag_bytes',
    'WAL bytes between the server and what the service acknowledged',
    (m) => m.replicationLagBytes,
  );
  gauge('switchyard_shapes', 'Live shapes', (m) => m.shapes);
  gauge('switchyard_log_bytes', 'Bytes in shape-log storage', (m) => m.logBytes);
  gauge('switchyard_loaded_logs', 'Shape logs held in memory (idle ones are evicted)', (m) => m.loadedLogs);
  gauge('switchyard_long_poll_waiters', 'Live requests waiting on shape logs', (m) => m.waiters);
  new Gauge({
    name: 'switchyard_visibility_latency_seconds',
    help: 'Seconds until the last 1,024 transactions touching a shape became readable (from: commit = Postgres commit timestamp on this host clock, receipt = commit message decoded here; quantile 0.5, 0.99, 1)',
    labelNames: ['from', 'quantile'] as const,
    registers,
    collect() {
      const v = current().visibilityLatency;
      for (const [from, q] of [
        ['commit', v.fromCommit],
        ['receipt', v.fromReceipt],
      ] as const) {
        if (q.count === 0) continue;
        this.set({ from, quantile: '0.5' }, q.p50 / 1000);
        this.set({ from, quantile: '0.99' }, q.p99 / 1000);
        this.set({ from, quantile: '1' }, q.max / 1000);
      }
    },
  });
  const reasons: Record<keyof ServiceMetrics['admissionRejected'], string> = {
    tooManyCreations: 'too_many_creations',
    creationLatency: 'creation_latency',
    shapeLimit: 'shape_limit',
    whereTooComplex: 'where_too_complex',
  };
  labelled(
    'switchyard_admission_rejected_total',
    'Shape requests refused by an admission limit (reason: the ErrorCode of the refusal, or creation_latency when Postgres set the pace)',
    ['reason'],
    (m) =>
      (Object.entries(reasons) as [keyof typeof reasons, string][]).map(
        ([field, reason]) => [{ reason }, m.admissionRejected[field]] as const,
      ),
  );
  new Gauge({
    name: 'switchyard_shapes_by_lane',
    help: 'Router shapes by index lane',
    labelNames: ['lane'] as const,
    registers,
    collect() {
      for (const [lane, n] of Object.entries(current().lanes)) this.set({ lane }, n);
    },
  });
}
