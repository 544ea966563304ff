// Turns libpg-query's raw WHERE node into the typed Switchyard tree: names, literals, booleans and dispatch.
import { ErrorCode } from '../errors/index.js';
import { pgType, typeDisplayName, type PgType } from '../values/types.js';
import type { ConstExpr, Expr } from './ast.js';
import { analyzeAExpr } from './analyze-ops.js';
import {
  analyzeArray,
  analyzeCoalesce,
  analyzeFuncCall,
  analyzeIndirection,
  analyzeMinMax,
  analyzeTypeCast,
} from './analyze-funcs.js';
import { analyzeSubLink } from './analyze-subquery.js';
import { AnalyzeContext, type AnalyzeOptions } from './context.js';
import { BOOL } from './coerce.js';
import { columnRef } from './identifiers.js';
import type { RawNode } from './parse.js';

export type { AnalyzeOptions } from './context.js';

export interface Analysis {
  readonly expr: Expr;
  readonly columns: readonly string[];
  readonly paramTypes: ReadonlyMap<number, PgType>;
}

/** Analyzes a parsed WHERE node against the table's columns; the result is boolean-typed. */
export function analyzeWhere(
  clause: string,
  where: RawNode,
  pos: (loc: number) => number,
  opts: AnalyzeOptions,
): Analysis {
  const ctx = new AnalyzeContext(clause, opts, pos);
  const raw = analyzeNode(ctx, where);
  const expr = requireBool(ctx, raw, 'where clause');
  return { expr, columns: [...ctx.referenced], paramTypes: ctx.paramTypes };
}

/** Coerces to boolean or rejects: `where clause must return boolean, got integer`. */
export function requireBool(ctx: AnalyzeContext, e: Expr, what: string): Expr {
  if (e.type === BOOL) return e;
  if (e.kind === 'const' && e.type.scalar === 'unknown') return ctx.literal(e, BOOL);
  const code = what === 'where clause' ? ErrorCode.NotBoolean : ErrorCode.TypeMismatch;
  const msg =
    what === 'where clause'
      ? `where clause must return boolean, got ${typeDisplayName(e.type)}`
      : `argument of ${what} must be type boolean, not type ${typeDisplayName(e.type)}`;
  return ctx.fail(code, msg, e.span);
}

function nodeOf(n: RawNode): [string, RawNode] {
  const [tag] = Object.keys(n);
  return [tag as string, n[tag as string] as RawNode];
}

/** Deeper expressions are rejected: every later stage recurses over the tree, and no real clause nests this far. */
export const MAX_DEPTH = 1000;

/** The dispatch over raw node tags; anything not listed is a construct Switchyard rejects. */
export function analyzeNode(ctx: AnalyzeContext, node: RawNode): Expr {
  if (++ctx.depth > MAX_DEPTH) {
    const [, n] = nodeOf(node);
    ctx.fail(ErrorCode.TooLarge, `where clause nests more than ${MAX_DEPTH} levels deep`, ctx.span(n['location']));
  }
  try {
    return analyzeTagged(ctx, node);
  } finally {
    ctx.depth--;
  }
}

function analyzeTagged(ctx: AnalyzeContext, node: RawNode): Expr {
  const [tag, n] = nodeOf(node);
  switch (tag) {
    case 'ColumnRef':
      return columnRef(ctx, n);
    case 'A_Const':
      return constant(ctx, n);
    case 'ParamRef':
      return param(ctx, n);
    case 'TypeCast':
      return analyzeTypeCast(ctx, n);
    case 'A_Expr':
      return analyzeAExpr(ctx, n);
    case 'BoolExpr':
      return boolExpr(ctx, n);
    case 'NullTest': {
      const arg = ctx.settle(analyzeNode(ctx, n['arg'] as RawNode));
      if (n['argisrow'] === true)
        ctx.fail(
          ErrorCode.NotSupported,
          'row constructors are not supported in where clauses',
          ctx.span(n['location']),
        );
      return {
        kind: 'nulltest',
        arg,
        negated: n['nulltesttype'] === 'IS_NOT_NULL',
        type: BOOL,
        span: ctx.span(n['location'], 2),
      };
    }
    case 'BooleanTest': {
      const arg = requireBool(
        ctx,
        analyzeNode(ctx, n['arg'] as RawNode),
        'IS ' + String(n['booltesttype']).replace(/^IS_/, '').replace(/_/g, ' '),
      );
      const t = String(n['booltesttype']);
      const test = t.endsWith('TRUE') ? 'true' : t.endsWith('FALSE') ? 'false' : 'unknown';
      return {
        kind: 'booltest',
        arg,
        test,
        negated: t.startsWith('IS_NOT'),
        type: BOOL,
        span: ctx.span(n['location'], 2),
      };
    }
    case 'FuncCall':
      return analyzeFuncCall(ctx, n);
    case 'CoalesceExpr':
      return analyzeCoalesce(ctx, n);
    case 'MinMaxExpr':
      return analyzeMinMax(ctx, n);
    case 'A_ArrayExpr':
      return analyzeArray(ctx, n);
    case 'A_Indirection':
      return analyzeIndirection(ctx, n);
    case 'CollateClause': {
      const names = (n['collname'] as RawNode[]).map((x) => (x['String'] as { sval: string }).sval);
      const coll = names[names.length - 1];
      if (coll !== 'C' && coll !== 'POSIX') {
        ctx.fail(
          ErrorCode.NotSupported,
          `COLLATE "${names.join('.')}" is not supported in where clauses (only "C")`,
          ctx.span(n['location']),
        );
      }
      return analyzeNode(ctx, n['arg'] as RawNode);
    }
    case 'SubLink':
      return analyzeSubLink(ctx, n);
    case 'CaseExpr':
      return ctx.fail(ErrorCode.NotSupported, 'CASE is not supported in where clauses', ctx.span(n['location'], 4));
    case 'RowExpr':
      return ctx.fail(
        ErrorCode.NotSupported,
        'row constructors are not supported in where clauses',
        ctx.span(n['location']),
      );
    case 'SQLValueFunction':
      return ctx.fail(
        ErrorCode.UnknownFunction,
        `unknown or unsupported function ${sqlValueName(String(n['op']))}/0 (it depends on the clock or the session)`,
        ctx.span(n['location']),
      );
    case 'GroupingFunc':
      return ctx.fail(ErrorCode.NotSupported, 'GROUPING is not supported in where clauses', ctx.span(n['location']));
    default:
      return ctx.fail(
        ErrorCode.NotSupported,
        `${tag.replace(/Expr$/, '')} expressions are not supported in where clauses`,
        ctx.span(n['location']),
      );
  }
}

