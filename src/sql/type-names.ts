// Postgres type names (as schemas and casts spell them) to PgType, and a table's column map to a ColumnLayout.
import { ErrorCode, WhereError } from '../errors/index.js';
import { pgType, typeDisplayName, type PgType, type ScalarName } from '../values/types.js';
import { didYouMean } from './suggest.js';

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

/**
 * Postgres types (core and common extensions) that exist but are not evaluated here. They get no did-you-mean hint:
 * `inet` is a real type, not a typo of `int`.
 */
const KNOWN_UNEVALUATED = new Set([
  'bit',
  'bit varying',
  'varbit',
  'box',
  'cidr',
  'circle',
  'citext',
  'daterange',
  'datemultirange',
  'hstore',
  'inet',
  'int4range',
  'int8range',
  'jsonpath',
  'line',
  'lseg',
  'ltree',
  'macaddr',
  'macaddr8',
  'money',
  'numrange',
  'oid',
  'path',
  'pg_lsn',
  'point',
  'polygon',
  'regclass',
  'time with time zone',
  'timetz',
  'tsquery',
  'tsrange',
  'tstzrange',
  'tsvector',
  'txid_snapshot',
  'xid',
  'xml',
]);

const HINT_CANDIDATES = [...Object.keys(ALIASES), 'float', 'double precision'];

/** `numerc` → `numeric`: a supported type name close to an unknown one, unless that one is a real Postgres type. */
export function typeNameHint(t: PgType): string | undefined {
  const name = t.opaqueName;
  if (t.scalar !== 'opaque' || name === undefined || KNOWN_UNEVALUATED.has(name) || /[."]/.test(name)) return undefined;
  return didYouMean(name, HINT_CANDIDATES);
}

/** The rejection of a value of a type Switchyard does not evaluate, with a did-you-mean for a likely typo. */
export function unsupportedTypeMessage(t: PgType, onlyNullChecks: boolean): string {
  const notes = [
    ...(onlyNullChecks ? ['only IS [NOT] NULL'] : []),
    ...[typeNameHint(t)].filter((h) => h !== undefined).map((h) => `did you mean "${h}"?`),
  ];
  return `type ${typeDisplayName(t)} is not supported in where clauses${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`;
}

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
