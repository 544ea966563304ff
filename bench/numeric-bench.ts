// Numeric ^, / and the numeric functions against a real Postgres, per row, like for like: ms per evaluation.
// Run: npx tsx bench/numeric-bench.ts [postgres-url] [--op ^] [--limit N] [--write]
//
// Both sides evaluate `(<expression over columns a, b>) IS NOT NULL` once per row of a table whose rows all hold
// the case's operands, so Postgres cannot fold or cache the expression; each side subtracts its own cost of the
// same scan with `a IS NOT NULL`. Postgres: EXPLAIN ANALYZE (TIMING OFF) execution time over N rows. Ours: the
// compiled Predicate over N records (text decoding of the operands included: the service decodes every row).
// A case Postgres raises on cannot run over a table, so both sides then time the error in a loop instead
// (Postgres: PL/pgSQL with an exception block, minus the same loop around a trivial assignment).
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { compileWhere, type PgRecord, type Predicate } from '../src/index.js';
import { setRowOperationLimitMs } from '../src/values/work-budget.js';
import { NUMERIC_CASES, NUMERIC_SQL } from '../test/support/numeric-cases.js';
import { startPostgres, type PostgresInstance } from '../test/support/postgres.js';

/** Each measurement runs for at least this long (ms), so timer resolution and scheduling noise stay small. */
const TARGET_MS = 25;
const MAX_ROWS = 20000;
const ROUNDS = 3;

interface Row {
  readonly op: string;
  readonly a: string;
  readonly b: string;
  readonly raises: boolean;
  readonly pgMs: number;
  readonly oursMs: number;
}

const errorLoop = (expr: string): string => `
CREATE OR REPLACE FUNCTION pg_temp.sy_loop(ta text, tb text, n int, trivial bool) RETURNS float8 LANGUAGE plpgsql AS $f$
DECLARE
  t0 timestamptz;
  x numeric;
  a numeric := ta::numeric;
  b numeric := tb::numeric;
BEGIN
  t0 := clock_timestamp();
  FOR i IN 1 .. n LOOP
    BEGIN
      IF trivial THEN x := a; ELSE x := ${expr}; END IF;
    EXCEPTION WHEN OTHERS THEN
      NULL;
    END;
  END LOOP;
  RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
END $f$`;

async function executionMs(client: pg.Client, sql: string): Promise<number> {
  const r = await client.query<{ 'QUERY PLAN': [{ 'Execution Time': number }] }>(
    `EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) ${sql}`,
  );
  return r.rows[0]?.['QUERY PLAN'][0]['Execution Time'] ?? NaN;
}

/** Rows needed for a measurement of TARGET_MS given a first per-row estimate. */
function rowsFor(perRowMs: number): number {
  return Math.max(1, Math.min(MAX_ROWS, Math.ceil(TARGET_MS / Math.max(perRowMs, 1e-5))));
}

/** Postgres per row, or undefined when the expression raises for these operands. */
async function pgPerRow(client: pg.Client, expr: string, a: string, b: string): Promise<number | undefined> {
  const fill = async (n: number): Promise<void> => {
    await client.query('TRUNCATE sy_rows');
    await client.query('INSERT INTO sy_rows SELECT $1::numeric, $2::numeric FROM generate_series(1, $3)', [a, b, n]);
  };
  const once = async (n: number): Promise<number> => {
    const t = await executionMs(client, `SELECT count(*) FROM sy_rows WHERE (${expr}) IS NOT NULL`);
    const base = await executionMs(client, 'SELECT count(*) FROM sy_rows WHERE a IS NOT NULL');
    return Math.max(t - base, 0) / n;
  };
  await fill(1);
  let first: number;
  try {
    first = await once(1);
  } catch {
    return undefined;
  }
  const n = rowsFor(first);
  if (n > 1) await fill(n);
  let best = first;
  for (let i = 0; i < ROUNDS; i++) best = Math.min(best, await once(n));
  return best;
}

