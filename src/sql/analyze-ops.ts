// Operator expressions (A_Expr): resolution of comparisons, arithmetic, IN, ANY/ALL, LIKE, BETWEEN, arrays.
import { ErrorCode } from '../errors/index.js';
import { arrayOf, baseType, elementType, typeCategory, typeDisplayName, type PgType } from '../values/types.js';
import type { CompareOp, Expr, Span } from './ast.js';
import type { FnId } from './function-ids.js';
import { analyzeNode } from './analyze.js';
import { BINARY, PREFIX, type Overload } from './catalog.js';
import { BOOL, selectCandidate, selectCommonType, TEXT } from './coerce.js';
import { isUnknown, type AnalyzeContext } from './context.js';
import type { RawNode } from './parse.js';
import { unsupportedTypeMessage } from './type-names.js';

const COMPARE = new Set(['=', '<>', '!=', '<', '<=', '>', '>=']);
const LIKE_OPS: Record<string, { ci: boolean; neg: boolean }> = {
  '~~': { ci: false, neg: false },
  '!~~': { ci: false, neg: true },
  '~~*': { ci: true, neg: false },
  '!~~*': { ci: true, neg: true },
};
const REGEX_OPS = new Set(['~', '~*', '!~', '!~*']);
const JSON_OPS = new Set(['->', '->>', '#>', '#>>', '?', '?|', '?&', '@?', '@@', '#-']);

function opName(n: RawNode): string {
  const names = (n['name'] as RawNode[]).map((x) => (x['String'] as { sval: string }).sval);
  return names[names.length - 1] as string;
}

export function analyzeAExpr(ctx: AnalyzeContext, n: RawNode): Expr {
  const kind = String(n['kind']);
  const name = opName(n);
  const span = ctx.span(n['location'], name.length);
  const sub = (k: string): RawNode | undefined => n[k] as RawNode | undefined;
  switch (kind) {
    case 'AEXPR_OP': {
      const l = sub('lexpr');
      const r = sub('rexpr') as RawNode;
      if (l === undefined) return prefixOp(ctx, name, analyzeNode(ctx, r), span);
      return binaryOp(ctx, name, analyzeNode(ctx, l), analyzeNode(ctx, r), span);
    }
    case 'AEXPR_OP_ANY':
    case 'AEXPR_OP_ALL':
      return quantified(
        ctx,
        name,
        analyzeNode(ctx, sub('lexpr') as RawNode),
        analyzeNode(ctx, sub('rexpr') as RawNode),
        kind === 'AEXPR_OP_ALL',
        span,
      );
    case 'AEXPR_DISTINCT':
    case 'AEXPR_NOT_DISTINCT': {
      const c = compare(
        ctx,
        '=',
        analyzeNode(ctx, sub('lexpr') as RawNode),
        analyzeNode(ctx, sub('rexpr') as RawNode),
        span,
      );
      if (c.kind !== 'compare') return c;
      return {
        kind: 'distinct',
        left: c.left,
        right: c.right,
        operandType: c.operandType,
        negated: kind === 'AEXPR_NOT_DISTINCT',
        type: BOOL,
        span,
      };
    }
    case 'AEXPR_NULLIF': {
      const left = analyzeNode(ctx, sub('lexpr') as RawNode);
      const declared: { left?: PgType } = {};
      const c = compare(ctx, '=', left, analyzeNode(ctx, sub('rexpr') as RawNode), span, declared);
      if (c.kind !== 'compare') return c;
      // As transformAExprNullIf: the result has the type of the operator's declared left input (nullif(bpchar, text)
      // is text, padding gone; nullif(int4, int8) stays int4 through the cross-type int48eq).
      const type = declared.left ?? c.left.type;
      return { kind: 'nullif', left: c.left, right: c.right, operandType: c.operandType, type, span };
    }
    case 'AEXPR_IN':
      return inList(ctx, name, n, span);
    case 'AEXPR_LIKE':
    case 'AEXPR_ILIKE':
      return like(ctx, name, analyzeNode(ctx, sub('lexpr') as RawNode), sub('rexpr') as RawNode, span);
    case 'AEXPR_SIMILAR':
      return ctx.fail(ErrorCode.NotSupported, 'SIMILAR TO is not supported in where clauses', span);
    case 'AEXPR_BETWEEN':
    case 'AEXPR_NOT_BETWEEN':
    case 'AEXPR_BETWEEN_SYM':
    case 'AEXPR_NOT_BETWEEN_SYM':
      return between(ctx, kind, n, span);
    default:
      return ctx.fail(ErrorCode.NotSupported, `operator form ${kind} is not supported in where clauses`, span);
  }
}

