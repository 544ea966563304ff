// Issue 5, cold shapes: where a seed-mix shape's bytes go, and whether hibernating cold shapes into a packed form pays.
//
// Run: node --expose-gc --max-old-space-size=16384 --import tsx bench/hibernation.ts [shapes] [coldFraction] [breakdownShapes]
// (defaults 1000000, 0.9, min(shapes, 1000000)). Prints JSON; progress goes to stderr. Read-only towards src/.
// `... bench/hibernation.ts lookup [shapes]` runs only the Map vs ColdIndex lookup comparison (no routers).
// The breakdown reads the Router's runtime fields as of commit 6bb41f5 (KeyTable-based Interner and PostingMap); it
// reports which field it could not find if those structures change.
//
// Compares side by side in one process: Router A holding every shape; Router B holding only the hot ones plus a
// ColdSet (bench/hibernation-coldset.ts) holding the cold `user_id = $1` / `tags @> $1` shapes; the routing results
// of A and B+cold are checked equal on every row before anything is timed.
import os from 'node:os';
import { Router } from '../src/router/index.js';
import { routerCore } from '../src/router/router.js';
import type { Change, ShapeDef } from '../src/router/index.js';
import { BENCH_SCHEMA, BENCH_TABLE } from './router-workloads.js';
import { seedMixChanges, seedMixShapes } from './scale-bench.js';
import { breakdown, memNow, memTotal, type BreakdownRow, type Mem } from './hibernation-breakdown.js';
import { ColdIndex, type ColdShape } from './hibernation-cold.js';
import { checkColdIndex } from './hibernation-cold-check.js';
import { ColdSet } from './hibernation-coldset.js';

type Kind = 'user' | 'tags' | 'other';

/** The seed mix of bench/scale-bench.ts (seedMixShapes, seed 7), streamed, with each shape's family. */
function* seedMix(n: number): Generator<{ i: number; id: string; def: ShapeDef; kind: Kind }> {
  let i = 0;
  for (const { id, def } of seedMixShapes(n, 7)) {
    const kind: Kind = def.where === 'user_id = $1' ? 'user' : def.where === 'tags @> $1' ? 'tags' : 'other';
    yield { i: i++, id, def, kind };
  }
}

/** Which equality/inclusion shapes are cold: a fixed pseudo-random `fraction` of them (by id, not by position). */
function isCold(i: number, kind: Kind, fraction: number): boolean {
  return kind !== 'other' && (Math.imul(i + 1, 2654435761) >>> 0) / 2 ** 32 < fraction;
}

