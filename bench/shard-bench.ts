// Sharded routing and scale figures (issue 5): ShardedRouter (1, 2 shards) vs Router batch throughput at 1M shapes,
// batch transports, key filters, and one Router at 10M seed-mix shapes (load rate, bytes per shape, latency).
// `runShardBench(options)` returns the figures as data; run this file directly (node --expose-gc, tsx) for a JSON dump.
import os from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { Router } from '../src/router/index.js';
import type { Change, ShapeDef } from '../src/router/index.js';
import { ShardedRouter, loadShapes, writeShapesFile, type Transport } from '../src/shard/index.js';
import { BENCH_SCHEMA, BENCH_TABLE, makeWorkload, rng, type WorkloadName } from './router-workloads.js';

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
  /** Shapes for the single-Router scale run (issue 5: 10M; 0 skips it). */
  readonly scaleShapes?: number;
  readonly onProgress?: (message: string) => void;
}

export interface ThroughputFigure {
  readonly workload: string;
  readonly shapes: number;
  readonly target: string;
  readonly changesPerSec: number;
  readonly speedup: number;
  readonly addShapesPerSec: number;
}

export interface ScaleFigure {
  readonly shapes: number;
  readonly loadShapesPerSec: number;
  readonly heapBytesPerShape: number;
  readonly heapGiB: number;
  readonly medianNs: number;
  readonly p99Ns: number;
}

export interface ShardBenchReport {
  readonly machine: { readonly cpu: string; readonly cores: number; readonly loadavg: readonly number[]; readonly node: string };
  readonly throughput: readonly ThroughputFigure[];
  readonly transports: readonly ThroughputFigure[];
  readonly keyFilter: readonly ThroughputFigure[];
  readonly sharing: { readonly distinctBytesPerShape: number; readonly identicalBytesPerShape: number; readonly shapes: number };
  readonly scale: ScaleFigure | null;
}

const gc = (globalThis as { gc?: () => void }).gc;
function heapUsed(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}

function routerRate(r: Router, changes: readonly Change[]): number {
  for (let i = 0; i < Math.min(2000, changes.length); i++) r.route(changes[i] as Change);
  const t0 = performance.now();
  for (const c of changes) r.route(c);
  return changes.length / ((performance.now() - t0) / 1000);
}

async function shardedRate(r: ShardedRouter, changes: readonly Change[], batch: number, inFlight: number): Promise<number> {
  const batches: Change[][] = [];
  for (let i = 0; i < changes.length; i += batch) batches.push(changes.slice(i, i + batch) as Change[]);
  await r.routeBatch(batches[0] as Change[]);
  const t0 = performance.now();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < batches.length) await r.routeBatch(batches[next++] as Change[]);
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return changes.length / ((performance.now() - t0) / 1000);
}

async function throughput(
  name: string,
  shapes: readonly { id: string; def: ShapeDef }[],
  changes: readonly Change[],
  configs: readonly { label: string; shards: number; transport: Transport; keyFilter: boolean }[],
  o: Required<Pick<ShardBenchOptions, 'batch' | 'inFlight'>> & ShardBenchOptions,
  withRouter: boolean,
): Promise<ThroughputFigure[]> {
  const out: ThroughputFigure[] = [];
  let base = NaN;
  if (withRouter) {
    const r = new Router({ schema: BENCH_SCHEMA });
    const t0 = performance.now();
    for (const s of shapes) r.addShape(s.id, s.def);
    const add = shapes.length / ((performance.now() - t0) / 1000);
    base = routerRate(r, changes);
    out.push({ workload: name, shapes: shapes.length, target: 'Router', changesPerSec: base, speedup: 1, addShapesPerSec: add });
    o.onProgress?.(`${name}: Router ${Math.round(base)} changes/s`);
  }
  for (const c of configs) {
    const r = new ShardedRouter({ schema: BENCH_SCHEMA, shards: c.shards, transport: c.transport, keyFilter: c.keyFilter });
    try {
      const t0 = performance.now();
      for (let i = 0; i < shapes.length; i += 100_000) await r.addShapes(shapes.slice(i, i + 100_000));
      const add = shapes.length / ((performance.now() - t0) / 1000);
      const rate = await shardedRate(r, changes, o.batch, o.inFlight);
      out.push({ workload: name, shapes: shapes.length, target: c.label, changesPerSec: rate, speedup: rate / base, addShapesPerSec: add });
      o.onProgress?.(`${name}: ${c.label} ${Math.round(rate)} changes/s`);
    } finally {
      await r.close();
    }
  }
  return out;
}

/** Seed-mix shape lines for `n` shapes, streamed (the 10M set does not fit as objects next to the router). */
function* seedMixShapes(n: number, seed: number): Generator<{ id: string; def: ShapeDef }> {
  const r = rng(seed);
  const users = n;
  const tags = Math.max(8, Math.floor(n / 4));
  for (let i = 0; i < n; i++) {
    const p = r();
    let def: ShapeDef;
    if (p < 0.8) def = { table: BENCH_TABLE, where: 'user_id = $1', params: { '1': String(Math.floor(r() * users)) } };
    else if (p < 0.95) def = { table: BENCH_TABLE, where: 'tags @> $1', params: { '1': `{t${Math.floor(r() * tags)}}` } };
    else {
      const lo = Math.floor(r() * 1_000_000);
      const k = i % 3;
      def =
        k === 0
          ? { table: BENCH_TABLE, where: 'score BETWEEN $1 AND $2', params: { '1': String(lo), '2': String(lo + 10) } }
          : k === 1
            ? { table: BENCH_TABLE, where: 'name ILIKE $1', params: { '1': `P${Math.floor(r() * n)}x%` } }
            : { table: BENCH_TABLE, where: 'lower(email) = $1', params: { '1': `u${Math.floor(r() * users)}@example.com` } };
    }
    yield { id: `shape-${i}`, def };
  }
}

