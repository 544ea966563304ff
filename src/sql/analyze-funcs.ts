// Function calls, casts, COALESCE/GREATEST/LEAST, ARRAY[] constructors and subscripts.
import { ErrorCode, ValueError } from '../errors/index.js';
import { validateZone } from '../values/timezone.js';
import { arrayOf, baseType, elementType, pgType, typeCategory, typeDisplayName, type PgType } from '../values/types.js';
import type { Expr, Span } from './ast.js';
import type { FnId } from './function-ids.js';
import { analyzeNode } from './analyze.js';
import { applyOverload, buildLike, refuseUnsupported } from './analyze-ops.js';
import { CAST_FUNCTIONS, FUNCTIONS, VOLATILE_FUNCTIONS } from './catalog.js';
import { castExists } from './casts.js';
import { canCoerce, selectCandidate, selectCommonType, TEXT } from './coerce.js';
import { isUnknown, type AnalyzeContext } from './context.js';
import type { RawNode } from './parse.js';
import { parseTypeName, unsupportedTypeMessage } from './type-names.js';

const INT4 = pgType('int4');
const AGGREGATES = new Set([
  'count',
  'sum',
  'avg',
  'min',
  'max',
  'array_agg',
  'string_agg',
  'bool_and',
  'bool_or',
  'every',
  'json_agg',
  'jsonb_agg',
  'json_object_agg',
  'jsonb_object_agg',
  'stddev',
  'variance',
  'bit_and',
  'bit_or',
]);

function names(list: RawNode[]): string[] {
  return list.map((x) => (x['String'] as { sval: string }).sval);
}

/** `x::T`, `CAST(x AS T)`, `T 'literal'`: literals are parsed as T; other casts must exist in Postgres. */
export function analyzeTypeCast(ctx: AnalyzeContext, n: RawNode): Expr {
  const tn = n['typeName'] as RawNode;
  const target = typeFromNode(ctx, tn);
  const argRaw = n['arg'] as RawNode;
  const loc = typeof n['location'] === 'number' && n['location'] >= 0 ? n['location'] : tn['location'];
  const span = ctx.span(loc, 2);
  const arrayNode = argRaw['A_ArrayExpr'] as RawNode | undefined;
  if (arrayNode && ((arrayNode['elements'] as RawNode[] | undefined) ?? []).length === 0) {
    if (!target.array)
      ctx.fail(ErrorCode.TypeMismatch, `cannot cast an empty ARRAY[] to ${typeDisplayName(target)}`, span);
    return { kind: 'const', type: target, value: { dims: [], lbounds: [], items: [] }, span };
  }
  const arg = analyzeNode(ctx, argRaw);
  return castTo(ctx, arg, target, span);
}

export function castTo(ctx: AnalyzeContext, arg: Expr, target: PgType, span: Span): Expr {
  if (target.scalar === 'opaque') {
    ctx.fail(ErrorCode.NotSupported, unsupportedTypeMessage(target, false), span);
  }
  if (isUnknown(arg)) {
    // Postgres runs the input function without the modifier and applies it as a separate (foldable) step, except
    // for interval whose input needs it; so `'-Infinity'::numeric(20,5)` fails only where it is evaluated.
    if (target.typmod < 0 || target.scalar === 'interval') return ctx.coerce(arg, target, false);
    const base = ctx.coerce(arg, baseType(target), false);
    return { kind: 'cast', arg: base, type: target, implicit: false, span };
  }
  if (arg.type.scalar === 'opaque') {
    ctx.fail(ErrorCode.NotSupported, unsupportedTypeMessage(arg.type, true), arg.span);
  }
  if (!castExists(arg.type, target)) {
    ctx.fail(
      ErrorCode.TypeMismatch,
      `cannot cast type ${typeDisplayName(arg.type)} to ${typeDisplayName(target)}`,
      span,
    );
  }
  if (arg.type === target) return arg;
  return { kind: 'cast', arg, type: target, implicit: false, span };
}

