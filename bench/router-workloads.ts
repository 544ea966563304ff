// Seeded router workloads of issue 3: seed mix, all-complex and hot key — shape definitions and change streams.
import type { Change, ShapeDef } from '../src/router/index.js';
import type { ShapeDefinition } from '../src/shapes/types.js';

export type WorkloadName = 'seed-mix' | 'all-complex' | 'hot-key';
export const WORKLOADS: readonly WorkloadName[] = ['seed-mix', 'all-complex', 'hot-key'];

export const BENCH_TABLE = 'public.items';
export const BENCH_SCHEMA: Record<string, Record<string, string>> = {
  [BENCH_TABLE]: {
    id: 'int8',
    user_id: 'int8',
    tenant_id: 'int4',
    tags: 'text[]',
    score: 'int4',
    price: 'numeric',
    name: 'text',
    email: 'text',
    status: 'text',
    created_at: 'timestamptz',
  },
};

export interface Workload {
  readonly name: WorkloadName;
  readonly shapes: readonly { readonly id: string; readonly def: ShapeDef }[];
  readonly changes: readonly Change[];
}

/** mulberry32: small, fast, seedable; the same seed gives the same workload on every machine. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SCORE_SPAN = 1_000_000;

/** Domains scale with the shape count so that a row matches 0–3 shapes on average at every size. */
function domains(n: number): { users: number; tags: number; names: number; tenants: number } {
  return {
    users: Math.max(10, n),
    tags: Math.max(8, Math.floor(n / 4)),
    names: Math.max(10, n),
    tenants: Math.max(1000, Math.floor(n / 8)),
  };
}

function complexShape(k: number, r: () => number, n: number): ShapeDef {
  const d = domains(n);
  const int = (m: number): number => Math.floor(r() * m);
  const table = BENCH_TABLE;
  switch (k % 6) {
    case 0: {
      const lo = int(SCORE_SPAN);
      return { table, where: 'score BETWEEN $1 AND $2', params: { '1': String(lo), '2': String(lo + 10) } };
    }
    case 1:
      return {
        table,
        where: 'status IN ($1, $2, $3)',
        params: { '1': `st${int(d.names)}`, '2': `st${int(d.names)}`, '3': `st${int(d.names)}` },
      };
    case 2:
      return { table, where: 'name ILIKE $1', params: { '1': `P${int(d.names)}x%` } };
    case 3:
      return { table, where: 'lower(email) = $1', params: { '1': `u${int(d.users)}@example.com` } };
    case 4: {
      const lo = int(SCORE_SPAN);
      return {
        table,
        where: 'user_id = $1 OR score BETWEEN $2 AND $3',
        params: { '1': String(int(d.users)), '2': String(lo), '3': String(lo + 5) },
      };
    }
    default:
      return {
        table,
        where: 'tenant_id = $1 AND price > $2',
        params: { '1': String(int(d.tenants)), '2': `${int(1000)}.50` },
      };
  }
}

function shapes(name: WorkloadName, n: number, r: () => number): { id: string; def: ShapeDef }[] {
  const d = domains(n);
  const out: { id: string; def: ShapeDef }[] = [];
  for (let i = 0; i < n; i++) {
    let def: ShapeDef;
    if (name === 'seed-mix') {
      const p = r();
      if (p < 0.8)
        def = { table: BENCH_TABLE, where: 'user_id = $1', params: { '1': String(Math.floor(r() * d.users)) } };
      else if (p < 0.95)
        def = { table: BENCH_TABLE, where: 'tags @> $1', params: { '1': `{t${Math.floor(r() * d.tags)}}` } };
      else def = complexShape(i, r, n);
    } else if (name === 'all-complex') def = complexShape(i, r, n);
    else {
      const tenant = r() < 0.5 ? 1 : 2 + Math.floor(r() * 999);
      def = {
        table: BENCH_TABLE,
        where: 'tenant_id = $1 AND user_id = $2',
        params: { '1': String(tenant), '2': String(Math.floor(r() * d.users)) },
      };
    }
    out.push({ id: `shape-${i}`, def });
  }
  return out;
}

