// One Router per replicated table, so a table's column types can be replaced (ALTER TABLE) without touching others.
import { Router } from '../router/router.js';
import type { Change as RouterChange, LaneKind, RouterStats, ShapeDef } from '../router/types.js';
import { qualifiedTable } from './catalog.js';

interface TableEntry {
  router: Router;
  columns: Record<string, string>;
  signature: string;
  /** `"schema"."table"`: the name the router knows the table by (quoted, so no case folding applies). */
  readonly name: string;
  readonly shapes: Map<string, ShapeDef>;
}

const signatureOf = (columns: Record<string, string>): string => JSON.stringify(Object.entries(columns));

/**
 * The Router's schema is fixed at construction; a table appears when its first shape does and its column map is
 * replaced when a new shape sees different catalog types. Rebuilding re-adds the table's shapes (rare: schema
 * changes only); a shape that no longer compiles is reported back so it can be invalidated.
 */
export class TableRouters {
  private readonly tables = new Map<string, TableEntry>();

  constructor(private readonly mode: 'indexed' | 'filter' = 'indexed') {}

  private key(schema: string, table: string): string {
    return `${schema}\u0000${table}`;
  }

  /** Makes the table's router use `columns`; returns the ids of shapes that failed to re-add after a rebuild. */
  ensureTable(schema: string, table: string, columns: Record<string, string>): string[] {
    const k = this.key(schema, table);
    const signature = signatureOf(columns);
    const existing = this.tables.get(k);
    if (existing !== undefined && existing.signature === signature) return [];
    const name = qualifiedTable(schema, table);
    const router = new Router({ schema: { [name]: columns }, mode: this.mode });
    const failed: string[] = [];
    const shapes = existing?.shapes ?? new Map<string, ShapeDef>();
    for (const [id, def] of shapes) {
      try {
        router.addShape(id, def);
      } catch {
        failed.push(id);
      }
    }
    for (const id of failed) shapes.delete(id);
    this.tables.set(k, { router, columns, signature, name, shapes });
    return failed;
  }

  /** Adds a shape (ensureTable first). Throws the router's WhereError/RouterError. */
  add(id: string, schema: string, table: string, where: string | undefined, params: Record<string, string> | undefined): void {
    const t = this.tables.get(this.key(schema, table));
    if (t === undefined) throw new Error(`table ${schema}.${table} has no router`);
    const def: ShapeDef = {
      table: t.name,
      ...(where !== undefined ? { where } : {}),
      ...(params !== undefined ? { params } : {}),
    };
    t.router.addShape(id, def);
    t.shapes.set(id, def);
  }

  remove(id: string, schema: string, table: string): boolean {
    const t = this.tables.get(this.key(schema, table));
    if (t === undefined) return false;
    t.shapes.delete(id);
    return t.router.removeShape(id);
  }

  /** The router of a table, if any shape was ever added for it. */
  routerFor(schema: string, table: string): { router: Router; name: string } | undefined {
    return this.tables.get(this.key(schema, table));
  }

  /** Routes one row image as an insert (exact membership of that row); `failedOpen` when a value could not be decoded. */
  routeRow(schema: string, table: string, record: Readonly<Record<string, string | null>>): { ids: string[]; failedOpen: boolean } {
    const t = this.tables.get(this.key(schema, table));
    if (t === undefined || t.shapes.size === 0) return { ids: [], failedOpen: false };
    const counters = t.router.ctx.counters;
    const before = counters.failOpen;
    const change: RouterChange = { table: t.name, op: 'insert', record };
    const ids = t.router.route(change);
    return { ids, failedOpen: counters.failOpen !== before };
  }

  /** The column map the table's router was built with. */
  columnsOf(schema: string, table: string): Record<string, string> | undefined {
    return this.tables.get(this.key(schema, table))?.columns;
  }

  /** Shape ids of a table (for truncate). */
  shapesOf(schema: string, table: string): string[] {
    return [...(this.tables.get(this.key(schema, table))?.shapes.keys() ?? [])];
  }

  hasShapes(schema: string, table: string): boolean {
    return (this.tables.get(this.key(schema, table))?.shapes.size ?? 0) > 0;
  }

  /** Shapes by lane and routing counters summed over every table. */
  stats(): { shapes: number; lanes: Record<LaneKind, number>; failOpen: number; estimatedBytes: number } {
    const lanes: Record<LaneKind, number> = { equality: 0, expression: 0, range: 0, prefix: 0, inclusion: 0, always: 0, unindexed: 0 };
    let shapes = 0;
    let failOpen = 0;
    let estimatedBytes = 0;
    for (const t of this.tables.values()) {
      const s: RouterStats = t.router.stats();
      shapes += s.shapes;
      failOpen += s.counters.failOpen;
      estimatedBytes += s.estimatedBytes;
      for (const [k, v] of Object.entries(s.lanes)) lanes[k as LaneKind] += v;
    }
    return { shapes, lanes, failOpen, estimatedBytes };
  }
}
