// Classifies one conjunct of a normalised clause as an index access (equality, range, prefix, inclusion) or not.
import { childrenOf, type CompareOp, type ConstExpr, type Expr } from '../sql/ast.js';
import { baseType, elementType, pgType, type ArrayValue, type PgType, type Value } from '../values/types.js';
import { codecFor } from '../values/registry.js';
import { lowerAscii } from '../values/text.js';

export const BOOL = pgType('bool');

interface AccessBase {
  /** The non-constant side: a column, or an expression of columns computed once per row ("expression key"). */
  readonly probe: Expr;
  /** Conjuncts this access stands for; when `exact` is false they stay in the residual too. */
  readonly consumed: readonly Expr[];
  readonly exact: boolean;
}

export interface RangeAccess extends AccessBase {
  readonly kind: 'range';
  readonly keyType: PgType;
  readonly lo: Value | undefined;
  readonly loIncl: boolean;
  readonly hi: Value | undefined;
  readonly hiIncl: boolean;
  /**
   * Ranges on other probes decided with this one by one structure of bounds (`at >= $1 AND user_id > $2 AND
   * user_id < $3`): their conjuncts are in `consumed`, never evaluated per shape.
   */
  readonly more?: readonly RangeAccess[];
}

export type Access =
  | (AccessBase & {
      readonly kind: 'eq';
      readonly keyType: PgType;
      readonly keys: readonly Value[];
      readonly nullKey: boolean;
      /**
       * A range on another probe, decided under each key by the key's sorted bounds (a threshold family:
       * `region = 7 AND amount > $1`): its conjuncts are in `consumed`, never evaluated per shape.
       */
      readonly then?: RangeAccess;
      /** A second one-sided bound on a third probe (with a one-sided `then`): both decided by the key's pairs. */
      readonly then2?: RangeAccess;
    })
  | RangeAccess
  | (AccessBase & { readonly kind: 'prefix'; readonly prefix: string; readonly fold: boolean })
  | (AccessBase & {
      readonly kind: 'inclusion';
      readonly op: 'contains' | 'overlap' | 'within';
      readonly keyType: PgType;
      readonly elems: readonly Value[];
    });

/** Result of classifying a conjunct: an access, `never` (the conjunct can never be TRUE), or null (residual only). */
export type AtomClass = Access | { readonly kind: 'never' } | null;

/** What a mode may index: `filter` (Electric's design) only equality and inclusion on plain columns. */
export interface AtomPolicy {
  readonly ranges: boolean;
  readonly prefixes: boolean;
  readonly expressions: boolean;
}

export const INDEXED_POLICY: AtomPolicy = { ranges: true, prefixes: true, expressions: true };
export const FILTER_POLICY: AtomPolicy = { ranges: false, prefixes: false, expressions: false };

export const children = childrenOf;

export function hasColumn(e: Expr): boolean {
  if (e.kind === 'column') return true;
  for (const c of children(e)) if (hasColumn(c)) return true;
  return false;
}

/** A column, possibly under implicit casts: what `filter` mode accepts as an index probe. */
function isPlainColumn(e: Expr): boolean {
  while (e.kind === 'cast' && e.implicit) e = e.arg;
  return e.kind === 'column';
}

function probeOk(e: Expr, policy: AtomPolicy): boolean {
  if (e.kind === 'const' || !hasColumn(e)) return false;
  return policy.expressions || isPlainColumn(e);
}