function row(name: WorkloadName, n: number, r: () => number, id: number): Record<string, string | null> {
  const d = domains(n);
  const int = (m: number): number => Math.floor(r() * m);
  const tagCount = 1 + int(2);
  const tags: string[] = [];
  for (let i = 0; i < tagCount; i++) tags.push(`t${int(d.tags)}`);
  const micros = 1_700_000_000_000 + int(1_000_000_000);
  return {
    id: String(id),
    user_id: String(int(d.users)),
    tenant_id: String(name === 'hot-key' ? (r() < 0.5 ? 1 : 2 + int(999)) : int(d.tenants)),
    tags: `{${tags.join(',')}}`,
    score: String(int(SCORE_SPAN)),
    price: `${int(2000)}.${String(int(100)).padStart(2, '0')}`,
    name: `p${int(d.names)}x${int(100)}`,
    email: `U${int(d.users)}@Example.com`,
    status: `st${int(d.names)}`,
    created_at: new Date(micros).toISOString().replace('T', ' ').replace('Z', '+00'),
  };
}

/** A change stream: 70% inserts, 20% updates (old and new rows), 10% deletes. */
function changes(name: WorkloadName, n: number, count: number, r: () => number): Change[] {
  const out: Change[] = [];
  for (let i = 0; i < count; i++) {
    const p = r();
    if (p < 0.7) out.push({ table: BENCH_TABLE, op: 'insert', record: row(name, n, r, i) });
    else if (p < 0.9)
      out.push({ table: BENCH_TABLE, op: 'update', oldRecord: row(name, n, r, i), record: row(name, n, r, i) });
    else out.push({ table: BENCH_TABLE, op: 'delete', oldRecord: row(name, n, r, i) });
  }
  return out;
}

/** The workload `name` with `n` shapes and `changeCount` changes, fully determined by `seed`. */
export function makeWorkload(name: WorkloadName, n: number, changeCount: number, seed = 20240601): Workload {
  const r = rng(seed ^ (n * 2654435761) ^ name.length);
  return { name, shapes: shapes(name, n, r), changes: changes(name, n, changeCount, r) };
}

/**
 * `n` distinct seed-mix shapes as service definitions on `public.items` (`changes_only`: no snapshot rows). The mix
 * draws user ids at random, so n draws give fewer than n distinct shapes: draw more, keep n distinct.
 */
export function distinctSeedDefinitions(n: number): ShapeDefinition[] {
  const defs: ShapeDefinition[] = [];
  const keys = new Set<string>();
  for (const sh of makeWorkload('seed-mix', Math.ceil(n * 1.8), 0).shapes) {
    const k = `${sh.def.where}|${JSON.stringify(sh.def.params)}`;
    if (keys.has(k)) continue;
    keys.add(k);
    defs.push({
      schema: 'public',
      table: 'items',
      where: sh.def.where!,
      params: { ...sh.def.params },
      replica: 'default',
      log: 'changes_only',
    });
    if (defs.length === n) break;
  }
  return defs;
}

/** The service benches' `items` table: the router workload's columns (bench/service-bench.ts, backlog-ingest.ts). */
export const ITEMS_TABLE_SQL = `CREATE TABLE items (id int8 PRIMARY KEY, user_id int8, tenant_id int4, tags text[], score int4, price numeric,
  name text, email text, status text, created_at timestamptz)`;

/** Rows like the router workload's, generated by Postgres so the writer is not the bottleneck. */
export function itemsInsertSql(from: number, count: number, users: number): string {
  return `INSERT INTO items SELECT g, (g * 7919) % ${users}, g % 12500, ARRAY['t' || (g % 25000)], (g * 31) % 1000000, (g % 2000) + 0.5,
    'p' || (g % ${users}) || 'x' || (g % 100), 'U' || (g % ${users}) || '@Example.com', 'st' || (g % ${users}), '2024-01-01'::timestamptz + g * interval '1 s'
    FROM generate_series(${from}::int8, ${from + count - 1}) g`;
}
