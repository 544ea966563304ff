// The owners of index entries on one table (raw-text equality, probe indexes, residual groups) and their helpers.
import type { ColumnExpr, Expr } from '../sql/ast.js';
import { codecFor } from '../values/registry.js';
import type { Codec } from '../values/codec.js';
import { baseType, elementType, type PgType, type Value } from '../values/types.js';
import { Posting, PostingMap } from '../index/posting.js';
import type { RangeIndex } from '../index/range-index.js';
import type { KeyedParts } from '../index/keyed-parts.js';
import type { BoundPairs } from '../index/bound-pairs.js';
import type { PrefixIndex } from '../index/prefix-index.js';
import type { ElementKey, InclusionIndex } from '../index/inclusion-index.js';
import type { ProbeValue } from './pools.js';
import type { Spread } from './spreads.js';
import type { LaneKind } from './types.js';

/** Something that holds entries of shapes; dropped from the table's lists when its last entry goes. */
export interface Owner {
  count: number;
  /** Slot in the table's list of owners of its kind (O(1) removal). */
  at: number;
  readonly lane: LaneKind;
  readonly sql: string;
}

export type EqKey = string | number | null;

/**
 * The shapes of an equality index that also bound other probes (`region = 7 AND amount > $1`, or two one-sided
 * bounds `region = 7 AND price < $1 AND at < $2`): per key, a RangeIndex over the bounded probe, or BoundPairs over
 * the two. The probes are computed once per row, only when a key of the family is hit.
 */
export class ThresholdFamily<K extends EqKey> {
  constructor(
    /** Identity under its index: the bounded probes' SQL (and directions for pairs); few per index, found linearly. */
    readonly sql: string,
    readonly probe: ProbeValue,
    /** The second bounded probe (pairs), or null. */
    readonly second: ProbeValue | null,
    readonly parts: KeyedParts<K, RangeIndex | BoundPairs>,
    /**
     * The residual every entry of the family shares (`region = 7 AND qty > $1 AND flag`: `flag`), or -1. Checked
     * once per row before the stab: a row it fails costs no candidate, instead of one per passing bound.
     */
    readonly guard: number = -1,
  ) {}
}

/**
 * Equality on a column whose text output is canonical: looked up by the record's raw text, no decoding. Integer
 * columns key on the text's number instead (see intKey): a small integer is stored inline where a string key costs
 * ~24 bytes and, on a hit, one more dependent load to compare.
 */
export class RawEq implements Owner {
  count = 0;
  at = -1;
  readonly lane = 'equality' as const;
  readonly pm = new PostingMap<EqKey>();
  /** Threshold families keyed like `pm` (one per bounded probe). */
  readonly families: ThresholdFamily<EqKey>[] = [];
  constructor(
    readonly column: string,
    readonly col: number,
    readonly sql: string,
    /** Cheap syntax check: a miss on text that passes it needs no decoding to prove the value is valid. */
    readonly valid: (text: string) => boolean,
    /** int2/int4/int8: keys are intKey of the text. */
    readonly ints: boolean,
  ) {}

  /** The key of a canonical text (a shape's formatted constant): what a row with that text looks up. */
  keyOfText(text: string): string | number {
    return this.ints ? (intKey(text) ?? text) : text;
  }

  /** Every entry of this index, its families' included (what fails open when the column cannot be decoded). */
  forEachEntry(fn: (entry: number) => void): void {
    this.pm.forEachEntry(fn);
    for (const f of this.families) f.parts.forEachEntry(fn);
  }
}

/** Indexes over one probe expression (a column or an expression of columns), computed once per row. */
export class ProbeIx implements Owner {
  count = 0;
  at = -1;
  readonly lane: LaneKind;
  eq: PostingMap<EqKey> | undefined;
  range: RangeIndex<Value> | undefined;
  prefix: PrefixIndex | undefined;
  iprefix: PrefixIndex | undefined;
  incl: InclusionIndex | undefined;
  /** Threshold families keyed by this probe's equality keys (one per bounded probe). */
  readonly families: ThresholdFamily<EqKey>[] = [];
  readonly keyCodec: Codec;
  readonly elemCodec: Codec | undefined;
  /** For a plain text[]/int2[]/int4[] column: element keys are split from the raw text, without decoding. */
  readonly rawArray: { readonly col: number; readonly ints: boolean } | undefined;
  constructor(
    readonly sql: string,
    readonly probe: ProbeValue,
    readonly type: PgType,
    /** The column's layout index when the probe is a plain column, else -1. */
    column: number,
  ) {
    this.lane = column >= 0 ? 'equality' : 'expression';
    this.keyCodec = codecFor(baseType(type));
    this.elemCodec = type.array ? codecFor(baseType(elementType(type))) : undefined;
    const sc = type.scalar;
    this.rawArray =
      column >= 0 &&
      type.array &&
      (sc === 'text' || sc === 'varchar' || sc === 'name' || sc === 'int2' || sc === 'int4')
        ? { col: column, ints: sc === 'int2' || sc === 'int4' }
        : undefined;
  }

