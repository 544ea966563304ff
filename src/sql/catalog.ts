// The operator and function catalog: Postgres overloads for the supported types, each mapped to an eval function id.
import { pgType, type PgType, type ScalarName } from '../values/types.js';
import type { Candidate } from './coerce.js';
import type { DatetimeFn, FnId } from './function-ids.js';

/** An operator or function overload. Arguments are cast to `castTo` (when given) before `fn` runs. */
export interface Overload extends Candidate {
  readonly args: readonly PgType[];
  readonly result: PgType;
  /** Implementation id (eval/functions.ts implements each); absent for comparisons. */
  readonly fn?: FnId;
  /** Comparison operators: both operands are cast to this type and compared with its semantics. */
  readonly compareAs?: PgType;
  /** Types the arguments are cast to before the call (cross-type integer arithmetic computes in the wider type). */
  readonly castTo?: readonly PgType[];
  /**
   * Set on overloads Postgres has but Switchyard cannot evaluate exactly: resolution still picks them as Postgres
   * would (so `exp(int_col)` is not silently taken as the numeric overload), then analysis refuses with this reason.
   */
  readonly unsupported?: string;
}

const T = (s: ScalarName): PgType => pgType(s);
const INTS: readonly ScalarName[] = ['int2', 'int4', 'int8'];
const WIDTH: Record<string, number> = { int2: 2, int4: 4, int8: 8, float4: 4, float8: 8 };
const wider = (a: ScalarName, b: ScalarName): ScalarName => ((WIDTH[a] as number) >= (WIDTH[b] as number) ? a : b);

export const COMPARE_OPS = ['=', '<>', '<', '<=', '>', '>='] as const;

/** Binary operators by name (`=`, `+`, …). Comparison overloads carry `compareAs`. */
export const BINARY: Map<string, Overload[]> = new Map();
/** Prefix operators by name (`-`, `+`, `@`, `~`, `|/`). */
export const PREFIX: Map<string, Overload[]> = new Map();
/** Functions by lower-case name. */
export const FUNCTIONS: Map<string, Overload[]> = new Map();

function add(map: Map<string, Overload[]>, name: string, o: Overload): void {
  const list = map.get(name);
  if (list) list.push(o);
  else map.set(name, [o]);
}

function comparisons(a: ScalarName, b: ScalarName, as: ScalarName): void {
  for (const op of COMPARE_OPS) add(BINARY, op, { args: [T(a), T(b)], result: T('bool'), compareAs: T(as) });
}

// --- comparisons (pg_operator btree families, cross-type members included) ---
for (const a of INTS) for (const b of INTS) comparisons(a, b, wider(a, b));
comparisons('float4', 'float4', 'float4');
comparisons('float8', 'float8', 'float8');
comparisons('float4', 'float8', 'float8');
comparisons('float8', 'float4', 'float8');
comparisons('numeric', 'numeric', 'numeric');
comparisons('text', 'text', 'text');
comparisons('bpchar', 'bpchar', 'bpchar');
comparisons('name', 'name', 'name');
comparisons('name', 'text', 'text');
comparisons('text', 'name', 'text');
comparisons('bool', 'bool', 'bool');
comparisons('uuid', 'uuid', 'uuid');
comparisons('bytea', 'bytea', 'bytea');
comparisons('date', 'date', 'date');
comparisons('time', 'time', 'time');
comparisons('interval', 'interval', 'interval');
comparisons('timestamp', 'timestamp', 'timestamp');
comparisons('timestamptz', 'timestamptz', 'timestamptz');
comparisons('date', 'timestamp', 'timestamp');
comparisons('timestamp', 'date', 'timestamp');
comparisons('date', 'timestamptz', 'timestamptz');
comparisons('timestamptz', 'date', 'timestamptz');
comparisons('timestamp', 'timestamptz', 'timestamptz');
comparisons('timestamptz', 'timestamp', 'timestamptz');
comparisons('jsonb', 'jsonb', 'jsonb');

