// The Router: shapes (table + where clause) in, for each changed row the ids of the shapes it affects out.
import { ErrorCode, RouterError } from '../errors/index.js';
import { RouterCore } from './core.js';
import { explainShape } from './explain.js';
import { collectStats, summarize } from './stats.js';
import type {
  Change,
  Explanation,
  RoutedChange,
  RouterLike,
  RouterMode,
  RouterOptions,
  RouterStats,
  RoutingSummary,
  ShapeDef,
  ShapeRouting,
} from './types.js';

/** The core behind a Router, for the layers that route through it directly (shard workers); never exported publicly. */
let coreOf: (r: Router) => RouterCore;

/**
 * The public router: its indexes, entry table and buffers live in a RouterCore held privately, so the package's API
 * is only what is declared here.
 */
export class Router implements RouterLike, ShapeRouting {
  readonly #core: RouterCore;

  static {
    coreOf = (r) => r.#core;
  }

  constructor(options: RouterOptions) {
    this.#core = new RouterCore(options);
  }

  get mode(): RouterMode {
    return this.#core.mode;
  }

  get shapeCount(): number {
    return this.#core.shapeCount;
  }

  hasShape(id: string): boolean {
    return this.#core.hasShape(id);
  }

  /** Throws WhereError for a clause the language rejects, RouterError for a duplicate id or an unknown table. */
  addShape(id: string, shape: ShapeDef): void {
    this.#core.addShape(id, shape);
  }

  removeShape(id: string): boolean {
    return this.#core.removeShape(id);
  }

  /** The ids of the shapes the change affects (failed-open ones included: see routeChanges to tell them apart). */
  route(change: Change): string[] {
    return this.#core.route(change);
  }

  /** Per change, its ids and which of them were failed open (must be re-checked exactly by the caller). */
  routeChanges(changes: readonly Change[]): RoutedChange[] {
    return this.#core.routeChanges(changes);
  }

  /** Shape id → indices of the changes that affect it. */
  routeTransaction(changes: readonly Change[]): Map<string, number[]> {
    return this.#core.routeTransaction(changes);
  }

  explain(change: Change, id: string): Explanation {
    const core = this.#core;
    const s = core.interner.get(id);
    if (s < 0) throw new RouterError(ErrorCode.UnknownShape, `shape "${id}" does not exist`);
    return explainShape(core, s, id, change);
  }

  stats(): RouterStats {
    return collectStats(this.#core);
  }

  summary(): RoutingSummary {
    return summarize(this.#core);
  }

  /** Nothing to release (ShapeRouting's close is for routers that own threads). */
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** The RouterCore of a Router (internal: shard workers route into its integer buffers without building id arrays). */
export function routerCore(r: Router): RouterCore {
  return coreOf(r);
}
