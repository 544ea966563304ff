// Issue 12 item 6: where one awaited 5,000-row split batch spends its time — each component of the ShardedRouter's
// 'rows' split path timed alone on the main thread (pack, unpack, routeInto, result merge) beside Router.route.
// Run: npx tsx bench/split-breakdown.ts [--shapes 200000] [--workload seed-mix]
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { Router } from '../src/router/index.js';
import type { Change } from '../src/router/index.js';
import { routerCore } from '../src/router/router.js';
import { Packer, unpackBatch } from '../src/shard/batch-codec.js';
import { ShardedRouter } from '../src/shard/index.js';
import { BENCH_SCHEMA, makeWorkload, type WorkloadName } from './router-workloads.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] as string) : fallback;
}
const n = Number(arg('shapes', '200000'));
const wl = makeWorkload(arg('workload', 'seed-mix') as WorkloadName, n, 50_000);
const B = 5000;
const batches: Change[][] = [];
for (let i = 0; i < wl.changes.length; i += B) batches.push(wl.changes.slice(i, i + B));

const router = new Router({ schema: BENCH_SCHEMA });
for (const s of wl.shapes) router.addShape(s.id, s.def);
const core = routerCore(router);
const cols = [Object.keys(BENCH_SCHEMA['public.items'] as object)];
const names = ['public.items'];

function time(label: string, f: (b: Change[]) => void, reps = 5): number {
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    for (const b of batches) f(b);
    best = Math.min(best, performance.now() - t0);
  }
  const us = (best * 1000) / wl.changes.length;
  console.log(`${label.padEnd(44)} ${us.toFixed(2)} µs/change`);
  return us;
}

const tables = new Int32Array(B);
const packer = new Packer(true);
let ids = 0;
time('Router.route (baseline)', (b) => {
  for (const c of b) ids += router.route(c).length;
});
console.log(`  ids per change: ${(ids / wl.changes.length / 5).toFixed(2)}`);
time('core.routeInto (no id strings)', (b) => {
  for (const c of b) core.routeInto(c);
});
time('pack (shared)', (b) => {
  packer.pack(b, 0, b.length, tables, cols);
});
const packed = batches.map((b) => {
  const p = new Packer(false).pack(b, 0, b.length, tables, cols);
  return { header: p.header.slice(), text: p.text.slice(), wide: p.wide };
});
let k = 0;
time('unpack', () => {
  unpackBatch(packed[k++ % packed.length] as (typeof packed)[number], cols, names, null, () => undefined);
});
k = 0;
time('unpack + routeInto', () => {
  unpackBatch(packed[k++ % packed.length] as (typeof packed)[number], cols, names, null, (_i, c) => {
    if (c !== null) core.routeInto(c);
  });
});
// the merge: gid lists → string[] per change (as ShardedRouter.place)
const gidLists = batches.map((b) => {
  const offs = new Int32Array(b.length + 1);
  const out: number[] = [];
  b.forEach((c, i) => {
    offs[i] = out.length;
    if (core.routeInto(c)) out.push(...core.ctx.out);
  });
  offs[b.length] = out.length;
  return { offs, ids: Int32Array.from(out) };
});
const nameOf = (s: number): string => core.interner.nameOf(s) as string;
k = 0;
time('merge gids → string[][]', (b) => {
  const g = gidLists[k++ % gidLists.length] as (typeof gidLists)[number];
  const res = new Array<{ ids: string[] }>(b.length);
  for (let i = 0; i < b.length; i++) {
    const a: string[] = [];
    for (let j = g.offs[i] as number; j < (g.offs[i + 1] as number); j++) a.push(nameOf(g.ids[j] as number));
    res[i] = { ids: a };
  }
});

for (const localShard of [false, true]) {
  const sharded = new ShardedRouter({ schema: BENCH_SCHEMA, shards: 2, placement: 'rows', localShard });
  for (let i = 0; i < wl.shapes.length; i += 100_000) await sharded.addShapes(wl.shapes.slice(i, i + 100_000));
  await sharded.routeBatch(batches[0] as Change[]);
  for (let r = 0; r < 3; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (const b of batches) await sharded.routeBatch(b);
    const wall = performance.now() - t0;
    const c1 = process.cpuUsage(c0);
    const st = await sharded.stats();
    console.log(
      `ShardedRouter×2${localShard ? ' local' : ''} wall ${((wall * 1000) / wl.changes.length).toFixed(2)} µs/change, cpu ${((c1.user + c1.system) / wl.changes.length).toFixed(2)} µs/change, shards routed ${st.shards.map((s) => s.changes).join('/')} changes in ${st.shards.map((s) => s.busyMs.toFixed(0)).join('/')} ms (cumulative)`,
    );
  }
  await sharded.close();
}
console.log(
  `load ${os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
