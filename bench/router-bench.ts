// Runs the router workloads in `indexed`, `filter` and `naive` modes side by side and returns the figures as data.
import os from 'node:os';
import { Router } from '../src/router/index.js';
import type { Change, RowRecord } from '../src/router/index.js';
import { compileWhere } from '../src/where.js';
import type { Predicate } from '../src/eval/predicate.js';
import { latencyChartSvg } from './chart.js';
import {
  BENCH_SCHEMA,
  BENCH_TABLE,
  makeWorkload,
  WORKLOADS,
  type Workload,
  type WorkloadName,
} from './router-workloads.js';
import { gc, heapUsed, quantile, timerOverhead } from './measure.js';

export type BenchMode = 'indexed' | 'filter' | 'naive';

export interface RouterBenchOptions {
  readonly workloads?: readonly WorkloadName[];
  readonly counts?: readonly number[];
  readonly modes?: readonly BenchMode[];
  /** Changes routed per run (the naive loop routes fewer above 10k shapes; see `naiveChanges`). */
  readonly changes?: number;
  readonly naiveChanges?: number;
  /** The naive loop stops here (issue 3: at 100k). */
  readonly naiveLimit?: number;
  readonly seed?: number;
  /** Shapes removed (and timed) at the end of a run; removal of all shapes at 1M is slow to measure for nothing. */
  readonly removeSample?: number;
  readonly onProgress?: (p: BenchProgress) => void;
}

export interface BenchProgress {
  readonly workload: WorkloadName;
  readonly shapes: number;
  readonly mode: BenchMode;
  readonly phase: 'generate' | 'add' | 'route' | 'remove' | 'done';
  readonly done: number;
  readonly total: number;
}

export interface RouterBenchResult {
  readonly workload: WorkloadName;
  readonly shapes: number;
  readonly mode: BenchMode;
  readonly changes: number;
  readonly medianNs: number;
  readonly p99Ns: number;
  readonly meanNs: number;
  readonly changesPerSec: number;
  readonly addUs: number;
  readonly removeUs: number;
  /** Heap + ArrayBuffer growth per shape after adding all shapes (needs --expose-gc for a stable figure; NaN otherwise). */
  readonly heapBytesPerShape: number;
  readonly avgMatches: number;
}

export interface RouterBenchReport {
  readonly machine: {
    readonly cpu: string;
    readonly cores: number;
    readonly memGb: number;
    readonly node: string;
    readonly platform: string;
    readonly gcExposed: boolean;
  };
  readonly startedAt: string;
  readonly results: readonly RouterBenchResult[];
  /** Cells of the grid that were not measured, and why (absent in reports written before it was recorded). */
  readonly skipped?: readonly SkippedCell[];
}

export interface SkippedCell {
  readonly workload: WorkloadName;
  readonly shapes: number;
  readonly mode: BenchMode;
  readonly reason: string;
}

interface Target {
  add(id: string, def: Workload['shapes'][number]['def']): void;
  remove(id: string): void;
  route(c: Change): number;
}

/** The naive baseline: every shape's compiled predicate evaluated for every row. */
class NaiveLoop implements Target {
  private readonly preds: Predicate[] = [];
  private readonly ids: string[] = [];
  private readonly at = new Map<string, number>();
  add(id: string, def: Workload['shapes'][number]['def']): void {
    const cols = BENCH_SCHEMA[BENCH_TABLE] as Record<string, string>;
    this.at.set(id, this.preds.length);
    this.preds.push(compileWhere(def.where ?? 'true', cols, def.params ? { params: def.params } : {}));
    this.ids.push(id);
  }
  remove(id: string): void {
    const i = this.at.get(id);
    if (i === undefined) return;
    const last = this.preds.length - 1;
    this.preds[i] = this.preds[last] as Predicate;
    this.ids[i] = this.ids[last] as string;
    this.at.set(this.ids[i], i);
    this.preds.pop();
    this.ids.pop();
    this.at.delete(id);
  }
  route(c: Change): number {
    const rows: RowRecord[] =
      c.op === 'insert'
        ? [c.record]
        : c.op === 'delete'
          ? [c.oldRecord]
          : c.op === 'update'
            ? [c.oldRecord, c.record]
            : [];
    let n = 0;
    for (const p of this.preds) {
      let hit = false;
      for (const r of rows) {
        try {
          if (p.matches(r)) hit = true;
        } catch {
          hit = true;
        }
      }
      if (hit) n++;
    }
    return n;
  }
}

