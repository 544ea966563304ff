// Sharded routing figures (issue 5): ShardedRouter (1-3 shards, each placement) vs Router batch throughput
// at 1M shapes, batch transports, key filters and clause sharing (the 10M single-Router run is scale-bench.ts).
// `runShardBench(options)` returns the figures as data, shardBenchMarkdown/shardBenchSvg render them.
import os from 'node:os';
import { Router } from '../src/router/index.js';
import type { Change, ShapeDef } from '../src/router/index.js';
import { ShardedRouter, type OpenPlacement, type Transport } from '../src/shard/index.js';
import { BENCH_SCHEMA, BENCH_TABLE, makeWorkload, type WorkloadName } from './router-workloads.js';
import { barChartSvg, type BarGroup } from './chart.js';

export interface ShardBenchOptions {
  /** Shapes for the throughput runs (issue 5: 1M). */
  readonly shapes?: number;
  readonly workloads?: readonly WorkloadName[];
  readonly shardCounts?: readonly number[];
  readonly changes?: number;
  readonly batch?: number;
  /** Batches kept in flight per ShardedRouter. */
  readonly inFlight?: number;
  readonly transports?: readonly Transport[];
  /** ShardedRouter targets of the main comparison (default: 1, 2 and 3 shards replicated, 2 shards spread). */
  readonly targets?: readonly Target[];
  /** Measurement rounds per comparison (interleaved across targets). */
  readonly rounds?: number;
  /** Run the key-filter comparison (equality shapes only). */
  readonly keyFilter?: boolean;
  readonly onProgress?: (message: string) => void;
}

export interface ThroughputFigure {
  readonly workload: string;
  readonly shapes: number;
  readonly target: string;
  readonly changesPerSec: number;
  /** Median over rounds of (this rate / the Router's rate in the same round). */
  readonly speedup: number;
  readonly addShapesPerSec: number;
  /** changes/s of each round. */
  readonly rounds?: readonly number[];
  /**
   * Process CPU time (every thread, user + system) per change, median over rounds: the work a target does whatever
   * the load, where changes/s on a shared machine measures mostly how much CPU the scheduler gave it.
   */
  readonly cpuUsPerChange?: number;
}

export interface ShardBenchReport {
  readonly machine: {
    readonly cpu: string;
    readonly cores: number;
    readonly loadavg: readonly number[];
    readonly loadavgAtStart: readonly number[];
    readonly node: string;
  };
  readonly startedAt: string;
  readonly options: {
    readonly shapes: number;
    readonly changes: number;
    readonly batch: number;
    readonly inFlight: number;
    readonly rounds: number;
  };
  readonly throughput: readonly ThroughputFigure[];
  readonly transports: readonly ThroughputFigure[];
  readonly keyFilter: readonly ThroughputFigure[];
  readonly sharing: {
    readonly distinctBytesPerShape: number;
    readonly identicalBytesPerShape: number;
    readonly shapes: number;
  };
}

const gc = (globalThis as { gc?: () => void }).gc;
function heapUsed(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}

function routerRate(r: Router, changes: readonly Change[]): number {
  const t0 = performance.now();
  for (const c of changes) r.route(c);
  return changes.length / ((performance.now() - t0) / 1000);
}

async function shardedRate(
  r: ShardedRouter,
  batches: readonly Change[][],
  count: number,
  inFlight: number,
): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < batches.length) await r.routeBatch(batches[next++] as Change[]);
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return count / ((performance.now() - t0) / 1000);
}

/** A target of the comparison: the in-process Router (no `shards`) or a ShardedRouter with these options. */
export interface Target {
  readonly label: string;
  readonly shards?: number;
  readonly placement?: OpenPlacement;
  readonly transport?: Transport;
  readonly keyFilter?: boolean;
  readonly minSplitPart?: number;
  readonly localShard?: boolean;
  /** Another build's ShardedRouter class (before/after comparisons in one run); default this tree's. */
  readonly impl?: typeof ShardedRouter;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0
    ? NaN
    : s.length % 2
      ? (s[s.length >> 1] as number)
      : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};