async function scale(n: number, o: ShardBenchOptions): Promise<ScaleFigure> {
  const file = join(tmpdir(), `switchyard-shapes-${process.pid}.jsonl`);
  o.onProgress?.(`scale: writing ${n} shapes to ${file}`);
  await writeShapesFile(file, seedMixShapes(n, 7));
  try {
    const h0 = heapUsed();
    const r = new Router({ schema: BENCH_SCHEMA });
    let lastPct = -1;
    const res = await loadShapes(file, r, {
      onProgress: (p) => {
        const pct = Math.floor((100 * p.bytes) / p.totalBytes);
        if (pct >= lastPct + 10) {
          lastPct = pct;
          o.onProgress?.(`scale: loaded ${p.loaded} (${pct}%), ${Math.round(p.loaded / (p.elapsedMs / 1000))} shapes/s`);
        }
      },
    });
    const h1 = heapUsed();
    // rows with the seed-mix domains of n shapes (as the workload generator draws them at this scale)
    const rows = makeChanges(n, 50_000);
    for (let i = 0; i < 5000; i++) r.route(rows[i] as Change);
    const ns = new Float64Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const t0 = process.hrtime.bigint();
      r.route(rows[i] as Change);
      ns[i] = Number(process.hrtime.bigint() - t0);
    }
    ns.sort();
    return {
      shapes: res.loaded,
      loadShapesPerSec: res.shapesPerSec,
      heapBytesPerShape: (h1 - h0) / res.loaded,
      heapGiB: h1 / 2 ** 30,
      medianNs: ns[Math.floor(ns.length / 2)] as number,
      p99Ns: ns[Math.floor(ns.length * 0.99)] as number,
    };
  } finally {
    rmSync(file, { force: true });
  }
}

/** Seed-mix rows (70% insert, 20% update, 10% delete) with the domains of `n` shapes. */
function makeChanges(n: number, count: number): Change[] {
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
    distinctBytesPerShape: measure((i) => ({ table: BENCH_TABLE, where: 'score > $1 AND name LIKE $2', params: { '1': String(i), '2': `p${i}%` } })),
    identicalBytesPerShape: measure(() => ({ table: BENCH_TABLE, where: 'score > $1 AND name LIKE $2', params: { '1': '5', '2': 'p%' } })),
  };
}

export async function runShardBench(options: ShardBenchOptions = {}): Promise<ShardBenchReport> {
  const o = { batch: 1000, inFlight: 2, ...options };
  const n = o.shapes ?? 1_000_000;
  const changeCount = o.changes ?? 100_000;
  const shardCounts = o.shardCounts ?? [1, 2];
  const thr: ThroughputFigure[] = [];
  const transports: ThroughputFigure[] = [];
  const keyFilter: ThroughputFigure[] = [];
  for (const w of o.workloads ?? (['seed-mix', 'all-complex'] as const)) {
    o.onProgress?.(`${w}: generating ${n} shapes`);
    const wl = makeWorkload(w, n, changeCount);
    const configs = shardCounts.map((s) => ({ label: `ShardedRouter×${s}`, shards: s, transport: 'shared' as Transport, keyFilter: true }));
    thr.push(...(await throughput(w, wl.shapes, wl.changes, configs, o, true)));
    if (w === 'seed-mix') {
      const tc = (o.transports ?? ['packed', 'clone']).map((t) => ({ label: `ShardedRouter×2 ${t}`, shards: 2, transport: t, keyFilter: true }));
      const base = thr.find((f) => f.workload === w && f.target === 'Router') as ThroughputFigure;
      for (const f of await throughput(w, wl.shapes, wl.changes, tc, o, false)) transports.push({ ...f, speedup: f.changesPerSec / base.changesPerSec });
      // key filters only matter where rows need not visit every shard: equality shapes alone
      const keyed = wl.shapes.filter((s) => s.def.where === 'user_id = $1');
      const kc = [true, false].map((k) => ({ label: `ShardedRouter×2 keyFilter=${k}`, shards: 2, transport: 'shared' as Transport, keyFilter: k }));
      keyFilter.push(...(await throughput('seed-mix equality only', keyed, wl.changes, kc, o, true)));
    }
  }
  const shares = sharing(Math.min(n, 200_000));
  const scaleN = o.scaleShapes ?? 10_000_000;
  const sc = scaleN > 0 ? await scale(scaleN, o) : null;
  return {
    machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.availableParallelism(), loadavg: os.loadavg(), node: process.version },
    throughput: thr,
    transports,
    keyFilter,
    sharing: shares,
    scale: sc,
  };
}

/** Entry point without a CLI: `node --expose-gc --max-old-space-size=6144 --import tsx bench/shard-bench.ts [shapes] [scaleShapes]`. */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const report = await runShardBench({
    ...(argv[0] ? { shapes: Number(argv[0]) } : {}),
    ...(argv[1] ? { scaleShapes: Number(argv[1]) } : {}),
    onProgress: (m) => process.stderr.write(`${m}\n`),
  });
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
