// Fast paths that compare a column's raw Postgres text with a constant without decoding it (exactness preserved).
import type { CompareOp } from '../sql/ast.js';
import { intKey } from '../values/comparable.js';
import { canonicalTimestampMicros } from '../values/datetime-parse.js';
import { daysInMonth } from '../values/datetime-format.js';
import { coefficientDigits } from '../values/numeric.js';
import { codecFor } from '../values/registry.js';
import type { NumericValue, PgType, Value } from '../values/types.js';

/**
 * A raw test returns true/false when it could decide from the text alone, or undefined when the text is not in the
 * simple canonical form it understands (the caller then decodes it the normal way, so exactness never depends on
 * the fast path). Postgres text output is canonical, so replicated rows almost always take the fast path.
 */
export type RawTest = (raw: string) => boolean | undefined;

const sign = (op: CompareOp, c: number): boolean => {
  switch (op) {
    case '=':
      return c === 0;
    case '<>':
      return c !== 0;
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
  }
};

/** Plain decimal integer of at most 15 digits (exactly representable) → number; else NaN. */
const smallInt = (s: string): number => intKey(s, -Infinity, Infinity);

/** Canonical finite numeric text `-?D+(.D+)?` split into sign, integer digits (no leading zeros), fraction digits. */
function splitDecimal(s: string): { neg: boolean; int: string; frac: string } | undefined {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(s);
  if (!m) return undefined;
  const int = (m[2] as string).replace(/^0+(?=\d)/, '');
  const frac = (m[3] ?? '').replace(/0+$/, '');
  const neg = m[1] === '-' && !(int === '0' && frac === '');
  return { neg, int, frac };
}

function compareMagnitude(a: { int: string; frac: string }, b: { int: string; frac: string }): number {
  if (a.int.length !== b.int.length) return a.int.length < b.int.length ? -1 : 1;
  if (a.int !== b.int) return a.int < b.int ? -1 : 1;
  if (a.frac === b.frac) return 0;
  return a.frac < b.frac ? -1 : 1; // trailing zeros trimmed: lexical order of fraction digits is numeric order
}