function noOperator(ctx: AnalyzeContext, name: string, types: readonly PgType[], span: Span, ambiguous = false): never {
  const sig =
    types.length === 1
      ? `${name} ${typeDisplayName(types[0] as PgType)}`
      : `${typeDisplayName(types[0] as PgType)} ${name} ${typeDisplayName(types[1] as PgType)}`;
  return ctx.fail(ErrorCode.NoOperator, `operator ${ambiguous ? 'is not unique' : 'does not exist'}: ${sig}`, span);
}

function rejectOpaque(ctx: AnalyzeContext, args: readonly Expr[]): void {
  for (const a of args) {
    if (a.type.scalar === 'opaque') ctx.fail(ErrorCode.NotSupported, unsupportedTypeMessage(a.type, true), a.span);
  }
}

/** Refuses an overload Postgres would pick but Switchyard cannot evaluate exactly (Overload.unsupported). */
export function refuseUnsupported(ctx: AnalyzeContext, o: Overload, span: Span): void {
  if (o.unsupported !== undefined) ctx.fail(ErrorCode.NotSupported, o.unsupported, span);
}

/** Resolves an overload and coerces the arguments to it (then to `castTo`, for cross-type arithmetic). */
export function applyOverload(ctx: AnalyzeContext, o: Overload, args: readonly Expr[]): Expr[] {
  return args.map((a, i) => {
    const declared = ctx.coerce(a, o.args[i] as PgType);
    return o.castTo ? ctx.coerce(declared, o.castTo[i] as PgType) : declared;
  });
}

function prefixOp(ctx: AnalyzeContext, name: string, arg: Expr, span: Span): Expr {
  rejectOpaque(ctx, [arg]);
  const cands = PREFIX.get(name);
  if (!cands) return unsupportedOp(ctx, name, [arg.type], span);
  const o = selectCandidate(cands, [arg.type]);
  if (o === 'none' || o === 'ambiguous') return noOperator(ctx, name, [arg.type], span, o === 'ambiguous');
  refuseUnsupported(ctx, o, span);
  const [a] = applyOverload(ctx, o, [arg]);
  return {
    kind: 'call',
    fn: o.fn as FnId,
    sqlName: name,
    form: 'prefix',
    args: [a as Expr],
    strict: true,
    type: o.result,
    span,
  };
}

function unsupportedOp(ctx: AnalyzeContext, name: string, types: readonly PgType[], span: Span): never {
  if (REGEX_OPS.has(name))
    ctx.fail(ErrorCode.NotSupported, `regular expression operator ${name} is not supported in where clauses`, span);
  if (JSON_OPS.has(name))
    ctx.fail(ErrorCode.NotSupported, `JSON operator ${name} is not supported in where clauses`, span);
  return noOperator(ctx, name, types, span);
}

export function binaryOp(ctx: AnalyzeContext, name: string, l: Expr, r: Expr, span: Span): Expr {
  if (COMPARE.has(name)) return compare(ctx, (name === '!=' ? '<>' : name) as CompareOp, l, r, span);
  const likeOp = LIKE_OPS[name];
  if (likeOp) return buildLike(ctx, l, r, null, likeOp.ci, likeOp.neg, span);
  rejectOpaque(ctx, [l, r]);
  if (name === '@>' || name === '<@' || name === '&&') return arrayPredicate(ctx, name, l, r, span);
  if (name === '||') return concatOp(ctx, l, r, span);
  const cands = BINARY.get(name);
  if (!cands) return unsupportedOp(ctx, name, [l.type, r.type], span);
  // Two unknown operands go through full candidate selection (string category first), as oper_select_candidate.
  const o = selectCandidate(cands, [l.type, r.type]);
  if (o === 'none' || o === 'ambiguous') return noOperator(ctx, name, [l.type, r.type], span, o === 'ambiguous');
  const args = applyOverload(ctx, o, [l, r]);
  return {
    kind: 'call',
    fn: o.fn as FnId,
    sqlName: name,
    form: 'operator',
    args,
    strict: true,
    type: o.result,
    span,
  };
}