function typeFromNode(ctx: AnalyzeContext, tn: RawNode): PgType {
  const parts = names(tn['names'] as RawNode[]).filter((p, i, all) => !(p === 'pg_catalog' && i < all.length - 1));
  const mods = ((tn['typmods'] as RawNode[] | undefined) ?? []).map((m) => {
    const c = m['A_Const'] as { ival?: { ival?: number } } | undefined;
    if (!c || !c.ival)
      ctx.fail(ErrorCode.TypeMismatch, 'type modifiers must be simple constants', ctx.span(tn['location']));
    return c.ival.ival ?? 0;
  });
  const bounds = (tn['arrayBounds'] as RawNode[] | undefined) ?? [];
  const text = parts.join('.') + (mods.length ? `(${mods.join(',')})` : '') + '[]'.repeat(bounds.length);
  let t: PgType;
  try {
    t = parseTypeName(text);
  } catch (e) {
    return ctx.fail(ErrorCode.TypeMismatch, (e as Error).message, ctx.span(tn['location']));
  }
  if (t.scalar === 'opaque') {
    // A cast to an enum: the enum types the clause can know are those of its table's columns.
    const e = tableEnum(ctx, parts);
    if (e !== undefined) return bounds.length > 0 ? arrayOf(e) : e;
    ctx.fail(ErrorCode.NotSupported, unsupportedTypeMessage(t, false), ctx.span(tn['location'], text.length));
  }
  if (t.scalar === 'bpchar' && mods.length === 0 && parts[parts.length - 1] === 'bpchar')
    return pgType('bpchar', t.array);
  return t;
}

/** Identifier parts of an enum's printed name (`app."Mood"` → app, Mood). */
function nameParts(sqlName: string): string[] {
  const out: string[] = [];
  const re = /\s*(?:"((?:[^"]|"")*)"|([^."]+))\s*(?:\.|$)/y;
  let m: RegExpExecArray | null;
  while (re.lastIndex < sqlName.length && (m = re.exec(sqlName)) !== null) {
    out.push(m[1] !== undefined ? m[1].replaceAll('""', '"') : (m[2] as string).trim());
  }
  return out;
}

/** The enum type of one of the table's columns named by `parts` (schema-qualified or not), if any. */
function tableEnum(ctx: AnalyzeContext, parts: readonly string[]): PgType | undefined {
  for (const t of ctx.opts.columns.values()) {
    const e = t.enumType;
    if (e === undefined) continue;
    const own = nameParts(e.sqlName);
    const last = own[own.length - 1];
    if (last !== parts[parts.length - 1]) continue;
    // `public.mood` and `mood` name the same type when format_type printed it unqualified (on the search path).
    if (parts.length === 1 || own.length === 1 || own[0] === parts[0]) return elementType(t);
  }
  return undefined;
}

export function analyzeFuncCall(ctx: AnalyzeContext, n: RawNode): Expr {
  const parts = names(n['funcname'] as RawNode[]);
  const name = parts[parts.length - 1] as string;
  const rawArgs = (n['args'] as RawNode[] | undefined) ?? [];
  const span = ctx.span(n['location'], name.length);
  const schemaOk = parts.length === 1 || (parts.length === 2 && parts[0] === 'pg_catalog');
  if (n['over'] !== undefined)
    ctx.fail(ErrorCode.NotSupported, `window functions are not supported in where clauses (${name} OVER …)`, span);
  if (n['agg_filter'] !== undefined) ctx.fail(ErrorCode.NotSupported, 'FILTER is not supported in where clauses', span);
  if (n['agg_star'] === true || AGGREGATES.has(name))
    ctx.fail(ErrorCode.NotSupported, `aggregate functions are not supported in where clauses (${name})`, span);
  if (n['agg_distinct'] === true)
    ctx.fail(ErrorCode.NotSupported, 'DISTINCT in function calls is not supported in where clauses', span);
  if (n['agg_order'] !== undefined)
    ctx.fail(ErrorCode.NotSupported, 'ORDER BY in function calls is not supported in where clauses', span);
  if (n['func_variadic'] === true) ctx.fail(ErrorCode.NotSupported, 'VARIADIC is not supported in where clauses', span);
  if (rawArgs.some((a) => 'NamedArgExpr' in a))
    ctx.fail(ErrorCode.NotSupported, 'named arguments are not supported in where clauses', span);
  const unknownFn = (): never =>
    ctx.fail(
      ErrorCode.UnknownFunction,
      `unknown or unsupported function ${parts.join('.')}/${rawArgs.length}` +
        (VOLATILE_FUNCTIONS.has(name)
          ? ' (it is not immutable: its result depends on the clock, randomness or the session)'
          : ''),
      span,
    );
  if (!schemaOk || VOLATILE_FUNCTIONS.has(name)) return unknownFn();
  const args = rawArgs.map((a) => analyzeNode(ctx, a));

  const castScalar = CAST_FUNCTIONS[name];
  if (castScalar !== undefined && args.length === 1) return castTo(ctx, args[0] as Expr, pgType(castScalar), span);
  const special = specialFunction(ctx, name, args, span);
  if (special) return special;

  const cands = FUNCTIONS.get(name);
  if (!cands) return unknownFn();
  const o = selectCandidate(
    cands.filter((c) => c.args.length === args.length),
    args.map((a) => a.type),
  );
  if (o === 'none' || o === 'ambiguous') {
    if (!cands.some((c) => c.args.length === args.length)) return unknownFn();
    return ctx.fail(
      ErrorCode.UnknownFunction,
      `function ${name}(${args.map((a) => typeDisplayName(a.type)).join(', ')}) ${o === 'ambiguous' ? 'is not unique' : 'does not exist'}`,
      span,
    );
  }
  refuseUnsupported(ctx, o, span);
  const typed = applyOverload(ctx, o, args);
  if (o.fn === 'timezone_ts' || o.fn === 'timezone_tstz') checkZone(ctx, typed[0] as Expr);
  return {
    kind: 'call',
    fn: o.fn as FnId,
    sqlName: name,
    form: 'function',
    args: typed,
    strict: true,
    type: o.result,
    span,
  };
}

