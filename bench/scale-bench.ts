// The path to ten million shapes (issue 5): one Router loaded from a JSON-lines file of seed-mix shapes at each
// size — load rate, heap bytes per shape, per-change median and p99 — with the machine's memory latency for context.
// `switchyard bench --shapes 10m` (or `--suite scale --shapes 1m,10m`) runs it with progress bars; results go to
// scale.md, scale.json and scale-latency.svg in bench/out/ (or --out).
import { rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { Router, type Change, type ShapeDef } from '../src/router/index.js';
import { loadShapes, writeShapesFile, type LoadProgress } from '../src/shard/index.js';
import { latencyChartSvg } from './chart.js';
import { BENCH_SCHEMA, BENCH_TABLE, rng } from './router-workloads.js';

export interface ScaleFigure {
  readonly shapes: number;
  readonly loadShapesPerSec: number;
  readonly loadSeconds: number;
  /** V8 heap growth per shape (what --max-old-space-size bounds). */
  readonly heapBytesPerShape: number;
  /** Heap plus typed-array backing stores (KeyTable slots, entry columns), which live outside the V8 heap. */
  readonly totalBytesPerShape: number;
  readonly heapGiB: number;
  readonly totalGiB: number;
  readonly medianNs: number;
  readonly p99Ns: number;
  readonly meanNs: number;
  readonly matchesPerChange: number;
  /** Routing lookups (hash probes, tree nodes, trie steps) per row image: the work that misses cache at scale. */
  readonly lookupsPerRow: number;
}

export interface ScaleReport {
  readonly machine: {
    readonly cpu: string;
    readonly cores: number;
    readonly node: string;
    readonly loadavgStart: readonly number[];
    readonly loadavgEnd: readonly number[];
  };
  /** ns per dependent random load over a working set of that many MiB (pointer chase): what one cache miss costs here. */
  readonly memoryLatencyNs: Readonly<Record<string, number>>;
  readonly startedAt: string;
  readonly figures: readonly ScaleFigure[];
}

export interface ScaleOptions {
  readonly sizes: readonly number[];
  readonly changes?: number;
  readonly onLoad?: (shapes: number, p: LoadProgress) => void;
  readonly onMessage?: (m: string) => void;
}

const gc = (globalThis as { gc?: () => void }).gc;
function memory(): { heap: number; total: number } {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, total: m.heapUsed + m.arrayBuffers };
}

/** Seed-mix shapes streamed (10M shape objects would not fit next to the router): 80% `user_id =`, 15% `tags @>`, 5% range/ILIKE/expression. */
export function* seedMixShapes(n: number, seed: number): Generator<{ id: string; def: ShapeDef }> {
  const r = rng(seed);
  const users = n;
  const tags = Math.max(8, Math.floor(n / 4));
  for (let i = 0; i < n; i++) {
    const p = r();
    let def: ShapeDef;
    if (p < 0.8) def = { table: BENCH_TABLE, where: 'user_id = $1', params: { '1': String(Math.floor(r() * users)) } };
    else if (p < 0.95)
      def = { table: BENCH_TABLE, where: 'tags @> $1', params: { '1': `{t${Math.floor(r() * tags)}}` } };
    else {
      const lo = Math.floor(r() * 1_000_000);
      const k = i % 3;
      def =
        k === 0
          ? { table: BENCH_TABLE, where: 'score BETWEEN $1 AND $2', params: { '1': String(lo), '2': String(lo + 10) } }
          : k === 1
            ? { table: BENCH_TABLE, where: 'name ILIKE $1', params: { '1': `P${Math.floor(r() * n)}x%` } }
            : {
                table: BENCH_TABLE,
                where: 'lower(email) = $1',
                params: { '1': `u${Math.floor(r() * users)}@example.com` },
              };
    }
    yield { id: `shape-${i}`, def };
  }
}