/** Postgres per raising evaluation: the exception loop minus the same loop around `x := a`. */
async function pgPerError(client: pg.Client, expr: string, a: string, b: string): Promise<number> {
  await client.query(errorLoop(expr));
  const loop = async (n: number, trivial: boolean): Promise<number> => {
    const r = await client.query<{ ms: number }>('SELECT pg_temp.sy_loop($1, $2, $3, $4) AS ms', [a, b, n, trivial]);
    return Number(r.rows[0]?.ms);
  };
  const n = rowsFor(await loop(1, false));
  let best = Infinity;
  for (let i = 0; i < ROUNDS; i++) best = Math.min(best, (await loop(n, false)) - (await loop(n, true)));
  return Math.max(best, 0) / n;
}

/** Our time of `fn` per call, best of a few batches sized to TARGET_MS. */
function timePerCall(fn: () => void): number {
  const t0 = performance.now();
  fn();
  const n = rowsFor(performance.now() - t0);
  let best = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    const t = performance.now();
    for (let i = 0; i < n; i++) fn();
    best = Math.min(best, (performance.now() - t) / n);
  }
  return best;
}

const COLUMNS = { a: 'numeric', b: 'numeric' } as const;
const baseline = compileWhere('a IS NOT NULL', COLUMNS);

function oursPerRow(predicate: Predicate, a: string, b: string): number {
  // A fresh record object per call: nothing decoded for one evaluation may be reused by the next.
  const run = (p: Predicate): (() => void) => {
    return () => {
      const record: PgRecord = { a, b };
      try {
        p.evaluate(record);
      } catch {
        // errors are timed like results
      }
    };
  };
  return Math.max(timePerCall(run(predicate)) - timePerCall(run(baseline)), 0);
}

function short(s: string): string {
  return s.length > 24 ? `${s.slice(0, 10)}…(${s.length} chars)` : s;
}

/** Whole clauses: compileWhere (parse, analysis, folding) vs Postgres planning and running the same WHERE. */
const CLAUSES = [
  'price > 10::numeric ^ 100000',
  'price > 9.99 ^ 12000',
  'price > 2 ^ 0.5',
  'price < 1.000001 ^ 100000',
  'price > sqrt(2::numeric)',
  'price > ln(10::numeric ^ 1000)',
];

async function clauseRows(client: pg.Client): Promise<{ clause: string; pgMs: number; oursMs: number }[]> {
  const out = [];
  for (const clause of CLAUSES) {
    // Planning (where Postgres folds the constant) plus execution, as the server reports them.
    let pgBest = Infinity;
    for (let i = 0; i < 5; i++) {
      const r = await client.query<{ 'QUERY PLAN': [{ 'Planning Time': number; 'Execution Time': number }] }>(
        `EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) SELECT 1 FROM (VALUES (1.5::numeric)) AS v(price) WHERE ${clause}`,
      );
      const plan = r.rows[0]?.['QUERY PLAN'][0];
      if (plan !== undefined) pgBest = Math.min(pgBest, plan['Planning Time'] + plan['Execution Time']);
    }
    let oursBest = Infinity;
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      try {
        compileWhere(clause, { price: 'numeric' });
      } catch (e) {
        console.error(`${clause}: ${(e as Error).message}`);
      }
      oursBest = Math.min(oursBest, performance.now() - t);
    }
    out.push({ clause, pgMs: pgBest, oursMs: oursBest });
  }
  return out;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const urlArg = process.argv[2]?.startsWith('postgres') ? process.argv[2] : undefined;
  let owned: PostgresInstance | undefined;
  const url = urlArg ?? (owned = await startPostgres()).url;
  const ops = arg('--op') !== undefined ? [arg('--op') as string] : Object.keys(NUMERIC_SQL);
  const limit = Number(arg('--limit') ?? Infinity);
  // Time the arithmetic itself: the per-operation cap of row evaluation would turn the longest cases into errors.
  setRowOperationLimitMs(Infinity);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const started = new Date().toISOString();
  const load = os.loadavg()[0] ?? 0;
  try {
    await client.query('CREATE TEMP TABLE sy_rows (a numeric, b numeric)');
    const rows: Row[] = [];
    for (const op of ops) {
      const expr = NUMERIC_SQL[op] as string;
      const predicate = compileWhere(`(${expr}) IS NOT NULL`, COLUMNS, { budgetMs: Infinity });
      for (const [a, b] of (NUMERIC_CASES[op] ?? []).slice(0, limit)) {
        const perRow = await pgPerRow(client, expr, a, b);
        const raises = perRow === undefined;
        const pgMs = perRow ?? (await pgPerError(client, expr, a, b));
        rows.push({ op, a, b, raises, pgMs, oursMs: oursPerRow(predicate, a, b) });
      }
    }
    const clauses = await clauseRows(client);
    const md = report(rows, clauses, { started, load, loadAfter: os.loadavg()[0] ?? 0 });
    console.log(md);
    if (process.argv.includes('--write')) {
      const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'numeric.md'), md);
      writeFileSync(path.join(dir, 'numeric.json'), JSON.stringify(rows, null, 1) + '\n');
    }
  } finally {
    await client.end();
    await owned?.stop();
  }
}

