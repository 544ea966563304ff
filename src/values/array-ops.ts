// Array operators and functions: =, ordering, keys, @>, &&, ||, append/prepend, subscripts, slices, ARRAY[...] and the size functions.
import type { ArrayValue, Value } from './types.js';
import { ErrorCode, ValueError, outOfRange } from '../errors/index.js';

type ElemEquals = (x: Value, y: Value) => boolean;
type ElemKey = (v: Value) => string | number;

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** Postgres's MAXDIM. */
export const MAX_DIMS = 6;

export const EMPTY_ARRAY: ArrayValue = Object.freeze({ dims: [], lbounds: [], items: [] });

/** ArrayCheckBounds: lbound + length must fit in int32. */
export function checkBounds(dims: readonly number[], lbounds: readonly number[]): void {
  for (let i = 0; i < dims.length; i++) {
    if (dims[i]! + lbounds[i]! > INT32_MAX) {
      throw new ValueError(ErrorCode.EvaluationError, `array lower bound is too large: ${lbounds[i]}`);
    }
  }
}

/** Beyond this many element comparisons, containment builds a key set instead of scanning. */
const SCAN_LIMIT = 256;

function keySet(arr: ArrayValue, key: ElemKey): Set<string | number> {
  const s = new Set<string | number>();
  for (const v of arr.items) if (v !== null) s.add(key(v));
  return s;
}

function includesValue(arr: ArrayValue, y: Value, eq: ElemEquals): boolean {
  for (const x of arr.items) if (x !== null && eq(x, y)) return true;
  return false;
}

/**
 * `a @> b`: every element of b equals some element of a. Dimensions are ignored (both flattened); a NULL element
 * in b never matches, so it makes the result false; `a @> '{}'` is true. Pass elemKey to hash large inputs.
 */
export function arrayContains(a: ArrayValue, b: ArrayValue, elemEquals: ElemEquals, elemKey?: ElemKey): boolean {
  if (b.items.length === 0) return true;
  if (elemKey !== undefined && a.items.length * b.items.length > SCAN_LIMIT) {
    const keys = keySet(a, elemKey);
    for (const y of b.items) if (y === null || !keys.has(elemKey(y))) return false;
    return true;
  }
  for (const y of b.items) if (y === null || !includesValue(a, y, elemEquals)) return false;
  return true;
}

/** `a <@ b`. */
export function arrayContainedBy(a: ArrayValue, b: ArrayValue, elemEquals: ElemEquals, elemKey?: ElemKey): boolean {
  return arrayContains(b, a, elemEquals, elemKey);
}

/** `a && b`: some non-NULL element is in both; an empty array overlaps nothing. */
export function arrayOverlaps(a: ArrayValue, b: ArrayValue, elemEquals: ElemEquals, elemKey?: ElemKey): boolean {
  if (a.items.length === 0 || b.items.length === 0) return false;
  if (elemKey !== undefined && a.items.length * b.items.length > SCAN_LIMIT) {
    const keys = keySet(a, elemKey);
    for (const y of b.items) if (y !== null && keys.has(elemKey(y))) return true;
    return false;
  }
  for (const y of b.items) if (y !== null && includesValue(a, y, elemEquals)) return true;
  return false;
}

const incompatible = (): ValueError =>
  new ValueError(ErrorCode.EvaluationError, 'cannot concatenate incompatible arrays');

/**
 * array_cat / `array || array` (not strict: a NULL or empty side yields the other). Equal dimension counts join
 * along the first dimension (the rest must match in length and lower bound); an array with one dimension fewer
 * becomes one new outer element; the result keeps the outer array's lower bounds.
 */
export function arrayConcat(a: ArrayValue | null, b: ArrayValue | null): ArrayValue | null {
  if (a === null) return b;
  if (b === null) return a;
  if (a.items.length === 0) return b;
  if (b.items.length === 0) return a;
  const n1 = a.dims.length;
  const n2 = b.dims.length;
  let dims: number[];
  let lbounds: readonly number[];
  if (n1 === n2) {
    for (let i = 1; i < n1; i++) {
      if (a.dims[i] !== b.dims[i] || a.lbounds[i] !== b.lbounds[i]) throw incompatible();
    }
    dims = [a.dims[0]! + b.dims[0]!, ...a.dims.slice(1)];
    lbounds = a.lbounds;
  } else if (n1 === n2 - 1 || n1 === n2 + 1) {
    const [outer, inner] = n1 > n2 ? [a, b] : [b, a];
    for (let i = 0; i < inner.dims.length; i++) {
      if (inner.dims[i] !== outer.dims[i + 1] || inner.lbounds[i] !== outer.lbounds[i + 1]) throw incompatible();
    }
    dims = [outer.dims[0]! + 1, ...outer.dims.slice(1)];
    lbounds = outer.lbounds;
  } else {
    throw incompatible();
  }
  checkBounds(dims, lbounds);
  return { dims, lbounds, items: [...a.items, ...b.items] };
}

