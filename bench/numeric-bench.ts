// Numeric ^ (and the other arbitrary-precision paths) against a real Postgres on the same values: ms per operation.
// Run: npx tsx bench/numeric-bench.ts [postgres-url] [--op ^] [--write]
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { compileWhere } from '../src/index.js';
import { numericDiv, numericPow, parseNumeric } from '../src/values/numeric.js';
import type { NumericValue } from '../src/values/types.js';
import { NUMERIC_CASES, NUMERIC_OPERATIONS } from '../test/support/numeric-cases.js';
import { startPostgres, type PostgresInstance } from '../test/support/postgres.js';

const OPS: Record<string, (a: NumericValue, b: NumericValue) => NumericValue> = {
  '^': numericPow,
  '/': numericDiv,
  ...NUMERIC_OPERATIONS,
};

/** Server-side time of `n` evaluations of one case (parsing of the operands excluded), errors included. */
const TIME_FUNCTION = `
CREATE FUNCTION pg_temp.sy_time(op text, a text, b text, n int) RETURNS float8 LANGUAGE plpgsql AS $f$
DECLARE
  t0 timestamptz;
  x numeric;
  na numeric := a::numeric;
  nb numeric := b::numeric;
BEGIN
  t0 := clock_timestamp();
  FOR i IN 1 .. n LOOP
    BEGIN
      x := CASE op
        WHEN '^' THEN na ^ nb
        WHEN '/' THEN na / nb
        WHEN 'sqrt' THEN sqrt(na)
        WHEN 'exp' THEN exp(na)
        WHEN 'ln' THEN ln(na)
        WHEN 'log10' THEN log(na)
        WHEN 'log' THEN log(na, nb)
      END;
    EXCEPTION WHEN OTHERS THEN
      NULL;
    END;
  END LOOP;
  RETURN extract(epoch FROM clock_timestamp() - t0) * 1000 / n;
END $f$`;

interface Row {
  readonly op: string;
  readonly a: string;
  readonly b: string;
  readonly pgMs: number;
  readonly oursMs: number;
}

function ourMs(op: string, a: string, b: string): number {
  const f = OPS[op];
  if (f === undefined) throw new Error(`no operation ${op}`);
  const x = parseNumeric(a);
  const y = parseNumeric(b);
  const run = (): void => {
    try {
      f(x, y);
    } catch {
      // errors are timed like results
    }
  };
  run(); // warm-up
  let n = 1;
  let best = Infinity;
  const start = performance.now();
  while (performance.now() - start < 60 || n <= 3) {
    const t = performance.now();
    run();
    best = Math.min(best, performance.now() - t);
    n++;
  }
  return best;
}

async function pgMs(client: pg.Client, op: string, a: string, b: string): Promise<number> {
  let best = Infinity;
  let n = 1;
  for (let round = 0; round < 4; round++) {
    const r = await client.query<{ ms: number }>('SELECT pg_temp.sy_time($1, $2, $3, $4) AS ms', [op, a, b, n]);
    const ms = Number(r.rows[0]?.ms);
    best = Math.min(best, ms);
    if (ms * n < 20) n = Math.min(n * 4, 4096);
  }
  return best;
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
];

async function clauseRows(client: pg.Client): Promise<{ clause: string; pgMs: number; oursMs: number }[]> {
  const out = [];
  for (const clause of CLAUSES) {
    let pgBest = Infinity;
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      await client.query(`SELECT 1 FROM (VALUES (1.5::numeric)) AS v(price) WHERE ${clause}`);
      const total = performance.now() - t;
      const t2 = performance.now();
      await client.query('SELECT 1 FROM (VALUES (1.5::numeric)) AS v(price) WHERE price > 0');
      pgBest = Math.min(pgBest, total - (performance.now() - t2));
    }
    let oursBest = Infinity;
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      compileWhere(clause, { price: 'numeric' });
      oursBest = Math.min(oursBest, performance.now() - t);
    }
    out.push({ clause, pgMs: Math.max(pgBest, 0.01), oursMs: oursBest });
  }
  return out;
}

async function main(): Promise<void> {
  const urlArg = process.argv[2]?.startsWith('postgres') ? process.argv[2] : undefined;
  let owned: PostgresInstance | undefined;
  const url = urlArg ?? (owned = await startPostgres()).url;
  const opArg = process.argv.indexOf('--op');
  const ops = opArg > 0 ? [process.argv[opArg + 1] as string] : Object.keys(OPS);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(TIME_FUNCTION);
    const rows: Row[] = [];
    for (const op of ops) {
      for (const [a, b] of NUMERIC_CASES[op] ?? []) {
        rows.push({ op, a, b, pgMs: await pgMs(client, op, a, b), oursMs: ourMs(op, a, b) });
      }
    }
    const clauses = await clauseRows(client);
    const md = report(rows, clauses);
    console.log(md);
    if (process.argv.includes('--write')) {
      const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'numeric.md'), md);
    }
  } finally {
    await client.end();
    await owned?.stop();
  }
}

function report(rows: Row[], clauses: { clause: string; pgMs: number; oursMs: number }[]): string {
  const lines = ['# Numeric arithmetic vs Postgres 15 (best-of timings, same machine)', ''];
  for (const op of [...new Set(rows.map((r) => r.op))]) {
    const rs = rows.filter((r) => r.op === op);
    // Sub-10 µs cases are dominated by per-call overhead on both sides; ratios use a 10 µs floor.
    const ratio = (r: Row): number => Math.max(r.oursMs, 0.01) / Math.max(r.pgMs, 0.01);
    const sorted = [...rs].sort((x, y) => ratio(y) - ratio(x));
    const sumPg = rs.reduce((s, r) => s + r.pgMs, 0);
    const sumOurs = rs.reduce((s, r) => s + r.oursMs, 0);
    const median = ratio(sorted[Math.floor(sorted.length / 2)] as Row);
    lines.push(`## \`${op}\`: ${rs.length} cases`, '');
    lines.push(
      `Total ${sumOurs.toFixed(1)} ms ours vs ${sumPg.toFixed(1)} ms Postgres (${(sumOurs / sumPg).toFixed(2)}×); ` +
        `median ratio ${median.toFixed(2)}×; worst ${ratio(sorted[0] as Row).toFixed(1)}×; ` +
        `cases over 10×: ${rs.filter((r) => ratio(r) > 10).length}.`,
      '',
      '| case | Postgres ms | ours ms | ratio |',
      '|---|---:|---:|---:|',
    );
    const slowest = [...rs].sort((x, y) => y.pgMs + y.oursMs - (x.pgMs + x.oursMs)).slice(0, 10);
    for (const r of [...new Set([...sorted.slice(0, 10), ...slowest])]) {
      lines.push(
        `| ${short(r.a)} ${op} ${short(r.b)} | ${r.pgMs.toFixed(3)} | ${r.oursMs.toFixed(3)} | ${ratio(r).toFixed(1)}× |`,
      );
    }
    lines.push('');
  }
  lines.push(
    '## Whole clauses: compileWhere vs Postgres running the WHERE',
    '',
    '| clause | Postgres ms | ours ms |',
    '|---|---:|---:|',
  );
  for (const c of clauses) lines.push(`| \`${c.clause}\` | ${c.pgMs.toFixed(2)} | ${c.oursMs.toFixed(2)} |`);
  return lines.join('\n') + '\n';
}

await main();
