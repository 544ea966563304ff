// One subquery compiled against its own table: which value (if any) an inner row contributes to the set.
import type { Expr, Subquery } from '../sql/ast.js';
import { compileExpr, type Compiled } from '../eval/compile.js';
import { Predicate, type PgRecord } from '../eval/predicate.js';
import { RowView } from '../eval/row-view.js';
import type { SubquerySets } from '../eval/subquery-sets.js';
import { codecFor } from '../values/registry.js';
import { ValueError } from '../errors/index.js';
import { layoutFor } from '../where.js';
import type { Codec } from '../values/codec.js';

/** A selected non-NULL value: its canonical key (set membership) and its text (to name it in SQL). */
export interface Selected {
  readonly key: string | number;
  readonly text: string;
}

/** `undefined`: the row is not selected; `null`: it selects NULL; else its value. */
export type Contribution = Selected | null | undefined;

export class SubqueryView {
  private readonly where: Predicate | null;
  private readonly select: Compiled;
  private readonly row: RowView;
  private readonly codec: Codec;
  /** Inner rows left out because their where or select raised (Postgres would fail the whole query). */
  errors = 0;

  constructor(
    readonly sub: Subquery,
    sets: SubquerySets,
  ) {
    const { layout } = layoutFor(sub.columns);
    this.where = sub.where === null ? null : new Predicate(sub.where, '', sub.referenced, layout, sets);
    this.select = compileExpr(sub.select, layout, sets);
    this.row = new RowView(layout);
    this.codec = codecFor(sub.select.type);
  }

  /** The selected expression's type: the comparison type of the `IN`. */
  get selectType(): Expr['type'] {
    return this.sub.select.type;
  }

  /** What `record` (an inner-table row in Postgres text form) contributes; a raising row contributes nothing. */
  contribution(record: PgRecord): Contribution {
    try {
      if (this.where !== null && !this.where.matches(record)) return undefined;
      const v = this.select(this.row.reset(record));
      return v === null ? null : { key: this.codec.key(v), text: this.codec.format(v) };
    } catch (err) {
      if (!(err instanceof ValueError)) throw err;
      this.errors++;
      return undefined;
    }
  }
}
