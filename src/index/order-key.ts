// Order keys: a monotone projection of a type's values onto doubles, so sorted bound arrays are searched with float
// comparisons and the type's exact comparison runs only where two projections tie.
//
// `project(a) < project(b)` implies `a < b` in the type's btree order (the projection never reverses the order; it
// may merge values, which then compare exactly). Exact decimals and int8 round to the nearest double (rounding is
// monotone), timestamps are µs as doubles, NaN (the highest float and numeric) projects to +Infinity and ties with
// it, text projects its first three UTF-16 units. Types without a useful projection project to 0: every comparison is
// exact, which is correct and only slower.
import type { NumericValue, PgType, Value } from '../values/types.js';

export type Projection = (v: Value) => number;

/** Both the exact order and its projection: what a sorted bound array needs to search. */
export interface KeyOrder {
  readonly cmp: (a: Value, b: Value) => number;
  readonly project: Projection;
}

const projectNumber: Projection = (v) => (v !== v ? Infinity : (v as number));
const projectBig: Projection = (v) => Number(v);
const projectZero: Projection = () => 0;

function projectNumeric(v: Value): number {
  const n = v as NumericValue;
  if (n.kind === 'nan') return Infinity;
  if (n.kind === 'inf') return n.sign * Infinity;
  const { coef, scale } = n;
  // Both operands exact and one correctly rounded division: the double nearest the decimal, hence monotone.
  if (scale <= 22 && coef <= 9007199254740991n && coef >= -9007199254740991n) return Number(coef) / 10 ** scale;
  // Decimal string to double is correctly rounded too.
  return Number(`${coef}e-${scale}`);
}

/**
 * The first three UTF-16 units, 16 bits each (exact in a double). compareText is the lexicographic order of units
 * ranked so that surrogates sort after E000–FFFF (code-point order), so ranking the units the same way keeps it.
 */
function projectText(v: Value): number {
  const s = v as string;
  let out = 0;
  for (let i = 0; i < 3; i++) {
    const u = i < s.length ? s.charCodeAt(i) : 0;
    out = out * 65536 + (u < 0xd800 ? u : u >= 0xe000 ? u - 0x800 : u + 0x2000);
  }
  return out;
}

/** The projection for values of `t` (a scalar type); the identity order of its codec is `cmp`. */
export function projectionFor(t: PgType): Projection {
  if (t.array) return projectZero;
  switch (t.scalar) {
    case 'int2':
    case 'int4':
    case 'float4':
    case 'float8':
    case 'date':
    case 'time':
      return projectNumber;
    case 'int8':
    case 'timestamp':
    case 'timestamptz':
      return projectBig;
    case 'numeric':
      return projectNumeric;
    case 'text':
    case 'varchar':
    case 'name':
    case 'unknown':
      return projectText;
    default:
      return projectZero;
  }
}