// --- arithmetic ---
for (const a of INTS) {
  for (const b of INTS) {
    const r = wider(a, b);
    for (const op of ['+', '-', '*', '/'] as const) {
      add(BINARY, op, { args: [T(a), T(b)], result: T(r), fn: `int${op}`, castTo: [T(r), T(r)] });
    }
  }
  add(BINARY, '%', { args: [T(a), T(a)], result: T(a), fn: 'int%' });
  for (const op of ['&', '|', '#'] as const) add(BINARY, op, { args: [T(a), T(a)], result: T(a), fn: `int${op}` });
  for (const op of ['<<', '>>'] as const) add(BINARY, op, { args: [T(a), T('int4')], result: T(a), fn: `int${op}` });
  add(PREFIX, '-', { args: [T(a)], result: T(a), fn: 'int_neg' });
  add(PREFIX, '+', { args: [T(a)], result: T(a), fn: 'identity' });
  add(PREFIX, '@', { args: [T(a)], result: T(a), fn: 'int_abs' });
  add(PREFIX, '~', { args: [T(a)], result: T(a), fn: 'int~' });
  add(FUNCTIONS, 'abs', { args: [T(a)], result: T(a), fn: 'int_abs' });
}
for (const [a, b] of [
  ['float4', 'float4'],
  ['float8', 'float8'],
  ['float4', 'float8'],
  ['float8', 'float4'],
] as const) {
  const r = wider(a, b);
  for (const op of ['+', '-', '*', '/'] as const) {
    add(BINARY, op, { args: [T(a), T(b)], result: T(r), fn: `float${op}`, castTo: [T(r), T(r)] });
  }
}
for (const f of ['float4', 'float8'] as const) {
  add(PREFIX, '-', { args: [T(f)], result: T(f), fn: 'float_neg' });
  add(PREFIX, '+', { args: [T(f)], result: T(f), fn: 'identity' });
  add(PREFIX, '@', { args: [T(f)], result: T(f), fn: 'float_abs' });
  add(FUNCTIONS, 'abs', { args: [T(f)], result: T(f), fn: 'float_abs' });
}
add(BINARY, '^', { args: [T('float8'), T('float8')], result: T('float8'), fn: 'float^' });
add(PREFIX, '|/', { args: [T('float8')], result: T('float8'), fn: 'float_sqrt' });
for (const op of ['+', '-', '*', '/', '%', '^'] as const) {
  add(BINARY, op, { args: [T('numeric'), T('numeric')], result: T('numeric'), fn: `numeric${op}` });
}
add(PREFIX, '-', { args: [T('numeric')], result: T('numeric'), fn: 'numeric_neg' });
add(PREFIX, '+', { args: [T('numeric')], result: T('numeric'), fn: 'identity' });
add(PREFIX, '@', { args: [T('numeric')], result: T('numeric'), fn: 'numeric_abs' });
add(FUNCTIONS, 'abs', { args: [T('numeric')], result: T('numeric'), fn: 'numeric_abs' });

// --- roots, exponentials, logarithms, powers (pg_proc: numeric and float8 overloads) ---
const numericMath: [string, number, FnId][] = [
  ['sqrt', 1, 'numeric_sqrt'],
  ['exp', 1, 'numeric_exp'],
  ['ln', 1, 'numeric_ln'],
  ['log', 1, 'numeric_log10'],
  ['log10', 1, 'numeric_log10'],
  ['log', 2, 'numeric_log'],
  ['power', 2, 'numeric^'],
  ['pow', 2, 'numeric^'],
];
for (const [name, arity, fn] of numericMath) {
  add(FUNCTIONS, name, { args: new Array<PgType>(arity).fill(T('numeric')), result: T('numeric'), fn });
}
add(FUNCTIONS, 'sqrt', { args: [T('float8')], result: T('float8'), fn: 'float_sqrt' });
add(FUNCTIONS, 'power', { args: [T('float8'), T('float8')], result: T('float8'), fn: 'float^' });
add(FUNCTIONS, 'pow', { args: [T('float8'), T('float8')], result: T('float8'), fn: 'float^' });
// The C library's exp, log, log10 and cbrt differ from JavaScript's in the last bit for a few percent of inputs.
const libm = (what: string, advice: string): string =>
  `${what} is not supported: Postgres computes it with the C library, whose last-bit rounding Switchyard cannot ` +
  `reproduce${advice}`;
for (const name of ['exp', 'ln', 'log', 'log10', 'cbrt']) {
  const advice = name === 'cbrt' ? '' : `; ${name}(x::numeric) is exact`;
  add(FUNCTIONS, name, {
    args: [T('float8')],
    result: T('float8'),
    fn: 'identity',
    unsupported: libm(`${name}(double precision)`, advice),
  });
}
add(PREFIX, '||/', {
  args: [T('float8')],
  result: T('float8'),
  fn: 'identity',
  unsupported: libm('||/ (cube root)', ''),
});

