// Compiled where predicates for exact re-checks, compiled on demand and kept in a small LRU (not one per shape).
import type { Predicate } from '../eval/predicate.js';
import { compileWhere } from '../where.js';
import type { LiveShape } from './live-shape.js';
import type { TableRouters } from './table-routers.js';

/**
 * The router answers membership exactly for decodable rows; a shape's own predicate is needed only when the router
 * failed open. Holding a compiled predicate per shape would cost kilobytes × shapes, so they are compiled lazily and
 * shared by every shape with the same table, clause and parameters.
 */
export class PredicateCache {
  private readonly cache = new Map<string, Predicate>();

  constructor(
    private readonly routers: TableRouters,
    private readonly limit = 1024,
  ) {}

  get(shape: LiveShape): Predicate {
    const d = shape.definition;
    const key = `${d.schema}\u0000${d.table}\u0000${d.where ?? ''}\u0000${JSON.stringify(d.params ?? {})}`;
    const hit = this.cache.get(key);
    if (hit !== undefined) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    const columns = this.routers.columnsOf(d.schema, d.table) ?? {};
    const p = compileWhere(d.where ?? 'true', columns, {
      ...(d.params ? { params: d.params } : {}),
      table: { schema: d.schema, name: d.table },
    });
    if (this.cache.size >= this.limit) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(key, p);
    return p;
  }

  clear(): void {
    this.cache.clear();
  }
}