/** Sub-microsecond differences are below what either side's per-row timing resolves; ratios use this floor. */
const FLOOR_MS = 0.001;
const ratio = (r: Row): number => Math.max(r.oursMs, FLOOR_MS) / Math.max(r.pgMs, FLOOR_MS);

function distribution(rs: readonly Row[]): string {
  const bands: [string, (x: number) => boolean][] = [
    ['≤ 1×', (x) => x <= 1],
    ['1–2×', (x) => x > 1 && x <= 2],
    ['2–5×', (x) => x > 2 && x <= 5],
    ['5–10×', (x) => x > 5 && x <= 10],
    ['10–30×', (x) => x > 10 && x <= 30],
    ['> 30×', (x) => x > 30],
  ];
  return bands.map(([name, f]) => `${name}: ${rs.filter((r) => f(ratio(r))).length}`).join(' · ');
}

function report(
  rows: Row[],
  clauses: { clause: string; pgMs: number; oursMs: number }[],
  meta: { started: string; load: number; loadAfter: number },
): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const lines = [
    '# Numeric arithmetic vs Postgres 15, per row (best-of timings, same machine)',
    '',
    `Run ${meta.started} on ${cpu} (${os.cpus().length} cores), Node ${process.version}; load average ` +
      `${meta.load.toFixed(2)} at start, ${meta.loadAfter.toFixed(2)} at the end. Method: bench/numeric-bench.ts ` +
      `header. Ratios = ours / Postgres with a ${FLOOR_MS * 1000} µs floor on both sides.`,
    '',
  ];
  for (const op of [...new Set(rows.map((r) => r.op))]) {
    const rs = rows.filter((r) => r.op === op);
    const sorted = [...rs].sort((x, y) => ratio(y) - ratio(x));
    const sumPg = rs.reduce((s, r) => s + r.pgMs, 0);
    const sumOurs = rs.reduce((s, r) => s + r.oursMs, 0);
    const median = ratio(sorted[Math.floor(sorted.length / 2)] as Row);
    lines.push(`## \`${NUMERIC_SQL[op]}\`: ${rs.length} cases (${rs.filter((r) => r.raises).length} raise)`, '');
    lines.push(
      `Total ${sumOurs.toFixed(1)} ms ours vs ${sumPg.toFixed(1)} ms Postgres (${(sumOurs / sumPg).toFixed(2)}×); ` +
        `median ratio ${median.toFixed(2)}×; worst ${ratio(sorted[0] as Row).toFixed(1)}×; ` +
        `cases over 10×: ${rs.filter((r) => ratio(r) > 10).length}.`,
      '',
      `Ratios: ${distribution(rs)}`,
      '',
      '| case | Postgres ms | ours ms | ratio |',
      '|---|---:|---:|---:|',
    );
    const slowest = [...rs].sort((x, y) => y.pgMs + y.oursMs - (x.pgMs + x.oursMs)).slice(0, 8);
    for (const r of [...new Set([...sorted.slice(0, 8), ...slowest])]) {
      const c = `${short(r.a)} ${op} ${short(r.b)}${r.raises ? ' (raises)' : ''}`;
      lines.push(`| ${c} | ${r.pgMs.toFixed(4)} | ${r.oursMs.toFixed(4)} | ${ratio(r).toFixed(1)}× |`);
    }
    lines.push('');
  }
  lines.push(
    '## Whole clauses: compileWhere vs Postgres planning (folding) and running the WHERE',
    '',
    '| clause | Postgres ms | ours ms |',
    '|---|---:|---:|',
  );
  for (const c of clauses) lines.push(`| \`${c.clause}\` | ${c.pgMs.toFixed(3)} | ${c.oursMs.toFixed(3)} |`);
  return lines.join('\n') + '\n';
}

await main();
