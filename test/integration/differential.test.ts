// Differential tier: generated (clause, record) pairs must get the same verdict from interpreter, compiler and Postgres.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { groupArb } from '../property/arbitraries.js';
import { useOracle } from '../support/oracle-fixture.js';
import { checkGroup, type Failure, type GroupStats } from './differential-check.js';
import { seedFrom } from '../support/seed.js';

/** Total clauses to generate (each runs on RECORDS records). DIFF_RUNS=20000 for a long soak. */
const RUNS = Number(process.env['DIFF_RUNS'] ?? 3000);
/** Fixed by default so CI is reproducible; DIFF_SEED=random explores new cases (the seed is printed either way). */
const SEED = seedFrom('DIFF_SEED', 5);
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
    const stats: GroupStats = { clauses: 0, accepted: 0, pairs: 0, pgRejected: 0, runtimeErrors: 0, orderTolerated: 0 };
    const failures: Failure[] = [];
    // Deterministic from the seed: DIFF_SEED=<seed> reproduces the run exactly.
    const samples = fc.sample(groupArb(CLAUSES_PER_GROUP, RECORDS), { seed: SEED, numRuns: groups });
    for (const group of samples)
      failures.push(...(await checkGroup({ oracle: fx.oracle, client: fx.db.client }, group, stats)));
    console.log(
      `[differential] seed ${SEED}: ${stats.clauses} clauses (${stats.accepted} accepted, ${stats.pgRejected} rejected by Postgres), ` +
        `${stats.pairs} (clause, record) pairs, ${stats.runtimeErrors} runtime errors, ${stats.orderTolerated} evaluation-order tolerances`,
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
});
