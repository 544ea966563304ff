// Benchmark of compiled Predicate.matches on 3-atom clauses, decoding included: ns per record (compiled vs interpreter).
import { compileWhere } from '../src/index.js';

interface Workload {
  readonly name: string;
  readonly where: string;
  readonly columns: Record<string, string>;
  readonly records: Record<string, string | null>[];
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

function makeRecords(n: number): Record<string, string | null>[] {
  const rnd = lcg(42);
  const statuses = ['active', 'archived', 'pending'];
  return Array.from({ length: n }, () => ({
    status: statuses[Math.floor(rnd() * 3)] as string,
    price: (rnd() * 200).toFixed(2),
    owner_id: String(Math.floor(rnd() * 10)),
    name: `user${Math.floor(rnd() * 1000)}@example.com`,
    created: `2024-0${1 + Math.floor(rnd() * 9)}-1${Math.floor(rnd() * 9)} 10:00:00+00`,
  }));
}

const columns = { status: 'text', price: 'numeric', owner_id: 'int8', name: 'text', created: 'timestamptz' };
const records = makeRecords(4096);

export const WORKLOADS: Workload[] = [
  {
    name: 'text = , numeric > , int8 IN',
    where: "status = 'active' AND price > 100 AND owner_id IN (1, 2, 3)",
    columns,
    records,
  },
  {
    name: 'int8 range + ILIKE prefix',
    where: "owner_id >= 3 AND owner_id < 7 AND name ILIKE 'user1%'",
    columns,
    records,
  },
  {
    name: 'timestamptz range + text <>',
    where: "created >= '2024-03-01' AND created < '2024-06-01' AND status <> 'archived'",
    columns,
    records,
  },
];

/** Runs `fn` over all records repeatedly for about `ms` and returns ns per record (median of 7 rounds). */
function measure(
  fn: (r: Record<string, string | null>) => unknown,
  recs: Record<string, string | null>[],
  ms = 200,
): number {
  const rounds: number[] = [];
  let sink = 0;
  for (let round = 0; round < 7; round++) {
    let n = 0;
    const start = process.hrtime.bigint();
    const deadline = start + BigInt(ms) * 1_000_000n;
    while (process.hrtime.bigint() < deadline) {
      for (let i = 0; i < recs.length; i++) if (fn(recs[i] as Record<string, string | null>)) sink++;
      n += recs.length;
    }
    rounds.push(Number(process.hrtime.bigint() - start) / n);
  }
  if (sink === -1) console.log(sink);
  rounds.sort((a, b) => a - b);
  return rounds[3] as number;
}

export interface WhereBenchResult {
  readonly workload: string;
  readonly where: string;
  readonly compiledNs: number;
  readonly interpretedNs: number;
  readonly matchRate: number;
}

export function runWhereBench(ms = 200): WhereBenchResult[] {
  return WORKLOADS.map((w) => {
    const p = compileWhere(w.where, w.columns);
    const matchRate = w.records.filter((r) => p.matches(r)).length / w.records.length;
    measure((r) => p.matches(r), w.records, 50); // warm-up
    const compiledNs = measure((r) => p.matches(r), w.records, ms);
    const interpretedNs = measure((r) => p.interpret(r), w.records.slice(0, 512), ms / 2);
    return { workload: w.name, where: w.where, compiledNs, interpretedNs, matchRate };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of runWhereBench()) {
    console.log(
      `${r.workload.padEnd(32)} compiled ${r.compiledNs.toFixed(1).padStart(7)} ns/record  interpreter ${r.interpretedNs.toFixed(0).padStart(6)} ns/record  (${(r.interpretedNs / r.compiledNs).toFixed(1)}x)  match ${(r.matchRate * 100).toFixed(1)}%`,
    );
  }
}
