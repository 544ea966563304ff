// The workload zoo (issue 12): declarative router workloads, each a shape generator and a row generator on one table.
import type { ShapeDef } from '../src/router/index.js';
import { BENCH_SCHEMA, BENCH_TABLE, makeWorkload, rng } from './router-workloads.js';

export const ZOO_TABLE = 'public.zoo';
export const ZOO_SCHEMA: Record<string, Record<string, string>> = {
  [ZOO_TABLE]: {
    id: 'int8',
    user_id: 'int8',
    region: 'int4',
    amount: 'numeric',
    price: 'float8',
    at: 'timestamptz',
    day: 'date',
    name: 'text',
    status: 'text',
    qty: 'int2',
    flag: 'bool',
    tags: 'text[]',
  },
};

export type Rec = Record<string, string | null>;
type Rand = () => number;

/**
 * One workload: every shape is `where` with parameters drawn by `params`, every row is the base row with the fields
 * `row` overrides. Domains are chosen so the hit counts are realistic (a wide range matches thousands of shapes at
 * 20k shapes, an equality a handful). `seedMix` cases take the seed mix of the router bench instead.
 */
export interface ZooCase {
  readonly name: string;
  /** What the case stresses (printed under the table). */
  readonly about: string;
  readonly where: string;
  readonly params: (r: Rand, n: number) => Record<string, string>;
  readonly row: (r: Rand, n: number) => Rec;
}

const int = (r: Rand, m: number): number => Math.floor(r() * m);
const pad = (x: number, w: number): string => String(x).padStart(w, '0');

const USERS = 1_000;
const DAY_US = 86_400_000_000;
const YEAR_DAYS = 365;
/** 2024-01-01 00:00:00 UTC in µs since the Unix epoch. */
const T0_US = 1_704_067_200_000_000;
const LETTERS = 'abcdefgh';

/** Postgres's text output of a timestamptz in UTC (trailing fraction zeros trimmed, as Postgres prints them). */
export function tsText(us: number): string {
  const ms = Math.floor(us / 1000);
  const micro = us - ms * 1000;
  const base = new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
  const frac = (ms % 1000) * 1000 + micro;
  return frac === 0 ? `${base}+00` : `${base}.${pad(frac, 6).replace(/0+$/, '')}+00`;
}

function dayText(d: number): string {
  return new Date(Date.UTC(2024, 0, 1 + d)).toISOString().slice(0, 10);
}

const amount = (r: Rand): string => `${int(r, 10_000)}.${pad(int(r, 100), 2)}`;
const price = (r: Rand): string => String(int(r, 1_000_000) / 100);
const at = (r: Rand): string => tsText(T0_US + int(r, YEAR_DAYS * DAY_US));
function word(r: Rand, len: number): string {
  let s = '';
  for (let i = 0; i < len; i++) s += LETTERS[int(r, LETTERS.length)] as string;
  return s;
}
/** Two sorted draws: a range whose width is itself uniform (about a third of the domain on average). */
function pair<T>(r: Rand, draw: (r: Rand) => T, cmp: (a: T, b: T) => number): [T, T] {
  const a = draw(r);
  const b = draw(r);
  return cmp(a, b) <= 0 ? [a, b] : [b, a];
}
/** Two sorted integers below m. */
const intPair = (r: Rand, m: number): [number, number] =>
  pair(
    r,
    (x) => int(x, m),
    (x, y) => x - y,
  );
const numCmp = (a: string, b: string): number => Number(a) - Number(b);
const strCmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function baseRow(r: Rand, id: number): Rec {
  return {
    id: String(id),
    user_id: String(int(r, USERS)),
    region: String(int(r, 10)),
    amount: amount(r),
    price: price(r),
    at: at(r),
    day: dayText(int(r, YEAR_DAYS)),
    name: word(r, 8),
    status: `st${int(r, 50)}`,
    qty: String(int(r, 1000)),
    flag: r() < 0.5 ? 't' : 'f',
    tags: `{t${int(r, 100)},t${int(r, 100)}}`,
  };
}

/** Region 7 half of the time: the hot equality of the residual cases. */
const region7 = (r: Rand): string => (r() < 0.5 ? '7' : String(int(r, 10)));