const isConst = (e: Expr): e is ConstExpr => e.kind === 'const';
const FLIP: Record<CompareOp, CompareOp> = { '=': '=', '<>': '<>', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

export function classify(atom: Expr, policy: AtomPolicy): AtomClass {
  switch (atom.kind) {
    case 'compare': {
      let { left, right, op } = atom;
      if (isConst(left) && !isConst(right)) {
        [left, right] = [right, left];
        op = FLIP[op];
      }
      if (!isConst(right) || !probeOk(left, policy)) return null;
      if (right.value === null) return op === '<>' ? null : { kind: 'never' };
      const keyType = baseType(atom.operandType);
      if (op === '=')
        return { kind: 'eq', probe: left, consumed: [atom], exact: true, keyType, keys: [right.value], nullKey: false };
      if (op === '<>' || !policy.ranges || codecFor(keyType).compare === undefined) return null;
      const lower = op === '>' || op === '>=';
      return {
        kind: 'range',
        probe: left,
        consumed: [atom],
        exact: true,
        keyType,
        lo: lower ? right.value : undefined,
        loIncl: op === '>=',
        hi: lower ? undefined : right.value,
        hiIncl: op === '<=',
      };
    }
    case 'in': {
      if (atom.negated || !probeOk(atom.arg, policy)) return null;
      const keys: Value[] = [];
      for (const it of atom.items) {
        if (!isConst(it)) return null;
        if (it.value !== null) keys.push(it.value);
      }
      if (keys.length === 0) return { kind: 'never' };
      return {
        kind: 'eq',
        probe: atom.arg,
        consumed: [atom],
        exact: true,
        keyType: baseType(atom.operandType),
        keys,
        nullKey: false,
      };
    }
    case 'quantified': {
      if (atom.op !== '=' || atom.all) return null;
      const { left, right } = atom;
      if (isConst(right) && probeOk(left, policy)) {
        if (right.value === null) return { kind: 'never' };
        const keys = (right.value as ArrayValue).items.filter((v): v is Value => v !== null);
        if (keys.length === 0) return { kind: 'never' };
        return {
          kind: 'eq',
          probe: left,
          consumed: [atom],
          exact: true,
          keyType: baseType(atom.operandType),
          keys,
          nullKey: false,
        };
      }
      if (isConst(left) && probeOk(right, policy) && right.type.array) {
        if (left.value === null) return { kind: 'never' };
        const keyType = baseType(elementType(right.type));
        if (keyType !== baseType(atom.operandType)) return null;
        return {
          kind: 'inclusion',
          op: 'contains',
          probe: right,
          consumed: [atom],
          exact: true,
          keyType,
          elems: [left.value],
        };
      }
      return null;
    }
    case 'call':
      return classifyArrayOp(atom, policy);
    case 'nulltest':
      if (atom.negated || !probeOk(atom.arg, policy)) return null;
      return {
        kind: 'eq',
        probe: atom.arg,
        consumed: [atom],
        exact: true,
        keyType: baseType(atom.arg.type),
        keys: [],
        nullKey: true,
      };
    case 'booltest':
      if (atom.negated || atom.test === 'unknown' || !probeOk(atom.arg, policy)) return null;
      return {
        kind: 'eq',
        probe: atom.arg,
        consumed: [atom],
        exact: true,
        keyType: BOOL,
        keys: [atom.test === 'true'],
        nullKey: false,
      };
    case 'column':
      if (atom.type.scalar !== 'bool' || atom.type.array) return null;
      return { kind: 'eq', probe: atom, consumed: [atom], exact: true, keyType: BOOL, keys: [true], nullKey: false };
    case 'not':
      if (atom.arg.kind !== 'column' || atom.arg.type.scalar !== 'bool' || atom.arg.type.array) return null;
      return {
        kind: 'eq',
        probe: atom.arg,
        consumed: [atom],
        exact: true,
        keyType: BOOL,
        keys: [false],
        nullKey: false,
      };
    case 'like':
      return policy.prefixes ? classifyLike(atom) : null;
    default:
      return null;
  }
}

function classifyArrayOp(atom: Extract<Expr, { kind: 'call' }>, policy: AtomPolicy): AtomClass {
  const { fn, args } = atom;
  if (args.length !== 2 || (fn !== 'array_contains' && fn !== 'array_contained' && fn !== 'array_overlaps'))
    return null;
  let [a, b] = args as [Expr, Expr];
  let op: 'contains' | 'overlap' | 'within' =
    fn === 'array_contains' ? 'contains' : fn === 'array_contained' ? 'within' : 'overlap';
  if (isConst(a) && !isConst(b)) {
    [a, b] = [b, a];
    if (op !== 'overlap') op = op === 'contains' ? 'within' : 'contains';
  }
  if (!isConst(b) || !probeOk(a, policy) || !a.type.array) return null;
  // Filter mode (Electric) indexes `@>` and `= ANY` only.
  if (!policy.ranges && op !== 'contains') return null;
  if (b.value === null) return { kind: 'never' };
  const keyType = baseType(elementType(a.type));
  if (keyType !== baseType(elementType(b.type))) return null;
  const items = (b.value as ArrayValue).items;
  if (op === 'contains' && items.some((v) => v === null)) return { kind: 'never' };
  const codec = codecFor(keyType);
  const seen = new Set<string | number>();
  const elems: Value[] = [];
  for (const v of items) {
    if (v === null) continue;
    const k = codec.key(v);
    if (seen.has(k)) continue;
    seen.add(k);
    elems.push(v);
  }
  if (op === 'overlap' && elems.length === 0) return { kind: 'never' };
  const exact = op === 'overlap' || (op === 'contains' && elems.length <= 1);
  return { kind: 'inclusion', op, probe: a, consumed: [atom], exact, keyType, elems };
}

function classifyLike(atom: Extract<Expr, { kind: 'like' }>): AtomClass {
  if (atom.negated || !isConst(atom.pattern) || !hasColumn(atom.arg)) return null;
  if (atom.pattern.value === null) return { kind: 'never' };
  let esc: string | null = '\\';
  if (atom.escape !== null) {
    if (!isConst(atom.escape) || atom.escape.value === null) return null;
    const e = atom.escape.value as string;
    if (e.length > 1) return null;
    esc = e === '' ? null : e;
  }
  const split = likePrefix(atom.pattern.value as string, esc);
  if (split === null || split.prefix === '') return null;
  const fold = atom.caseInsensitive;
  // `prefix%` is decided by the index alone: ILIKE folds ASCII letters only (C collation), as the index does.
  // Everything else (more wildcards, a letter as ESCAPE under ILIKE) is confirmed by the residual.
  const exact = split.rest === '%' && (!fold || esc === null || !/[A-Za-z]/.test(esc));
  return {
    kind: 'prefix',
    probe: atom.arg,
    consumed: [atom],
    exact,
    prefix: fold ? foldAscii(split.prefix) : split.prefix,
    fold,
  };
}

/** Splits a LIKE pattern into its literal prefix (escapes resolved) and the rest from the first wildcard. */
export function likePrefix(pattern: string, esc: string | null): { prefix: string; rest: string } | null {
  let prefix = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (esc !== null && c === esc) {
      if (i + 1 >= pattern.length) return null;
      prefix += pattern[++i];
      continue;
    }
    if (c === '%' || c === '_') return { prefix, rest: pattern.slice(i) };
    prefix += c;
  }
  return { prefix, rest: '' };
}

/** ASCII-only lower-casing, as `lower` and ILIKE do under the C collation. */
export const foldAscii = lowerAscii;

export function andOf(args: readonly Expr[]): Expr {
  if (args.length === 1) return args[0] as Expr;
  return { kind: 'and', args, type: BOOL, span: { start: 0, end: 0 } };
}