const log = (m: string): void => void process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${m}\n`);
const diff = (a: Mem, b: Mem): Mem => ({ heap: b.heap - a.heap, buffers: b.buffers - a.buffers });

function buildRouter(n: number, keep: (i: number, kind: Kind) => boolean): { router: Router; ns: number } {
  const router = new Router({ schema: BENCH_SCHEMA });
  let t = 0;
  for (const s of seedMix(n)) {
    if (!keep(s.i, s.kind)) continue;
    const t0 = performance.now();
    router.addShape(s.id, s.def);
    t += performance.now() - t0;
  }
  return { router, ns: (t * 1e6) / Math.max(1, router.shapeCount) };
}

/** Hot route plus cold probe: what a router with hibernated shapes would return for a change. */
function routeHybrid(hot: Router, cold: ColdSet, c: Change): string[] {
  const ids = hot.route(c);
  const out = cold.probe(c);
  for (let i = 0; i < out.length; i++) ids.push(cold.idOf(out[i] as number));
  return ids;
}

interface Timing {
  medianNs: number;
  p99Ns: number;
  meanNs: number;
}

function timeEach(changes: readonly Change[], f: (c: Change) => unknown, into: number[]): void {
  for (const c of changes) {
    const t0 = process.hrtime.bigint();
    f(c);
    into.push(Number(process.hrtime.bigint() - t0));
  }
}

function summarise(ns: number[]): Timing {
  const s = Float64Array.from(ns).sort();
  return {
    medianNs: s[s.length >> 1] as number,
    p99Ns: s[Math.floor(s.length * 0.99)] as number,
    meanNs: ns.reduce((a, x) => a + x, 0) / ns.length,
  };
}

/**
 * Map.get vs ColdIndex lookups of the same probe strings over the same key set, alternated in rounds. Each round
 * probes fresh copies of the strings, as rows from the decoder are: V8 caches a string's hash in the string, so
 * reused probes would spare Map.get the hashing that ColdIndex always does.
 */
function probeBench(
  keys: readonly string[],
  probes: readonly string[],
  rounds: number,
): { keys: number; mapNs: number; coldNs: number; hitRate: number } {
  const map = new Map<string, number>();
  keys.forEach((k, i) => map.set(k, i));
  const cold = ColdIndex.build(
    keys,
    Int32Array.from(keys, (_, i) => i),
  );
  let sink = 0;
  let hits = 0;
  for (const p of probes) if (map.has(p)) hits++;
  const mapT: number[] = [];
  const coldT: number[] = [];
  const fresh = (): string[] => probes.map((p) => `${p} `.slice(0, -1));
  for (let r = 0; r < rounds; r++) {
    let ps = fresh();
    let t0 = performance.now();
    for (let i = 0; i < ps.length; i++) sink += map.get(ps[i] as string) ?? 0;
    mapT.push(((performance.now() - t0) * 1e6) / probes.length);
    ps = fresh();
    t0 = performance.now();
    for (let i = 0; i < ps.length; i++) sink += cold.has(ps[i] as string) ? 1 : 0;
    coldT.push(((performance.now() - t0) * 1e6) / probes.length);
  }
  if (sink === -1) log('');
  const med = (x: number[]): number => x.sort((a, b) => a - b)[x.length >> 1] as number;
  return { keys: keys.length, mapNs: med(mapT), coldNs: med(coldT), hitRate: hits / probes.length };
}

/** The distinct `user_id = $1` keys of the seed mix of `n` shapes (what the user_id index holds). */
function userKeys(n: number): string[] {
  const keys = new Set<string>();
  for (const s of seedMix(n)) if (s.kind === 'user') keys.add(s.def.params?.['1'] as string);
  return [...keys];
}

function userProbes(changes: readonly Change[]): string[] {
  const probes: string[] = [];
  for (const c of changes) {
    if (c.op === 'update' || c.op === 'delete') probes.push(c.oldRecord.user_id as string);
    if (c.op === 'update' || c.op === 'insert') probes.push(c.record.user_id as string);
  }
  return probes;
}

/** Only the lookup comparison (no routers): `hibernation.ts lookup [shapes]`, e.g. at 10M where routers take long. */
export function runLookup(n: number): Record<string, unknown> {
  const load0 = os.loadavg();
  log(`lookup: ${n}-shape seed mix user keys`);
  const keys = userKeys(n);
  const lookup = probeBench(keys, userProbes(seedMixChanges(n, 30_000)), 7);
  log(`lookup over ${lookup.keys} keys: Map ${lookup.mapNs.toFixed(0)} ns, cold ${lookup.coldNs.toFixed(0)} ns`);
  return { machine: { node: process.version, loadavgStart: load0, loadavgEnd: os.loadavg() }, shapes: n, lookup };
}

export async function runHibernation(
  n: number,
  fraction: number,
  breakdownN: number,
): Promise<Record<string, unknown>> {
  const load0 = os.loadavg();
  // 1. where the bytes go (a router of its own, torn down)
  let rows: BreakdownRow[] = [];
  let bdTotal: Mem = { heap: 0, buffers: 0 };
  if (breakdownN > 0) {
    log(`breakdown: building ${breakdownN} shapes`);
    const m0 = memNow();
    let r: Router | null = buildRouter(breakdownN, () => true).router;
    bdTotal = diff(m0, memNow());
    log(`breakdown: ${((bdTotal.heap + bdTotal.buffers) / breakdownN).toFixed(1)} B/shape; tearing down`);
    rows = breakdown(r, bdTotal);
    r = null;
  }
  // 2. Router A, every shape
  log(`A: building ${n} shapes`);
  const mA0 = memNow();
  const a = buildRouter(n, () => true);
  const memA = diff(mA0, memNow());
  log(`A: ${(memTotal(memA) / n).toFixed(1)} B/shape (heap ${(memA.heap / n).toFixed(1)})`);
  // 3. compaction input read from A's own state (the exact keys A indexes them under), then packed
  const mC0 = memNow();
  let t0 = performance.now();
  let list: ColdShape[] | null = [];
  for (const s of seedMix(n)) {
    if (!isCold(s.i, s.kind, fraction)) continue;
    const core = routerCore(a.router);
    const si = core.interner.get(s.id);
    let key = '';
    core.records.forEachEntry(si, (e) => (key = core.ctx.entries.keys[e] as string));
    list.push({ id: s.id, fam: s.kind === 'user' ? 0 : 1, key });
  }
  const collectNs = ((performance.now() - t0) * 1e6) / list.length;
  const coldCount = list.length;
  t0 = performance.now();
  const cold = ColdSet.build(list);
  const buildNs = ((performance.now() - t0) * 1e6) / coldCount;
  list = null;
  const memC = diff(mC0, memNow());
  log(
    `cold: ${coldCount} shapes, ${(memTotal(memC) / coldCount).toFixed(1)} B/cold shape, build ${buildNs.toFixed(0)} ns/shape`,
  );
  // 4. Router B, hot shapes only (as if integers and arrays were compacted after hibernation)
  const mB0 = memNow();
  const b = buildRouter(n, (i, kind) => !isCold(i, kind, fraction));
  const memB = diff(mB0, memNow());
  log(`B: ${b.router.shapeCount} hot shapes, ${(memTotal(memB) / b.router.shapeCount).toFixed(1)} B/shape`);
  // 5. exactness: A and B+cold agree on every change
  const changes = seedMixChanges(n, 30_000);
  let matchedA = 0;
  let matchedCold = 0;
  for (const c of changes) {
    const x = a.router.route(c).sort();
    const y = routeHybrid(b.router, cold, c).sort();
    matchedA += x.length;
    matchedCold += cold.out.length;
    if (x.length !== y.length || x.some((v, i) => v !== y[i]))
      throw new Error(`routing differs: ${JSON.stringify(c)} ${x} vs ${y}`);
  }
  log(`verified ${changes.length} changes: ${matchedA} matches, ${matchedCold} of them cold`);
  // 6. per-change routing, alternated: A | B alone | B + cold probe. Two streams: every row (a random workload hits
  // cold shapes as often as hot ones: the worst case) and the rows that match no cold shape (hibernation's premise:
  // cold shapes match nothing), drawn from a longer stream.
  const quiet = seedMixChanges(n, 200_000)
    .filter((c) => cold.probe(c).length === 0)
    .slice(0, 20_000);
  const routing: Record<string, Record<string, Timing>> = {};
  for (const [name, stream] of [
    ['allRows', changes],
    ['rowsMissingColdShapes', quiet],
  ] as const) {
    const tA: number[] = [];
    const tB: number[] = [];
    const tH: number[] = [];
    const tP: number[] = [];
    for (let round = 0; round < 3; round++) {
      timeEach(stream, (c) => a.router.route(c), tA);
      timeEach(stream, (c) => b.router.route(c), tB);
      timeEach(stream, (c) => routeHybrid(b.router, cold, c), tH);
      timeEach(stream, (c) => cold.probe(c), tP);
    }
    routing[name] = {
      fullRouter: summarise(tA),
      hotOnly: summarise(tB),
      hotPlusCold: summarise(tH),
      coldProbeOnly: summarise(tP),
    };
    const x = routing[name];
    log(
      `routing ${name} (${stream.length}) median ns: A ${x.fullRouter?.medianNs}, B ${x.hotOnly?.medianNs}, B+cold ${x.hotPlusCold?.medianNs}, cold probe ${x.coldProbeOnly?.medianNs}`,
    );
  }
  // 7. one lookup: Map vs ColdIndex over the same keys, probed with row user_id texts (mostly misses)
  const probes = userProbes(changes);
  const eqKeys = userKeys(n);
  const lookup = probeBench(eqKeys, probes, 7);
  log(`lookup over ${lookup.keys} keys: Map ${lookup.mapNs.toFixed(0)} ns, cold ${lookup.coldNs.toFixed(0)} ns`);
  // 8. compaction in the current router: remove the cold shapes from A (arrays keep their length: holes)
  const mR0 = memNow();
  t0 = performance.now();
  let removed = 0;
  for (const s of seedMix(n)) if (isCold(s.i, s.kind, fraction) && a.router.removeShape(s.id)) removed++;
  const removeNs = ((performance.now() - t0) * 1e6) / removed;
  const freedByRemoval = diff(memNow(), mR0);
  log(
    `removed ${removed} from A: ${removeNs.toFixed(0)} ns/shape, freeing ${(memTotal(freedByRemoval) / removed).toFixed(1)} B each`,
  );
  // 9. waking: a matched cold shape goes back into the hot router
  let woken = 0;
  t0 = performance.now();
  for (const c of changes) {
    const out = cold.probe(c);
    for (let i = out.length - 1; i >= 0; i--) {
      const w = cold.wake(out[i] as number, cold.outKeys[i] as string, BENCH_TABLE);
      b.router.addShape(w.id, w.def);
      woken++;
    }
  }
  const wakeNs = ((performance.now() - t0) * 1e6) / Math.max(1, woken);
  // woken shapes route from the hot router now, and exactly once
  for (const c of changes.slice(0, 5000)) {
    const y = routeHybrid(b.router, cold, c);
    if (new Set(y).size !== y.length || cold.out.length !== 0) throw new Error('a woken shape is still cold');
  }
  log(`woke ${woken} shapes: ${wakeNs.toFixed(0)} ns each (probe + tombstone + addShape)`);
  const perShape = (m: Mem, k: number): { total: number; heap: number; buffers: number } => ({
    total: memTotal(m) / k,
    heap: m.heap / k,
    buffers: m.buffers / k,
  });
  return {
    machine: {
      cpu: os.cpus()[0]?.model ?? 'unknown',
      cores: os.availableParallelism(),
      node: process.version,
      loadavgStart: load0,
      loadavgEnd: os.loadavg(),
    },
    shapes: n,
    coldFraction: fraction,
    coldShapes: coldCount,
    breakdown: {
      shapes: breakdownN,
      bytesPerShape: perShape(bdTotal, Math.max(1, breakdownN)),
      rows: rows.map((r) => ({
        ...r,
        perShape: (r.heap + r.buffers) / Math.max(1, breakdownN),
        perMember: r.members > 0 ? (r.heap + r.buffers) / r.members : null,
      })),
    },
    memory: {
      fullRouter: { bytes: memA, perShape: perShape(memA, n), addNsPerShape: a.ns },
      hotRouter: {
        shapes: b.router.shapeCount - woken,
        bytes: memB,
        perShape: perShape(memB, b.router.shapeCount - woken),
      },
      coldSet: { bytes: memC, perColdShape: perShape(memC, coldCount), typedArrayBytes: cold.bytes },
      hotPlusColdPerShape: (memTotal(memB) + memTotal(memC)) / n,
      freedPerColdShape: (memTotal(memA) - memTotal(memB)) / coldCount,
      removalFromFullRouter: { freed: freedByRemoval, freedPerRemovedShape: perShape(freedByRemoval, removed) },
    },
    compaction: { readKeyNsPerShape: collectNs, buildNsPerShape: buildNs, removeFromRouterNsPerShape: removeNs },
    routing: {
      changes: changes.length,
      quietChanges: quiet.length,
      rounds: 3,
      matches: matchedA,
      coldMatches: matchedCold,
      ...routing,
    },
    lookup,
    wake: { woken, nsPerWake: wakeNs },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) checkColdIndex(); // figures of a wrong index are worthless
if (import.meta.url === `file://${process.argv[1]}` && process.argv[2] === 'lookup') {
  process.stdout.write(`${JSON.stringify(runLookup(Number(process.argv[3] ?? 10_000_000)), null, 2)}\n`);
} else if (import.meta.url === `file://${process.argv[1]}`) {
  const n = Number(process.argv[2] ?? 1_000_000);
  const f = Number(process.argv[3] ?? 0.9);
  const bd = Number(process.argv[4] ?? Math.min(n, 1_000_000));
  const report = await runHibernation(n, f, bd);
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}