export const ZOO_CASES: readonly ZooCase[] = [
  {
    name: 'hot-key',
    about: 'the floor: every row hits one key whose posting list holds every shape',
    where: 'user_id = $1',
    params: () => ({ '1': '7' }),
    row: () => ({ user_id: '7' }),
  },
  {
    name: 'wide-ranges',
    about: 'numeric BETWEEN with uniform bounds: a row falls in about a third of them',
    where: 'amount BETWEEN $1 AND $2',
    params: (r) => {
      const [a, b] = pair(r, amount, numCmp);
      return { '1': a, '2': b };
    },
    row: () => ({}),
  },
  {
    name: 'conj-ranges',
    about: 'a one-sided timestamptz bound and a two-sided int8 range',
    where: 'at >= $1 AND user_id > $2 AND user_id < $3',
    params: (r) => {
      const [a, b] = intPair(r, USERS);
      return { '1': at(r), '2': String(a), '3': String(b) };
    },
    row: () => ({}),
  },
  {
    name: 'eq-numeric',
    about: 'equality on a hot key and a numeric threshold',
    where: 'region = 7 AND amount > $1',
    params: (r) => ({ '1': amount(r) }),
    row: (r) => ({ region: region7(r) }),
  },
  {
    name: 'float-ts',
    about: 'equality on a hot key, float8 and timestamptz thresholds',
    where: 'region = 7 AND price < $1 AND at < $2',
    params: (r) => ({ '1': price(r), '2': at(r) }),
    row: (r) => ({ region: region7(r) }),
  },
  {
    name: 'like-prefix',
    about: 'LIKE prefixes of 1–4 letters over an 8-letter alphabet',
    where: 'name LIKE $1',
    params: (r) => ({ '1': `${word(r, 1 + int(r, 4))}%` }),
    row: () => ({}),
  },
  {
    name: 'or-heavy',
    about: 'three disjuncts: two equalities and an int2 threshold',
    where: 'user_id = $1 OR status = $2 OR qty > $3',
    params: (r) => ({ '1': String(int(r, USERS)), '2': `st${int(r, 50)}`, '3': String(900 + int(r, 100)) }),
    row: () => ({}),
  },
  {
    name: 'in-list',
    about: 'IN lists of eight users',
    where: 'user_id IN ($1, $2, $3, $4, $5, $6, $7, $8)',
    params: (r) => {
      const p: Record<string, string> = {};
      for (let i = 1; i <= 8; i++) p[String(i)] = String(int(r, USERS));
      return p;
    },
    row: () => ({}),
  },
  {
    name: 'in-range',
    about: 'an IN list of two regions and a numeric range',
    where: 'region IN ($1, $2) AND amount BETWEEN $3 AND $4',
    params: (r) => {
      const [a, b] = pair(r, amount, numCmp);
      return { '1': String(int(r, 10)), '2': String(int(r, 10)), '3': a, '4': b };
    },
    row: () => ({}),
  },
  {
    name: 'param-family',
    about: "the seed's threshold family: 20 users, a timestamptz bound each",
    where: 'user_id = $1 AND at >= $2',
    params: (r) => ({ '1': String(int(r, 20)), '2': at(r) }),
    row: (r) => ({ user_id: String(int(r, 20)) }),
  },
  {
    name: 'text-ranges',
    about: 'half-open text ranges (C collation order)',
    where: 'name >= $1 AND name < $2',
    params: (r) => {
      const [a, b] = pair(r, (x) => word(x, 3), strCmp);
      return { '1': a, '2': b };
    },
    row: () => ({}),
  },
  {
    name: 'date-ranges',
    about: 'date BETWEEN with uniform bounds',
    where: 'day BETWEEN $1 AND $2',
    params: (r) => {
      const [a, b] = intPair(r, YEAR_DAYS);
      return { '1': dayText(a), '2': dayText(b) };
    },
    row: () => ({}),
  },
  {
    name: 'int2-bool',
    about: 'equality on a hot key, an int2 threshold and a bool column',
    where: 'region = 7 AND qty > $1 AND flag',
    params: (r) => ({ '1': String(int(r, 1000)) }),
    row: (r) => ({ region: region7(r) }),
  },
  // Other types and forms of the same cliffs (issue 12: the fix must be general).
  {
    name: 'conj-late',
    about: 'conj-ranges with late timestamps: a row passes about one bound in ten of `at`, a third of the int8 ranges',
    where: 'at >= $1 AND user_id > $2 AND user_id < $3',
    params: (r) => {
      const [a, b] = intPair(r, USERS);
      return {
        '1': tsText(T0_US + Math.floor((0.8 + 0.2 * r()) * YEAR_DAYS * DAY_US)),
        '2': String(a),
        '3': String(b),
      };
    },
    row: () => ({}),
  },
  {
    name: 'text-date-conj',
    about: 'a half-open text range and a one-sided date bound',
    where: 'name >= $1 AND name < $2 AND day >= $3',
    params: (r) => {
      const [a, b] = pair(r, (x) => word(x, 3), strCmp);
      return { '1': a, '2': b, '3': dayText(int(r, YEAR_DAYS)) };
    },
    row: () => ({}),
  },
  {
    name: 'two-thresholds',
    about: 'numeric and timestamptz thresholds on two columns, no equality',
    where: 'amount > $1 AND at < $2',
    params: (r) => ({ '1': amount(r), '2': at(r) }),
    row: () => ({}),
  },
  {
    name: 'in-text-range',
    about: 'an IN list of statuses and a text range',
    where: 'status IN ($1, $2, $3) AND name BETWEEN $4 AND $5',
    params: (r) => {
      const [a, b] = pair(r, (x) => word(x, 3), strCmp);
      return { '1': `st${int(r, 50)}`, '2': `st${int(r, 50)}`, '3': `st${int(r, 50)}`, '4': a, '5': b };
    },
    row: () => ({}),
  },
  {
    name: 'bool-int2-range',
    about: 'a bool column and an int2 range (the bool is the least selective conjunct)',
    where: 'NOT flag AND qty BETWEEN $1 AND $2',
    params: (r) => {
      const [a, b] = intPair(r, 1000);
      return { '1': String(a), '2': String(b) };
    },
    row: () => ({}),
  },
  {
    name: 'eq-int2-bool',
    about: 'equality on a hot key, a two-sided int2 range and a bool column',
    where: 'region = $1 AND qty >= $2 AND qty < $3 AND flag',
    params: (r) => {
      const [a, b] = intPair(r, 1000);
      return { '1': region7(r), '2': String(a), '3': String(b) };
    },
    row: (r) => ({ region: region7(r) }),
  },
  {
    name: 'date-thresholds',
    about: 'one-sided date bounds, both directions',
    where: 'day > $1 OR day < $2',
    params: (r) => ({ '1': dayText(int(r, YEAR_DAYS)), '2': dayText(int(r, YEAR_DAYS >> 3)) }),
    row: () => ({}),
  },
];