function sqlValueName(op: string): string {
  return op
    .replace(/^SVFOP_/, '')
    .toLowerCase()
    .replace(/_n$/, '');
}

function constant(ctx: AnalyzeContext, n: RawNode): Expr {
  const loc = n['location'];
  if (n['isnull'] === true) return { kind: 'const', type: pgType('unknown'), value: null, span: ctx.span(loc, 4) };
  if ('ival' in n) {
    const v = (n['ival'] as { ival?: number }).ival ?? 0;
    return { kind: 'const', type: pgType('int4'), value: v, span: ctx.span(loc, String(v).length) };
  }
  if ('fval' in n) {
    const text = (n['fval'] as { fval: string }).fval;
    const span = ctx.span(loc, text.length);
    // An integer literal too large for int4 is int8 if it fits, else numeric (as Postgres's make_const). The grammar
    // negates a literal before typing it, so `-2147483648` arrives here and is int4.
    if (/^-?\d+$/.test(text)) {
      const big = BigInt(text);
      if (big >= -(2n ** 31n) && big < 2n ** 31n)
        return { kind: 'const', type: pgType('int4'), value: Number(big), span };
      if (big >= -(2n ** 63n) && big < 2n ** 63n) return { kind: 'const', type: pgType('int8'), value: big, span };
    }
    return ctx.literal({ kind: 'const', type: pgType('unknown'), value: text, span }, pgType('numeric'));
  }
  if ('boolval' in n) {
    const v = (n['boolval'] as { boolval?: boolean }).boolval === true;
    return { kind: 'const', type: BOOL, value: v, span: ctx.span(loc, v ? 4 : 5) };
  }
  if ('sval' in n) {
    const text = (n['sval'] as { sval?: string }).sval ?? '';
    return { kind: 'const', type: pgType('unknown'), value: text, span: ctx.span(loc, literalLength(ctx, loc)) };
  }
  return ctx.fail(ErrorCode.NotSupported, 'bit-string literals are not supported in where clauses', ctx.span(loc));
}

/** Length of a quoted literal in the source, for carets that underline the whole literal. */
function literalLength(ctx: AnalyzeContext, loc: unknown): number {
  const start = ctx.span(loc).start;
  const src = ctx.clause;
  const m =
    /^(?:[eEuU]&?)?'(?:[^']|'')*'/.exec(src.slice(start)) ?? /^\$([^$]*)\$[\s\S]*?\$\1\$/.exec(src.slice(start));
  return m ? m[0].length : 1;
}

function param(ctx: AnalyzeContext, n: RawNode): Expr {
  const num = Number(n['number']);
  const span = ctx.span(n['location'], String(num).length + 1);
  const value = ctx.opts.params.get(num);
  if (value === undefined) ctx.fail(ErrorCode.ParamMissing, `parameter $${num} was not provided`, span);
  const c: ConstExpr = { kind: 'const', type: pgType('unknown'), value, span };
  ctx.paramOf.set(c, num);
  return c;
}

function boolExpr(ctx: AnalyzeContext, n: RawNode): Expr {
  const op = String(n['boolop']);
  const span = ctx.span(n['location'], op === 'OR_EXPR' ? 2 : 3);
  const word = op === 'AND_EXPR' ? 'AND' : op === 'OR_EXPR' ? 'OR' : 'NOT';
  const args = (n['args'] as RawNode[]).map((a) => requireBool(ctx, analyzeNode(ctx, a), word));
  if (op === 'NOT_EXPR') return { kind: 'not', arg: args[0] as Expr, type: BOOL, span };
  return { kind: op === 'AND_EXPR' ? 'and' : 'or', args, type: BOOL, span };
}
