// Two-sided ranges with finite number bounds, bucketed by lower bound within width classes: a stab is a few hash
// probes instead of a root-to-leaf tree walk.
//
// A range [lo, hi] of width ≤ w (w a power of two) that contains v has lo in [v − w, v], so with buckets of size w
// keyed by floor(lo / w) it lies in bucket floor(v / w) or the one before. Ranges are grouped into classes by the
// power of two covering twice their width (the margin absorbs rounding of hi − lo), so each class costs two probes
// of a KeyTable whatever the number of ranges; every candidate is then checked exactly with its own bounds.
// Division by a power of two is exact for normal doubles; bounds so tiny that the quotient could be subnormal stay
// out (RangeIndex keeps them as bound pairs), as do non-finite bounds and widths beyond 2^1000.
import { KeyTable } from './key-table.js';

export interface GridRec {
  readonly entry: number;
  readonly lo: number;
  readonly loIncl: boolean;
  readonly hi: number;
  readonly hiIncl: boolean;
  readonly cls: GridClass;
  readonly bucket: number;
}

class GridClass {
  readonly table = new KeyTable<number>();
  /** Ranges of each bucket, by the bucket's KeyTable id. */
  readonly recs: (GridRec[] | undefined)[] = [];
  size = 0;
  constructor(readonly w: number) {}
}

const TINY = 2 ** -960;

/** True when [lo, hi] can live in the grid (finite, not tiny, width representable). */
export function gridEligible(lo: number, hi: number): boolean {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return false;
  if ((lo !== 0 && Math.abs(lo) < TINY) || (hi !== 0 && Math.abs(hi) < TINY)) return false;
  const width = hi - lo;
  return Number.isFinite(width) && width <= 2 ** 1000;
}

function classExponent(width: number): number {
  return width <= 0.5 ? 0 : Math.ceil(Math.log2(width)) + 1;
}

export class RangeGrid {
  private readonly byExp = new Map<number, GridClass>();
  private classes: GridClass[] = [];
  size = 0;

  add(entry: number, lo: number, loIncl: boolean, hi: number, hiIncl: boolean): GridRec {
    const e = classExponent(Math.max(0, hi - lo));
    let cls = this.byExp.get(e);
    if (cls === undefined) {
      cls = new GridClass(2 ** e);
      this.byExp.set(e, cls);
      this.classes = [...this.byExp.values()];
    }
    const bucket = Math.floor(lo / cls.w);
    const rec: GridRec = { entry, lo, loIncl, hi, hiIncl, cls, bucket };
    const id = cls.table.intern(bucket);
    const list = cls.recs[id];
    if (list === undefined) cls.recs[id] = [rec];
    else list.push(rec);
    cls.size++;
    this.size++;
    return rec;
  }

  remove(rec: GridRec): void {
    const cls = rec.cls;
    const id = cls.table.find(rec.bucket);
    const list = id < 0 ? undefined : cls.recs[id];
    const at = list === undefined ? -1 : list.indexOf(rec);
    if (list === undefined || at < 0) throw new Error('range grid record not found (index corrupted)');
    const last = list.pop() as GridRec;
    if (last !== rec) list[at] = last;
    if (list.length === 0) {
      cls.recs[id] = undefined;
      cls.table.remove(rec.bucket);
    }
    cls.size--;
    this.size--;
    if (cls.size === 0) {
      this.byExp.delete(Math.log2(cls.w));
      this.classes = [...this.byExp.values()];
    }
  }

  /** Calls `fn` for every range's entry. */
  forEachEntry(fn: (entry: number) => void): void {
    for (const cls of this.classes)
      for (const list of cls.recs) if (list !== undefined) for (const r of list) fn(r.entry);
  }

  /** Emits every range containing `v`; returns the number of bucket probes. NaN and ±Infinity are in no finite range. */
  stab(v: number, emit: (entry: number) => void): number {
    if (!Number.isFinite(v)) return 0;
    const classes = this.classes;
    let probes = 0;
    for (let c = 0; c < classes.length; c++) {
      const cls = classes[c] as GridClass;
      const b = Math.floor(v / cls.w);
      // Past 2^53 the bucket before b rounds to b itself: probe it once (no range is emitted twice).
      const n = b - 1 === b ? 1 : 2;
      for (let k = 0; k < n; k++) {
        probes++;
        const id = cls.table.find(k === 0 ? b : b - 1);
        if (id < 0) continue;
        const list = cls.recs[id] as GridRec[];
        for (let j = 0; j < list.length; j++) {
          const r = list[j] as GridRec;
          if ((r.loIncl ? r.lo <= v : r.lo < v) && (r.hiIncl ? v <= r.hi : v < r.hi)) emit(r.entry);
        }
      }
    }
    return probes;
  }
}