const notOneDim = (): ValueError =>
  new ValueError(ErrorCode.EvaluationError, 'argument must be empty or one-dimensional array');

/** array_append / `array || element` (not strict: a NULL array acts as empty; the element may be NULL). */
export function arrayAppend(arr: ArrayValue | null, elem: Value | null): ArrayValue {
  if (arr === null || arr.items.length === 0) return { dims: [1], lbounds: [1], items: [elem] };
  if (arr.dims.length !== 1) throw notOneDim();
  const lb = arr.lbounds[0]!;
  const len = arr.dims[0]!;
  if (lb + len > INT32_MAX) throw outOfRange();
  const dims = [len + 1];
  checkBounds(dims, arr.lbounds);
  return { dims, lbounds: arr.lbounds, items: [...arr.items, elem] };
}

/** array_prepend / `element || array`: the lower bound stays where it was (`0 || '[5:6]={1,2}'` is `[5:7]`). */
export function arrayPrepend(elem: Value | null, arr: ArrayValue | null): ArrayValue {
  if (arr === null || arr.items.length === 0) return { dims: [1], lbounds: [1], items: [elem] };
  if (arr.dims.length !== 1) throw notOneDim();
  if (arr.lbounds[0] === INT32_MIN) throw outOfRange();
  return { dims: [arr.dims[0]! + 1], lbounds: arr.lbounds, items: [elem, ...arr.items] };
}

/** `arr[i][j]…`: NULL unless there is exactly one subscript per dimension and each is within bounds. */
export function arraySubscript(arr: ArrayValue, indices: readonly number[]): Value | null {
  const nd = arr.dims.length;
  if (nd === 0 || indices.length !== nd) return null;
  let offset = 0;
  for (let d = 0; d < nd; d++) {
    const k = indices[d]! - arr.lbounds[d]!;
    if (k < 0 || k >= arr.dims[d]!) return null;
    offset = offset * arr.dims[d]! + k;
  }
  return arr.items[offset] ?? null;
}

/**
 * `arr[lo:hi]…`: bounds are clamped to the array, a null bound means omitted (`[:2]`, `[3:]`); dimensions without a
 * subscript are taken whole; more subscripts than dimensions or an empty range gives `{}`. The result's lower
 * bounds are 1. In a mixed subscript like `a[2][1:1]` Postgres treats the plain `[2]` as `[1:2]`: the caller
 * passes lower 1 for it.
 */
export function arraySlice(
  arr: ArrayValue,
  lowers: readonly (number | null)[],
  uppers: readonly (number | null)[],
): ArrayValue {
  const nd = arr.dims.length;
  const ns = lowers.length;
  if (nd === 0 || nd < ns) return EMPTY_ARRAY;
  const lo = new Array<number>(nd);
  const hi = new Array<number>(nd);
  for (let d = 0; d < nd; d++) {
    const lb = arr.lbounds[d]!;
    const ub = lb + arr.dims[d]! - 1;
    const l = d < ns ? lowers[d] : null;
    const u = d < ns ? uppers[d] : null;
    lo[d] = l === null || l === undefined || l < lb ? lb : l;
    hi[d] = u === null || u === undefined || u > ub ? ub : u;
    if (lo[d]! > hi[d]!) return EMPTY_ARRAY;
  }
  const dims = lo.map((l, d) => hi[d]! - l + 1);
  const items: (Value | null)[] = [];
  const strides = new Array<number>(nd);
  strides[nd - 1] = 1;
  for (let d = nd - 2; d >= 0; d--) strides[d] = strides[d + 1]! * arr.dims[d + 1]!;
  const walk = (d: number, base: number): void => {
    const start = lo[d]! - arr.lbounds[d]!;
    for (let k = start; k < start + dims[d]!; k++) {
      const at = base + k * strides[d]!;
      if (d === nd - 1) items.push(arr.items[at] ?? null);
      else walk(d + 1, at);
    }
  };
  walk(0, 0);
  return { dims, lbounds: dims.map(() => 1), items };
}

/** array_ndims: NULL for an empty array. */
export function arrayNdims(arr: ArrayValue): number | null {
  return arr.dims.length === 0 ? null : arr.dims.length;
}

/** array_length(arr, dim): NULL for an empty array or a dimension it does not have. */
export function arrayLength(arr: ArrayValue, dim: number): number | null {
  return dim >= 1 && dim <= arr.dims.length ? arr.dims[dim - 1]! : null;
}

/** array_lower(arr, dim). */
export function arrayLower(arr: ArrayValue, dim: number): number | null {
  return dim >= 1 && dim <= arr.dims.length ? arr.lbounds[dim - 1]! : null;
}

