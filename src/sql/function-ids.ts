// The closed set of implementation ids a call node can carry, by family: the catalog emits them, eval implements them.

/** Integer arithmetic and bit operations, computed in the width of the result type (int2, int4, int8). */
export const INT_FNS = [
  'int+',
  'int-',
  'int*',
  'int/',
  'int%',
  'int&',
  'int|',
  'int#',
  'int<<',
  'int>>',
  'int~',
  'int_neg',
  'int_abs',
] as const;

/** float4/float8 arithmetic, computed in the width of the result type. */
export const FLOAT_FNS = [
  'float+',
  'float-',
  'float*',
  'float/',
  'float^',
  'float_sqrt',
  'float_abs',
  'float_neg',
] as const;

/** Exact numeric arithmetic. */
export const NUMERIC_FNS = [
  'numeric+',
  'numeric-',
  'numeric*',
  'numeric/',
  'numeric%',
  'numeric^',
  'numeric_abs',
  'numeric_neg',
  'numeric_sqrt',
  'numeric_exp',
  'numeric_ln',
  'numeric_log10',
  'numeric_log',
] as const;

/** Text functions and operators. */
export const TEXT_FNS = ['lower', 'upper', 'length', 'bpchar_length', 'textcat', 'concat'] as const;

/** Array operators and functions. */
export const ARRAY_FNS = [
  'array_contains',
  'array_contained',
  'array_overlaps',
  'array_cat',
  'array_append',
  'array_prepend',
  'array_ndims',
  'array_length',
  'cardinality',
] as const;

/** Date, time and interval arithmetic, interval justification and time zone conversion. */
export const DATETIME_FNS = [
  'date+int',
  'int+date',
  'date-int',
  'date-date',
  'date+time',
  'time+date',
  'date+interval',
  'interval+date',
  'date-interval',
  'timestamp+interval',
  'interval+timestamp',
  'timestamp-interval',
  'timestamptz+interval',
  'interval+timestamptz',
  'timestamptz-interval',
  'time+interval',
  'interval+time',
  'time-interval',
  'time-time',
  'timestamp-timestamp',
  'timestamptz-timestamptz',
  'interval+interval',
  'interval-interval',
  'interval*float',
  'float*interval',
  'interval/float',
  'interval_neg',
  'justify_days',
  'justify_hours',
  'justify_interval',
  'timezone_ts',
  'timezone_tstz',
] as const;

export type IntFn = (typeof INT_FNS)[number];
export type FloatFn = (typeof FLOAT_FNS)[number];
export type NumericFn = (typeof NUMERIC_FNS)[number];
export type TextFn = (typeof TEXT_FNS)[number];
export type ArrayFn = (typeof ARRAY_FNS)[number];
export type DatetimeFn = (typeof DATETIME_FNS)[number];

/** Every implementation id; `identity` is unary plus. */
export type FnId = 'identity' | IntFn | FloatFn | NumericFn | TextFn | ArrayFn | DatetimeFn;

/** Every id, once (a test checks that each resolves). */
export const ALL_FNS: readonly FnId[] = [
  'identity',
  ...INT_FNS,
  ...FLOAT_FNS,
  ...NUMERIC_FNS,
  ...TEXT_FNS,
  ...ARRAY_FNS,
  ...DATETIME_FNS,
];

const member =
  <F extends FnId>(family: readonly F[]) =>
  (fn: FnId): fn is F =>
    (family as readonly FnId[]).includes(fn);

export const isIntFn = member(INT_FNS);
export const isFloatFn = member(FLOAT_FNS);
export const isNumericFn = member(NUMERIC_FNS);
export const isTextFn = member(TEXT_FNS);
export const isArrayFn = member(ARRAY_FNS);
export const isDatetimeFn = member(DATETIME_FNS);