/**
 * Builds every target over the same shapes, then measures them in interleaved rounds (the order rotating each round)
 * so that load from other processes falls on all of them alike: a target's speedup is the median over rounds of its
 * rate divided by the Router's rate in the same round.
 */
async function throughput(
  name: string,
  shapes: readonly { id: string; def: ShapeDef }[],
  changes: readonly Change[],
  targets: readonly Target[],
  o: Required<Pick<ShardBenchOptions, 'batch' | 'inFlight' | 'rounds'>> & ShardBenchOptions,
): Promise<ThroughputFigure[]> {
  const built: { t: Target; router: Router | null; sharded: ShardedRouter | null; add: number }[] = [];
  const batches: Change[][] = [];
  for (let i = 0; i < changes.length; i += o.batch) batches.push(changes.slice(i, i + o.batch));
  try {
    for (const t of targets) {
      const t0 = performance.now();
      if (t.shards === undefined) {
        const r = new Router({ schema: BENCH_SCHEMA });
        for (const s of shapes) r.addShape(s.id, s.def);
        built.push({ t, router: r, sharded: null, add: shapes.length / ((performance.now() - t0) / 1000) });
        for (let i = 0; i < Math.min(2000, changes.length); i++) r.route(changes[i] as Change);
      } else {
        const r = new (t.impl ?? ShardedRouter)({
          schema: BENCH_SCHEMA,
          shards: t.shards,
          ...(t.placement ? { placement: t.placement } : {}),
          ...(t.transport ? { transport: t.transport } : {}),
          ...(t.keyFilter !== undefined ? { keyFilter: t.keyFilter } : {}),
          ...(t.minSplitPart !== undefined ? { minSplitPart: t.minSplitPart } : {}),
          ...(t.localShard !== undefined ? { localShard: t.localShard } : {}),
        });
        built.push({ t, router: null, sharded: r, add: 0 });
        for (let i = 0; i < shapes.length; i += 100_000) await r.addShapes(shapes.slice(i, i + 100_000));
        (built[built.length - 1] as { add: number }).add = shapes.length / ((performance.now() - t0) / 1000);
        await r.routeBatch(batches[0] as Change[]);
      }
      o.onProgress?.(`${name}: built ${t.label} (${shapes.length} shapes)`);
    }
    const rates = built.map(() => [] as number[]);
    const ratios = built.map(() => [] as number[]);
    const cpu = built.map(() => [] as number[]);
    for (let round = 0; round < o.rounds; round++) {
      const order = built.map((_, i) => (i + round) % built.length);
      const got = new Array<number>(built.length).fill(NaN);
      for (const i of order) {
        const b = built[i] as (typeof built)[number];
        const c0 = process.cpuUsage();
        got[i] =
          b.router !== null
            ? routerRate(b.router, changes)
            : await shardedRate(b.sharded as ShardedRouter, batches, changes.length, o.inFlight);
        const c1 = process.cpuUsage(c0);
        (cpu[i] as number[]).push((c1.user + c1.system) / changes.length);
      }
      const base = built.findIndex((b) => b.router !== null);
      got.forEach((g, i) => {
        (rates[i] as number[]).push(g);
        if (base >= 0) (ratios[i] as number[]).push(g / (got[base] as number));
      });
      o.onProgress?.(
        `${name}: round ${round + 1}/${o.rounds} load ${os.loadavg()[0]?.toFixed(1)}: ${built.map((b, i) => `${b.t.label} ${Math.round(got[i] as number)}`).join(', ')}`,
      );
    }
    return built.map((b, i) => ({
      workload: name,
      shapes: shapes.length,
      target: b.t.label,
      changesPerSec: median(rates[i] as number[]),
      speedup: median(ratios[i] as number[]),
      addShapesPerSec: b.add,
      rounds: rates[i] as number[],
      cpuUsPerChange: median(cpu[i] as number[]),
    }));
  } finally {
    for (const b of built) await b.sharded?.close();
  }
}

