// Runs the workload zoo through one Router per case: ns per row, ns per emitted id against the hot-key floor measured
// in the same run, candidates per match from the router's counters, and heap per shape.
import os from 'node:os';
import { Router } from '../src/router/index.js';
import { routerCore } from '../src/router/router.js';
import type { RouterCounters } from '../src/router/index.js';
import { barChartSvg } from './chart.js';
import { makeZooWorkload, seedMixWorkload, ZOO_CASES, type ZooWorkload } from './zoo-cases.js';
import { gc, heapUsed, quantile, timerOverhead } from './measure.js';

export interface ZooOptions {
  /** Case names to run (default: all, then the seed mix). */
  readonly cases?: readonly string[];
  /** Shapes per zoo case (default 20k, the table). */
  readonly shapes?: number;
  /** Seed-mix sizes (default 1k, 10k, 100k, 1M; 10M with `--big`). */
  readonly seedSizes?: readonly number[];
  /** Rows generated per case; the timed loop stops earlier when `budgetMs` is spent. */
  readonly rows?: number;
  readonly budgetMs?: number;
  readonly onProgress?: (message: string) => void;
}

export interface ZooResult {
  readonly name: string;
  readonly shapes: number;
  readonly rows: number;
  readonly medianNs: number;
  readonly p99Ns: number;
  readonly meanNs: number;
  readonly idsPerRow: number;
  /** Median over rows that emitted ids of the row's time over its ids (robust to a GC pause landing on one row). */
  readonly nsPerId: number;
  /** Total routing time over total ids emitted (GC pauses included). */
  readonly meanNsPerId: number;
  /** nsPerId over the hot-key case's nsPerId of the same run. */
  readonly floorRatio: number;
  /** Entries the indexes yielded (postingsProbed) per id emitted. */
  readonly candidatesPerMatch: number;
  readonly residualsPerRow: number;
  readonly lookupsPerRow: number;
  readonly bytesPerShape: number;
  readonly addUs: number;
  readonly removeUs: number;
}

export interface ZooReport {
  readonly machine: { cpu: string; cores: number; memGb: number; node: string; platform: string; gcExposed: boolean };
  readonly startedAt: string;
  readonly loadBefore: readonly number[];
  readonly loadAfter: readonly number[];
  readonly floorNsPerId: number;
  readonly results: readonly ZooResult[];
}

type Counted = Pick<RouterCounters, 'rows' | 'postingsProbed' | 'residualsEvaluated' | 'lookups'>;

function counters(r: Router): Counted {
  const c = r.stats().counters;
  return {
    rows: c.rows,
    postingsProbed: c.postingsProbed,
    residualsEvaluated: c.residualsEvaluated,
    lookups: c.lookups,
  };
}

/**
 * Steady state, as a router that has routed a stream for a while: copies of the rows (fresh record objects, same
 * texts) are routed until the JIT has seen them twice over or half the budget is spent. Without it the timed rows
 * are the first few thousand the code ever ran, and half of them ran in unoptimised tiers (issue 12: the seed mix
 * at 1k measured 3.7 µs a row this way, 1.2 µs once warm).
 */
function warmUp(core: ReturnType<typeof routerCore>, rows: ZooWorkload['rows'], budgetMs: number): void {
  const deadline = process.hrtime.bigint() + BigInt(Math.round(budgetMs * 1e6));
  for (let pass = 0; pass < WARM_PASSES; pass++)
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i] as ZooWorkload['rows'][number];
      core.routeInto({ ...r, record: { ...r.record } });
      if ((i & 63) === 0 && process.hrtime.bigint() > deadline) return;
    }
}

const WARM_PASSES = 2;

