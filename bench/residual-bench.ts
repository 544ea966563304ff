// Micro-benchmark of residual comparisons (issue 12 item 1): ns per `column op constant` evaluated against a row, for
// int4, int8, numeric, float8, timestamptz, date and text, with many distinct constants per row as the router runs
// them (one compiled residual per shape, the row's columns decoded at most once per row).
// Run: `node --expose-gc --import tsx bench/residual-bench.ts`.
import os from 'node:os';
import { compileBool } from '../src/eval/compile.js';
import { RowView } from '../src/eval/row-view.js';
import { analyzeClause, layoutFor } from '../src/where.js';
import { rng } from './router-workloads.js';
import { tsText } from './zoo-cases.js';

const COLUMNS = {
  i8: 'int8',
  amount: 'numeric',
  price: 'float8',
  at: 'timestamptz',
  day: 'date',
  name: 'text',
  i4: 'int4',
};

type Gen = (r: () => number) => string;
const int = (r: () => number, m: number): number => Math.floor(r() * m);
const GENS: Record<keyof typeof COLUMNS, Gen> = {
  i4: (r) => String(int(r, 1_000_000)),
  i8: (r) => String(int(r, 1_000_000_000)),
  amount: (r) => `${int(r, 10_000)}.${String(int(r, 100)).padStart(2, '0')}`,
  price: (r) => String(int(r, 1_000_000) / 100),
  at: (r) => tsText(1_704_067_200_000_000 + int(r, 365 * 86_400_000_000)),
  day: (r) => new Date(Date.UTC(2024, 0, 1 + int(r, 365))).toISOString().slice(0, 10),
  name: (r) => Math.floor(r() * 2 ** 40).toString(36),
};

export interface ResidualBenchRow {
  readonly column: string;
  readonly type: string;
  /** Median of the rounds. */
  readonly nsPerComparison: number;
  /** Best round (the least disturbed by other load on a shared machine). */
  readonly bestNs: number;
}

/**
 * Per column: `residuals` distinct `col < $1` predicates evaluated on each of `rows` rows; median and best of `rounds`
 * after a warm-up pass over every column (so the first column measured is not the one that pays for compilation).
 */
export function runResidualBench(residuals = 2_000, rows = 400, rounds = 9): ResidualBenchRow[] {
  measure(residuals, rows, 2);
  return measure(residuals, rows, rounds);
}

function measure(residuals: number, rows: number, rounds: number): ResidualBenchRow[] {
  const { layout } = layoutFor(COLUMNS);
  const view = new RowView(layout);
  const out: ResidualBenchRow[] = [];
  for (const [col, type] of Object.entries(COLUMNS)) {
    const gen = GENS[col as keyof typeof COLUMNS];
    const r = rng(7);
    const fns = [];
    for (let i = 0; i < residuals; i++) {
      const { expr } = analyzeClause(`${col} < $1`, COLUMNS, { params: { '1': gen(r) } });
      fns.push(compileBool(expr, layout));
    }
    const records: Record<string, string>[] = [];
    for (let i = 0; i < rows; i++) {
      const rec: Record<string, string> = {};
      for (const [c, g] of Object.entries(GENS)) rec[c] = g(r);
      records.push(rec);
    }
    const times: number[] = [];
    let sink = 0;
    for (let round = 0; round < rounds + 1; round++) {
      const t0 = process.hrtime.bigint();
      for (const rec of records) {
        view.reset(rec);
        for (let i = 0; i < fns.length; i++) if ((fns[i] as (v: RowView) => boolean | null)(view) === true) sink++;
      }
      const ns = Number(process.hrtime.bigint() - t0);
      if (round > 0) times.push(ns / (rows * residuals)); // the first round warms up
    }
    if (sink < 0) console.log(sink);
    times.sort((a, b) => a - b);
    out.push({
      column: col,
      type,
      nsPerComparison: times[Math.floor(times.length / 2)] as number,
      bestNs: times[0] as number,
    });
  }
  return out;
}

export function residualMarkdown(rows: readonly ResidualBenchRow[]): string {
  const cpus = os.cpus();
  return [
    `Residual comparisons — ${new Date().toISOString()} — ${cpus[0]?.model ?? 'unknown'} × ${cpus.length}, Node ${process.version}, load average ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' / ')}`,
    '',
    '`col < constant`, 2,000 distinct compiled residuals per row, the row decoded at most once (9 rounds after a warm-up).',
    '',
    '| column type | median ns per comparison | best round |',
    '|---|---:|---:|',
    ...rows.map((r) => `| ${r.type} | ${r.nsPerComparison.toFixed(1)} | ${r.bestNs.toFixed(1)} |`),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(residualMarkdown(runResidualBench()));
