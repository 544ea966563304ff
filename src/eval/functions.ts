// Implementations of the catalog's function ids, specialised by argument and result types at compile time.
import { assertNever } from '../sql/ast.js';
import {
  isArrayFn,
  isDatetimeFn,
  isFloatFn,
  isIntFn,
  isNumericFn,
  isTextFn,
  type ArrayFn,
  type DatetimeFn,
  type FloatFn,
  type FnId,
  type IntFn,
  type NumericFn,
  type TextFn,
} from '../sql/function-ids.js';
import * as arr from '../values/array-ops.js';
import * as dt from '../values/datetime-arith.js';
import { floatAbs, floatArith, floatNeg, floatPow, floatSqrt } from '../values/float.js';
import { intAbs, intArith, intBitNot, intBitwise, intNeg } from '../values/integer.js';
import {
  numericAbs,
  numericAdd,
  numericDiv,
  numericMod,
  numericMul,
  numericNeg,
  numericPow,
  numericSub,
} from '../values/numeric.js';
import { numericExp, numericLn, numericLog, numericLog10, numericSqrt } from '../values/numeric-funcs.js';
import { codecFor } from '../values/registry.js';
import { bpcharLength, lowerAscii, textLength, upperAscii } from '../values/text.js';
import { timezoneOfTimestamp, timezoneOfTimestamptz } from '../values/timezone.js';
import {
  elementType,
  type ArrayValue,
  type IntervalValue,
  type NumericValue,
  type PgType,
  type Value,
} from '../values/types.js';

/** A function implementation: arguments are non-null for strict functions; null may come back (e.g. subscripts). */
export type Impl = (...args: (Value | null)[]) => Value | null;

type IntWidth = 2 | 4 | 8;
const widthOf = (t: PgType): IntWidth => (t.scalar === 'int2' ? 2 : t.scalar === 'int4' ? 4 : 8);
const fwidth = (t: PgType): 4 | 8 => (t.scalar === 'float4' ? 4 : 8);

/**
 * Returns the implementation of `fn` for these argument and result types. Ids are a closed union (FnId), dispatched
 * by family; each family's switch is exhaustive, so an id added to the catalog without an implementation does not
 * compile.
 */
export function resolveFn(fn: FnId, argTypes: readonly PgType[], result: PgType): Impl {
  if (fn === 'identity') return (a) => a;
  if (isIntFn(fn)) return intFn(fn, widthOf(result));
  if (isFloatFn(fn)) return floatFn(fn, fwidth(result));
  if (isNumericFn(fn)) return numericFn(fn);
  if (isTextFn(fn)) return textFn(fn, argTypes);
  if (isArrayFn(fn)) return arrayFn(fn, argTypes);
  if (isDatetimeFn(fn)) return DATETIME[fn];
  return assertNever(fn);
}

function intFn(fn: IntFn, w: IntWidth): Impl {
  switch (fn) {
    case 'int+':
    case 'int-':
    case 'int*':
    case 'int/':
    case 'int%': {
      const op = fn.slice(3) as '+';
      return (a, b) => intArith(op, w, a as number, b as number);
    }
    case 'int&':
    case 'int|':
    case 'int#':
    case 'int<<':
    case 'int>>': {
      const op = fn.slice(3) as '&';
      return (a, b) => intBitwise(op, w, a as number, b as number);
    }
    case 'int~':
      return (a) => intBitNot(w, a as number);
    case 'int_neg':
      return (a) => intNeg(w, a as number);
    case 'int_abs':
      return (a) => intAbs(w, a as number);
    default:
      return assertNever(fn);
  }
}

function floatFn(fn: FloatFn, w: 4 | 8): Impl {
  switch (fn) {
    case 'float+':
    case 'float-':
    case 'float*':
    case 'float/': {
      const op = fn.slice(5) as '+';
      return (a, b) => floatArith(op, w, a as number, b as number);
    }
    case 'float^':
      return (a, b) => floatPow(a as number, b as number);
    case 'float_sqrt':
      return (a) => floatSqrt(a as number);
    case 'float_abs':
      return (a) => floatAbs(a as number);
    case 'float_neg':
      return (a) => floatNeg(a as number);
    default:
      return assertNever(fn);
  }
}

function numericFn(fn: NumericFn): Impl {
  switch (fn) {
    case 'numeric+':
      return (a, b) => numericAdd(a as NumericValue, b as NumericValue);
    case 'numeric-':
      return (a, b) => numericSub(a as NumericValue, b as NumericValue);
    case 'numeric*':
      return (a, b) => numericMul(a as NumericValue, b as NumericValue);
    case 'numeric/':
      return (a, b) => numericDiv(a as NumericValue, b as NumericValue);
    case 'numeric%':
      return (a, b) => numericMod(a as NumericValue, b as NumericValue);
    case 'numeric^':
      return (a, b) => numericPow(a as NumericValue, b as NumericValue);
    case 'numeric_sqrt':
      return (a) => numericSqrt(a as NumericValue);
    case 'numeric_exp':
      return (a) => numericExp(a as NumericValue);
    case 'numeric_ln':
      return (a) => numericLn(a as NumericValue);
    case 'numeric_log10':
      return (a) => numericLog10(a as NumericValue);
    case 'numeric_log':
      return (a, b) => numericLog(a as NumericValue, b as NumericValue);
    case 'numeric_abs':
      return (a) => numericAbs(a as NumericValue);
    case 'numeric_neg':
      return (a) => numericNeg(a as NumericValue);
    default:
      return assertNever(fn);
  }
}

