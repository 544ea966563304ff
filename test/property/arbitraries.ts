// fast-check generators of typed records and where clauses over every type and operator of where-language.md.
import fc from 'fast-check';
import { literalOf, quote, sqlTypeOf, stringLiteral } from './sql-literals.js';
import {
  ARRAY_TYS,
  COLUMN_TY,
  DATETIME_TYS,
  ELEMENT,
  INT_TYS,
  LIKE_PATTERNS,
  NUM_TYS,
  POOLS,
  TEXT_TYS,
  ZONES,
  type Ty,
} from './value-pools.js';

export { COLUMNS, COLUMN_TY, POOLS, type Ty } from './value-pools.js';

/**
 * A clause keeps its AND/OR/NOT skeleton so that a runtime-error disagreement can be judged against every evaluation
 * order (where-language.md §6.1). `unsupported` marks atoms Switchyard rejects on purpose although Postgres accepts them.
 */
export type BoolTree =
  | { readonly k: 'atom'; readonly sql: string; readonly unsupported?: true }
  | { readonly k: 'and' | 'or'; readonly args: readonly BoolTree[] }
  | { readonly k: 'not'; readonly arg: BoolTree };

export function renderTree(t: BoolTree): string {
  switch (t.k) {
    case 'atom':
      return t.sql;
    case 'not':
      return `NOT (${renderTree(t.arg)})`;
    default:
      return t.args
        .map((a) => (a.k === 'atom' ? renderTree(a) : `(${renderTree(a)})`))
        .join(t.k === 'and' ? ' AND ' : ' OR ');
  }
}

export function hasUnsupported(t: BoolTree): boolean {
  // Atoms also reach expressions as `(bool expression)` text, where the flag is lost: match their text too.
  if (t.k === 'atom') return t.unsupported === true || UNSUPPORTED_ATOMS.some((u) => t.sql.includes(u));
  if (t.k === 'not') return hasUnsupported(t.arg);
  return t.args.some(hasUnsupported);
}

/** `$1` takes a numeric value, `$2` a text, `$3` a date/time: mostly consistent uses, sometimes conflicting ones. */
export const PARAM_KIND: Readonly<Record<'1' | '2' | '3', readonly Ty[]>> = {
  '1': NUM_TYS,
  '2': TEXT_TYS,
  '3': DATETIME_TYS,
};

export const paramsArb: fc.Arbitrary<Record<string, string>> = fc.record({
  '1': fc.constantFrom(...POOLS.int4, ...POOLS.numeric.slice(0, 8), '2.5', 'abc'),
  '2': fc.constantFrom(...POOLS.text),
  '3': fc.constantFrom(...POOLS.date.slice(0, 6), ...POOLS.timestamp.slice(0, 4), '2024-01-02 03:04:05+02'),
});

const COLS_BY_TY = new Map<Ty, string[]>();
for (const [name, ty] of Object.entries(COLUMN_TY)) COLS_BY_TY.set(ty, [...(COLS_BY_TY.get(ty) ?? []), name]);