/** The zone of AT TIME ZONE / timezone() must be a constant known to the zone database at shape creation. */
function checkZone(ctx: AnalyzeContext, zone: Expr): void {
  if (zone.kind !== 'const') {
    ctx.fail(
      ErrorCode.NotSupported,
      'the time zone of AT TIME ZONE / timezone() must be a constant in where clauses',
      zone.span,
    );
  }
  if (zone.value === null) return;
  try {
    validateZone(zone.value as string);
  } catch (e) {
    if (e instanceof ValueError) ctx.fail(ErrorCode.InvalidLiteral, e.message, zone.span);
    throw e;
  }
}

function requireArray(ctx: AnalyzeContext, name: string, e: Expr): Expr {
  if (isUnknown(e))
    ctx.fail(
      ErrorCode.UnknownFunction,
      `could not determine polymorphic type of ${name}() because the input has type unknown`,
      e.span,
    );
  if (!e.type.array)
    ctx.fail(ErrorCode.UnknownFunction, `function ${name}(${typeDisplayName(e.type)}) does not exist`, e.span);
  return e;
}

/** Builds a call node of the function as written (`sqlName`) with the given implementation. */
type CallOf = (fn: FnId, args: Expr[], type: PgType, strict: boolean) => Expr;

/** A polymorphic or variadic function: its call node, or undefined when these arguments do not fit any form of it. */
type SpecialFunction = (ctx: AnalyzeContext, args: Expr[], call: CallOf, span: Span) => Expr | undefined;

function concatFn(ctx: AnalyzeContext, args: Expr[], call: CallOf): Expr | undefined {
  if (args.length === 0) return undefined;
  for (const a of args)
    if (a.type.scalar === 'opaque')
      ctx.fail(ErrorCode.NotSupported, `type ${typeDisplayName(a.type)} is not supported in where clauses`, a.span);
  return call(
    'concat',
    args.map((a) => ctx.settle(a)),
    TEXT,
    false,
  );
}

function likeFn(negated: boolean): SpecialFunction {
  return (ctx, args, _call, span) => {
    if (args.length !== 2) return undefined;
    const [a, p] = args as [Expr, Expr];
    // like(text, text) has no bpchar overload, so the function form drops bpchar padding (the operator keeps it).
    const arg = a.type.scalar === 'bpchar' && !a.type.array ? ctx.coerce(a, TEXT) : a;
    return buildLike(ctx, arg, p, null, false, negated, span);
  };
}

function arrayCountFn(fn: 'array_ndims' | 'cardinality'): SpecialFunction {
  return (ctx, args, call) => {
    if (args.length !== 1) return undefined;
    return call(fn, [requireArray(ctx, fn, args[0] as Expr)], INT4, true);
  };
}