/** One case: add every shape (timed, heap measured after gc), route warm-up rows, then time each row. */
function runCase(w: ZooWorkload, budgetMs: number, overhead: number): Omit<ZooResult, 'floorRatio'> {
  const h0 = heapUsed();
  const router = new Router({ schema: w.schema });
  let t0 = process.hrtime.bigint();
  for (const s of w.shapes) router.addShape(s.id, s.def);
  const addNs = Number(process.hrtime.bigint() - t0);
  const bytes = gc !== undefined ? (heapUsed() - h0) / w.shapes.length : NaN;
  const warm = Math.min(200, Math.floor(w.rows.length / 5));
  // Rows go through the core's integer path (what shard workers use): the figure is the router's own cost, without
  // turning shape integers into id strings, which costs every workload the same per id.
  const core = routerCore(router);
  const out = core.ctx.out;
  for (let i = 0; i < warm; i++) core.routeInto(w.rows[i] as ZooWorkload['rows'][number]);
  warmUp(core, w.rows, budgetMs / 2);
  const c0 = counters(router);
  const samples = new Float64Array(w.rows.length - warm);
  const perId = new Float64Array(w.rows.length - warm);
  let hitRows = 0;
  let ids = 0;
  let n = 0;
  let total = 0;
  const deadline = process.hrtime.bigint() + BigInt(Math.round(budgetMs * 1e6));
  for (let i = warm; i < w.rows.length; i++) {
    const a = process.hrtime.bigint();
    const k = core.routeInto(w.rows[i] as ZooWorkload['rows'][number]) ? out.length : 0;
    const b = process.hrtime.bigint();
    const ns = Math.max(0, Number(b - a) - overhead);
    samples[n++] = ns;
    total += ns;
    ids += k;
    if (k > 0) perId[hitRows++] = ns / k;
    if (b > deadline && n >= 50) break;
  }
  const c1 = counters(router);
  const timed = samples.subarray(0, n).sort();
  const k = Math.min(2_000, w.shapes.length);
  const stride = Math.max(1, Math.floor(w.shapes.length / k));
  let removed = 0;
  t0 = process.hrtime.bigint();
  for (let i = 0; i < w.shapes.length && removed < k; i += stride, removed++)
    router.removeShape((w.shapes[i] as ZooWorkload['shapes'][number]).id);
  const removeNs = Number(process.hrtime.bigint() - t0);
  const rows = c1.rows - c0.rows;
  return {
    name: w.name,
    shapes: w.shapes.length,
    rows: n,
    medianNs: quantile(timed, 0.5),
    p99Ns: quantile(timed, 0.99),
    meanNs: total / n,
    idsPerRow: ids / n,
    nsPerId: quantile(perId.subarray(0, hitRows).sort(), 0.5),
    meanNsPerId: ids > 0 ? total / ids : NaN,
    candidatesPerMatch: ids > 0 ? (c1.postingsProbed - c0.postingsProbed) / ids : NaN,
    residualsPerRow: (c1.residualsEvaluated - c0.residualsEvaluated) / Math.max(1, rows),
    lookupsPerRow: (c1.lookups - c0.lookups) / Math.max(1, rows),
    bytesPerShape: bytes,
    addUs: addNs / w.shapes.length / 1000,
    removeUs: removed > 0 ? removeNs / removed / 1000 : NaN,
  };
}

