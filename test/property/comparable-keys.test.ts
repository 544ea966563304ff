// Comparisons on comparable keys (and on native text order) must give exactly the interpreter's answer — the same
// verdict, NULL, or the same error — for every row text and constant, canonical or not, in or out of the exact span.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileBool } from '../../src/eval/compile.js';
import { interpretExpr } from '../../src/eval/interpret.js';
import { RowView } from '../../src/eval/row-view.js';
import { constantKey, keyerFor } from '../../src/values/comparable.js';
import { codecFor } from '../../src/values/registry.js';
import { pgType } from '../../src/values/types.js';
import { analyzeClause, layoutFor } from '../../src/where.js';

const COLUMNS = {
  i2: 'int2',
  i4: 'int4',
  i8: 'int8',
  n: 'numeric',
  n2: 'numeric(8,2)',
  f8: 'float8',
  f4: 'float4',
  ts: 'timestamp',
  tz: 'timestamptz',
  d: 'date',
  tm: 'time',
  t: 'text',
  vc: 'varchar',
};
const OPS = ['=', '<>', '<', '<=', '>', '>='];

function outcome(f: () => unknown): unknown {
  try {
    const v = f();
    return v === null ? 'NULL' : v;
  } catch (e) {
    return `error: ${(e as Error).message}`;
  }
}

const digits = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });
const decimal = fc
  .tuple(fc.boolean(), digits(1, 18), fc.option(digits(0, 24)))
  .map(([neg, i, f]) => `${neg ? '-' : ''}${i}${f === null ? '' : '.' + f}`);
const numericText = fc.oneof(
  decimal,
  fc.integer({ min: -40000, max: 40000 }).map(String),
  fc.constantFrom(
    'NaN',
    'Infinity',
    '-Infinity',
    '0',
    '-0',
    '00',
    '1e3',
    ' 5',
    '',
    '.5',
    '5.',
    '1.0',
    '999999999999999',
  ),
  fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }).map(String),
);
const floatText = fc.oneof(
  fc.double().map(String),
  fc.integer({ min: -1000, max: 1000 }).map((x) => String(x / 8)),
  fc.constantFrom('NaN', 'Infinity', '-Infinity', '-0', '1e400', '1e-400', 'inf', '0x10', ''),
);
const p2 = (x: number): string => String(x).padStart(2, '0');
const tsText = fc
  .record({
    y: fc.oneof(fc.integer({ min: 1, max: 9999 }), fc.integer({ min: 1700, max: 2300 })),
    mo: fc.integer({ min: 1, max: 13 }),
    d: fc.integer({ min: 1, max: 31 }),
    s: fc.integer({ min: 0, max: 86400 }),
    f: fc.option(digits(1, 6)),
  })
  .map(
    ({ y, mo, d, s, f }) =>
      `${String(y).padStart(4, '0')}-${p2(mo)}-${p2(d)} ${p2(Math.floor(s / 3600))}:${p2(Math.floor(s / 60) % 60)}:${p2(s % 60)}${f === null ? '' : '.' + f}`,
  );
const tzText = fc.oneof(
  tsText.map((s) => `${s}+00`),
  tsText.map((s) => `${s}-05:30`),
  tsText,
  fc.constantFrom('infinity', '-infinity', '2024-01-01 00:00:00 BC+00', 'now'),
);
const textText = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.string({ unit: 'grapheme', maxLength: 4 }),
  fc.constantFrom('\uffff', '\ud83d\ude00', 'a\ue000', 'a\ud800\udc00', ''),
);

/** Per column, an arbitrary of row texts and of constant texts. */
const TEXTS: Record<keyof typeof COLUMNS, fc.Arbitrary<string>> = {
  i2: numericText,
  i4: numericText,
  i8: numericText,
  n: numericText,
  n2: numericText,
  f8: floatText,
  f4: floatText,
  ts: tsText,
  tz: tzText,
  d: fc.oneof(
    tsText.map((s) => s.slice(0, 10)),
    fc.constantFrom('infinity', '-infinity'),
  ),
  tm: tsText.map((s) => s.slice(11)),
  t: textText,
  vc: textText,
};

function check(col: keyof typeof COLUMNS, constant: fc.Arbitrary<string>, cast = ''): void {
  const { layout } = layoutFor(COLUMNS);
  const row = new RowView(layout);
  fc.assert(
    fc.property(
      fc.array(TEXTS[col], { minLength: 1, maxLength: 4 }),
      constant,
      fc.constantFrom(...OPS),
      (rows, c, op) => {
        let expr;
        try {
          expr = analyzeClause(`${col} ${op} $1${cast}`, COLUMNS, { params: { '1': c } }).expr;
        } catch {
          return; // a constant the type rejects: nothing to compare
        }
        const fn = compileBool(expr, layout);
        for (const text of [...rows, null]) {
          const rec = { [col]: text };
          const want = outcome(() => interpretExpr(expr, row.reset(rec)));
          const got = outcome(() => fn(row.reset(rec)));
          expect(got).toEqual(want);
        }
      },
    ),
    { numRuns: 1500 },
  );
}

describe('comparisons on comparable keys equal the interpreter', () => {
  for (const col of Object.keys(COLUMNS) as (keyof typeof COLUMNS)[]) it(col, () => check(col, TEXTS[col]));
  it('int2/int4/int8 against numeric constants (widened)', () => {
    check('i2', numericText, '::numeric');
    check('i4', numericText, '::numeric');
    check('i8', numericText, '::numeric');
  });
  it('int2/int4 against int8 constants', () => {
    check('i2', numericText, '::int8');
    check('i4', numericText, '::int8');
  });
});

describe('comparable keys', () => {
  const decode = (t: string, s: string) => codecFor(pgType(t as 'int8')).parse(s);
  const key = (t: string, s: string): number =>
    (keyerFor(pgType(t as 'int8'), (x) => decode(t, x)) as (s: string) => number)(s);
  it('are exact or absent at the edges of their spans', () => {
    expect(key('int8', '999999999999999')).toBe(999999999999999);
    expect(key('int8', '1000000000000000')).toBeNaN();
    expect(key('int8', '007')).toBeNaN();
    expect(key('int2', '32768')).toBeNaN();
    expect(key('numeric', '0.1')).toBe(0.1);
    expect(key('numeric', '123456789012345.6')).toBeNaN();
    expect(key('numeric', '1.')).toBeNaN();
    expect(key('numeric', 'NaN')).toBeNaN();
    expect(key('float8', 'NaN')).toBeNaN();
    expect(key('timestamptz', '2024-01-01 00:00:00+00')).toBe(Date.UTC(2024, 0, 1) * 1000);
    expect(key('timestamptz', '2024-01-01 00:00:00-05')).toBeNaN();
    expect(key('timestamp', '2400-01-01 00:00:00')).toBeNaN();
  });
  it('of constants: none for NaN, too many digits or a typmod', () => {
    const num = (s: string): number => constantKey(pgType('numeric'), decode('numeric', s));
    expect(num('2.50')).toBe(2.5);
    expect(num('NaN')).toBeNaN();
    expect(num('Infinity')).toBe(Infinity);
    expect(num('1234567890123456')).toBeNaN();
    expect(constantKey(pgType('numeric', false, 8, 2), decode('numeric', '1'))).toBeNaN();
    expect(constantKey(pgType('int8'), 2n ** 60n)).toBeNaN();
  });
});