/** Seed-mix rows (70% insert, 20% update, 10% delete) drawn from the domains of `n` shapes. */
export function seedMixChanges(n: number, count: number): Change[] {
  const r = rng(99);
  const int = (m: number): number => Math.floor(r() * m);
  const row = (id: number): Record<string, string> => ({
    id: String(id),
    user_id: String(int(n)),
    tenant_id: String(int(Math.max(1000, n / 8))),
    tags: `{t${int(Math.max(8, n / 4))},t${int(Math.max(8, n / 4))}}`,
    score: String(int(1_000_000)),
    price: `${int(2000)}.${String(int(100)).padStart(2, '0')}`,
    name: `p${int(n)}x${int(100)}`,
    email: `U${int(n)}@Example.com`,
    status: `st${int(n)}`,
    created_at: '2024-01-01 00:00:00+00',
  });
  const out: Change[] = [];
  for (let i = 0; i < count; i++) {
    const p = r();
    if (p < 0.7) out.push({ table: BENCH_TABLE, op: 'insert', record: row(i) });
    else if (p < 0.9) out.push({ table: BENCH_TABLE, op: 'update', oldRecord: row(i), record: row(i) });
    else out.push({ table: BENCH_TABLE, op: 'delete', oldRecord: row(i) });
  }
  return out;
}

/** Pointer chase through a random cyclic permutation of cache lines: the latency of one dependent DRAM access. */
export function memoryLatencyNs(mib: number, hops = 2_000_000): number {
  const step = 16; // int32s per 64-byte line
  const n = (mib * 1024 * 1024) / 4;
  const lines = n / step;
  const order = new Int32Array(lines);
  for (let i = 0; i < lines; i++) order[i] = i;
  const r = rng(mib);
  for (let i = lines - 1; i > 0; i--) {
    const j = Math.floor(r() * i);
    const t = order[i] as number;
    order[i] = order[j] as number;
    order[j] = t;
  }
  const a = new Int32Array(n);
  for (let i = 0; i < lines; i++) a[(order[i] as number) * step] = (order[(i + 1) % lines] as number) * step;
  let p = 0;
  for (let i = 0; i < 100_000; i++) p = a[p] as number;
  const t0 = performance.now();
  for (let i = 0; i < hops; i++) p = a[p] as number;
  const ns = ((performance.now() - t0) * 1e6) / hops;
  return p === -1 ? NaN : ns;
}

async function one(n: number, o: ScaleOptions): Promise<ScaleFigure> {
  const file = join(os.tmpdir(), `switchyard-scale-${process.pid}-${n}.jsonl`);
  o.onMessage?.(`writing ${n.toLocaleString('en-US')} seed-mix shapes to ${file}`);
  await writeShapesFile(file, seedMixShapes(n, 7));
  try {
    const h0 = memory();
    const router = new Router({ schema: BENCH_SCHEMA });
    const res = await loadShapes(file, router, { onProgress: (p) => o.onLoad?.(n, p) });
    if (res.failed > 0) throw new Error(`${res.failed} shapes failed to load: ${res.failures[0]?.message ?? ''}`);
    const h1 = memory();
    const changes = seedMixChanges(n, o.changes ?? 50_000);
    o.onMessage?.(
      `routing ${changes.length.toLocaleString('en-US')} changes through ${n.toLocaleString('en-US')} shapes`,
    );
    for (let i = 0; i < Math.min(5000, changes.length); i++) router.route(changes[i] as Change);
    const before = { ...router.stats().counters };
    const ns = new Float64Array(changes.length);
    let matches = 0;
    for (let i = 0; i < changes.length; i++) {
      const t0 = process.hrtime.bigint();
      matches += router.route(changes[i] as Change).length;
      ns[i] = Number(process.hrtime.bigint() - t0);
    }
    const after = router.stats().counters;
    const t0 = performance.now();
    for (const c of changes) router.route(c);
    const meanNs = ((performance.now() - t0) * 1e6) / changes.length;
    ns.sort();
    return {
      shapes: res.loaded,
      loadShapesPerSec: res.shapesPerSec,
      loadSeconds: res.elapsedMs / 1000,
      heapBytesPerShape: (h1.heap - h0.heap) / res.loaded,
      totalBytesPerShape: (h1.total - h0.total) / res.loaded,
      heapGiB: h1.heap / 2 ** 30,
      totalGiB: h1.total / 2 ** 30,
      medianNs: ns[Math.floor(ns.length / 2)] as number,
      p99Ns: ns[Math.floor(ns.length * 0.99)] as number,
      meanNs,
      matchesPerChange: matches / changes.length,
      lookupsPerRow: (after.lookups - before.lookups) / Math.max(1, after.rows - before.rows),
    };
  } finally {
    rmSync(file, { force: true });
  }
}