function sharing(n: number): ShardBenchReport['sharing'] {
  const measure = (f: (i: number) => ShapeDef): number => {
    const h0 = heapUsed();
    const r = new Router({ schema: BENCH_SCHEMA });
    for (let i = 0; i < n; i++) r.addShape(`s${i}`, f(i));
    const b = (heapUsed() - h0) / n;
    void r.shapeCount;
    return b;
  };
  return {
    shapes: n,
    distinctBytesPerShape: measure((i) => ({
      table: BENCH_TABLE,
      where: 'score > $1 AND name LIKE $2',
      params: { '1': String(i), '2': `p${i}%` },
    })),
    identicalBytesPerShape: measure(() => ({
      table: BENCH_TABLE,
      where: 'score > $1 AND name LIKE $2',
      params: { '1': '5', '2': 'p%' },
    })),
  };
}

export const DEFAULT_TARGETS: readonly Target[] = [
  { label: 'ShardedRouter×1', shards: 1 },
  { label: 'ShardedRouter×2', shards: 2, placement: 'replicate' },
  { label: 'ShardedRouter×3', shards: 3, placement: 'replicate' },
  { label: 'ShardedRouter×2 spread', shards: 2, placement: 'spread' },
  { label: 'ShardedRouter×2 rows', shards: 2, placement: 'rows' },
];

export async function runShardBench(options: ShardBenchOptions = {}): Promise<ShardBenchReport> {
  const o = { batch: 1000, inFlight: 2, rounds: 3, ...options };
  const n = o.shapes ?? 1_000_000;
  const changeCount = o.changes ?? 100_000;
  const targets: Target[] = [{ label: 'Router' }, ...(o.targets ?? DEFAULT_TARGETS)];
  const thr: ThroughputFigure[] = [];
  const transports: ThroughputFigure[] = [];
  const keyFilter: ThroughputFigure[] = [];
  const load0 = os.loadavg();
  for (const w of o.workloads ?? (['seed-mix', 'all-complex'] as const)) {
    o.onProgress?.(`${w}: generating ${n} shapes`);
    const wl = makeWorkload(w, n, changeCount);
    thr.push(...(await throughput(w, wl.shapes, wl.changes, targets, o)));
    if (w === 'seed-mix') {
      const tc = (o.transports ?? ['packed', 'clone']).map((t): Target => ({
        label: `ShardedRouter×2 ${t}`,
        shards: 2,
        transport: t,
      }));
      if (tc.length > 0)
        transports.push(
          ...(await throughput(
            w,
            wl.shapes,
            wl.changes,
            [{ label: 'Router' }, { label: 'ShardedRouter×2 shared', shards: 2 }, ...tc],
            o,
          )),
        );
      if (o.keyFilter ?? true) {
        // key filters only matter where rows need not visit every shard: equality shapes alone
        const keyed = wl.shapes.filter((s) => s.def.where === 'user_id = $1');
        const kc = [true, false].map((k): Target => ({
          label: `ShardedRouter×2 keyFilter=${k}`,
          shards: 2,
          keyFilter: k,
        }));
        keyFilter.push(
          ...(await throughput('seed-mix equality only', keyed, wl.changes, [{ label: 'Router' }, ...kc], o)),
        );
      }
    }
  }
  const shares = sharing(Math.min(n, 200_000));
  return {
    machine: {
      cpu: os.cpus()[0]?.model ?? 'unknown',
      cores: os.availableParallelism(),
      loadavg: os.loadavg(),
      loadavgAtStart: load0,
      node: process.version,
    },
    startedAt: new Date().toISOString(),
    options: { shapes: n, changes: changeCount, batch: o.batch, inFlight: o.inFlight, rounds: o.rounds },
    throughput: thr,
    transports,
    keyFilter,
    sharing: shares,
  };
}

const fmt = (x: number): string => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '—');

