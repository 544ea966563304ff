// Type modifiers applied to a value: char(n) padding, varchar(n) truncation, numeric(p,s) rounding, time precision.
import { numericApplyTypmod } from './numeric.js';
import { castToBpchar, castToVarchar } from './text.js';
import type { NumericValue, PgType, Value } from './types.js';

/** Rounds microseconds to `p` fractional digits, half away from zero as Postgres's AdjustTimestampForTypmod. */
function roundMicros(us: bigint, p: number): bigint {
  if (p >= 6) return us;
  const unit = 10n ** BigInt(6 - p);
  const half = unit / 2n;
  return us >= 0n ? ((us + half) / unit) * unit : -((-us + half) / unit) * unit;
}

/** Applies the modifier of `t` (an explicit cast or a typed literal) to a value already of t's base type. */
export function applyTypmod(v: Value, t: PgType): Value {
  if (t.typmod < 0) return v;
  switch (t.scalar) {
    case 'bpchar':
      return castToBpchar(v as string, t.typmod);
    case 'varchar':
      return castToVarchar(v as string, t.typmod);
    case 'numeric':
      return numericApplyTypmod(v as NumericValue, t.typmod, Math.max(0, t.scale));
    case 'time':
      return Number(roundMicros(BigInt(v as number), t.typmod));
    case 'timestamp':
    case 'timestamptz':
      return typeof v === 'bigint' ? roundMicros(v, t.typmod) : v;
    default:
      return v;
  }
}
