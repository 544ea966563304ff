// Clauses refused because a shape with them ran out of the shape row budget on a row (issue 11, §8.3).
import type { ShapeDefinition } from './types.js';

/** Clauses remembered; the oldest is forgotten past this (a refused clause costs a few hundred bytes). */
const MAX_REMEMBERED = 10_000;

/**
 * A shape invalidated for the cost of evaluating its clause on a row would cost as much again once re-created, on
 * the next such row: its clause (table, where and params; not the columns, which evaluation does not depend on) is
 * refused from then on with the reason it was invalidated. Kept in memory: a restart forgets it, and the clause
 * is refused again the first time it runs out of budget.
 */
export class TooExpensiveClauses {
  private readonly why = new Map<string, string>();

  add(def: ShapeDefinition, why: string): void {
    const key = clauseKey(def);
    this.why.delete(key);
    this.why.set(key, why);
    if (this.why.size > MAX_REMEMBERED) this.why.delete(this.why.keys().next().value as string);
  }

  /** The refusal message for this definition's clause, or undefined when it is not refused. */
  refusal(def: ShapeDefinition): string | undefined {
    if (this.why.size === 0) return undefined;
    const why = this.why.get(clauseKey(def));
    return why === undefined ? undefined : `a shape with this where clause was invalidated: ${why}`;
  }
}

function clauseKey(def: ShapeDefinition): string {
  const params =
    def.params === undefined ? null : Object.entries(def.params).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([def.schema, def.table, def.where?.trim() ?? '', params]);
}