export interface ZooWorkload {
  readonly name: string;
  readonly schema: Record<string, Record<string, string>>;
  readonly shapes: readonly { readonly id: string; readonly def: ShapeDef }[];
  readonly rows: readonly { readonly table: string; readonly op: 'insert'; readonly record: Rec }[];
}

/** `rows` inserts and `n` shapes of a zoo case, fully determined by the seed. */
export function makeZooWorkload(c: ZooCase, n: number, rows: number, seed = 20261205): ZooWorkload {
  const r = rng(seed ^ (n * 2654435761) ^ c.name.length);
  const shapes = new Array<{ id: string; def: ShapeDef }>(n);
  for (let i = 0; i < n; i++)
    shapes[i] = { id: `z${i}`, def: { table: ZOO_TABLE, where: c.where, params: c.params(r, n) } };
  const out = new Array<ZooWorkload['rows'][number]>(rows);
  for (let i = 0; i < rows; i++)
    out[i] = { table: ZOO_TABLE, op: 'insert', record: { ...baseRow(r, i), ...c.row(r, n) } };
  return { name: c.name, schema: ZOO_SCHEMA, shapes, rows: out };
}

/** The router bench's seed mix (80% equality, 15% inclusion, 5% complex) with its rows as single inserts. */
export function seedMixWorkload(n: number, rows: number): ZooWorkload {
  const w = makeWorkload('seed-mix', n, Math.ceil(rows / 0.7) + 64);
  const out: ZooWorkload['rows'][number][] = [];
  for (const c of w.changes) {
    if (out.length >= rows) break;
    if (c.op === 'insert') out.push({ table: BENCH_TABLE, op: 'insert', record: { ...c.record } });
  }
  return { name: 'seed-mix', schema: BENCH_SCHEMA, shapes: w.shapes, rows: out };
}
