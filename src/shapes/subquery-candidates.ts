// The shapes comparing one outer expression with one set, indexed by the rest of their clause once there are many.
import { mapChildren, type Expr } from '../sql/ast.js';
import { renderSql } from '../sql/render.js';
import { Router } from '../router/index.js';
import { pgType } from '../values/types.js';
import type { LiveShape } from './live-shape.js';
import type { Row } from './messages.js';

const BOOL = pgType('bool');

/**
 * Below this many shapes a row's candidates are all of them (each is checked exactly anyway); from it on they are
 * routed, so 100 shapes `x IN (SELECT …) AND region = $2` over one subquery cost one router lookup per row, not 100
 * exact checks.
 */
export const ROUTED_FROM = 16;

interface Member {
  readonly shape: LiveShape;
  readonly predicate: { readonly expr: Expr };
}

export class SetShapes<S extends Member> {
  readonly all = new Set<S>();
  private router: Router | undefined;
  /** Shapes the router refused (kept as candidates for every row). */
  private readonly unrouted = new Set<S>();
  private readonly byHandle = new Map<string, S>();

  constructor(
    private readonly table: string,
    private readonly columns: Record<string, string>,
  ) {}

  get size(): number {
    return this.all.size;
  }

  add(s: S): void {
    if (this.all.has(s)) return; // the clause compares this expression with this set twice
    this.all.add(s);
    this.byHandle.set(s.shape.handle, s);
    if (this.router !== undefined) this.route(s);
    else if (this.all.size >= ROUTED_FROM) {
      this.router = new Router({ schema: { [this.table]: this.columns } });
      for (const x of this.all) this.route(x);
    }
  }

  delete(s: S): void {
    this.all.delete(s);
    this.byHandle.delete(s.shape.handle);
    this.unrouted.delete(s);
    this.router?.removeShape(s.shape.handle);
  }

  /** Adds the shapes that may hold `row` given that its value is in the set: a superset, decided exactly later. */
  candidates(row: Row, out: Set<S>): void {
    if (this.router === undefined) {
      for (const s of this.all) out.add(s);
      return;
    }
    for (const id of this.router.route({ table: this.table, op: 'insert', record: row })) {
      const s = this.byHandle.get(id);
      if (s !== undefined) out.add(s);
    }
    for (const s of this.unrouted) out.add(s);
  }

  private route(s: S): void {
    try {
      this.router?.addShape(s.shape.handle, { table: this.table, where: renderSql(relaxed(s.predicate.expr)) });
    } catch {
      this.unrouted.add(s);
    }
  }
}

/**
 * The clause with every subquery condition TRUE: true for every row the clause may hold for once one of its IN
 * values is in its set (NOT is pushed down to the conditions and the rest is AND/OR, so this only widens it).
 */
function relaxed(e: Expr): Expr {
  if (e.kind === 'subquery') return { kind: 'const', type: BOOL, value: true, span: e.span };
  return mapChildren(e, relaxed);
}