function target(mode: BenchMode): Target {
  if (mode === 'naive') return new NaiveLoop();
  const r = new Router({ schema: BENCH_SCHEMA, mode });
  return {
    add: (id, def) => r.addShape(id, def),
    remove: (id) => void r.removeShape(id),
    route: (c) => r.route(c).length,
  };
}

export async function runRouterBench(opts: RouterBenchOptions = {}): Promise<RouterBenchReport> {
  const workloads = opts.workloads ?? WORKLOADS;
  const counts = opts.counts ?? [1_000, 10_000, 100_000, 1_000_000];
  const modes = opts.modes ?? ['indexed', 'filter', 'naive'];
  const changeCount = opts.changes ?? 20_000;
  const naiveChanges = opts.naiveChanges ?? 200;
  const naiveLimit = opts.naiveLimit ?? 100_000;
  const removeSample = opts.removeSample ?? 10_000;
  const progress = opts.onProgress ?? ((): void => undefined);
  const overhead = timerOverhead();
  const results: RouterBenchResult[] = [];
  const skipped: SkippedCell[] = [];
  const startedAt = new Date().toISOString();
  for (const wl of workloads) {
    for (const n of counts) {
      progress({ workload: wl, shapes: n, mode: modes[0] as BenchMode, phase: 'generate', done: 0, total: 1 });
      const w = makeWorkload(wl, n, changeCount, opts.seed);
      for (const mode of modes) {
        const limit = `above ${naiveLimit.toLocaleString('en-US')} shapes`;
        if (mode === 'naive' && n > naiveLimit) {
          skipped.push({ workload: wl, shapes: n, mode, reason: `the naive loop stops ${limit}` });
          continue;
        }
        // Filter mode evaluates every unindexed shape per row: past 100k shapes of the all-complex mix it is hours.
        if (mode === 'filter' && wl === 'all-complex' && n > naiveLimit) {
          skipped.push({ workload: wl, shapes: n, mode, reason: `filter mode on all-complex takes hours ${limit}` });
          continue;
        }
        results.push(
          await runOne(
            w,
            n,
            mode,
            mode === 'naive' ? Math.min(naiveChanges, changeCount) : changeCount,
            removeSample,
            overhead,
            progress,
          ),
        );
        await new Promise((r) => setImmediate(r));
      }
    }
  }
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
    results,
    skipped,
  };
}

async function runOne(
  w: Workload,
  n: number,
  mode: BenchMode,
  changeCount: number,
  removeSample: number,
  overhead: number,
  progress: (p: BenchProgress) => void,
): Promise<RouterBenchResult> {
  const t = target(mode);
  const h0 = heapUsed();
  const step = Math.max(1, Math.floor(n / 100));
  let t0 = process.hrtime.bigint();
  for (let i = 0; i < w.shapes.length; i++) {
    const s = w.shapes[i] as Workload['shapes'][number];
    t.add(s.id, s.def);
    if (i % step === 0) progress({ workload: w.name, shapes: n, mode, phase: 'add', done: i, total: n });
  }
  const addNs = Number(process.hrtime.bigint() - t0);
  const heap = gc !== undefined ? (heapUsed() - h0) / n : NaN;
  // Warm up on the first changes, then time each change; slow modes get fewer changes (about 15 s of routing).
  const warm = Math.min(changeCount, mode === 'indexed' ? 500 : 50);
  const tw = process.hrtime.bigint();
  for (let i = 0; i < warm; i++) t.route(w.changes[i] as Change);
  const warmNs = Number(process.hrtime.bigint() - tw) / Math.max(1, warm);
  changeCount = Math.min(changeCount, Math.max(200, Math.floor(15e9 / Math.max(1, warmNs))));
  const samples = new Float64Array(changeCount);
  let matches = 0;
  const cstep = Math.max(1, Math.floor(changeCount / 50));
  const tRoute0 = process.hrtime.bigint();
  for (let i = 0; i < changeCount; i++) {
    const c = w.changes[i] as Change;
    const a = process.hrtime.bigint();
    matches += t.route(c);
    samples[i] = Math.max(0, Number(process.hrtime.bigint() - a) - overhead);
    if (i % cstep === 0) progress({ workload: w.name, shapes: n, mode, phase: 'route', done: i, total: changeCount });
  }
  const routeNs = Number(process.hrtime.bigint() - tRoute0);
  samples.sort();
  const k = Math.min(removeSample, n);
  const stride = Math.max(1, Math.floor(n / k));
  t0 = process.hrtime.bigint();
  let removed = 0;
  for (let i = 0; i < n && removed < k; i += stride, removed++)
    t.remove((w.shapes[i] as Workload['shapes'][number]).id);
  const removeNs = Number(process.hrtime.bigint() - t0);
  progress({ workload: w.name, shapes: n, mode, phase: 'done', done: 1, total: 1 });
  let sum = 0;
  for (const s of samples) sum += s;
  return {
    workload: w.name,
    shapes: n,
    mode,
    changes: changeCount,
    medianNs: quantile(samples, 0.5),
    p99Ns: quantile(samples, 0.99),
    meanNs: sum / changeCount,
    changesPerSec: changeCount / (routeNs / 1e9),
    addUs: addNs / n / 1000,
    removeUs: removed > 0 ? removeNs / removed / 1000 : NaN,
    heapBytesPerShape: heap,
    avgMatches: matches / changeCount,
  };
}

