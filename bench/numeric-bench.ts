// Numeric ^, / and the numeric functions against a real Postgres, per row, like for like: ms per evaluation.
// Run: npx tsx bench/numeric-bench.ts [postgres-url] [--op ^,/] [--match REGEX] [--limit N] [--json FILE] [--write]
//      npx tsx bench/numeric-bench.ts --merge part1.json part2.json … [--write]   (report from runs made in parts)
//
// Both sides evaluate `(<expression over columns a, b>) IS NOT NULL` once per row of a table whose rows all hold
// the case's operands, so Postgres cannot fold or cache the expression; each side subtracts its own cost of the
// same scan with `a IS NOT NULL`. Postgres: the query over N rows. Ours: the compiled Predicate over N records
// (text decoding of the operands included: the service decodes every row). Time is on-CPU time of the backend and
// of our process by default (see CLOCK), wall time with --wall.
// A case Postgres raises on cannot run over a table, so both sides then time the error in a loop instead
// (Postgres: PL/pgSQL with an exception block, minus the same loop around a trivial assignment).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { compileWhere, type PgRecord, type Predicate } from '../src/index.js';
import { setRowOperationLimitMs, setShapeRowBudgetMs } from '../src/values/work-budget.js';
import { NUMERIC_CASES, NUMERIC_SQL } from '../test/support/numeric-cases.js';
import { startPostgres, type PostgresInstance } from '../test/support/postgres.js';

/**
 * Each measurement runs for at least this long (ms): on-CPU clocks resolve microseconds and are not stretched by
 * the run queue, so 10 ms suffice (the wall clock needs more).
 */
const TARGET_MS = process.argv.includes('--wall') ? 25 : 10;
const MAX_ROWS = 20000;
const ROUNDS = 3;
const MAX_ROUNDS = 8;

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

/**
 * How time is read. `cpu` (default): on-CPU time of the process doing the work — the Postgres backend's (its
 * /proc/<pid>/schedstat, ns) and ours (process.cpuUsage, every thread, GC helpers included). On a shared machine
 * wall time mostly measures the run queue, and not evenly: in one loaded run our process waited 4× its CPU time,
 * the backend 2.6×. `wall`: EXPLAIN ANALYZE (TIMING OFF) execution time and performance.now().
 */
const CLOCK: 'cpu' | 'wall' = process.argv.includes('--wall') ? 'wall' : 'cpu';

let backendPid = 0;

