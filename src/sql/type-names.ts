// Postgres type names (as schemas and casts spell them) to PgType, and a table's column map to a ColumnLayout.
import { ErrorCode, WhereError } from '../errors/index.js';
import { pgType, type PgType, type ScalarName } from '../values/types.js';

const ALIASES: Record<string, ScalarName> = {
  bool: 'bool',
  boolean: 'bool',
  int2: 'int2',
  smallint: 'int2',
  int4: 'int4',
  int: 'int4',
  integer: 'int4',
  int8: 'int8',
  bigint: 'int8',
  numeric: 'numeric',
  decimal: 'numeric',
  float4: 'float4',
  real: 'float4',
  float8: 'float8',
  'double precision': 'float8',
  text: 'text',
  varchar: 'varchar',
  'character varying': 'varchar',
  bpchar: 'bpchar',
  char: 'bpchar',
  character: 'bpchar',
  name: 'name',
  uuid: 'uuid',
  date: 'date',
  time: 'time',
  'time without time zone': 'time',
  timestamp: 'timestamp',
  'timestamp without time zone': 'timestamp',
  timestamptz: 'timestamptz',
  'timestamp with time zone': 'timestamptz',
  interval: 'interval',
  bytea: 'bytea',
  jsonb: 'jsonb',
  json: 'json',
};

/** Scalar names that `float(p)` style modifiers change (float(1..24) is real, float(25..53) double precision). */
function floatFromPrecision(p: number): ScalarName {
  return p <= 24 ? 'float4' : 'float8';
}

/**
 * Parses a type name as a schema or a cast writes it: `int4`, `integer`, `text[]`, `character varying(20)`,
 * `numeric(10,2)`, `char(5)`, `timestamp(3) with time zone`, `_int4` (internal array name), `pg_catalog.int8`.
 * Names Switchyard does not evaluate become opaque types (usable only with IS [NOT] NULL).
 */
export function parseTypeName(raw: string): PgType {
  let name = raw.trim().toLowerCase().replace(/\s+/g, ' ');
  if (name.startsWith('pg_catalog.')) name = name.slice('pg_catalog.'.length);
  let array = false;
  while (name.endsWith('[]')) {
    array = true;
    name = name.slice(0, -2).trim();
  }
  if (name.startsWith('_') && ALIASES[name.slice(1)] !== undefined) {
    array = true;
    name = name.slice(1);
  }
  // Pull out a modifier list "(a[,b])" wherever it sits: `varchar(5)`, `timestamp(3) with time zone`.
  let mods: number[] = [];
  const m = /\(\s*(\d+)\s*(?:,\s*(-?\d+)\s*)?\)/.exec(name);
  if (m) {
    mods = [Number(m[1]), ...(m[2] !== undefined ? [Number(m[2])] : [])];
    name = (name.slice(0, m.index) + name.slice(m.index + m[0].length)).replace(/\s+/g, ' ').trim();
  }
  if (name === 'float' || name === 'double') {
    return pgType(mods.length > 0 ? floatFromPrecision(mods[0] as number) : 'float8', array);
  }
  const scalar = ALIASES[name];
  if (scalar === undefined) {
    if (name === '' || !/^[a-z_"][\w". ]*$/.test(name)) {
      throw new WhereError(ErrorCode.UnknownType, `type "${raw}" is not a valid type name`);
    }
    return pgType('opaque', array, -1, -1, name);
  }
  if (mods.length === 0) {
    // `char` without a length is char(1) in Postgres.
    return pgType(scalar, array, scalar === 'bpchar' && (name === 'char' || name === 'character') ? 1 : -1);
  }
  const [a, b] = mods as [number, number | undefined];
  switch (scalar) {
    case 'numeric':
      return pgType('numeric', array, a, b ?? 0);
    case 'varchar':
    case 'bpchar':
    case 'time':
    case 'timestamp':
    case 'timestamptz':
    case 'interval':
      return pgType(scalar, array, a);
    default:
      throw new WhereError(ErrorCode.UnknownType, `type modifier is not allowed for type "${name}"`);
  }
}