/** The results as Markdown (bench/results/shard-bench.md); `notes` are prepended under the title. */
export function shardBenchMarkdown(r: ShardBenchReport, notes: readonly string[] = []): string {
  const m = r.machine;
  const load = (xs: readonly number[]): string => xs.map((x) => x.toFixed(1)).join(' / ');
  const out: string[] = [
    '# Sharded routing (issue 5)',
    '',
    `${r.startedAt} — ${m.cpu} × ${m.cores}, Node ${m.node}. Load average ${load(m.loadavgAtStart)} at the start, ${load(m.loadavg)} at the end (other helpers' tests and benchmarks share the machine). ${fmt(r.options.shapes)} shapes, ${fmt(r.options.changes)} changes in batches of ${r.options.batch}, ${r.options.inFlight} in flight; every target built over the same shapes, then measured in ${r.options.rounds} interleaved rounds: changes/s is the median round, × Router the median of the per-round ratios. Raw data: \`shard-bench.json\`; chart: \`shard-bench.svg\`.`,
    ...notes.flatMap((n) => ['', n]),
    '',
    '## Batch throughput',
    '',
    '| workload | target | changes/s | × Router | rounds (changes/s) | CPU µs/change (all threads) | shape adds/s |',
    '|---|---|---:|---:|---|---:|---:|',
    ...r.throughput.map(
      (f) =>
        `| ${f.workload} | ${f.target} | ${fmt(f.changesPerSec)} | ${f.speedup.toFixed(2)} | ${(f.rounds ?? []).map(fmt).join(', ')} | ${f.cpuUsPerChange?.toFixed(1) ?? '—'} | ${fmt(f.addShapesPerSec)} |`,
    ),
  ];
  if (r.transports.length > 0) {
    out.push(
      '',
      '## Batch transport (seed mix, 2 shards)',
      '',
      '| transport | changes/s | × Router |',
      '|---|---:|---:|',
    );
    for (const f of r.transports) out.push(`| ${f.target} | ${fmt(f.changesPerSec)} | ${f.speedup.toFixed(2)} |`);
  }
  if (r.keyFilter.length > 0) {
    out.push(
      '',
      '## Per-shard key filter (equality shapes only, from the seed mix)',
      '',
      '| target | changes/s | × Router |',
      '|---|---:|---:|',
    );
    for (const f of r.keyFilter) out.push(`| ${f.target} | ${fmt(f.changesPerSec)} | ${f.speedup.toFixed(2)} |`);
  }
  out.push(
    '',
    `## Sharing of identical clauses (one Router, ${fmt(r.sharing.shapes)} shapes of \`score > $1 AND name LIKE $2\`)`,
    '',
  );
  out.push(
    `distinct parameters: ${fmt(r.sharing.distinctBytesPerShape)} B/shape; identical parameters: ${fmt(r.sharing.identicalBytesPerShape)} B/shape.`,
  );
  return `${out.join('\n')}\n`;
}

/** Chart of the main comparison: changes/s per target, one group per workload, × Router above each bar. */
export function shardBenchSvg(r: ShardBenchReport): string {
  const groups: BarGroup[] = [...new Set(r.throughput.map((f) => f.workload))].map((w) => ({
    group: `${w}, ${fmt(r.throughput.find((f) => f.workload === w)?.shapes ?? 0)} shapes`,
    bars: r.throughput
      .filter((f) => f.workload === w)
      .map((f) => ({ label: f.target, value: f.changesPerSec, note: `${f.speedup.toFixed(2)}×` })),
  }));
  const m = r.machine;
  return barChartSvg(
    groups,
    `Batch throughput, ShardedRouter vs Router — ${m.cores} cores, load ${m.loadavgAtStart[0]?.toFixed(1)}→${m.loadavg[0]?.toFixed(1)}, ${r.startedAt.slice(0, 10)}`,
    'changes/s',
  );
}

/** Entry point without a CLI: `node --expose-gc --max-old-space-size=16384 --import tsx bench/shard-bench.ts [shapes] [rounds]` (the 10M single-Router run is bench/scale-bench.ts). */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const report = await runShardBench({
    ...(argv[0] ? { shapes: Number(argv[0]) } : {}),
    ...(argv[1] ? { rounds: Number(argv[1]) } : {}),
    onProgress: (m) => process.stderr.write(`${m}\n`),
  });
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
