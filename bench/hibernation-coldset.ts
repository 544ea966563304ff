// Hibernation prototype: every cold seed-mix shape packed into three ColdIndexes — ids, user_id keys, tag elements.
//
// A cold shape has no router integer, no id string, no Map slot and no entry: its ordinal is its position in the id
// index (whose value is its family, or -1 once woken or removed), and the key indexes map keys to that ordinal.
import { codecFor } from '../src/values/registry.js';
import { pgType, type ArrayValue } from '../src/values/types.js';
import { splitRawArray } from '../src/router/lanes.js';
import type { ElementKey } from '../src/index/inclusion-index.js';
import type { Change, RowRecord, ShapeDef } from '../src/router/index.js';
import { ColdIndex, coldDef, type ColdShape } from './hibernation-cold.js';

const TEXT_ARRAY = codecFor(pgType('text', true));

export class ColdSet {
  readonly ids: ColdIndex;
  readonly eq: ColdIndex;
  readonly incl: ColdIndex;
  /** Ordinals matched by the last `probe` (deduplicated: an update probes two rows, a row may repeat a tag). */
  readonly out: number[] = [];
  /** The key each ordinal in `out` matched under (waking needs it; it is not stored per ordinal). */
  readonly outKeys: string[] = [];
  private curKey = '';
  private readonly keyBuf: (ElementKey | null)[] = [];
  private readonly emit = (pos: number): void => {
    if (this.ids.valueAt(pos) < 0) return;
    const o = this.out;
    for (let i = 0; i < o.length; i++) if (o[i] === pos) return;
    o.push(pos);
    this.outKeys.push(this.curKey);
  };

  private constructor(ids: ColdIndex, eq: ColdIndex, incl: ColdIndex) {
    this.ids = ids;
    this.eq = eq;
    this.incl = incl;
  }

  static build(shapes: readonly ColdShape[]): ColdSet {
    const ids = ColdIndex.build(
      shapes.map((s) => s.id),
      shapes.map((s) => s.fam),
    );
    const eqKeys: string[] = [];
    const eqPos: number[] = [];
    const inKeys: string[] = [];
    const inPos: number[] = [];
    for (const s of shapes) {
      const p = ids.indexOf(s.id);
      if (s.fam === 0) {
        eqKeys.push(s.key);
        eqPos.push(p);
      } else {
        inKeys.push(s.key);
        inPos.push(p);
      }
    }
    return new ColdSet(ids, ColdIndex.build(eqKeys, eqPos), ColdIndex.build(inKeys, inPos));
  }

  /** The cold shapes a change affects, as ordinals in `out` (reused: copy before the next probe). */
  probe(change: Change): number[] {
    this.out.length = 0;
    this.outKeys.length = 0;
    if (change.op === 'insert') this.probeRow(change.record);
    else if (change.op === 'delete') this.probeRow(change.oldRecord);
    else if (change.op === 'update') {
      this.probeRow(change.oldRecord);
      this.probeRow(change.record);
    } else for (let j = 0; j < this.ids.size; j++) if (this.ids.valueAt(j) >= 0) this.out.push(j);
    return this.out;
  }

  private probeRow(rec: RowRecord): void {
    const u = rec.user_id;
    if (u !== null && u !== undefined) {
      this.curKey = u;
      this.eq.forEach(u, this.emit);
    }
    const t = rec.tags;
    if (t === null || t === undefined) return;
    const buf = this.keyBuf;
    let n = splitRawArray(t, false, buf);
    if (n < 0) {
      // quoted or escaped elements: decode (the text codec's key is the string itself)
      const items = (TEXT_ARRAY.parse(t) as ArrayValue).items;
      for (let i = 0; i < items.length; i++) buf[i] = (items[i] as string | null) ?? null;
      n = items.length;
    }
    for (let i = 0; i < n; i++) {
      const k = buf[i];
      if (k === null || k === undefined) continue;
      this.curKey = k as string;
      this.incl.forEach(this.curKey, this.emit);
    }
  }

  idOf(pos: number): string {
    return this.ids.keyAt(pos);
  }

  /** Takes a matched shape out of hibernation (`key`: what it matched under): tombstones it, returns its definition. */
  wake(pos: number, key: string, table: string): { id: string; def: ShapeDef } {
    const fam = this.ids.valueAt(pos) as 0 | 1;
    this.ids.setValueAt(pos, -1);
    return { id: this.ids.keyAt(pos), def: coldDef(table, fam, key) };
  }

  /** removeShape on a cold shape: one id lookup and a tombstone. */
  remove(id: string): boolean {
    const pos = this.ids.indexOf(id);
    if (pos < 0) return false;
    this.ids.setValueAt(pos, -1);
    return true;
  }

  get bytes(): number {
    return this.ids.bytes + this.eq.bytes + this.incl.bytes;
  }
}