function arrayLengthFn(ctx: AnalyzeContext, args: Expr[], call: CallOf): Expr | undefined {
  if (args.length !== 2) return undefined;
  if (!isUnknown(args[1] as Expr) && !canCoerce((args[1] as Expr).type, INT4)) return undefined;
  return call(
    'array_length',
    [requireArray(ctx, 'array_length', args[0] as Expr), ctx.coerce(args[1] as Expr, INT4)],
    INT4,
    true,
  );
}

function arrayCatFn(ctx: AnalyzeContext, args: Expr[], call: CallOf, span: Span): Expr | undefined {
  if (args.length !== 2) return undefined;
  const [a, b] = args as [Expr, Expr];
  // anycompatiblearray with only unknown inputs resolves to text[].
  const t = a.type.array
    ? baseType(a.type)
    : b.type.array
      ? baseType(b.type)
      : isUnknown(a) && isUnknown(b)
        ? arrayOf(TEXT)
        : undefined;
  if (!t) return requireArray(ctx, 'array_cat', a);
  const common = selectCommonType([
    a.type.array || !isUnknown(a) ? a.type : t,
    b.type.array || !isUnknown(b) ? b.type : t,
  ]);
  if ('clash' in common || !common.array)
    return ctx.fail(
      ErrorCode.UnknownFunction,
      `function array_cat(${typeDisplayName(a.type)}, ${typeDisplayName(b.type)}) does not exist`,
      span,
    );
  return call('array_cat', [ctx.coerce(a, common), ctx.coerce(b, common)], common, false);
}

function arrayAddFn(fn: 'array_append' | 'array_prepend'): SpecialFunction {
  return (ctx, args, call, span) => {
    if (args.length !== 2) return undefined;
    const [arr1, el1] = (fn === 'array_append' ? args : [args[1], args[0]]) as [Expr, Expr];
    // anycompatible with only unknown inputs resolves to text (array_append('{a}', 'b') is text[]).
    const el = isUnknown(arr1) && isUnknown(el1) ? ctx.coerce(el1, TEXT) : el1;
    // anycompatible: an unknown array literal takes the array type of a known element (array_prepend(x, '{…}')).
    const arr =
      isUnknown(arr1) && !isUnknown(el) && !el.type.array ? ctx.coerce(arr1, arrayOf(baseType(el.type))) : arr1;
    requireArray(ctx, fn, arr);
    const common = selectCommonType([elementType(baseType(arr.type)), el.type]);
    if ('clash' in common)
      return ctx.fail(
        ErrorCode.UnknownFunction,
        `function ${fn} does not accept ${typeDisplayName(el.type)} with ${typeDisplayName(arr.type)}`,
        span,
      );
    const a2 = ctx.coerce(arr, arrayOf(common));
    const e2 = ctx.coerce(el, common);
    return call(fn, fn === 'array_append' ? [a2, e2] : [e2, a2], arrayOf(common), false);
  };
}

/** Polymorphic and variadic functions the catalog cannot express as fixed overloads, by SQL name. */
const SPECIAL_FUNCTIONS = {
  concat: concatFn,
  like: likeFn(false),
  notlike: likeFn(true),
  array_ndims: arrayCountFn('array_ndims'),
  cardinality: arrayCountFn('cardinality'),
  array_length: arrayLengthFn,
  array_cat: arrayCatFn,
  array_append: arrayAddFn('array_append'),
  array_prepend: arrayAddFn('array_prepend'),
} satisfies Record<string, SpecialFunction>;

/** The SQL names of the polymorphic and variadic functions (the catalog's FUNCTIONS holds the fixed ones). */
export const SPECIAL_FUNCTION_NAMES: readonly string[] = Object.keys(SPECIAL_FUNCTIONS);

function specialFunction(ctx: AnalyzeContext, name: string, args: Expr[], span: Span): Expr | undefined {
  if (!Object.hasOwn(SPECIAL_FUNCTIONS, name)) return undefined;
  const impl: SpecialFunction = SPECIAL_FUNCTIONS[name as keyof typeof SPECIAL_FUNCTIONS];
  const call: CallOf = (fn, a, type, strict) => ({
    kind: 'call',
    fn,
    sqlName: name,
    form: 'function',
    args: a,
    strict,
    type,
    span,
  });
  return impl(ctx, args, call, span);
}

