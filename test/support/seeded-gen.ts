// A small deterministic generator for randomized tests: one seed reproduces data, clauses and steps.
import { rng } from '../../bench/router-workloads.js';

export { rng };

export class Gen {
  constructor(readonly r: () => number) {}
  int(n: number): number {
    return Math.floor(this.r() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)] as T;
  }
  maybeNull(v: string, p = 0.2): string | null {
    return this.r() < p ? null : v;
  }
}