/** Resolves a comparison to its compare type: arrays and jsonb only support equality, as the language says. */
export function compare(
  ctx: AnalyzeContext,
  op: CompareOp,
  l: Expr,
  r: Expr,
  span: Span,
  declared?: { left?: PgType },
): Expr {
  rejectOpaque(ctx, [l, r]);
  if (l.type.array || r.type.array) {
    const t = l.type.array ? l.type : r.type;
    const other = l.type.array ? r : l;
    if (!isUnknown(other) && (!other.type.array || baseType(elementType(other.type)) !== baseType(elementType(t)))) {
      return noOperator(ctx, op, [l.type, r.type], span);
    }
    if (op !== '=' && op !== '<>')
      ctx.fail(ErrorCode.NotSupported, `ordering comparisons on arrays are not supported in where clauses`, span);
    const at = baseType(t);
    return {
      kind: 'compare',
      op,
      left: ctx.coerce(l, at),
      right: ctx.coerce(r, at),
      operandType: at,
      type: BOOL,
      span,
    };
  }
  if (l.type.scalar === 'enum' || r.type.scalar === 'enum') return enumCompare(ctx, op, l, r, span, declared);
  const o = selectCandidate(BINARY.get(op) as Overload[], [l.type, r.type]);
  if (o === 'none' || o === 'ambiguous') return noOperator(ctx, op, [l.type, r.type], span, o === 'ambiguous');
  const as = o.compareAs as PgType;
  if (as.scalar === 'jsonb' && op !== '=' && op !== '<>') {
    ctx.fail(ErrorCode.NotSupported, 'ordering comparisons on jsonb are not supported in where clauses', span);
  }
  const [a, b] = applyOverload(ctx, o, [l, r]) as [Expr, Expr];
  if (declared) declared.left = o.args[0] as PgType;
  return { kind: 'compare', op, left: ctx.coerce(a, as), right: ctx.coerce(b, as), operandType: as, type: BOOL, span };
}

/**
 * Enum comparisons are Postgres's anyenum operators: both sides the same enum type, an untyped literal read as a
 * label of it (an unknown label is "invalid input value for enum …"); order is the declared sort order.
 */
function enumCompare(
  ctx: AnalyzeContext,
  op: CompareOp,
  l: Expr,
  r: Expr,
  span: Span,
  declared: { left?: PgType } | undefined,
): Expr {
  const t = baseType(l.type.scalar === 'enum' ? l.type : r.type);
  const fits = (e: Expr): boolean => isUnknown(e) || baseType(e.type) === t;
  if (!fits(l) || !fits(r)) return noOperator(ctx, op, [l.type, r.type], span);
  if (declared) declared.left = t;
  return { kind: 'compare', op, left: ctx.coerce(l, t), right: ctx.coerce(r, t), operandType: t, type: BOOL, span };
}

/** `x op ANY|ALL (array)`: the element operator is resolved against the array's element type. */
function quantified(ctx: AnalyzeContext, name: string, l: Expr, r: Expr, all: boolean, span: Span): Expr {
  if (!isUnknown(r) && !r.type.array) {
    ctx.fail(
      ErrorCode.TypeMismatch,
      `op ANY/ALL (array) requires array on right side, got ${typeDisplayName(r.type)}`,
      r.span,
    );
  }
  const elem = isUnknown(r) ? r : ({ ...r, type: elementType(r.type) } as Expr);
  const likeOp = LIKE_OPS[name];
  if (likeOp) {
    const arg = ctx.settle(l);
    if (typeCategory(arg.type) !== 'string') noOperator(ctx, name, [l.type, elem.type], span);
    const arr = ctx.coerce(r, arrayOf(TEXT));
    const op = `${likeOp.neg ? 'not' : ''}${likeOp.ci ? 'ilike' : 'like'}` as 'like';
    return { kind: 'quantified', op, all, left: arg, right: arr, operandType: TEXT, type: BOOL, span };
  }
  if (!COMPARE.has(name)) return unsupportedOp(ctx, name, [l.type, r.type], span);
  // An unknown array literal stands in as an untyped NULL while the element operator is chosen (its text is an
  // array, not an element); it is then parsed as an array of the chosen operand type.
  const probe: Expr = isUnknown(r) ? { kind: 'const', type: r.type, value: null, span: r.span } : elem;
  const c = compare(ctx, (name === '!=' ? '<>' : name) as CompareOp, l, probe, span);
  if (c.kind !== 'compare') return c;
  const right = ctx.coerce(r, arrayOf(c.operandType));
  return { kind: 'quantified', op: c.op, all, left: c.left, right, operandType: c.operandType, type: BOOL, span };
}

function containsColumn(e: RawNode): boolean {
  return JSON.stringify(e).includes('"ColumnRef"');
}

