// Issue 11, item 1: what one raising shape costs the rows it raises on, now that fail-open is confined to it.
//
// Run: node --import tsx bench/fail-open.ts [shapes] (default 100000). Prints markdown; `--json` prints JSON instead.
// A Router holds `shapes` shapes `user_id = <i>` plus one shape `1 / n = 1`, whose expression key raises "division by
// zero" for rows with n = 0, and one shape `n * 1000000 = 1`, which raises "integer out of range" for |n| > 2147.
// Timed alternately in rounds, over the same user ids: normal rows (nothing raises), rows with n = 0 (the same
// poisonous value on every row), and rows whose n overflows with a new value on every row (each one builds and throws
// an error). The answer for every raising row is checked: its own user's shape, exact, plus the raising shape, failed
// open. Before confinement a raising row failed every shape open (issue 11: 1.5 µs → 1.9 ms, 1,279×).
import os from 'node:os';
import { Router } from '../src/router/index.js';
import type { Change } from '../src/router/index.js';
import { rng } from './router-workloads.js';

const SCHEMA = { 'public.events': { user_id: 'int8', n: 'int4', body: 'text' } };
const ROWS = 20_000;
const ROUNDS = 15;

export interface FailOpenReport {
  readonly shapes: number;
  readonly normalNs: number;
  readonly raisingNs: number;
  readonly ratio: number;
  /** The same ratio from each kind's fastest round (less sensitive to a busy machine than the medians). */
  readonly bestRatio: number;
  /** Rows raising on a value no earlier row had (an error built and thrown per row). */
  readonly distinctNs: number;
  readonly distinctRatio: number;
  /** Ids answered per raising row, and how many of them were failed open. */
  readonly idsPerRaisingRow: number;
  readonly failedOpenPerRaisingRow: number;
}

function rows(users: readonly number[], n: (i: number) => number): Change[] {
  return users.map((u, i) => ({
    table: 'events',
    op: 'insert',
    record: { user_id: String(u), n: String(n(i)), body: 'x' },
  }));
}

/** ns per row of routing `changes` one by one (route(), as the service's per-row path). */
function time(r: Router, changes: readonly Change[]): number {
  const t0 = process.hrtime.bigint();
  for (const c of changes) r.route(c);
  return Number(process.hrtime.bigint() - t0) / changes.length;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

export function runFailOpenBench(shapes: number): FailOpenReport {
  const r = new Router({ schema: SCHEMA });
  for (let i = 0; i < shapes; i++)
    r.addShape(`u${i}`, { table: 'events', where: 'user_id = $1', params: { '1': String(i) } });
  r.addShape('bad', { table: 'events', where: '1 / n = 1' });
  r.addShape('overflow', { table: 'events', where: 'n * 1000000 = 1' });
  const rand = rng(11);
  const users = Array.from({ length: ROWS }, () => Math.floor(rand() * shapes));
  const normal = rows(users, (i) => 2 + (i % 100)); // 1 / n = 0 for n ≥ 2: `bad` is exactly false
  const raising = rows(users, () => 0);
  let next = 3000;
  const distinct = (): Change[] => rows(users, () => next++);
  // Every raising row: its user's shape exactly, plus the raising shape failed open — nothing else.
  let ids = 0;
  let failed = 0;
  for (const [res, want] of [
    ...r.routeChanges(raising).map((x) => [x, 'bad'] as const),
    ...r.routeChanges(distinct()).map((x) => [x, 'overflow'] as const),
  ]) {
    if (want === 'bad') {
      ids += res.ids.length;
      failed += res.failedOpen.length;
    }
    if (res.ids.length !== 2 || res.failedOpen.length !== 1 || res.failedOpen[0] !== want)
      throw new Error(`unexpected answer for a raising row: ${JSON.stringify(res)}`);
  }
  const a: number[] = [];
  const b: number[] = [];
  const c: number[] = [];
  time(r, normal);
  time(r, raising);
  for (let k = 0; k < ROUNDS; k++) {
    a.push(time(r, normal));
    b.push(time(r, raising));
    c.push(time(r, distinct()));
  }
  const normalNs = median(a);
  const raisingNs = median(b);
  const distinctNs = median(c);
  return {
    shapes,
    normalNs,
    raisingNs,
    ratio: raisingNs / normalNs,
    bestRatio: Math.min(...b) / Math.min(...a),
    distinctNs,
    distinctRatio: distinctNs / normalNs,
    idsPerRaisingRow: ids / raising.length,
    failedOpenPerRaisingRow: failed / raising.length,
  };
}

export function failOpenMarkdown(r: FailOpenReport): string {
  const cpus = os.cpus();
  return [
    `Confined fail-open — ${new Date().toISOString()} — ${cpus[0]?.model ?? 'unknown'} × ${cpus.length}, Node ${process.version}`,
    '',
    `${r.shapes.toLocaleString('en-US')} shapes \`user_id = <i>\` plus \`1 / n = 1\` and \`n * 1000000 = 1\`; median of ${ROUNDS} rounds of ${ROWS.toLocaleString('en-US')} rows routed one by one.`,
    '',
    '| row | ns/row | ids per row | failed open per row |',
    '|---|---:|---:|---:|',
    `| normal (n ≠ 0) | ${r.normalNs.toFixed(0)} | 1 | 0 |`,
    `| raising (n = 0) | ${r.raisingNs.toFixed(0)} | ${r.idsPerRaisingRow} | ${r.failedOpenPerRaisingRow} |`,
    `| raising, a new value each row (n * 1000000 overflows) | ${r.distinctNs.toFixed(0)} | 2 | 1 |`,
    '',
    `A raising row costs ${r.ratio.toFixed(2)}× a normal row (fastest rounds: ${r.bestRatio.toFixed(2)}×; target ≤ 2×); one raising on a value no earlier row had costs ${r.distinctRatio.toFixed(2)}× (an error object is built and thrown for it).`,
  ].join('\n');
}

if (process.argv[1]?.endsWith('fail-open.ts')) {
  const n = Number(process.argv.find((a, i) => i >= 2 && /^\d+$/.test(a)) ?? 100_000);
  const report = runFailOpenBench(n);
  console.log(process.argv.includes('--json') ? JSON.stringify(report, null, 2) : failOpenMarkdown(report));
}
