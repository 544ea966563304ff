// `switchyard demo`: shows compileWhere deciding rows exactly as Postgres would, including its sharp edges.
import { WhereError } from '../errors/index.js';
import { compileWhere } from '../where.js';

const COLUMNS = { id: 'int8', price: 'numeric', name: 'text', tags: 'text[]', ratio: 'float8', created: 'timestamptz' };

const CASES: { where: string; rows: Record<string, string | null>[] }[] = [
  { where: 'price = 0.1 + 0.2', rows: [{ price: '0.3' }, { price: '0.30000000000000004' }] },
  { where: 'id = 9007199254740993', rows: [{ id: '9007199254740993' }, { id: '9007199254740992' }] },
  { where: "name < 'a'", rows: [{ name: 'B' }, { name: 'b' }] },
  {
    where: "tags @> '{urgent}' AND ratio > 'Infinity'",
    rows: [
      { tags: '{urgent,"a b"}', ratio: 'NaN' },
      { tags: '{x}', ratio: 'NaN' },
    ],
  },
  { where: "created > '2024-01-02 03:04:05.120001+02'", rows: [{ created: '2024-01-02 01:04:05.120002+00' }] },
  { where: 'id NOT IN (1, NULL)', rows: [{ id: '2' }] },
  { where: 'pricee > 1', rows: [] },
];

export function runDemo(print: (line: string) => void): void {
  print(`columns: ${JSON.stringify(COLUMNS)}`);
  for (const c of CASES) {
    print('');
    print(`where ${c.where}`);
    try {
      const p = compileWhere(c.where, COLUMNS);
      print(`  normalized: ${p.sql}`);
      for (const row of c.rows) print(`  ${JSON.stringify(row)} → ${p.evaluate(row) === true ? 'in' : 'not in'}`);
    } catch (e) {
      if (e instanceof WhereError) print(`  rejected [${e.code}] at ${e.position ?? '?'}: ${e.message}`);
      else throw e;
    }
  }
}