  /** Every entry of every index over this probe (what fails open when the probe raises for a row). */
  forEachEntry(fn: (entry: number) => void): void {
    this.eq?.forEachEntry(fn);
    this.range?.forEachEntry(fn);
    this.prefix?.forEachEntry(fn);
    this.iprefix?.forEachEntry(fn);
    this.incl?.forEachEntry(fn);
    for (const f of this.families) f.parts.forEachEntry(fn);
  }
}

/**
 * Conjunctions of ranges on one or more probes (`at >= $1 AND user_id > $2 AND user_id < $3`), decided together as
 * one-sided bounds: the first two by BoundPairs' runs, the rest checked per entry inside the structure (a comparison
 * of decoded values, not a residual). One per signature (the probes, their directions and types, in the order of the
 * bounds: shapes of one clause whose most selective pair differs live in different ones).
 */
export class BoundsIx implements Owner {
  count = 0;
  at = -1;
  readonly lane = 'range' as const;
  /** Reused per row: the values of probes 2… */
  readonly rest: Value[] = [];
  constructor(
    readonly sql: string,
    readonly probes: readonly ProbeValue[],
    readonly pairs: BoundPairs,
    /** Per probe, its spread (sampled rows teach it: see TableState.routeBounds). */
    readonly spreads: readonly Spread[],
  ) {}

  forEachEntry(fn: (entry: number) => void): void {
    this.pairs.forEachEntry(fn);
  }
}

/** Disjuncts with no indexable conjunct that share one residual: evaluated once per row for all of them. */
export class Group implements Owner {
  count = 0;
  at = -1;
  readonly lane = 'unindexed' as const;
  readonly posting = new Posting();
  constructor(
    readonly residual: number,
    readonly sql: string,
  ) {}
}

// Date/time types are left to the decoded path: their output has forms (BC, infinity, trimmed fractions) where
// a formatting slip would silently miss rows, while integers, text, uuid and bool have one obvious spelling.
export const RAW_FAMILY: Partial<Record<string, string>> = {
  int2: 'int',
  int4: 'int',
  int8: 'int',
  text: 'text',
  varchar: 'text',
  name: 'text',
  uuid: 'uuid',
  bool: 'bool',
};
/**
 * The equality key of integer text: its number when it is digits with an optional minus, at most 15 of them (exact
 * in a double; `-0` and `007` key as 0 and 7, the values Postgres compares), the text itself beyond 15 digits (int8
 * output is canonical there, as for the other raw columns), undefined when it is not such text (decode it).
 */
export function intKey(t: string): number | string | undefined {
  const n = t.length;
  const neg = n > 0 && t.charCodeAt(0) === 45;
  let i = neg ? 1 : 0;
  if (i === n) return undefined;
  let v = 0;
  for (; i < n; i++) {
    const d = t.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return undefined;
    v = v * 10 + d;
  }
  if (n - (neg ? 1 : 0) > 15) return t;
  return neg ? -v : v;
}

/** Digits with an optional minus: what int2/4/8 output looks like (a char loop: a RegExp call costs ~10× more). */
function intText(t: string): boolean {
  const n = t.length;
  let i = n > 0 && t.charCodeAt(0) === 45 ? 1 : 0;
  if (i === n) return false;
  for (; i < n; i++) {
    const c = t.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const VALIDATORS: Record<string, (t: string) => boolean> = {
  int: intText,
  text: () => true,
  uuid: (t) => UUID_RE.test(t),
  bool: (t) => t === 't' || t === 'f',
};

/** The column an equality can look up by raw record text: same canonical-output family as the compared type. */
export function rawColumn(probe: Expr, keyType: PgType): ColumnExpr | undefined {
  let e = probe;
  while (e.kind === 'cast' && e.implicit) e = e.arg;
  if (e.kind !== 'column' || e.type.array || keyType.array) return undefined;
  const fam = RAW_FAMILY[e.type.scalar];
  return fam !== undefined && fam === RAW_FAMILY[keyType.scalar] ? e : undefined;
}

/**
 * Splits canonical array output (`{a,b,NULL}`, one dimension, no quoted elements) into element keys: text
 * elements are their own key, int2/int4 elements their number. Returns -1 for anything else (decode instead).
 */
export function splitRawArray(t: string, ints: boolean, out: (ElementKey | null)[]): number {
  const n = t.length;
  if (n < 2 || t.charCodeAt(0) !== 123 || t.charCodeAt(n - 1) !== 125) return -1;
  if (n === 2) return 0;
  let count = 0;
  let start = 1;
  for (let i = 1; i < n; i++) {
    const c = t.charCodeAt(i);
    if (c === 34 || c === 92 || c === 123 || (c === 125 && i !== n - 1)) return -1;
    if (c !== 44 && i !== n - 1) continue;
    if (i === start) return -1;
    const el = t.slice(start, i);
    if (el === 'NULL') out[count++] = null;
    else if (ints) {
      if (!intText(el)) return -1;
      out[count++] = Number(el);
    } else out[count++] = el;
    start = i + 1;
  }
  return count;
}