/** On-CPU ms of the Postgres backend so far. */
function backendCpuMs(): number {
  return Number(readFileSync(`/proc/${backendPid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
}

function ownCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** The backend's time for one query: its on-CPU time around it, or EXPLAIN ANALYZE's execution time. */
async function queryMs(client: pg.Client, sql: string): Promise<number> {
  if (CLOCK === 'cpu') {
    const t0 = backendCpuMs();
    await client.query(sql);
    return backendCpuMs() - t0;
  }
  const r = await client.query<{ 'QUERY PLAN': [{ 'Execution Time': number }] }>(
    `EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) ${sql}`,
  );
  return r.rows[0]?.['QUERY PLAN'][0]['Execution Time'] ?? NaN;
}

/** Rows needed for a measurement of TARGET_MS given a first per-row estimate. */
function rowsFor(perRowMs: number): number {
  return Math.max(1, Math.min(MAX_ROWS, Math.ceil(TARGET_MS / Math.max(perRowMs, 1e-5))));
}

/**
 * Best of ROUNDS of the measured query, minus best of ROUNDS of the baseline query (best-of on each side: a
 * difference taken per round turns any hiccup of the baseline into a zero).
 */
async function bestDifference(measure: () => Promise<number>, baseline: () => Promise<number>): Promise<number> {
  let best = Infinity;
  let base = Infinity;
  for (let i = 0; i < ROUNDS; i++) {
    best = Math.min(best, await measure());
    base = Math.min(base, await baseline());
  }
  return Math.max(best - base, 0);
}

/** Postgres per row, or undefined when the expression raises for these operands. */
async function pgPerRow(client: pg.Client, expr: string, a: string, b: string): Promise<number | undefined> {
  const fill = async (n: number): Promise<void> => {
    await client.query('TRUNCATE sy_rows');
    await client.query('INSERT INTO sy_rows SELECT $1::numeric, $2::numeric FROM generate_series(1, $3)', [a, b, n]);
  };
  const run = (): Promise<number> => queryMs(client, `SELECT count(*) FROM sy_rows WHERE (${expr}) IS NOT NULL`);
  const scan = (): Promise<number> => queryMs(client, 'SELECT count(*) FROM sy_rows WHERE a IS NOT NULL');
  await fill(1);
  let first: number;
  try {
    first = (await run()) - (await scan());
  } catch {
    return undefined;
  }
  const n = rowsFor(first);
  if (n > 1) await fill(n);
  return (await bestDifference(run, scan)) / n;
}

/** Postgres per raising evaluation: the exception loop minus the same loop around `x := a`. */
async function pgPerError(client: pg.Client, expr: string, a: string, b: string): Promise<number> {
  await client.query(errorLoop(expr));
  const loop = async (n: number, trivial: boolean): Promise<number> => {
    if (CLOCK === 'cpu') return queryMs(client, `SELECT pg_temp.sy_loop('${a}', '${b}', ${n}, ${trivial})`);
    const r = await client.query<{ ms: number }>('SELECT pg_temp.sy_loop($1, $2, $3, $4) AS ms', [a, b, n, trivial]);
    return Number(r.rows[0]?.ms);
  };
  const n = rowsFor(await loop(1, false));
  return (
    (await bestDifference(
      () => loop(n, false),
      () => loop(n, true),
    )) / n
  );
}

/**
 * Warm-up before our side is timed: a cold evaluation runs in V8's interpreter, 10–30× slower than the optimised
 * code every later row of a shape gets (`2 ^ 0.5`: ~1 ms for the first calls, 35 µs from the ~200th on this
 * machine, where the optimising compiler's thread waits in the run queue too). Postgres has no such phase.
 */
const WARM_CALLS = 200;
const WARM_MS = 50;

/** Our time of `fn` per call once warm, best of a few batches sized to TARGET_MS. */
function timePerCall(fn: () => void): number {
  const now = CLOCK === 'cpu' ? ownCpuMs : (): number => performance.now();
  const w0 = performance.now();
  for (let calls = 0; calls < WARM_CALLS && performance.now() - w0 < WARM_MS; calls++) fn();
  const t0 = now();
  for (let i = 0; i < 10; i++) fn();
  const n = rowsFor((now() - t0) / 10);
  // Rounds go on while they still improve by more than 10% (code still warming), up to MAX_ROUNDS.
  let best = Infinity;
  let stale = 0;
  for (let round = 0; round < MAX_ROUNDS && (round < ROUNDS || stale < 2); round++) {
    const t = now();
    for (let i = 0; i < n; i++) fn();
    const per = (now() - t) / n;
    stale = per < best * 0.9 ? 0 : stale + 1;
    best = Math.min(best, per);
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
  // Raised errors capture no stack, as when the router evaluates rows (src/router/core.ts routeInto): capturing
  // one costs ~10 µs, more than most of these operations.
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return Math.max(timePerCall(run(predicate)) - timePerCall(run(baseline)), 0);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * Every case of an operation a few times before any is timed, so the shared code paths are optimised by the first
 * case too (a per-case warm-up alone left the first cases of a suite on interpreted code: `ln 3` 120 µs, not 20).
 * A case whose first call takes over PREWARM_SLOW_MS runs once.
 */
const PREWARM_CALLS = 30;
const PREWARM_SLOW_MS = 5;

function prewarm(predicate: Predicate, cases: readonly (readonly [string, string])[]): void {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  const call = (a: string, b: string): void => {
    try {
      predicate.evaluate({ a, b });
    } catch {
      // raising cases warm their paths too
    }
  };
  try {
    for (const [a, b] of cases) {
      const t = performance.now();
      call(a, b);
      if (performance.now() - t > PREWARM_SLOW_MS) continue;
      for (let i = 1; i < PREWARM_CALLS; i++) call(a, b);
    }
  } finally {
    Error.stackTraceLimit = limit;
  }
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

/** One run of the bench (the whole case list, or a part of it): its rows and the machine's state around it. */
interface Run {
  readonly started: string;
  readonly clock: 'cpu' | 'wall';
  readonly load: number;
  loadAfter: number;
  readonly ops: readonly string[];
  readonly match: string | undefined;
  readonly rows: Row[];
  clauses: { clause: string; pgMs: number; oursMs: number }[];
}

async function measure(jsonPath: string | undefined): Promise<Run[]> {
  const urlArg = process.argv[2]?.startsWith('postgres') ? process.argv[2] : undefined;
  let owned: PostgresInstance | undefined;
  const url = urlArg ?? (owned = await startPostgres()).url;
  const ops = arg('--op')?.split(',') ?? Object.keys(NUMERIC_SQL);
  const limit = Number(arg('--limit') ?? Infinity);
  // A case filter (on `a op b`), for re-measuring the worst cases on their own.
  const match = arg('--match');
  const re = match !== undefined ? new RegExp(match) : undefined;
  // Time the arithmetic itself: the per-operation cap and the shape row budget would turn the longest cases into
  // errors.
  setRowOperationLimitMs(Infinity);
  setShapeRowBudgetMs(Infinity);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  backendPid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid ?? 0;
  const run: Run = {
    started: new Date().toISOString(),
    clock: CLOCK,
    load: os.loadavg()[0] ?? 0,
    loadAfter: NaN,
    ops,
    match,
    rows: [],
    clauses: [],
  };
  // Written after every operation, so a long run stopped part way keeps what it measured.
  const save = (): void => {
    run.loadAfter = os.loadavg()[0] ?? 0;
    if (jsonPath !== undefined) writeFileSync(jsonPath, JSON.stringify(run, null, 1) + '\n');
  };
  try {
    await client.query('CREATE TEMP TABLE sy_rows (a numeric, b numeric)');
    for (const op of ops) {
      const expr = NUMERIC_SQL[op] as string;
      const predicate = compileWhere(`(${expr}) IS NOT NULL`, COLUMNS, { budgetMs: Infinity });
      const cases = (NUMERIC_CASES[op] ?? []).filter(([a, b]) => re?.test(`${a} ${op} ${b}`) ?? true);
      prewarm(predicate, cases.slice(0, limit));
      for (const [a, b] of cases.slice(0, limit)) {
        const perRow = await pgPerRow(client, expr, a, b);
        const raises = perRow === undefined;
        const pgMs = perRow ?? (await pgPerError(client, expr, a, b));
        run.rows.push({ op, a, b, raises, pgMs, oursMs: oursPerRow(predicate, a, b) });
      }
      console.error(`${new Date().toISOString()} ${op}: ${cases.length} cases, load ${os.loadavg()[0]?.toFixed(2)}`);
      save();
    }
    if (match === undefined) run.clauses = await clauseRows(client);
    save();
    return [run];
  } finally {
    await client.end();
    await owned?.stop();
  }
}

async function main(): Promise<void> {
  const mergeAt = process.argv.indexOf('--merge');
  const runs =
    mergeAt > 0
      ? process.argv
          .slice(mergeAt + 1)
          .filter((f) => !f.startsWith('--'))
          .map((f) => JSON.parse(readFileSync(f, 'utf8')) as Run)
      : await measure(arg('--json'));
  const md = report(runs);
  console.log(md);
  if (process.argv.includes('--write')) {
    const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'numeric.md'), md);
    writeFileSync(path.join(dir, 'numeric.json'), JSON.stringify(runs, null, 1) + '\n');
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

/** Digits of a value written out in plain decimal (`1e+1000` has 1,001): the issue's target covers up to 1,000. */
function plainDigits(s: string): number {
  const m = /^[-+]?([\d.]*)e([-+]?\d+)$/i.exec(s);
  if (m === null) return s.replace(/\D/g, '').length;
  return (m[1] ?? '').replace(/\D/g, '').length + Math.abs(Number(m[2]));
}

/** The issue's target: exponents up to 100,000 in magnitude and operands up to 1,000 digits (a few chars of slack). */
function inScope(r: Row): boolean {
  if (plainDigits(r.a) > 1002 || plainDigits(r.b) > 1002) return false;
  return r.op !== '^' || !(Math.abs(Number(r.b)) > 100000);
}

function report(runs: readonly Run[]): string {
  const rows = runs.flatMap((r) => r.rows);
  // Every full-list part times the whole clauses; the first part's figures are shown.
  const clauses = runs.find((r) => r.clauses.length > 0)?.clauses ?? [];
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const scoped = rows.filter(inScope);
  const over = scoped.filter((r) => ratio(r) > 10);
  const lines = [
    '# Numeric arithmetic vs Postgres 15, per row (best-of timings, same machine)',
    '',
    `**Target (within 10× of Postgres for exponents ≤ 100,000 and operands ≤ 1,000 digits) ` +
      `${over.length === 0 ? 'met' : 'not met'}:** ${over.length} of ${scoped.length} cases in that scope over 10× ` +
      `(worst ${Math.max(...scoped.map(ratio)).toFixed(1)}×); over all ${rows.length} cases: ` +
      `${rows.filter((r) => ratio(r) > 10).length} over 10×.`,
    '',
    `Machine: ${cpu} (${os.cpus().length} cores), Node ${process.version}. Method: bench/numeric-bench.ts header. ` +
      `Ratios = ours / Postgres with a ${FLOOR_MS * 1000} µs floor on both sides; both sides of a case are measured ` +
      `back to back in the same run.`,
    '',
    ...runs.map(
      (r) =>
        `- Run ${r.started}: ${r.ops.join(' ')}${r.match !== undefined ? ` (cases matching /${r.match}/)` : ''}, ` +
        `${r.rows.length} cases, ${r.clock === 'cpu' ? 'on-CPU' : 'wall'} time; load average ${r.load.toFixed(2)} at start, ${r.loadAfter.toFixed(2)} at the end.`,
    ),
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
