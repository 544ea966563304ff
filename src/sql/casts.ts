// Which explicit casts exist between the supported types (pg_cast plus I/O conversion casts via text).
import { baseType, elementType, typeCategory, type PgType } from '../values/types.js';
import { canCoerce } from './coerce.js';

const NUMERIC_SCALARS = new Set(['int2', 'int4', 'int8', 'numeric', 'float4', 'float8']);
const EXPLICIT_PAIRS = new Set([
  'int4>bool',
  'bool>int4',
  'date>timestamp',
  'date>timestamptz',
  'timestamp>date',
  'timestamp>time',
  'timestamp>timestamptz',
  'timestamptz>date',
  'timestamptz>time',
  'timestamptz>timestamp',
  'time>interval',
  'interval>time',
  'json>jsonb',
  'jsonb>json',
]);

/** True when `CAST(x AS to)` is valid for an `x` of type `from` (unknown literals are handled by the caller). */
export function castExists(from: PgType, to: PgType): boolean {
  const f = baseType(from);
  const t = baseType(to);
  if (f.scalar === 'opaque' || t.scalar === 'opaque') return false;
  // Two enums are different types even though both are scalar 'enum'; only I/O casts through text connect them.
  if ((f.scalar === 'enum' || t.scalar === 'enum') && !f.array && !t.array && f !== t) {
    return typeCategory(f) === 'string' || typeCategory(t) === 'string';
  }
  if (f.scalar === t.scalar && f.array === t.array) return true;
  // I/O conversion: anything to and from the string types.
  if (!t.array && typeCategory(t) === 'string') return true;
  if (!f.array && typeCategory(f) === 'string') return true;
  if (f.array && t.array) return castExists(elementType(f), elementType(t));
  if (f.array || t.array) return false;
  if (canCoerce(f, t)) return true;
  if (NUMERIC_SCALARS.has(f.scalar) && NUMERIC_SCALARS.has(t.scalar)) return true;
  return EXPLICIT_PAIRS.has(`${f.scalar}>${t.scalar}`);
}
