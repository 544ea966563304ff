// Differential tier: generated (clause, record) pairs must get the same verdict from interpreter, compiler and Postgres.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { groupArb } from '../property/arbitraries.js';
import { useOracle } from '../support/oracle-fixture.js';
import { raisingClauseArb } from '../property/raising-arbitraries.js';
import { recordArb } from '../property/arbitraries.js';
import { checkGroup, emptyScanStats, type Failure, type GroupStats, type ScanStats } from './differential-check.js';
import { seedFrom } from '../support/seed.js';

/** Total clauses to generate (each runs on RECORDS records). DIFF_RUNS=20000 for a long soak. */
const RUNS = Number(process.env['DIFF_RUNS'] ?? 3000);
/** Fixed by default so CI is reproducible; DIFF_SEED=random explores new cases (the seed is printed either way). */
const SEED = seedFrom('DIFF_SEED', 5);
/** Clauses built to raise on some rows (divisions, casts, overflows under guards). DIFF_RAISING_RUNS=3000 for more. */
const RAISING_RUNS = Number(process.env['DIFF_RAISING_RUNS'] ?? 150);
const CLAUSES_PER_GROUP = 30;
const RECORDS = 10;
const MAX_PRINTED = 40;

function describeFailure(f: Failure): string {
  const lines = [`  [${f.kind}] ${f.clause}`];
  if (Object.keys(f.params).length > 0 && /\$\d/.test(f.clause))
    lines.push(`    params:   ${JSON.stringify(f.params)}`);
  if (f.record) lines.push(`    record:   ${JSON.stringify(f.record)}`);
  lines.push(`    postgres: ${f.expected}`, `    got:      ${f.got}`);
  return lines.join('\n');
}

describe('where clauses: Switchyard == Postgres on generated cases', () => {
  const fx = useOracle();

  it(`${RUNS} clauses × ${RECORDS} records (seed ${SEED})`, { timeout: Math.max(600_000, RUNS * 200) }, async () => {
    const groups = Math.max(1, Math.ceil(RUNS / CLAUSES_PER_GROUP));
    const stats: GroupStats = {
      clauses: 0,
      accepted: 0,
      pairs: 0,
      pgRejected: 0,
      runtimeErrors: 0,
      orderTolerated: 0,
      scan: emptyScanStats(),
    };
    const failures: Failure[] = [];
    // Deterministic from the seed: DIFF_SEED=<seed> reproduces the run exactly.
    const samples = fc.sample(groupArb(CLAUSES_PER_GROUP, RECORDS), { seed: SEED, numRuns: groups });
    for (const group of samples)
      failures.push(...(await checkGroup({ oracle: fx.oracle, client: fx.db.client }, group, stats)));
    console.log(
      `[differential] seed ${SEED}: ${stats.clauses} clauses (${stats.accepted} accepted, ${stats.pgRejected} rejected by Postgres), ` +
        `${stats.pairs} (clause, record) pairs, ${stats.runtimeErrors} runtime errors, ${stats.orderTolerated} evaluation-order tolerances; ` +
        scanSummary(stats.scan),
    );
    if (failures.length > 0) {
      const kinds = new Map<string, number>();
      for (const f of failures) kinds.set(f.kind, (kinds.get(f.kind) ?? 0) + 1);
      console.log(
        `[differential] ${failures.length} failures (${[...kinds].map(([k, n]) => `${k}: ${n}`).join(', ')}); ` +
          `reproduce with DIFF_SEED=${SEED} DIFF_RUNS=${RUNS}\n` +
          failures.slice(0, MAX_PRINTED).map(describeFailure).join('\n'),
      );
    }
    expect(failures.map((f) => `${f.kind}: ${f.clause}`)).toEqual([]);
  });

  it(
    `${RAISING_RUNS} raising clauses × ${RECORDS} records as a table scan (seed ${SEED})`,
    { timeout: 600_000 },
    async () => {
      const groups = Math.max(1, Math.ceil(RAISING_RUNS / CLAUSES_PER_GROUP));
      const samples = fc.sample(
        fc.record({
          records: fc.array(recordArb, { minLength: RECORDS, maxLength: RECORDS }),
          clauses: fc.array(raisingClauseArb, { minLength: CLAUSES_PER_GROUP, maxLength: CLAUSES_PER_GROUP }),
          params: fc.constant({}),
        }),
        { seed: SEED, numRuns: groups },
      );
      const stats: GroupStats = {
        clauses: 0,
        accepted: 0,
        pairs: 0,
        pgRejected: 0,
        runtimeErrors: 0,
        orderTolerated: 0,
        scan: emptyScanStats(),
      };
      const failures: Failure[] = [];
      for (const group of samples)
        failures.push(...(await checkGroup({ oracle: fx.oracle, client: fx.db.client }, group, stats)));
      console.log(
        `[differential] raising clauses, seed ${SEED}: ${stats.accepted} accepted; ${scanSummary(stats.scan)}`,
      );
      if (failures.length > 0)
        console.log(
          `[differential] ${failures.length} failures; reproduce with DIFF_SEED=${SEED} DIFF_RAISING_RUNS=${RAISING_RUNS}\n` +
            failures.slice(0, MAX_PRINTED).map(describeFailure).join('\n'),
        );
      expect(stats.scan.clauses).toBeGreaterThan(RAISING_RUNS / 2);
      expect(failures.map((f) => `${f.kind}: ${f.clause}`)).toEqual([]);
    },
  );
});

function scanSummary(s: ScanStats): string {
  return (
    `${s.clauses} raising clauses run as a table scan (${s.rows} rows): ${s.disagree} rows disagree with Postgres; ` +
    `evaluated left to right (the order before planQuals) ${s.disagreeExpressionOrder} rows would, ` +
    `in ${s.clausesDisagreeingBefore} clauses; Predicate.sql scans differently on ${s.renderedDisagree} rows`
  );
}
