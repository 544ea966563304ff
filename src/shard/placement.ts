// Placement analysis: finds a shape's routing key (a necessary `column = constant`) and hashes keys to shards.
//
// A shape is "keyed" when every row it can match has one column equal to one constant: then only the shard that the
// (table, column, key) hash names can hold its matches, and a row needs to visit only the shards of its own values.
// The key must be a *necessary* condition, not the access the shard's router picks: the router plans by live
// statistics, placement must not. Families of one clause text reuse the router's templates (read-only use of
// src/router/templates.ts and atoms.ts) so that placing `user_id = $1` costs one parameter parse, not a compile.
import { analyzeClause } from '../where.js';
import type { Expr } from '../sql/ast.js';
import { codecFor } from '../values/registry.js';
import type { Codec } from '../values/codec.js';
import type { PgType } from '../values/types.js';
import { classify, INDEXED_POLICY } from '../router/atoms.js';
import { toDnf } from '../router/decompose.js';
import { instantiate, makeTemplate, type Template } from '../router/templates.js';

export type KeyValue = string | number;

/** A table of the schema as the dispatcher sees it: its columns in the batch layout order. */
export interface TableInfo {
  readonly index: number;
  readonly schema: string;
  readonly name: string;
  readonly display: string;
  readonly columns: Readonly<Record<string, string>>;
  readonly columnNames: readonly string[];
  readonly columnIndex: ReadonlyMap<string, number>;
}

/** A shape's routing key: its rows all have `column = key` (decoded and compared as `type`). */
export interface RoutingKey {
  readonly column: number;
  readonly type: PgType;
  readonly key: KeyValue;
}

interface Family {
  readonly template: Template | null;
  /** `col = $n` as the whole clause: the key is the parameter's value, parsed as `type`. */
  fast: { readonly column: number; readonly type: PgType; readonly param: number } | null | undefined;
}

const FAMILY_LIMIT = 4_096;

export class PlacementAnalyser {
  private readonly families = new Map<string, Family>();

  /** The routing key of a shape, or null when it has none. Throws WhereError for a clause the router would reject. */
  analyse(
    table: TableInfo,
    where: string | undefined,
    params: Readonly<Record<string, string>> | undefined,
  ): RoutingKey | null {
    if (where === undefined) return null;
    const fkey = `${table.index}\u0000${where}`;
    const fam = this.families.get(fkey);
    if (fam !== undefined && fam.fast) {
      const text = paramText(params, fam.fast.param);
      if (text !== undefined) {
        try {
          const codec = codecFor(fam.fast.type);
          return { column: fam.fast.column, type: fam.fast.type, key: codec.key(codec.parse(text)) };
        } catch {
          // an invalid value: the full compile below raises the error Postgres would
        }
      }
    }
    let expr: Expr | null = fam !== undefined && fam.template !== null ? instantiate(fam.template, params) : null;
    const compiled = expr === null;
    if (expr === null) {
      expr = analyzeClause(where, table.columns, {
        ...(params ? { params } : {}),
        table: { schema: table.schema, name: table.name },
      }).expr;
    }
    const found = keyOf(expr, table);
    if (fam === undefined && compiled) {
      if (this.families.size >= FAMILY_LIMIT) this.families.clear();
      const template = makeTemplate(where, expr, params);
      const f: Family = { template, fast: null };
      if (template !== null && found !== null && template.slots.length === 1 && found.atom === expr) {
        const slot = template.slots[0];
        if (slot !== undefined && slot.like === undefined && found.constNode === slot.node) {
          f.fast = { column: found.ref.column, type: found.ref.type, param: slot.param };
        }
      }
      this.families.set(fkey, f);
    }
    return found === null ? null : found.ref;
  }
}

/** The first conjunct of a single-disjunct clause that pins a plain column to one non-NULL constant. */
function keyOf(expr: Expr, table: TableInfo): { ref: RoutingKey; atom: Expr; constNode: Expr | null } | null {
  const dnf = toDnf(expr);
  if (dnf.length !== 1) return null;
  for (const atom of dnf[0] as Expr[]) {
    const c = classify(atom, INDEXED_POLICY);
    if (c === null || c.kind !== 'eq' || c.nullKey || c.keys.length !== 1 || c.probe.kind !== 'column') continue;
    const column = table.columnIndex.get(c.probe.name);
    if (column === undefined) continue;
    // Only when the comparison happens in the column's own scalar type can the row's text be keyed the same way.
    if (c.keyType.array || c.keyType.scalar !== c.probe.type.scalar || c.probe.type.array) continue;
    const codec = codecFor(c.keyType);
    const constNode =
      atom.kind === 'compare'
        ? atom.left.kind === 'const'
          ? atom.left
          : atom.right.kind === 'const'
            ? atom.right
            : null
        : null;
    return { ref: { column, type: c.keyType, key: codec.key(c.keys[0] as never) }, atom, constNode };
  }
  return null;
}

function paramText(params: Readonly<Record<string, string>> | undefined, n: number): string | undefined {
  if (params === undefined) return undefined;
  const v = params[String(n)] ?? params[`$${n}`];
  return typeof v === 'string' ? v : undefined;
}

/** Hash of (table, column, key) into [0, shards): FNV-1a over the key's text, seeded by the table and column. */
export function shardOfKey(table: number, column: number, key: KeyValue, shards: number): number {
  let h = (0x811c9dc5 ^ Math.imul(table + 1, 0x9e3779b1) ^ Math.imul(column + 1, 0x85ebca6b)) >>> 0;
  if (typeof key === 'number' && Number.isInteger(key) && Math.abs(key) < 2 ** 31) {
    h = Math.imul(h ^ key, 0x01000193);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
  } else {
    const s = typeof key === 'string' ? key : `n${key}`;
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    h ^= h >>> 13;
  }
  return (h >>> 0) % shards;
}

/** Decodes a row's text for a key column into its key, or undefined when the text is not valid input (fail-open). */
export function rowKey(codec: Codec, text: string): KeyValue | undefined {
  try {
    return codec.key(codec.parse(text));
  } catch {
    return undefined;
  }
}