function textFn(fn: TextFn, argTypes: readonly PgType[]): Impl {
  switch (fn) {
    case 'lower':
      return (a) => lowerAscii(a as string);
    case 'upper':
      return (a) => upperAscii(a as string);
    case 'length':
      return (a) => textLength(a as string);
    case 'bpchar_length':
      return (a) => bpcharLength(a as string);
    case 'textcat':
      return (a, b) => (a as string) + (b as string);
    case 'concat':
      return concatImpl(argTypes);
    default:
      return assertNever(fn);
  }
}

/** concat(…): NULLs skipped, every other argument through its type's text output (text-like ones as they are). */
function concatImpl(argTypes: readonly PgType[]): Impl {
  const outs = argTypes.map((t) =>
    t.scalar === 'text' || t.scalar === 'varchar' || t.scalar === 'unknown' ? null : codecFor(t),
  );
  return (...args) => {
    let s = '';
    for (let i = 0; i < args.length; i++) {
      const v = args[i];
      if (v === null || v === undefined) continue;
      const c = outs[i];
      s += c ? c.format(v) : (v as string);
    }
    return s;
  };
}

function arrayFn(fn: ArrayFn, argTypes: readonly PgType[]): Impl {
  switch (fn) {
    case 'array_contains':
    case 'array_contained':
    case 'array_overlaps': {
      const eq = codecFor(elementType(argTypes[0] as PgType)).equals;
      if (fn === 'array_contains') return (a, b) => arr.arrayContains(a as ArrayValue, b as ArrayValue, eq);
      if (fn === 'array_contained') return (a, b) => arr.arrayContains(b as ArrayValue, a as ArrayValue, eq);
      return (a, b) => arr.arrayOverlaps(a as ArrayValue, b as ArrayValue, eq);
    }
    case 'array_cat':
      return (a, b) => arr.arrayConcat(a as ArrayValue | null, b as ArrayValue | null);
    case 'array_append':
      return (a, b) => arr.arrayAppend(a as ArrayValue | null, b);
    case 'array_prepend':
      return (a, b) => arr.arrayPrepend(a, b as ArrayValue | null);
    case 'array_ndims':
      return (a) => arr.arrayNdims(a as ArrayValue);
    case 'array_length':
      return (a, b) => arr.arrayLength(a as ArrayValue, b as number);
    case 'cardinality':
      return (a) => arr.cardinality(a as ArrayValue);
    default:
      return assertNever(fn);
  }
}

/** Date/time ids map one-to-one onto values/datetime-arith.ts and values/timezone.ts (a Record: none can be missing). */
const DATETIME: Readonly<Record<DatetimeFn, Impl>> = {
  'date+int': (a, b) => dt.dateAddDays(a as number, b as number),
  'int+date': (a, b) => dt.dateAddDays(b as number, a as number),
  'date-int': (a, b) => dt.dateSubDays(a as number, b as number),
  'date-date': (a, b) => dt.dateDiff(a as number, b as number),
  'date+time': (a, b) => dt.datePlusTime(a as number, b as number),
  'time+date': (a, b) => dt.datePlusTime(b as number, a as number),
  'date+interval': (a, b) => dt.datePlusInterval(a as number, b as IntervalValue),
  'interval+date': (a, b) => dt.datePlusInterval(b as number, a as IntervalValue),
  'date-interval': (a, b) => dt.dateMinusInterval(a as number, b as IntervalValue),
  'timestamp+interval': (a, b) => dt.timestampPlusInterval(a as bigint, b as IntervalValue),
  'interval+timestamp': (a, b) => dt.timestampPlusInterval(b as bigint, a as IntervalValue),
  'timestamp-interval': (a, b) => dt.timestampMinusInterval(a as bigint, b as IntervalValue),
  'timestamptz+interval': (a, b) => dt.timestampPlusInterval(a as bigint, b as IntervalValue),
  'interval+timestamptz': (a, b) => dt.timestampPlusInterval(b as bigint, a as IntervalValue),
  'timestamptz-interval': (a, b) => dt.timestampMinusInterval(a as bigint, b as IntervalValue),
  'time+interval': (a, b) => dt.timePlusInterval(a as number, b as IntervalValue),
  'interval+time': (a, b) => dt.timePlusInterval(b as number, a as IntervalValue),
  'time-interval': (a, b) => dt.timeMinusInterval(a as number, b as IntervalValue),
  'time-time': (a, b) => dt.timeMinusTime(a as number, b as number),
  'timestamp-timestamp': (a, b) => dt.timestampDiff(a as bigint, b as bigint),
  'timestamptz-timestamptz': (a, b) => dt.timestampDiff(a as bigint, b as bigint),
  'interval+interval': (a, b) => dt.intervalAdd(a as IntervalValue, b as IntervalValue),
  'interval-interval': (a, b) => dt.intervalSub(a as IntervalValue, b as IntervalValue),
  'interval*float': (a, b) => dt.intervalMul(a as IntervalValue, b as number),
  'float*interval': (a, b) => dt.intervalMul(b as IntervalValue, a as number),
  'interval/float': (a, b) => dt.intervalDiv(a as IntervalValue, b as number),
  interval_neg: (a) => dt.intervalNeg(a as IntervalValue),
  justify_days: (a) => dt.justifyDays(a as IntervalValue),
  justify_hours: (a) => dt.justifyHours(a as IntervalValue),
  justify_interval: (a) => dt.justifyInterval(a as IntervalValue),
  timezone_ts: (z, t) => timezoneOfTimestamp(z as string, t as bigint),
  timezone_tstz: (z, t) => timezoneOfTimestamptz(z as string, t as bigint),
};