// --- date/time arithmetic ---
const dt: [string, ScalarName, ScalarName, ScalarName, DatetimeFn][] = [
  ['+', 'date', 'int4', 'date', 'date+int'],
  ['+', 'int4', 'date', 'date', 'int+date'],
  ['-', 'date', 'int4', 'date', 'date-int'],
  ['-', 'date', 'date', 'int4', 'date-date'],
  ['+', 'date', 'time', 'timestamp', 'date+time'],
  ['+', 'time', 'date', 'timestamp', 'time+date'],
  ['+', 'date', 'interval', 'timestamp', 'date+interval'],
  ['+', 'interval', 'date', 'timestamp', 'interval+date'],
  ['-', 'date', 'interval', 'timestamp', 'date-interval'],
  ['+', 'timestamp', 'interval', 'timestamp', 'timestamp+interval'],
  ['+', 'interval', 'timestamp', 'timestamp', 'interval+timestamp'],
  ['-', 'timestamp', 'interval', 'timestamp', 'timestamp-interval'],
  ['+', 'timestamptz', 'interval', 'timestamptz', 'timestamptz+interval'],
  ['+', 'interval', 'timestamptz', 'timestamptz', 'interval+timestamptz'],
  ['-', 'timestamptz', 'interval', 'timestamptz', 'timestamptz-interval'],
  ['+', 'time', 'interval', 'time', 'time+interval'],
  ['+', 'interval', 'time', 'time', 'interval+time'],
  ['-', 'time', 'interval', 'time', 'time-interval'],
  ['-', 'time', 'time', 'interval', 'time-time'],
  ['-', 'timestamp', 'timestamp', 'interval', 'timestamp-timestamp'],
  ['-', 'timestamptz', 'timestamptz', 'interval', 'timestamptz-timestamptz'],
  ['+', 'interval', 'interval', 'interval', 'interval+interval'],
  ['-', 'interval', 'interval', 'interval', 'interval-interval'],
  ['*', 'interval', 'float8', 'interval', 'interval*float'],
  ['*', 'float8', 'interval', 'interval', 'float*interval'],
  ['/', 'interval', 'float8', 'interval', 'interval/float'],
];
for (const [op, a, b, r, fn] of dt) add(BINARY, op, { args: [T(a), T(b)], result: T(r), fn });
add(PREFIX, '-', { args: [T('interval')], result: T('interval'), fn: 'interval_neg' });

// --- text ---
add(BINARY, '||', { args: [T('text'), T('text')], result: T('text'), fn: 'textcat' });

// --- functions with fixed signatures ---
const fns: [string, ScalarName[], ScalarName, FnId][] = [
  ['lower', ['text'], 'text', 'lower'],
  ['upper', ['text'], 'text', 'upper'],
  ['length', ['text'], 'int4', 'length'],
  ['length', ['bpchar'], 'int4', 'bpchar_length'],
  ['char_length', ['text'], 'int4', 'length'],
  ['char_length', ['bpchar'], 'int4', 'bpchar_length'],
  ['character_length', ['text'], 'int4', 'length'],
  ['character_length', ['bpchar'], 'int4', 'bpchar_length'],
  ['justify_days', ['interval'], 'interval', 'justify_days'],
  ['justify_hours', ['interval'], 'interval', 'justify_hours'],
  ['justify_interval', ['interval'], 'interval', 'justify_interval'],
  ['timezone', ['text', 'timestamp'], 'timestamptz', 'timezone_ts'],
  ['timezone', ['text', 'timestamptz'], 'timestamp', 'timezone_tstz'],
];
for (const [name, args, r, fn] of fns) add(FUNCTIONS, name, { args: args.map(T), result: T(r), fn });

/** Type names usable as one-argument functions that cast (`int4('5')`, `text(x)`, `timestamptz('…')`). */
export const CAST_FUNCTIONS: Record<string, ScalarName> = {
  int2: 'int2',
  int4: 'int4',
  int8: 'int8',
  float4: 'float4',
  float8: 'float8',
  numeric: 'numeric',
  bool: 'bool',
  uuid: 'uuid',
  date: 'date',
  time: 'time',
  timestamp: 'timestamp',
  timestamptz: 'timestamptz',
  interval: 'interval',
  text: 'text',
  varchar: 'varchar',
  bpchar: 'bpchar',
  name: 'name',
};

/** Known-volatile or session-dependent functions, rejected with a reason rather than "unknown". */
export const VOLATILE_FUNCTIONS = new Set([
  'now',
  'random',
  'clock_timestamp',
  'statement_timestamp',
  'transaction_timestamp',
  'timeofday',
  'current_date',
  'current_time',
  'current_timestamp',
  'localtime',
  'localtimestamp',
  'current_user',
  'session_user',
  'user',
  'current_schema',
  'current_database',
  'nextval',
  'currval',
  'setval',
  'gen_random_uuid',
  'uuid_generate_v4',
  'txid_current',
  'pg_backend_pid',
]);
