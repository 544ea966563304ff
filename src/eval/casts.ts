// Cast implementations between supported types: I/O conversion via text, numeric conversions, date/time, arrays.
import { ErrorCode, ValueError } from '../errors/index.js';
import { boolToText } from '../values/bool.js';
import * as dt from '../values/datetime-arith.js';
import { parseJsonb, formatJsonb } from '../values/jsonb.js';
import * as nc from '../values/numeric-convert.js';
import { codecFor } from '../values/registry.js';
import { bpcharTrim, nameInput } from '../values/text.js';
import { applyTypmod } from '../values/typmod.js';
import {
  baseType,
  elementType,
  typeCategory,
  typeDisplayName,
  type ArrayValue,
  type JsonbValue,
  type NumericValue,
  type PgType,
  type Value,
} from '../values/types.js';

export type Cast = (v: Value) => Value | null;

const CACHE = new Map<PgType, Map<PgType, Cast>>();

/** The cast from `from` to `to` (both non-opaque; existence was checked by the analyzer). Applies to's typmod. */
export function castImpl(from: PgType, to: PgType): Cast {
  let m = CACHE.get(from);
  if (!m) CACHE.set(from, (m = new Map()));
  let c = m.get(to);
  if (!c) {
    const base = baseCast(from, to);
    c =
      to.typmod >= 0
        ? (v) => {
            const r = base(v);
            return r === null ? null : applyTypmod(r, to);
          }
        : base;
    m.set(to, c);
  }
  return c;
}

const identity: Cast = (v) => v;

function baseCast(fromT: PgType, toT: PgType): Cast {
  const from = baseType(fromT);
  const to = baseType(toT);
  if (from === to) return identity;
  if (from.array && to.array) {
    const el = castImpl(elementType(from), elementType(toT));
    return (v) => {
      const a = v as ArrayValue;
      return { dims: a.dims, lbounds: a.lbounds, items: a.items.map((x) => (x === null ? null : el(x))) };
    };
  }
  const fs = from.scalar;
  const ts = to.scalar;
  // Text family to text family: bpchar loses trailing spaces on the way to text/varchar.
  if (
    !from.array &&
    !to.array &&
    typeCategory(from) !== 'unknown' &&
    typeCategory(from) === 'string' &&
    typeCategory(to) === 'string'
  ) {
    if (fs === 'bpchar' && ts !== 'bpchar')
      return ts === 'name' ? (v) => nameInput(bpcharTrim(v as string)) : (v) => bpcharTrim(v as string);
    if (ts === 'name') return (v) => nameInput(v as string);
    return identity;
  }
  // Anything to a string type: the type's text output (bool gives true/false here, t/f only in records).
  if (!to.array && typeCategory(to) === 'string') {
    if (fs === 'bool' && !from.array) return (v) => boolToText(v as boolean);
    const out = codecFor(from);
    return ts === 'name' ? (v) => nameInput(out.format(v)) : (v) => out.format(v);
  }
  // A string type to anything: the target type's input function.
  if (!from.array && (typeCategory(from) === 'string' || fs === 'unknown')) {
    const inp = codecFor(to);
    return (v) => inp.parse(v as string);
  }
  const key = `${fs}>${ts}`;
  switch (key) {
    case 'json>jsonb':
      return (v) => parseJsonb(v as string);
    case 'jsonb>json':
      return (v) => formatJsonb(v as JsonbValue);
    case 'int4>bool':
      return (v) => v !== 0;
    case 'bool>int4':
      return (v) => (v ? 1 : 0);
    case 'date>timestamp':
    case 'date>timestamptz':
      return (v) => dt.dateToTimestamp(v as number);
    case 'timestamp>timestamptz':
    case 'timestamptz>timestamp':
      return identity;
    case 'timestamp>date':
    case 'timestamptz>date':
      return (v) => dt.timestampToDate(v as bigint);
    case 'timestamp>time':
    case 'timestamptz>time':
      return (v) => dt.timestampToTime(v as bigint);
    case 'time>interval':
      return (v) => dt.timeToInterval(v as number);
    case 'interval>time':
      return (v) => dt.intervalToTime(v as never);
  }
  return numericCast(fs, ts, fromT, toT);
}

function numericCast(fs: string, ts: string, from: PgType, to: PgType): Cast {
  const intW = (s: string): 2 | 4 | 8 | 0 => (s === 'int2' ? 2 : s === 'int4' ? 4 : s === 'int8' ? 8 : 0);
  const fw = intW(fs);
  const tw = intW(ts);
  if (fw && tw) {
    // Integer to integer: exact, range-checked on narrowing.
    return (v) => nc.intToInt(v as number | bigint, tw);
  }
  if (fw && ts === 'numeric') return (v) => nc.numericFromInt(v as number | bigint);
  if (fw && ts === 'float8') return (v) => nc.intToFloat8(v as number | bigint);
  if (fw && ts === 'float4') return (v) => nc.intToFloat4(v as number | bigint);
  if (fs === 'numeric' && tw) return (v) => nc.numericToInt(v as NumericValue, tw);
  if (fs === 'numeric' && ts === 'float8') return (v) => nc.numericToFloat8(v as NumericValue);
  if (fs === 'numeric' && ts === 'float4') return (v) => nc.numericToFloat4(v as NumericValue);
  if (fs === 'float8' && tw) return (v) => nc.float8ToInt(v as number, tw);
  if (fs === 'float4' && tw) return (v) => nc.float8ToInt(v as number, tw);
  if (fs === 'float8' && ts === 'numeric') return (v) => nc.float8ToNumeric(v as number);
  if (fs === 'float4' && ts === 'numeric') return (v) => nc.float4ToNumeric(v as number);
  if (fs === 'float4' && ts === 'float8') return identity;
  if (fs === 'float8' && ts === 'float4') return (v) => nc.float8ToFloat4(v as number);
  throw new ValueError(ErrorCode.TypeMismatch, `cannot cast type ${typeDisplayName(from)} to ${typeDisplayName(to)}`);
}