const ident = (name: string): string => (/^[a-z_][a-z0-9_]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`);
const paren = (s: string): string => `(${s})`;
const oneOfTy = (tys: readonly Ty[]): fc.Arbitrary<Ty> => fc.constantFrom(...tys);

/** A column reference of type ty, sometimes table-qualified (the oracle aliases its table as `t`). */
function columnOf(ty: Ty): fc.Arbitrary<string> | undefined {
  const cols = COLS_BY_TY.get(ty);
  if (cols === undefined) return undefined;
  return fc.constantFrom(...cols).chain((c) => fc.constantFrom(ident(c), ident(c), ident(c), `t.${ident(c)}`));
}

function poolLiteral(ty: Ty): fc.Arbitrary<string> {
  return fc.constantFrom(...POOLS[ty]).chain((v) => literalOf(ty, v));
}

function paramFor(ty: Ty): fc.Arbitrary<string> | undefined {
  for (const [k, tys] of Object.entries(PARAM_KIND))
    if (tys.includes(ty)) return fc.constantFrom(`$${k}`, `$${k}`, `$${k}::${ty}`);
  return undefined;
}

function leaf(ty: Ty): fc.Arbitrary<string> {
  const col = columnOf(ty);
  const param = paramFor(ty);
  return fc.oneof(
    ...(col ? [{ arbitrary: col, weight: 8 }] : []),
    { arbitrary: poolLiteral(ty), weight: 5 },
    { arbitrary: sqlTypeOf(ty).map((n) => `NULL::${n}`), weight: 1 },
    ...(param ? [{ arbitrary: param, weight: 1 }] : []),
  );
}

const memo = new Map<string, fc.Arbitrary<string>>();

/** An expression of (roughly) type ty with at most `depth` levels of operators. */
export function exprArb(ty: Ty, depth: number): fc.Arbitrary<string> {
  const key = `${ty}/${depth}`;
  let a = memo.get(key);
  if (a === undefined) {
    a =
      depth <= 0
        ? leaf(ty)
        : fc.oneof({ arbitrary: leaf(ty), weight: 3 }, { arbitrary: fc.oneof(...compounds(ty, depth - 1)), weight: 2 });
    memo.set(key, a);
  }
  return a;
}

const bin = (l: fc.Arbitrary<string>, ops: readonly string[], r: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc.tuple(l, fc.constantFrom(...ops), r).map(([x, op, y]) => `(${x} ${op} ${y})`);
const call = (fn: string, ...args: fc.Arbitrary<string>[]): fc.Arbitrary<string> =>
  fc.tuple(...args).map((xs) => `${fn}(${xs.join(', ')})`);
const castTo = (ty: Ty, from: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc.tuple(from, sqlTypeOf(ty), fc.boolean()).map(([x, n, c]) => (c ? `CAST(${x} AS ${n})` : `${paren(x)}::${n}`));

function compounds(ty: Ty, d: number): fc.Arbitrary<string>[] {
  const e = (t: Ty): fc.Arbitrary<string> => exprArb(t, d);
  const anyOf = (tys: readonly Ty[]): fc.Arbitrary<string> => oneOfTy(tys).chain(e);
  const generic = [
    call('coalesce', e(ty), e(ty)),
    call('nullif', e(ty), e(ty)),
    ...(ty === 'jsonb' || ty.endsWith('[]') || ty === 'bool'
      ? []
      : [call('greatest', e(ty), e(ty), e(ty)), call('least', e(ty), e(ty))]),
  ];
  const el = ELEMENT[ty];
  if (el !== undefined) {
    return [
      ...generic,
      fc.array(e(el), { minLength: 1, maxLength: 3 }).map((xs) => `ARRAY[${xs.join(', ')}]`),
      bin(e(ty), ['||'], e(ty)),
      bin(e(ty), ['||'], e(el)),
      bin(e(el), ['||'], e(ty)),
      call('array_append', e(ty), e(el)),
      call('array_prepend', e(el), e(ty)),
      call('array_cat', e(ty), e(ty)),
      fc.tuple(e(ty), fc.constantFrom('[1:2]', '[2:]', '[:1]', '[0:5]')).map(([a, s]) => `${paren(a)}${s}`),
    ];
  }
  const subscript = (arr: Ty): fc.Arbitrary<string> =>
    fc
      .tuple(e(arr), fc.oneof(fc.constantFrom('1', '2', '0', '-1', '3'), e('int2')))
      .map(([a, i]) => `${paren(a)}[${i}]`);
  const elementOf = ARRAY_TYS.filter((a) => ELEMENT[a] === ty).map(subscript);
  switch (ty) {
    case 'int2':
    case 'int4':
    case 'int8':
      return [
        ...generic,
        ...elementOf,
        bin(e(ty), ['+', '-', '*', '/', '%'], anyOf(INT_TYS)),
        bin(e(ty), ['&', '|', '#'], e(ty)),
        bin(e(ty), ['<<', '>>'], e('int4')),
        fc.tuple(fc.constantFrom('-', '@', '~', '+'), e(ty)).map(([op, x]) => `(${op} ${x})`),
        call('abs', e(ty)),
        castTo(ty, anyOf([...NUM_TYS, 'text'])),
        ...(ty === 'int4'
          ? [
              call('length', anyOf(TEXT_TYS)),
              call('char_length', e('text')),
              oneOfTy(ARRAY_TYS).chain((a) =>
                fc.oneof(
                  call('cardinality', e(a)),
                  call('array_ndims', e(a)),
                  call('array_length', e(a), fc.constantFrom('1', '2', '0')),
                ),
              ),
              bin(e('date'), ['-'], e('date')),
              castTo('int4', e('bool')),
            ]
          : []),
      ];
    case 'numeric':
      return [
        ...generic,
        ...elementOf,
        bin(e('numeric'), ['+', '-', '*', '/', '%', '^'], anyOf(['numeric', 'int4', 'int8'])),
        bin(anyOf(INT_TYS), ['+', '-', '*', '/', '%'], e('numeric')),
        fc.tuple(fc.constantFrom('-', '@'), e(ty)).map(([op, x]) => `(${op} ${x})`),
        call('abs', e(ty)),
        castTo('numeric', anyOf([...NUM_TYS, 'text'])),
      ];
    case 'float4':
    case 'float8':
      return [
        ...generic,
        ...elementOf,
        bin(e(ty), ['+', '-', '*', '/'], anyOf(ty === 'float4' ? ['float4'] : NUM_TYS)),
        ...(ty === 'float8' ? [bin(e('float8'), ['^'], e('float8')), e('float8').map((x) => `(|/ ${x})`)] : []),
        fc.tuple(fc.constantFrom('-', '@'), e(ty)).map(([op, x]) => `(${op} ${x})`),
        call('abs', e(ty)),
        castTo(ty, anyOf([...NUM_TYS, 'text'])),
      ];
    case 'text':
      return [
        ...generic,
        ...elementOf,
        call('lower', anyOf(TEXT_TYS)),
        call('upper', anyOf(TEXT_TYS)),
        fc
          .array(oneOfTy([...TEXT_TYS, ...NUM_TYS, 'bool', 'date', 'int4[]']).chain(e), { minLength: 1, maxLength: 3 })
          .map((xs) => `concat(${xs.join(', ')})`),
        bin(anyOf(TEXT_TYS), ['||'], oneOfTy([...TEXT_TYS, 'int4', 'numeric', 'date', 'bool', 'uuid']).chain(e)),
        castTo(
          'text',
          oneOfTy([
            ...NUM_TYS,
            ...TEXT_TYS,
            'bool',
            'uuid',
            'date',
            'time',
            'timestamp',
            'timestamptz',
            'interval',
            'jsonb',
            'int4[]',
            'text[]',
          ]).chain(e),
        ),
        call('text', anyOf(['int4', 'numeric', 'bpchar'])),
      ];
    case 'varchar':
    case 'bpchar':
    case 'name':
      return [...generic, castTo(ty, anyOf(TEXT_TYS))];
    case 'bool':
      return [
        boolTreeArb(Math.min(d, 1)).map((t) => paren(renderTree(t))),
        ...elementOf,
        castTo('bool', anyOf(['text', 'int4'])),
      ];
    case 'uuid':
      return [...generic, castTo('uuid', e('text'))];
    case 'date':
      return [
        ...generic,
        ...elementOf,
        bin(e('date'), ['+', '-'], e('int4')),
        bin(e('int4'), ['+'], e('date')),
        castTo('date', anyOf(['timestamp', 'timestamptz', 'text'])),
      ];
    case 'time':
      return [
        ...generic,
        bin(e('time'), ['+', '-'], e('interval')),
        castTo('time', anyOf(['timestamp', 'timestamptz', 'text'])),
      ];
    case 'timestamp':
      return [
        ...generic,
        bin(anyOf(['date', 'timestamp']), ['+', '-'], e('interval')),
        bin(e('interval'), ['+'], e('timestamp')),
        bin(e('date'), ['+'], e('time')),
        fc.tuple(fc.constantFrom(...ZONES), e('timestamptz')).map(([z, x]) => `timezone(${quote(z)}, ${x})`),
        fc.tuple(e('timestamptz'), fc.constantFrom(...ZONES)).map(([x, z]) => `(${x} AT TIME ZONE ${quote(z)})`),
        castTo('timestamp', anyOf(['date', 'timestamptz', 'text'])),
      ];
    case 'timestamptz':
      return [
        ...generic,
        ...elementOf,
        bin(e('timestamptz'), ['+', '-'], e('interval')),
        fc.tuple(fc.constantFrom(...ZONES), e('timestamp')).map(([z, x]) => `timezone(${quote(z)}, ${x})`),
        fc.tuple(e('timestamp'), fc.constantFrom(...ZONES)).map(([x, z]) => `(${x} AT TIME ZONE ${quote(z)})`),
        castTo('timestamptz', anyOf(['date', 'timestamp', 'text'])),
      ];
    case 'interval':
      return [
        ...generic,
        oneOfTy(['timestamp', 'timestamptz', 'time', 'interval']).chain((t) => bin(e(t), ['-'], e(t))),
        bin(e('interval'), ['+'], e('interval')),
        bin(e('interval'), ['*', '/'], anyOf(['float8', 'int4', 'numeric'])),
        bin(e('float8'), ['*'], e('interval')),
        e('interval').map((x) => `(- ${x})`),
        fc.constantFrom('justify_days', 'justify_hours', 'justify_interval').chain((f) => call(f, e('interval'))),
        castTo('interval', anyOf(['time', 'text'])),
      ];
    case 'jsonb':
      return [...generic, castTo('jsonb', e('text'))];
    default:
      return generic;
  }
}

const CMP = ['=', '<>', '!=', '<', '<=', '>', '>='];
const EQ = ['=', '<>', '!='];

/** Type families whose members compare with each other; the second entry says whether ordering is defined. */
const FAMILIES: readonly (readonly [readonly Ty[], boolean])[] = [
  [NUM_TYS, true],
  [TEXT_TYS, true],
  [DATETIME_TYS, true],
  [['time'], true],
  [['interval'], true],
  [['uuid'], true],
  [['bool'], true],
  [['jsonb'], false],
  [['int4[]'], false],
  [['int8[]'], false],
  [['text[]'], false],
  [['numeric[]'], false],
  [['date[]'], false],
  [['float8[]'], false],
];

const ALL_TYS = Object.keys(POOLS) as Ty[];

/** A pair of comparable expressions and operators valid between them. */
const comparable = (d: number): fc.Arbitrary<[string, string, readonly string[], Ty]> =>
  fc.constantFrom(...FAMILIES).chain(([tys, ordered]) =>
    fc
      .tuple(
        oneOfTy(tys).chain((t) => exprArb(t, d).map((x) => [x, t] as const)),
        oneOfTy(tys).chain((t) => exprArb(t, d)),
      )
      .map(([[l, t], r]) => [l, r, ordered ? CMP : EQ, t] as [string, string, readonly string[], Ty]),
  );

function atomArb(d: number): fc.Arbitrary<BoolTree> {
  const e = (t: Ty): fc.Arbitrary<string> => exprArb(t, d);
  const atom = (a: fc.Arbitrary<string>): fc.Arbitrary<BoolTree> => a.map((sql) => ({ k: 'atom', sql }));
  const cmp = comparable(d).chain(([l, r, ops]) => fc.constantFrom(...ops).map((op) => `${l} ${op} ${r}`));
  const inList = comparable(d).chain(([l, , , t]) =>
    fc
      .tuple(
        fc.constantFrom('IN', 'NOT IN'),
        fc.array(fc.oneof({ arbitrary: exprArb(t, 0), weight: 5 }, { arbitrary: fc.constant('NULL'), weight: 1 }), {
          minLength: 1,
          maxLength: 4,
        }),
      )
      .map(([op, xs]) => `${l} ${op} (${xs.join(', ')})`),
  );
  const between = fc
    .constantFrom(...FAMILIES.filter(([, o]) => o))
    .chain(([tys]) =>
      fc
        .tuple(
          oneOfTy(tys).chain(e),
          fc.constantFrom('BETWEEN', 'NOT BETWEEN', 'BETWEEN SYMMETRIC', 'NOT BETWEEN SYMMETRIC'),
          oneOfTy(tys).chain(e),
          oneOfTy(tys).chain(e),
        )
        .map(([x, op, a, b]) => `${x} ${op} ${a} AND ${b}`),
    );
  const nullTest = fc
    .tuple(oneOfTy(ALL_TYS).chain(e), fc.constantFrom('IS NULL', 'IS NOT NULL'))
    .map(([x, op]) => `${x} ${op}`);
  const distinct = comparable(d).chain(([l, r]) =>
    fc.constantFrom('IS DISTINCT FROM', 'IS NOT DISTINCT FROM').map((op) => `${l} ${op} ${r}`),
  );
  const boolTest = fc
    .tuple(e('bool'), fc.constantFrom('TRUE', 'FALSE', 'UNKNOWN'), fc.boolean())
    .map(([x, v, not]) => `${paren(x)} IS ${not ? 'NOT ' : ''}${v}`);
  const anyAll = oneOfTy(ARRAY_TYS).chain((arr) => {
    const elTy = ELEMENT[arr]!;
    const arrExpr = fc.oneof(
      e(arr),
      fc.constantFrom(...POOLS[arr]).map((v) => quote(v)),
    );
    return fc
      .tuple(e(elTy), fc.constantFrom(...CMP), fc.constantFrom('ANY', 'SOME', 'ALL'), arrExpr)
      .map(([x, op, q, a]) => `${x} ${op} ${q} (${a})`);
  });
  const like = fc
    .tuple(
      oneOfTy(TEXT_TYS).chain(e),
      fc.constantFrom('LIKE', 'NOT LIKE', 'ILIKE', 'NOT ILIKE', '~~', '!~~', '~~*', '!~~*'),
      fc.constantFrom(...LIKE_PATTERNS),
      fc.oneof({ arbitrary: fc.constant(undefined), weight: 4 }, { arbitrary: e('text'), weight: 1 }),
    )
    .chain(([x, op, [p, esc], colPattern]) => {
      const pattern = colPattern ?? quote(p);
      const withEscape = esc !== undefined && op.match(/^[A-Z]/) !== null && colPattern === undefined;
      return fc.constant(`${x} ${op} ${pattern}${withEscape ? ` ESCAPE ${quote(esc)}` : ''}`);
    });
  const likeFn = fc
    .tuple(fc.constant('like'), e('text'), fc.constantFrom(...LIKE_PATTERNS))
    .map(([f, x, [p]]) => `${f}(${x}, ${quote(p)})`);
  const arrayOps = oneOfTy(ARRAY_TYS).chain((arr) =>
    fc
      .tuple(e(arr), fc.constantFrom('@>', '<@', '&&'), fc.oneof(e(arr), fc.constantFrom(...POOLS[arr]).map(quote)))
      .map(([a, op, b]) => `${a} ${op} ${b}`),
  );
  const boolExpr = e('bool');
  return fc.oneof(
    { arbitrary: atom(cmp), weight: 12 },
    { arbitrary: atom(inList), weight: 3 },
    { arbitrary: atom(between), weight: 2 },
    { arbitrary: atom(nullTest), weight: 2 },
    { arbitrary: atom(distinct), weight: 2 },
    { arbitrary: atom(boolTest), weight: 1 },
    { arbitrary: atom(anyAll), weight: 3 },
    { arbitrary: atom(like), weight: 3 },
    { arbitrary: atom(likeFn), weight: 1 },
    { arbitrary: atom(arrayOps), weight: 2 },
    { arbitrary: atom(boolExpr), weight: 1 },
    { arbitrary: illTyped(d), weight: 2 },
    { arbitrary: unsupported, weight: 1 },
  );
}

/** Deliberately ill-typed atoms: Postgres rejects them, so compileWhere must too. */
function illTyped(d: number): fc.Arbitrary<BoolTree> {
  const e = (t: Ty): fc.Arbitrary<string> => exprArb(t, d);
  return fc
    .oneof(
      fc
        .tuple(oneOfTy(ALL_TYS).chain(e), fc.constantFrom(...CMP, '+', 'LIKE', '@>'), oneOfTy(ALL_TYS).chain(e))
        .map(([a, op, b]) => `${a} ${op} ${b}`),
      fc.tuple(oneOfTy(ALL_TYS).chain(e), fc.constantFrom('IS TRUE', 'IS NOT FALSE')).map(([a, op]) => `${a} ${op}`),
      fc.tuple(e('int4'), e('int4')).map(([a, b]) => `${a} = ANY (${b})`),
      e('int4').map((x) => `${x} + 1`),
      fc.constantFrom(
        'nmae = 1',
        'i4 = 1.5::text',
        "i4 = 'test'",
        "b = 'o'",
        "concat() = ''",
        "d = '01/02/2024'::date",
        'i2 = 40000::int2',
      ),
      fc.constantFrom(
        "ai4[1] = 'x'",
        'i4 = 1/0',
        'i4 = 2147483647 + 1',
        "u = 'not-a-uuid'",
        "j > '{}'",
        'at = ai4',
        "ts = 'infinity'::date",
      ),
    )
    .map((sql) => ({ k: 'atom', sql }));
}

/** Constructs Postgres accepts but Switchyard rejects by design (where-language.md §1, §6.3, §7, §8.1 not_supported). */
export const UNSUPPORTED_ATOMS: readonly string[] = [
  "t ~ 'a'",
  "t SIMILAR TO 'a%'",
  'now() > tz',
  "d = 'today'",
  'random() < 2',
  'i4 IN (SELECT 1)',
  "d = '01/02/2024'::date",
  'EXISTS (SELECT 1)',
  'CASE WHEN b THEN true ELSE false END',
  "ai4 < '{2}'",
  "j @> '{}'",
  "to_char(d, 'YYYY') = '2024'",
  'current_date > d',
  "ts > 'now'",
  't = \'a\' COLLATE "en_US"',
  '(i4, i8) = (1, 2)',
  "d = 'Jan 2 2024'",
];

const unsupported: fc.Arbitrary<BoolTree> = fc
  .constantFrom(...UNSUPPORTED_ATOMS)
  .map((sql) => ({ k: 'atom', sql, unsupported: true }));

const treeMemo = new Map<number, fc.Arbitrary<BoolTree>>();

/** A boolean clause tree with up to `depth` levels of AND/OR/NOT over atoms. */
export function boolTreeArb(depth: number): fc.Arbitrary<BoolTree> {
  let a = treeMemo.get(depth);
  if (a !== undefined) return a;
  const atoms = atomArb(Math.min(depth, 2));
  if (depth <= 0) a = atoms;
  else {
    const sub = boolTreeArb(depth - 1);
    a = fc.oneof(
      { arbitrary: atoms, weight: 4 },
      {
        arbitrary: fc
          .tuple(fc.constantFrom('and' as const, 'or' as const), fc.array(sub, { minLength: 2, maxLength: 3 }))
          .map(([k, args]): BoolTree => ({ k, args })),
        weight: 3,
      },
      { arbitrary: sub.map((arg): BoolTree => ({ k: 'not', arg })), weight: 1 },
    );
  }
  treeMemo.set(depth, a);
  return a;
}

/** One test group: records (input literals, rendered to text output by Postgres before use), clauses, params. */
export interface Group {
  readonly records: Record<string, string | null>[];
  readonly clauses: BoolTree[];
  readonly params: Record<string, string>;
}

/** A record of input literals: each column NULL one time in six, else an edge value of its type. */
export const recordArb: fc.Arbitrary<Record<string, string | null>> = fc.record(
  Object.fromEntries(
    Object.entries(COLUMN_TY).map(([c, ty]) => [
      c,
      fc.oneof({ arbitrary: fc.constant(null), weight: 1 }, { arbitrary: fc.constantFrom(...POOLS[ty]), weight: 5 }),
    ]),
  ),
);

export function groupArb(clauses: number, records: number): fc.Arbitrary<Group> {
  return fc.record({
    records: fc.array(recordArb, { minLength: records, maxLength: records }),
    clauses: fc.array(boolTreeArb(2), { minLength: clauses, maxLength: clauses }),
    params: paramsArb,
  });
}

export { stringLiteral };