function compareDecimal(
  a: { neg: boolean; int: string; frac: string },
  b: { neg: boolean; int: string; frac: string },
): number {
  if (a.neg !== b.neg) return a.neg ? -1 : 1;
  const m = compareMagnitude(a, b);
  return a.neg ? -m : m;
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/**
 * `YYYY-MM-DD` with a 4-digit AD year and a day that exists (hand-rolled: this runs per row and a RegExp costs
 * more). Text that is not a valid date is decoded, so it raises as Postgres would.
 */
function isIsoDate(s: string): boolean {
  if (s.length !== 10 || !dateAt(s)) return false;
  const y = num4(s);
  const mo = (s.charCodeAt(5) - 48) * 10 + s.charCodeAt(6) - 48;
  const d = (s.charCodeAt(8) - 48) * 10 + s.charCodeAt(9) - 48;
  return y >= 1 && mo >= 1 && mo <= 12 && d >= 1 && d <= daysInMonth(y, mo);
}

function num4(s: string): number {
  return (
    (s.charCodeAt(0) - 48) * 1000 + (s.charCodeAt(1) - 48) * 100 + (s.charCodeAt(2) - 48) * 10 + s.charCodeAt(3) - 48
  );
}

function dateAt(s: string): boolean {
  return (
    isDigit(s.charCodeAt(0)) &&
    isDigit(s.charCodeAt(1)) &&
    isDigit(s.charCodeAt(2)) &&
    isDigit(s.charCodeAt(3)) &&
    s.charCodeAt(4) === 45 &&
    isDigit(s.charCodeAt(5)) &&
    isDigit(s.charCodeAt(6)) &&
    s.charCodeAt(7) === 45 &&
    isDigit(s.charCodeAt(8)) &&
    isDigit(s.charCodeAt(9))
  );
}

/** `YYYY-MM-DD HH:MM:SS[.f{1,6}]` ending at `end`. */
function timestampBody(s: string, end: number): boolean {
  if (end !== 19 && (end < 21 || end > 26)) return false;
  if (!dateAt(s) || s.charCodeAt(10) !== 32 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return false;
  if (
    !isDigit(s.charCodeAt(11)) ||
    !isDigit(s.charCodeAt(12)) ||
    !isDigit(s.charCodeAt(14)) ||
    !isDigit(s.charCodeAt(15))
  )
    return false;
  if (!isDigit(s.charCodeAt(17)) || !isDigit(s.charCodeAt(18))) return false;
  if (end === 19) return true;
  if (s.charCodeAt(19) !== 46) return false;
  for (let i = 20; i < end; i++) if (!isDigit(s.charCodeAt(i))) return false;
  return true;
}

/** Canonical and valid (the fields exist: a month 13 or a 30 February is decoded, and raises, instead). */
function isIsoTimestamp(s: string): boolean {
  return timestampBody(s, s.length) && canonicalTimestampMicros(s, s.length) !== undefined;
}

function isIsoTimestamptz(s: string): boolean {
  const n = s.length - 3;
  return (
    n > 0 &&
    s.charCodeAt(n) === 43 &&
    s.charCodeAt(n + 1) === 48 &&
    s.charCodeAt(n + 2) === 48 &&
    timestampBody(s, n) &&
    canonicalTimestampMicros(s, n) !== undefined
  );
}

/**
 * A raw-text comparator for `column op constant`, or undefined when this type has no fast path (or the constant is
 * outside what the fast path can represent).
 */
/** Numeric constants longer than this are compared after decoding rather than as raw text. */
const RAW_MAX_DIGITS = 1000;

export function rawComparator(op: CompareOp, t: PgType, constant: Value): RawTest | undefined {
  if (t.array || t.typmod >= 0) return undefined;
  switch (t.scalar) {
    case 'int8': {
      const c = constant as bigint;
      if (c > 999999999999999n || c < -999999999999999n) return undefined;
      const cn = Number(c);
      return (raw) => {
        const v = smallInt(raw);
        return v !== v ? undefined : sign(op, v < cn ? -1 : v > cn ? 1 : 0);
      };
    }
    case 'numeric': {
      const nv = constant as NumericValue;
      // Huge constants (10::numeric ^ 100000) would cost a long decimal conversion here; decoding handles them.
      if (nv.kind !== 'finite' || coefficientDigits(nv) > RAW_MAX_DIGITS) return undefined;
      const cd = splitDecimal(codecFor(t).format(nv));
      if (!cd) return undefined;
      return (raw) => {
        const d = splitDecimal(raw);
        return d === undefined ? undefined : sign(op, compareDecimal(d, cd));
      };
    }
    case 'timestamptz':
    case 'timestamp':
    case 'date': {
      if (typeof constant !== 'bigint' && t.scalar !== 'date') return undefined;
      if (t.scalar === 'date' && !Number.isFinite(constant)) return undefined;
      const text = codecFor(t).format(constant);
      const suffixLen = t.scalar === 'timestamptz' ? 3 : 0;
      const isCanonical = t.scalar === 'date' ? isIsoDate : suffixLen > 0 ? isIsoTimestamptz : isIsoTimestamp;
      if (!isCanonical(text)) return undefined; // BC, 5-digit years, infinities: decode instead
      // ISO text of AD years 0001–9999 orders chronologically as ASCII: a missing fraction sorts first because
      // '+' (and end of string) < '.', and trimmed fraction digits order lexically.
      return (raw) => (isCanonical(raw) ? sign(op, raw < text ? -1 : raw > text ? 1 : 0) : undefined);
    }
    default:
      return undefined;
  }
}

/** Canonical raw text key of an equality-set member, for IN lists on int8 (text output is the key). */
export function rawKeyable(t: PgType): ((raw: string) => string | undefined) | undefined {
  if (t.array || t.typmod >= 0) return undefined;
  if (t.scalar === 'int8') {
    // At most 18 digits is always inside int8, so a canonical text that passes is a valid value and its own key.
    return (raw) => (/^-?(?:0|[1-9]\d{0,17})$/.test(raw) && raw !== '-0' ? raw : undefined);
  }
  if (t.scalar === 'text' || t.scalar === 'varchar' || t.scalar === 'name') return (raw) => raw;
  return undefined;
}