/** IN lists: constants share one common type with the left side (as Postgres's ScalarArrayOpExpr); else ORed `=`. */
function inList(ctx: AnalyzeContext, name: string, n: RawNode, span: Span): Expr {
  const negated = name === '<>';
  const left = analyzeNode(ctx, n['lexpr'] as RawNode);
  const rawItems = (n['rexpr'] as { List: { items: RawNode[] } }).List.items;
  const items = rawItems.map((i) => analyzeNode(ctx, i));
  const consts = items.filter((_, i) => !containsColumn(rawItems[i] as RawNode));
  const vars = items.filter((_, i) => containsColumn(rawItems[i] as RawNode));
  const parts: Expr[] = [];
  // Postgres builds one ScalarArrayOpExpr over a common type only for two or more non-Var items
  // (transformAExprIn); a single constant is compared on its own, e.g. float4 = numeric as float8.
  if (consts.length > 1) {
    const common = selectCommonType([left.type, ...consts.map((c) => c.type)]);
    if (!('clash' in common) && !left.type.array && common.scalar !== 'opaque') {
      const c = compare(ctx, '=', left, { ...(consts[0] as Expr) }, span);
      const ct = c.kind === 'compare' && baseType(c.operandType) === baseType(common) ? c.operandType : common;
      const arg = ctx.coerce(left, ct);
      const list = consts.map((x) => ctx.coerce(x, ct));
      parts.push({ kind: 'in', arg, items: list, operandType: ct, negated, type: BOOL, span });
    } else {
      for (const c of consts) vars.push(c);
    }
  } else {
    vars.unshift(...consts);
  }
  for (const v of vars) parts.push(compare(ctx, negated ? '<>' : '=', left, v, span));
  if (parts.length === 1) return parts[0] as Expr;
  return { kind: negated ? 'and' : 'or', args: parts, type: BOOL, span };
}

function like(ctx: AnalyzeContext, name: string, arg: Expr, rexpr: RawNode, span: Span): Expr {
  const op = LIKE_OPS[name];
  if (!op) return unsupportedOp(ctx, name, [arg.type], span);
  const fc = rexpr['FuncCall'] as RawNode | undefined;
  const fname = fc ? (fc['funcname'] as RawNode[]).map((x) => (x['String'] as { sval: string }).sval).pop() : undefined;
  if (fc && fname === 'like_escape') {
    const [p, e] = (fc['args'] as RawNode[]).map((a) => analyzeNode(ctx, a)) as [Expr, Expr];
    return buildLike(ctx, arg, p, ctx.coerce(e, TEXT), op.ci, op.neg, span);
  }
  return buildLike(ctx, arg, analyzeNode(ctx, rexpr), null, op.ci, op.neg, span);
}

export function buildLike(
  ctx: AnalyzeContext,
  arg: Expr,
  pattern: Expr,
  escape: Expr | null,
  ci: boolean,
  neg: boolean,
  span: Span,
): Expr {
  rejectOpaque(ctx, [arg, pattern]);
  const a = ctx.settle(arg);
  if (typeCategory(a.type) !== 'string') noOperator(ctx, ci ? '~~*' : '~~', [arg.type, pattern.type], span);
  // The pattern must already be text-like (or an unknown literal): there is no `text ~~ integer[]` to coerce to.
  if (!isUnknown(pattern) && (pattern.type.array || typeCategory(pattern.type) !== 'string'))
    noOperator(ctx, ci ? '~~*' : '~~', [arg.type, pattern.type], span);
  const p = ctx.coerce(pattern, TEXT);
  if (typeCategory(p.type) !== 'string') noOperator(ctx, ci ? '~~*' : '~~', [arg.type, pattern.type], span);
  // varchar and name are matched as text; bpchar keeps its padding (bpcharlike).
  const target = a.type.scalar === 'bpchar' ? a : ctx.coerce(a, TEXT);
  return {
    kind: 'like',
    arg: target,
    pattern: ctx.coerce(p, TEXT),
    escape,
    caseInsensitive: ci,
    negated: neg,
    type: BOOL,
    span,
  };
}