function commonOf(ctx: AnalyzeContext, what: string, args: Expr[], span: Span): { args: Expr[]; type: PgType } {
  const t = selectCommonType(args.map((a) => a.type));
  if ('clash' in t) {
    return ctx.fail(
      ErrorCode.TypeMismatch,
      `${what} types ${typeDisplayName(t.clash[0])} and ${typeDisplayName(t.clash[1])} cannot be matched`,
      span,
    );
  }
  for (const a of args)
    if (a.type.scalar === 'opaque')
      ctx.fail(ErrorCode.NotSupported, `type ${typeDisplayName(a.type)} is not supported in where clauses`, a.span);
  return { args: args.map((a) => ctx.coerce(a, t)), type: t };
}

export function analyzeCoalesce(ctx: AnalyzeContext, n: RawNode): Expr {
  const span = ctx.span(n['location'], 8);
  const c = commonOf(
    ctx,
    'COALESCE',
    (n['args'] as RawNode[]).map((a) => analyzeNode(ctx, a)),
    span,
  );
  return { kind: 'coalesce', args: c.args, type: c.type, span };
}

export function analyzeMinMax(ctx: AnalyzeContext, n: RawNode): Expr {
  const op = n['op'] === 'IS_GREATEST' ? 'greatest' : 'least';
  const span = ctx.span(n['location'], op.length);
  const c = commonOf(
    ctx,
    op.toUpperCase(),
    (n['args'] as RawNode[]).map((a) => analyzeNode(ctx, a)),
    span,
  );
  if (c.type.array || c.type.scalar === 'jsonb' || c.type.scalar === 'json') {
    ctx.fail(
      ErrorCode.NotSupported,
      `${op.toUpperCase()} on ${typeDisplayName(c.type)} is not supported in where clauses`,
      span,
    );
  }
  return { kind: 'minmax', op, args: c.args, type: c.type, span };
}

export function analyzeArray(ctx: AnalyzeContext, n: RawNode): Expr {
  const span = ctx.span(n['location'], 5);
  const raw = (n['elements'] as RawNode[] | undefined) ?? [];
  if (raw.length === 0)
    return ctx.fail(ErrorCode.TypeMismatch, 'cannot determine type of empty array (write ARRAY[]::integer[])', span);
  const elems = raw.map((e) => analyzeNode(ctx, e));
  const nested = raw.every((e) => 'A_ArrayExpr' in e);
  const c = commonOf(ctx, 'ARRAY', elems, span);
  if (nested) return { kind: 'array', elems: c.args, type: c.type, span };
  if (c.type.array)
    ctx.fail(ErrorCode.NotSupported, 'ARRAY[] of array-valued expressions is not supported in where clauses', span);
  return { kind: 'array', elems: c.args, type: arrayOf(c.type), span };
}

/** Subscripts are coerced to int4 with assignment rules: integers, numerics, floats and unknown literals only. */
function subscriptIndex(ctx: AnalyzeContext, e: Expr): Expr {
  if (!isUnknown(e) && (e.type.array || typeCategory(e.type) !== 'numeric')) {
    ctx.fail(ErrorCode.TypeMismatch, `array subscript must have type integer, not ${typeDisplayName(e.type)}`, e.span);
  }
  return ctx.coerce(e, INT4, e.type.scalar === 'int2' || e.type.scalar === 'int4' || isUnknown(e));
}

export function analyzeIndirection(ctx: AnalyzeContext, n: RawNode): Expr {
  const arg = analyzeNode(ctx, n['arg'] as RawNode);
  const ind = n['indirection'] as RawNode[];
  const span = arg.span;
  if (!arg.type.array) {
    ctx.fail(
      ErrorCode.TypeMismatch,
      `cannot subscript type ${typeDisplayName(arg.type)} because it does not support subscripting`,
      span,
    );
  }
  const indices = ind.map((i) => {
    const ai = i['A_Indices'] as RawNode | undefined;
    if (!ai) return ctx.fail(ErrorCode.NotSupported, 'field selection is not supported in where clauses', span);
    const idx = (k: string): Expr | null =>
      ai[k] === undefined ? null : subscriptIndex(ctx, analyzeNode(ctx, ai[k] as RawNode));
    return { lower: idx('lidx'), upper: idx('uidx'), isSlice: ai['is_slice'] === true };
  });
  const slice = indices.some((i) => i.isSlice);
  // Without a slice, a lone index is the upper one (Postgres stores `a[i]` as uidx).
  return {
    kind: 'subscript',
    arg,
    indices,
    slice,
    type: slice ? baseType(arg.type) : elementType(baseType(arg.type)),
    span,
  };
}
