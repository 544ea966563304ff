// ShadowRouter: routes with two routers, answers with the primary, counts and samples disagreements (rollout net).
import type { Change, Explanation, RouterLike, RouterStats, ShapeDef } from './types.js';

export interface ShadowMismatch {
  readonly change: Change;
  readonly primaryOnly: readonly string[];
  readonly shadowOnly: readonly string[];
}

export interface ShadowStats extends RouterStats {
  readonly shadow: {
    readonly compared: number;
    readonly mismatches: number;
    readonly samples: readonly ShadowMismatch[];
    readonly shadowStats: RouterStats;
  };
}

const SAMPLE_LIMIT = 32;

export class ShadowRouter implements RouterLike {
  compared = 0;
  mismatches = 0;
  readonly samples: ShadowMismatch[] = [];

  constructor(
    readonly primary: RouterLike,
    readonly shadow: RouterLike,
  ) {}

  get shapeCount(): number {
    return this.primary.shapeCount;
  }

  addShape(id: string, shape: ShapeDef): void {
    this.primary.addShape(id, shape);
    try {
      this.shadow.addShape(id, shape);
    } catch (err) {
      this.primary.removeShape(id);
      throw err;
    }
  }

  removeShape(id: string): boolean {
    this.shadow.removeShape(id);
    return this.primary.removeShape(id);
  }

  hasShape(id: string): boolean {
    return this.primary.hasShape(id);
  }

  route(change: Change): string[] {
    const a = this.primary.route(change);
    let b: string[];
    try {
      b = this.shadow.route(change);
    } catch {
      b = [];
    }
    this.compare(change, a, b);
    return a;
  }

  routeTransaction(changes: readonly Change[]): Map<string, number[]> {
    const a = this.primary.routeTransaction(changes);
    const b = this.shadow.routeTransaction(changes);
    // Compare per change: rebuild each side's per-change id sets only when the two maps differ at all.
    if (!sameTx(a, b)) {
      for (let i = 0; i < changes.length; i++) {
        const pa = idsAt(a, i);
        const pb = idsAt(b, i);
        this.compare(changes[i] as Change, pa, pb);
      }
    } else this.compared += changes.length;
    return a;
  }

  explain(change: Change, id: string): Explanation {
    return this.primary.explain(change, id);
  }

  stats(): ShadowStats {
    return {
      ...this.primary.stats(),
      shadow: {
        compared: this.compared,
        mismatches: this.mismatches,
        samples: [...this.samples],
        shadowStats: this.shadow.stats(),
      },
    };
  }

  private compare(change: Change, a: readonly string[], b: readonly string[]): void {
    this.compared++;
    if (a.length === b.length) {
      const sa = new Set(a);
      if (b.every((x) => sa.has(x))) return;
    }
    this.mismatches++;
    if (this.samples.length >= SAMPLE_LIMIT) return;
    const sa = new Set(a);
    const sb = new Set(b);
    this.samples.push({ change, primaryOnly: a.filter((x) => !sb.has(x)), shadowOnly: b.filter((x) => !sa.has(x)) });
  }
}

function sameTx(a: Map<string, number[]>, b: Map<string, number[]>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    const w = b.get(k);
    if (w === undefined || w.length !== v.length || w.some((x, i) => x !== v[i])) return false;
  }
  return true;
}

function idsAt(m: Map<string, number[]>, i: number): string[] {
  const out: string[] = [];
  for (const [k, v] of m) if (v.includes(i)) out.push(k);
  return out;
}