function between(ctx: AnalyzeContext, kind: string, n: RawNode, span: Span): Expr {
  const x = () => analyzeNode(ctx, n['lexpr'] as RawNode);
  const [ra, rb] = (n['rexpr'] as { List: { items: RawNode[] } }).List.items as [RawNode, RawNode];
  const a = () => analyzeNode(ctx, ra);
  const b = () => analyzeNode(ctx, rb);
  const and = (...args: Expr[]): Expr => ({ kind: 'and', args, type: BOOL, span });
  const or = (...args: Expr[]): Expr => ({ kind: 'or', args, type: BOOL, span });
  const c = (op: CompareOp, l: Expr, r: Expr) => compare(ctx, op, l, r, span);
  switch (kind) {
    case 'AEXPR_BETWEEN':
      return and(c('>=', x(), a()), c('<=', x(), b()));
    case 'AEXPR_NOT_BETWEEN':
      return or(c('<', x(), a()), c('>', x(), b()));
    case 'AEXPR_BETWEEN_SYM':
      return or(and(c('>=', x(), a()), c('<=', x(), b())), and(c('>=', x(), b()), c('<=', x(), a())));
    default:
      return and(or(c('<', x(), a()), c('>', x(), b())), or(c('<', x(), b()), c('>', x(), a())));
  }
}

/** `@>`, `<@`, `&&`: both sides arrays of one element type (an unknown literal takes the other side's type). */
function arrayPredicate(ctx: AnalyzeContext, name: string, l: Expr, r: Expr, span: Span): Expr {
  if (l.type.scalar === 'jsonb' || r.type.scalar === 'jsonb' || l.type.scalar === 'json' || r.type.scalar === 'json') {
    ctx.fail(ErrorCode.NotSupported, `JSON operator ${name} is not supported in where clauses`, span);
  }
  const t = l.type.array ? l.type : r.type.array ? r.type : undefined;
  if (t === undefined || (!isUnknown(l) && !l.type.array) || (!isUnknown(r) && !r.type.array)) {
    return noOperator(ctx, name, [l.type, r.type], span);
  }
  // (anyarray, anyarray): both sides must be the very same array type; only an unknown literal adapts.
  const common = baseType(t);
  if ((l.type.array && baseType(l.type) !== common) || (r.type.array && baseType(r.type) !== common)) {
    return noOperator(ctx, name, [l.type, r.type], span);
  }
  const fn = name === '@>' ? 'array_contains' : name === '<@' ? 'array_contained' : 'array_overlaps';
  return {
    kind: 'call',
    fn,
    sqlName: name,
    form: 'operator',
    args: [ctx.coerce(l, common), ctx.coerce(r, common)],
    strict: true,
    type: BOOL,
    span,
  };
}

/** `||`: array concatenation / append / prepend, else text concatenation (a non-text side via its text output). */
function concatOp(ctx: AnalyzeContext, l: Expr, r: Expr, span: Span): Expr {
  const call = (fn: FnId, args: Expr[], type: PgType, strict: boolean): Expr => ({
    kind: 'call',
    fn,
    sqlName: '||',
    form: 'operator',
    args,
    strict,
    type,
    span,
  });
  if (l.type.array || r.type.array) {
    if (l.type.array && (r.type.array || isUnknown(r))) {
      const rt = r.type.array ? baseType(r.type) : baseType(l.type);
      const c = selectCommonType([baseType(l.type), rt]);
      if ('clash' in c) return noOperator(ctx, '||', [l.type, r.type], span);
      return call('array_cat', [ctx.coerce(l, c), ctx.coerce(r, c)], c, false);
    }
    if (isUnknown(l) && r.type.array)
      return call('array_cat', [ctx.coerce(l, baseType(r.type)), r], baseType(r.type), false);
    if (l.type.array) {
      const c = selectCommonType([elementType(baseType(l.type)), r.type]);
      if ('clash' in c) return noOperator(ctx, '||', [l.type, r.type], span);
      return call('array_append', [ctx.coerce(l, arrayOf(c)), ctx.coerce(r, c)], arrayOf(c), false);
    }
    const c = selectCommonType([l.type, elementType(baseType(r.type))]);
    if ('clash' in c) return noOperator(ctx, '||', [l.type, r.type], span);
    return call('array_prepend', [ctx.coerce(l, c), ctx.coerce(r, arrayOf(c))], arrayOf(c), false);
  }
  const lc = typeCategory(l.type);
  const rc = typeCategory(r.type);
  const textish = (c: string) => c === 'string' || c === 'unknown';
  if (!textish(lc) && !textish(rc)) return noOperator(ctx, '||', [l.type, r.type], span);
  const toText = (e: Expr): Expr =>
    isUnknown(e) || typeCategory(e.type) === 'string' ? ctx.coerce(e, TEXT) : ctx.coerce(e, TEXT, false);
  return call('textcat', [toText(l), toText(r)], TEXT, true);
}
