// Observed spreads of probe values (from shapes' constants and from sampled rows) and the selectivity estimates of
// one-sided bounds they give: what picks the pair of bounds a conjunction of ranges is indexed on.
import type { Value } from '../values/types.js';
import type { Projection } from '../index/order-key.js';

/** Rows seen before the rows' own spread replaces the constants' one (a few samples already bound it well). */
const MIN_ROW_SAMPLES = 16;
/** Lowest selectivity estimated for a bound: a pass fraction is never taken to be zero. */
const FLOOR = 1 / 4096;

/** One probe's spread, on its type's projection (order-key.ts): of the constants bounded on it and of sampled rows. */
export class Spread {
  private cLo = Infinity;
  private cHi = -Infinity;
  private rLo = Infinity;
  private rHi = -Infinity;
  private rows = 0;

  constructor(readonly project: Projection) {}

  /** A constant a shape bounds the probe with. */
  noteConstant(v: Value): void {
    const f = this.project(v);
    if (!Number.isFinite(f)) return;
    if (f < this.cLo) this.cLo = f;
    if (f > this.cHi) this.cHi = f;
  }

  /** A row's value of the probe (sampled by the caller). */
  noteRow(v: Value): void {
    const f = this.project(v);
    if (!Number.isFinite(f)) return;
    if (f < this.rLo) this.rLo = f;
    if (f > this.rHi) this.rHi = f;
    this.rows++;
  }

  /**
   * The fraction of rows estimated to pass the bound `x > v` (`upper`: `x < v`), taking values spread uniformly
   * over the rows' observed range (the constants' range until enough rows were seen); 0.5 when nothing is known.
   */
  pass(v: Value, upper: boolean): number {
    const rowsKnown = this.rows >= MIN_ROW_SAMPLES && this.rHi > this.rLo;
    const lo = rowsKnown ? this.rLo : this.cLo;
    const hi = rowsKnown ? this.rHi : this.cHi;
    const f = this.project(v);
    if (!(hi > lo) || !Number.isFinite(f)) return 0.5;
    const p = upper ? (f - lo) / (hi - lo) : (hi - f) / (hi - lo);
    return p < FLOOR ? FLOOR : p > 1 ? 1 : p;
  }
}

/** A one-sided bound of a conjunction, as far as its estimate needs: the probe's spread, the constant, the side. */
export interface Estimated {
  readonly spread: Spread;
  readonly value: Value;
  readonly upper: boolean;
}

/**
 * The estimated fraction of rows passing both bounds: two sides of one probe pass together on the overlap of their
 * halves (an interval's width), bounds on different probes are taken as independent.
 */
export function pairPass(a: Estimated, b: Estimated): number {
  const pa = a.spread.pass(a.value, a.upper);
  const pb = b.spread.pass(b.value, b.upper);
  if (a.spread !== b.spread) return pa * pb;
  if (a.upper === b.upper) return Math.min(pa, pb);
  return Math.max(FLOOR, pa + pb - 1);
}

/**
 * The bounds with the most selective pair first (the rest after it in their given order): the pair is what the
 * structure of bounds selects runs by, every further bound is compared per entry of those runs, so the fewer rows
 * the pair passes, the fewer candidates per match. Ties keep the given order.
 */
export function mostSelectiveFirst<B extends Estimated>(bounds: readonly B[]): B[] {
  let bi = 0;
  let bj = 1;
  let best = Infinity;
  for (let i = 0; i < bounds.length; i++)
    for (let j = i + 1; j < bounds.length; j++) {
      const p = pairPass(bounds[i] as B, bounds[j] as B);
      if (p < best) {
        best = p;
        bi = i;
        bj = j;
      }
    }
  const out = [bounds[bi] as B, bounds[bj] as B];
  for (let i = 0; i < bounds.length; i++) if (i !== bi && i !== bj) out.push(bounds[i] as B);
  return out;
}