/**
 * Every cell of the grid a report covers (workload × shapes × mode, in run order), with its result or, for a cell not
 * measured, why: a missing row is said to be "not run" rather than left out.
 */
function grid(report: RouterBenchReport): ({ result: RouterBenchResult } | { skipped: SkippedCell })[] {
  const skipped = report.skipped ?? [];
  const all = [...report.results, ...skipped];
  const workloads = [...new Set(all.map((c) => c.workload))];
  const counts = [...new Set(all.map((c) => c.shapes))].sort((a, b) => a - b);
  const modes = [...new Set(all.map((c) => c.mode))];
  const cells: ({ result: RouterBenchResult } | { skipped: SkippedCell })[] = [];
  for (const workload of workloads) {
    for (const shapes of counts) {
      for (const mode of modes) {
        const same = (c: { workload: string; shapes: number; mode: string }): boolean =>
          c.workload === workload && c.shapes === shapes && c.mode === mode;
        const result = report.results.find(same);
        if (result) cells.push({ result });
        else cells.push({ skipped: skipped.find(same) ?? { workload, shapes, mode, reason: '' } });
      }
    }
  }
  return cells;
}

/** Markdown table of a report (the CLI writes it beside router.json). */
export function routerBenchMarkdown(report: RouterBenchReport): string {
  const m = report.machine;
  const lines = [
    `Router benchmark — ${report.startedAt} — ${m.cpu} × ${m.cores}, ${m.memGb} GB, Node ${m.node}, ${m.platform}${m.gcExposed ? '' : ' (heap figures need --expose-gc)'}`,
    '',
    '| workload | shapes | mode | median ns/change | p99 ns/change | changes/s | add µs/shape | remove µs/shape | heap+buffers B/shape | matches/change |',
    '|---|---:|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const f = (x: number, d = 0): string =>
    Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '–';
  for (const cell of grid(report)) {
    if ('skipped' in cell) {
      const c = cell.skipped;
      const why = c.reason === '' ? 'not run' : `not run: ${c.reason}`;
      lines.push(`| ${c.workload} | ${f(c.shapes)} | ${c.mode} | ${why} | | | | | | |`);
      continue;
    }
    const r = cell.result;
    lines.push(
      `| ${r.workload} | ${f(r.shapes)} | ${r.mode} | ${f(r.medianNs)} | ${f(r.p99Ns)} | ${f(r.changesPerSec)} | ${f(r.addUs, 2)} | ${f(r.removeUs, 2)} | ${f(r.heapBytesPerShape)} | ${f(r.avgMatches, 2)} |`,
    );
  }
  return lines.join('\n') + '\n';
}

/** The latency chart of a report; cells not run are listed under it instead of silently missing from the lines. */
export function routerChartSvg(report: RouterBenchReport): string {
  const m = report.machine;
  const notRun = grid(report).flatMap((c) =>
    'skipped' in c ? [`${c.skipped.mode} at ${c.skipped.shapes.toLocaleString('en-US')} (${c.skipped.workload})`] : [],
  );
  return latencyChartSvg(report.results, `${m.cpu} × ${m.cores}, Node ${m.node}, ${report.startedAt}`, notRun);
}