export async function runZoo(opts: ZooOptions = {}): Promise<ZooReport> {
  const shapes = opts.shapes ?? 20_000;
  const rows = opts.rows ?? 2_000;
  const budgetMs = opts.budgetMs ?? 3_000;
  const progress = opts.onProgress ?? ((): void => undefined);
  const wanted = opts.cases;
  const pick = (name: string): boolean => wanted === undefined || wanted.includes(name);
  const overhead = timerOverhead();
  const loadBefore = os.loadavg();
  const startedAt = new Date().toISOString();
  const raw: Omit<ZooResult, 'floorRatio'>[] = [];
  // The floor is always measured (first), so every ratio compares figures of one run.
  for (const c of ZOO_CASES) {
    if (c.name !== 'hot-key' && !pick(c.name)) continue;
    progress(`${c.name}: ${shapes.toLocaleString('en-US')} shapes`);
    raw.push(runCase(makeZooWorkload(c, shapes, rows), budgetMs, overhead));
    await new Promise((r) => setImmediate(r));
  }
  if (pick('seed-mix')) {
    for (const n of opts.seedSizes ?? [1_000, 10_000, 100_000, 1_000_000]) {
      progress(`seed-mix: ${n.toLocaleString('en-US')} shapes`);
      raw.push(runCase(seedMixWorkload(n, Math.max(rows, 5_000)), budgetMs, overhead));
      await new Promise((r) => setImmediate(r));
    }
  }
  const floor = raw.find((r) => r.name === 'hot-key')?.nsPerId ?? NaN;
  const cpus = os.cpus();
  return {
    machine: {
      cpu: cpus[0]?.model ?? 'unknown',
      cores: cpus.length,
      memGb: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
      gcExposed: gc !== undefined,
    },
    startedAt,
    loadBefore,
    loadAfter: os.loadavg(),
    floorNsPerId: floor,
    results: raw.map((r) => ({ ...r, floorRatio: r.nsPerId / floor })),
  };
}

const f = (x: number, d = 0): string =>
  Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '–';

export function zooMarkdown(report: ZooReport): string {
  const m = report.machine;
  const load = (l: readonly number[]): string => l.map((x) => x.toFixed(2)).join(' / ');
  const lines = [
    `Workload zoo — ${report.startedAt} — ${m.cpu} × ${m.cores}, ${m.memGb} GB, Node ${m.node}, ${m.platform}`,
    `load average before ${load(report.loadBefore)}, after ${load(report.loadAfter)}${m.gcExposed ? '' : ' (heap figures need --expose-gc)'}`,
    '',
    `Floor (hot key, same run): **${f(report.floorNsPerId, 1)} ns per emitted id**. One Router per case; rows routed one at a time through the core's integer path (\`routeInto\`, as shard workers route). ns/id is the median over rows of the row's time over its ids; mean ns/id is total time over total ids (GC pauses included).`,
    '',
    '| workload | shapes | rows timed | median ns/row | p99 ns/row | ids/row | ns/id | × floor | mean ns/id | candidates/match | residuals/row | lookups/row | B/shape | add µs | remove µs |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of report.results)
    lines.push(
      `| ${r.name} | ${f(r.shapes)} | ${f(r.rows)} | ${f(r.medianNs)} | ${f(r.p99Ns)} | ${f(r.idsPerRow, 1)} | ${f(r.nsPerId, 1)} | ${f(r.floorRatio, 1)}× | ${f(r.meanNsPerId, 1)} | ${f(r.candidatesPerMatch, 2)} | ${f(r.residualsPerRow, 1)} | ${f(r.lookupsPerRow, 1)} | ${f(r.bytesPerShape)} | ${f(r.addUs, 2)} | ${f(r.removeUs, 2)} |`,
    );
  lines.push('', 'Cases:', '');
  for (const c of ZOO_CASES) lines.push(`- \`${c.name}\`: \`${c.where}\` — ${c.about}.`);
  lines.push(
    "- `seed-mix`: the router bench's seed mix (80% `user_id = $1`, 15% `tags @> $1`, 5% complex), inserts only.",
  );
  return lines.join('\n') + '\n';
}

/** Bars of ns per emitted id, one group per workload, each noted with its ratio to the floor. */
export function zooChartSvg(report: ZooReport): string {
  const m = report.machine;
  const groups = report.results
    .filter((r) => Number.isFinite(r.nsPerId))
    .map((r) => ({
      group: r.name === 'seed-mix' ? `seed ${f(r.shapes / 1000)}k` : r.name,
      bars: [{ label: 'ns per emitted id', value: r.nsPerId, note: `${f(r.floorRatio, 1)}×` }],
    }));
  return barChartSvg(
    groups,
    `Workload zoo: ns per emitted id (× hot-key floor) — ${m.cpu} × ${m.cores}, Node ${m.node}, ${report.startedAt}`,
    'ns / id',
  );
}
