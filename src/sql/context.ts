// Shared state of one clause's analysis: columns, parameters, positions, and the helpers that build typed nodes.
import { ErrorCode, ValueError, WhereError } from '../errors/index.js';
import { codecFor } from '../values/registry.js';
import { baseType, pgType, typeDisplayName, type PgType, type Value } from '../values/types.js';
import type { CastExpr, ConstExpr, Expr, Span } from './ast.js';
import { unsupportedTypeMessage } from './type-names.js';

export interface AnalyzeOptions {
  /** Column name (exact case) → type. */
  readonly columns: ReadonlyMap<string, PgType>;
  /** The shape's table, so `table.col` and `schema.table.col` qualify correctly. */
  readonly table?: { readonly schema: string; readonly name: string };
  /** `$n` values by number (1-based), as strings. */
  readonly params: ReadonlyMap<number, string>;
  /** Columns of other tables, for subqueries (`IN (SELECT col FROM table …)`); without it they are rejected. */
  readonly tables?: TableResolver;
}

/** A table's columns for subqueries: types, and the `{ name: typeName }` map compiling against it takes. */
export interface ResolvedTable {
  readonly types: ReadonlyMap<string, PgType>;
  readonly columns: Readonly<Record<string, string>>;
}

export type TableResolver = (schema: string, name: string) => ResolvedTable | undefined;

export class AnalyzeContext {
  /** Type each `$n` was given, to reject inconsistent uses (shared with subqueries: one `$n` has one type). */
  readonly paramTypes: Map<number, PgType>;
  /** Unknown-typed constants that stand for a `$n`. */
  readonly paramOf: WeakMap<ConstExpr, number>;
  readonly referenced = new Set<string>();
  /** Current nesting depth of raw nodes being analyzed (bounded by MAX_DEPTH). */
  depth = 0;

  constructor(
    readonly clause: string,
    readonly opts: AnalyzeOptions,
    readonly pos: (location: number) => number,
    /** The enclosing query's context when this one analyses a subquery. */
    readonly parent?: AnalyzeContext,
  ) {
    this.paramTypes = parent?.paramTypes ?? new Map();
    this.paramOf = parent?.paramOf ?? new WeakMap();
    this.depth = parent?.depth ?? 0;
  }

  span(location: unknown, length = 1): Span {
    const start = typeof location === 'number' && location >= 0 ? this.pos(location) : 0;
    return { start, end: Math.min(this.clause.length, start + length) };
  }

  fail(code: ErrorCode, message: string, span?: Span): never {
    throw new WhereError(code, message, span?.start, span ? Math.max(1, span.end - span.start) : 1);
  }

  /**
   * Coerces `e` to `target`: an unknown literal (or `$n`) is parsed with the target's input function; any other
   * expression gets a cast node (implicit when Postgres would insert it during resolution).
   */
  coerce(e: Expr, target: PgType, implicit = true): Expr {
    if (e.kind === 'const' && e.type.scalar === 'unknown' && !e.type.array) return this.literal(e, target);
    if (e.type === target || (implicit && baseType(e.type) === baseType(target) && target.typmod === -1)) return e;
    const cast: CastExpr = { kind: 'cast', arg: e, type: target, implicit, span: e.span };
    return cast;
  }

  /** Gives an unknown literal its type: parse (with typmod) or fail with Postgres's message at the literal. */
  literal(e: ConstExpr, target: PgType): ConstExpr {
    const param = this.paramOf.get(e);
    if (param !== undefined) {
      const prev = this.paramTypes.get(param);
      if (prev !== undefined && baseType(prev) !== baseType(target)) {
        this.fail(
          ErrorCode.ParamConflict,
          `inconsistent types deduced for parameter $${param}: ${typeDisplayName(prev)} versus ${typeDisplayName(target)}`,
          e.span,
        );
      }
      this.paramTypes.set(param, target);
    }
    if (target.scalar === 'opaque') {
      this.fail(ErrorCode.NotSupported, unsupportedTypeMessage(target, false), e.span);
    }
    if (e.value === null) return { kind: 'const', type: target, value: null, span: e.span };
    let value: Value;
    try {
      value = codecFor(target).parse(e.value as string);
    } catch (err) {
      if (err instanceof ValueError) {
        const code = err.code === ErrorCode.NotSupported ? ErrorCode.NotSupported : ErrorCode.InvalidLiteral;
        const where = param !== undefined ? ` (parameter $${param})` : '';
        this.fail(code, err.message + where, e.span);
      }
      throw err;
    }
    return { kind: 'const', type: target, value, span: e.span };
  }

  /** Unknown literals still untyped when nothing gave them a type are text, as in Postgres. */
  settle(e: Expr): Expr {
    return e.kind === 'const' && e.type.scalar === 'unknown' ? this.literal(e, pgType('text')) : e;
  }
}

export const isUnknown = (e: Expr): boolean => e.type.scalar === 'unknown' && !e.type.array;