export async function runScaleBench(o: ScaleOptions): Promise<ScaleReport> {
  const cpus = os.cpus();
  const loadavgStart = os.loadavg();
  const startedAt = new Date().toISOString();
  const memoryLatency: Record<string, number> = {};
  for (const mib of [4, 64, 1024]) memoryLatency[`${mib}`] = memoryLatencyNs(mib);
  const figures: ScaleFigure[] = [];
  for (const n of o.sizes) figures.push(await one(n, o));
  return {
    machine: {
      cpu: cpus[0]?.model ?? 'unknown',
      cores: cpus.length,
      node: process.version,
      loadavgStart,
      loadavgEnd: os.loadavg(),
    },
    memoryLatencyNs: memoryLatency,
    startedAt,
    figures,
  };
}

const fmt = (x: number, d = 0): string =>
  x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

export function scaleMarkdown(r: ScaleReport): string {
  const m = r.machine;
  const lat = Object.entries(r.memoryLatencyNs)
    .map(([mib, ns]) => `${mib} MiB: ${fmt(ns, 0)} ns`)
    .join(', ');
  return [
    `# One Router at millions of seed-mix shapes — ${r.startedAt}`,
    '',
    `Machine: ${m.cpu} × ${m.cores}, Node ${m.node}; load average ${m.loadavgStart.map((x) => x.toFixed(1)).join(' / ')} at the start, ${m.loadavgEnd.map((x) => x.toFixed(1)).join(' / ')} at the end.`,
    `Memory latency (dependent random loads, pointer chase): ${lat}.`,
    '',
    'Shapes are loaded from a JSON-lines file (`loadShapes`: the byte reader for compact lines, JSON.parse for others, then `Router.addShape`); heap and typed-array buffers (`process.memoryUsage().arrayBuffers`: KeyTable slots and entry columns live there, outside the V8 heap) are measured after a full GC.',
    'Per-change latency is one `route()` call on a pre-built change (70% insert, 20% update = two row images, 10% delete), timed with hrtime.',
    '',
    '| shapes | load shapes/s | load s | heap B/shape | + buffers B/shape | heap GiB | + buffers GiB | median ns/change | p99 ns/change | mean ns/change | matches/change | lookups/row |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...r.figures.map(
      (f) =>
        `| ${fmt(f.shapes)} | ${fmt(f.loadShapesPerSec)} | ${fmt(f.loadSeconds, 1)} | ${fmt(f.heapBytesPerShape)} | ${fmt(f.totalBytesPerShape)} | ${fmt(f.heapGiB, 2)} | ${fmt(f.totalGiB, 2)} | ${fmt(f.medianNs)} | ${fmt(f.p99Ns)} | ${fmt(f.meanNs)} | ${fmt(f.matchesPerChange, 2)} | ${fmt(f.lookupsPerRow, 1)} |`,
    ),
    '',
    'Targets (issue 5, 10M shapes): heap ≤ 4 GiB, load ≥ 500,000 shapes/s, median ≤ 2 µs and p99 ≤ 20 µs per change.',
    '',
  ].join('\n');
}

/** Median latency per change against the number of shapes loaded. */
export function scaleChartSvg(r: ScaleReport): string {
  const points = r.figures.map((f) => ({
    workload: 'seed-mix' as const,
    shapes: f.shapes,
    mode: 'indexed' as const,
    medianNs: f.medianNs,
  }));
  return latencyChartSvg(
    points,
    `one Router loaded from a file, ${r.machine.cpu} × ${r.machine.cores}, ${r.startedAt}`,
  );
}
