// Renders a typed tree back to Postgres SQL with explicit types and COLLATE "C", for snapshot queries and keys.
import { codecFor } from '../values/registry.js';
import { typeCategory, typeDisplayName, type PgType } from '../values/types.js';
import { isCrossTypeOperand } from './cross-type.js';
import { assertNever, type Expr, type Subquery } from './ast.js';

/** SQL type name that Postgres reads back as exactly this type (`bpchar` without a length is not `character`). */
export function sqlTypeName(t: PgType): string {
  if (t.scalar === 'bpchar' && t.typmod < 0) return t.array ? 'bpchar[]' : 'bpchar';
  return typeDisplayName(t);
}

export function quoteLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

export function quoteIdent(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) && !RESERVED.has(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

const RESERVED = new Set([
  'all',
  'analyse',
  'analyze',
  'and',
  'any',
  'array',
  'as',
  'asc',
  'asymmetric',
  'both',
  'case',
  'cast',
  'check',
  'collate',
  'column',
  'constraint',
  'create',
  'current_catalog',
  'current_date',
  'current_role',
  'current_time',
  'current_timestamp',
  'current_user',
  'default',
  'deferrable',
  'desc',
  'distinct',
  'do',
  'else',
  'end',
  'except',
  'false',
  'fetch',
  'for',
  'foreign',
  'from',
  'grant',
  'group',
  'having',
  'in',
  'initially',
  'intersect',
  'into',
  'lateral',
  'leading',
  'limit',
  'localtime',
  'localtimestamp',
  'not',
  'null',
  'offset',
  'on',
  'only',
  'or',
  'order',
  'placing',
  'primary',
  'references',
  'returning',
  'select',
  'session_user',
  'some',
  'symmetric',
  'table',
  'then',
  'to',
  'trailing',
  'true',
  'union',
  'unique',
  'user',
  'using',
  'variadic',
  'when',
  'where',
  'window',
  'with',
  'authorization',
  'binary',
  'collation',
  'concurrently',
  'cross',
  'current_schema',
  'freeze',
  'full',
  'ilike',
  'inner',
  'is',
  'isnull',
  'join',
  'left',
  'like',
  'natural',
  'notnull',
  'outer',
  'overlaps',
  'right',
  'similar',
  'tablesample',
  'verbose',
  'between',
  'bigint',
  'bit',
  'boolean',
  'char',
  'character',
  'coalesce',
  'dec',
  'decimal',
  'exists',
  'extract',
  'float',
  'greatest',
  'grouping',
  'inout',
  'int',
  'integer',
  'interval',
  'least',
  'national',
  'nchar',
  'none',
  'normalize',
  'nullif',
  'numeric',
  'out',
  'overlay',
  'position',
  'precision',
  'real',
  'row',
  'setof',
  'smallint',
  'substring',
  'time',
  'timestamp',
  'treat',
  'trim',
  'values',
  'varchar',
  'xmlattributes',
  'xmlconcat',
  'xmlelement',
  'xmlexists',
  'xmlforest',
  'xmlnamespaces',
  'xmlparse',
  'xmlpi',
  'xmlroot',
  'xmlserialize',
  'xmltable',
]);

function isText(t: PgType): boolean {
  return !t.array && typeCategory(t) === 'string';
}

/** Text operands of ordering and case-folding get COLLATE "C" so Postgres agrees with code-point semantics. */
function collated(sql: string, t: PgType): string {
  return isText(t) ? `(${sql} COLLATE "C")` : sql;
}

function constSql(e: Extract<Expr, { kind: 'const' }>): string {
  const t = e.type;
  if (e.value === null) return `NULL::${sqlTypeName(t)}`;
  if (!t.array && t.scalar === 'bool') return e.value ? 'true' : 'false';
  if (!t.array && t.scalar === 'int4') return (e.value as number) < 0 ? `(${String(e.value)})` : String(e.value);
  if (!t.array && t.scalar === 'text') return quoteLiteral(e.value as string);
  return `${quoteLiteral(codecFor(t).format(e.value))}::${sqlTypeName(t)}`;
}

/**
 * `SELECT <select> FROM "schema"."table" [WHERE <where>]`. With the select's casts kept (`subqueryKey`) it is the
 * identity of the value set: the same rows compared as another type make another set.
 */
export function renderSubquery(sub: Subquery, select: string): string {
  const from = `${quoteIdent(sub.table.schema)}.${quoteIdent(sub.table.name)}`;
  return `SELECT ${select} FROM ${from}${sub.where === null ? '' : ` WHERE ${renderSql(sub.where)}`}`;
}

export function subqueryKey(sub: Subquery): string {
  return renderSubquery(sub, renderSql(sub.select));
}

/** Canonical SQL of a subtree: fully parenthesised, explicit casts, constants typed. Equal trees render equally. */
export function renderSql(e: Expr): string {
  // Operands Postgres reads through a cross-type operator are rendered without the analyzer's widening cast.
  const r = (c: Expr): string => renderSql(isCrossTypeOperand(e, c) ? c.arg : c);
  switch (e.kind) {
    case 'const':
      return constSql(e);
    case 'column':
      return quoteIdent(e.name);
    case 'compare': {
      const ordering = e.op !== '=' && e.op !== '<>';
      const l = r(e.left);
      return `(${ordering ? collated(l, e.operandType) : l} ${e.op} ${r(e.right)})`;
    }
    case 'call': {
      // A bare text literal is `unknown` to Postgres and may resolve to another overload as an operator or function
      // argument (`'é' || text_array_col` would read 'é' as an array), so it is typed there.
      const arg = (a: Expr): string =>
        a.kind === 'const' && a.value !== null && !a.type.array && a.type.scalar === 'text' ? `${r(a)}::text` : r(a);
      const args = e.args.map((a) => (e.fn === 'lower' || e.fn === 'upper' ? collated(arg(a), a.type) : arg(a)));
      if (e.form === 'operator') return `(${args[0]} ${e.sqlName} ${args[1]})`;
      if (e.form === 'prefix') return `(${e.sqlName} ${args[0]})`;
      return `${e.sqlName}(${args.join(', ')})`;
    }
    case 'cast': {
      // `CAST('x' AS date)` would parse 'x' at plan time; a text value cast at run time must stay typed text.
      const a = e.arg;
      const arg =
        a.kind === 'const' && a.value !== null && !a.type.array && a.type.scalar === 'text' ? `${r(a)}::text` : r(a);
      return `CAST(${arg} AS ${sqlTypeName(e.type)})`;
    }
    case 'and':
    case 'or':
      return `(${e.args.map(r).join(e.kind === 'and' ? ' AND ' : ' OR ')})`;
    case 'not':
      return `(NOT ${r(e.arg)})`;
    case 'nulltest':
      return `(${r(e.arg)} IS ${e.negated ? 'NOT ' : ''}NULL)`;
    case 'booltest':
      return `(${r(e.arg)} IS ${e.negated ? 'NOT ' : ''}${e.test.toUpperCase()})`;
    case 'distinct':
      return `(${r(e.left)} IS ${e.negated ? 'NOT ' : ''}DISTINCT FROM ${r(e.right)})`;
    case 'in':
      return `(${r(e.arg)} ${e.negated ? 'NOT ' : ''}IN (${e.items.map(r).join(', ')}))`;
    case 'quantified': {
      const like = e.op === 'like' || e.op === 'ilike' || e.op === 'notlike' || e.op === 'notilike';
      const op = like ? (e.op.startsWith('not') ? 'NOT ' : '') + (e.op.endsWith('ilike') ? 'ILIKE' : 'LIKE') : e.op;
      const ordering = like ? e.op.endsWith('ilike') : e.op !== '=' && e.op !== '<>';
      const l = r(e.left);
      return `(${ordering ? collated(l, e.operandType) : l} ${op} ${e.all ? 'ALL' : 'ANY'} (${r(e.right)}))`;
    }
    case 'like': {
      const a = r(e.arg);
      const op = `${e.negated ? 'NOT ' : ''}${e.caseInsensitive ? 'ILIKE' : 'LIKE'}`;
      const esc = e.escape === null ? '' : ` ESCAPE ${r(e.escape)}`;
      return `(${e.caseInsensitive ? collated(a, e.arg.type) : a} ${op} ${r(e.pattern)}${esc})`;
    }
    case 'coalesce':
      return `COALESCE(${e.args.map(r).join(', ')})`;
    case 'minmax':
      return `${e.op.toUpperCase()}(${e.args.map((a, i) => (i === 0 ? collated(r(a), a.type) : r(a))).join(', ')})`;
    case 'nullif':
      return `NULLIF(${r(e.left)}, ${r(e.right)})`;
    case 'array':
      return `ARRAY[${e.elems.map(r).join(', ')}]`;
    case 'subscript':
      return `(${r(e.arg)})${e.indices
        .map((i) =>
          i.isSlice ? `[${i.lower ? r(i.lower) : ''}:${i.upper ? r(i.upper) : ''}]` : `[${i.upper ? r(i.upper) : ''}]`,
        )
        .join('')}`;
    case 'subquery':
      return `(${r(e.arg)} ${e.negated ? 'NOT ' : ''}IN (${renderSubquery(e.sub, r(e.sub.select))}))`;
    default:
      return assertNever(e);
  }
}