/** array_upper(arr, dim). */
export function arrayUpper(arr: ArrayValue, dim: number): number | null {
  return dim >= 1 && dim <= arr.dims.length ? arr.lbounds[dim - 1]! + arr.dims[dim - 1]! - 1 : null;
}

/** cardinality: the total number of elements, 0 for an empty array. */
export function cardinality(arr: ArrayValue): number {
  return arr.items.length;
}

/** `ARRAY[a, b, …]` of scalars: one dimension, lower bound 1; `ARRAY[]` is empty. */
export function arrayConstruct(items: readonly (Value | null)[]): ArrayValue {
  return items.length === 0 ? EMPTY_ARRAY : { dims: [items.length], lbounds: [1], items: [...items] };
}

const mismatchedSubarrays = (): ValueError =>
  new ValueError(
    ErrorCode.EvaluationError,
    'multidimensional arrays must have array expressions with matching dimensions',
  );

/**
 * `ARRAY[ARRAY[…], ARRAY[…]]` (or `ARRAY['{1,2}', …]` of array values): the sub-arrays become the first
 * dimension. They must share dimensions and lower bounds; all NULL/empty gives `{}`, some NULL/empty is an error.
 */
export function arrayConstructNested(subs: readonly (ArrayValue | null)[]): ArrayValue {
  let first: ArrayValue | undefined;
  let haveEmpty = false;
  const items: (Value | null)[] = [];
  for (const s of subs) {
    if (s === null || s.items.length === 0) {
      haveEmpty = true;
      continue;
    }
    if (first === undefined) {
      first = s;
      if (s.dims.length + 1 > MAX_DIMS) {
        throw new ValueError(
          ErrorCode.EvaluationError,
          `number of array dimensions (${s.dims.length + 1}) exceeds the maximum allowed (${MAX_DIMS})`,
        );
      }
    } else if (
      s.dims.length !== first.dims.length ||
      s.dims.some((d, i) => d !== first!.dims[i] || s.lbounds[i] !== first!.lbounds[i])
    ) {
      throw mismatchedSubarrays();
    }
    for (const v of s.items) items.push(v);
  }
  if (first === undefined) return EMPTY_ARRAY;
  if (haveEmpty) throw mismatchedSubarrays();
  return { dims: [subs.length, ...first.dims], lbounds: [1, ...first.lbounds], items };
}

function sameShape(a: ArrayValue, b: ArrayValue): boolean {
  if (a.dims.length !== b.dims.length) return false;
  for (let i = 0; i < a.dims.length; i++) {
    if (a.dims[i] !== b.dims[i] || a.lbounds[i] !== b.lbounds[i]) return false;
  }
  return true;
}

/** array_eq: same dimensions and lower bounds, elements equal, two NULL elements counting as equal. */
export function arrayEquals(a: ArrayValue, b: ArrayValue, elemEquals: (x: Value, y: Value) => boolean): boolean {
  if (a.items.length !== b.items.length || !sameShape(a, b)) return false;
  for (let i = 0; i < a.items.length; i++) {
    const x = a.items[i]!;
    const y = b.items[i]!;
    if (x === null || y === null) {
      if (x !== y) return false;
    } else if (!elemEquals(x, y)) return false;
  }
  return true;
}

/**
 * array_cmp (btree order): element by element (NULL after any value), then element count, dimension count,
 * lengths and lower bounds.
 */
export function compareArrays(a: ArrayValue, b: ArrayValue, elemCompare: (x: Value, y: Value) => number): number {
  const n = Math.min(a.items.length, b.items.length);
  for (let i = 0; i < n; i++) {
    const x = a.items[i]!;
    const y = b.items[i]!;
    if (x === null || y === null) {
      if (x === y) continue;
      return x === null ? 1 : -1;
    }
    const c = elemCompare(x, y);
    if (c !== 0) return c < 0 ? -1 : 1;
  }
  if (a.items.length !== b.items.length) return a.items.length < b.items.length ? -1 : 1;
  if (a.dims.length !== b.dims.length) return a.dims.length < b.dims.length ? -1 : 1;
  for (let i = 0; i < a.dims.length; i++) if (a.dims[i] !== b.dims[i]) return a.dims[i]! < b.dims[i]! ? -1 : 1;
  for (let i = 0; i < a.dims.length; i++) {
    if (a.lbounds[i] !== b.lbounds[i]) return a.lbounds[i]! < b.lbounds[i]! ? -1 : 1;
  }
  return 0;
}

/** Canonical key: arrayEquals(a, b) ⇔ equal keys, given the element codec's key contract. */
export function arrayKey(arr: ArrayValue, elemKey: (v: Value) => string | number): string {
  const keys = arr.items.map((v) => (v === null ? null : elemKey(v)));
  return JSON.stringify([arr.dims, arr.lbounds, keys]);
}
