// Catalog entries of tables remembered between shape creations; each creation confirms its entry in its snapshot.
import type { TableInfo } from './catalog.js';

/**
 * A creation that takes its table from here reads the catalog again inside its own snapshot (shared-snapshot.ts)
 * and fails over to a fresh read when the two differ, so a remembered entry saves the catalog round trip before the
 * snapshot without ever letting a shape be built on a table definition older than its rows. Bounded: past `cap`
 * tables it starts over.
 */
export class TableCache {
  private readonly tables = new Map<string, { readonly info: TableInfo; readonly text: string }>();

  constructor(private readonly cap = 4096) {}

  get(key: string): TableInfo | undefined {
    return this.tables.get(key)?.info;
  }

  set(key: string, info: TableInfo): void {
    if (this.tables.size >= this.cap && !this.tables.has(key)) this.tables.clear();
    this.tables.set(key, { info, text: JSON.stringify(info) });
  }

  forget(key: string): void {
    this.tables.delete(key);
  }

  /** True when `info` is the entry remembered under `key` and `current` (the catalog now) equals it. */
  confirms(key: string, info: TableInfo, current: TableInfo | undefined): boolean {
    const e = this.tables.get(key);
    const text = e !== undefined && e.info === info ? e.text : JSON.stringify(info);
    return current !== undefined && JSON.stringify(current) === text;
  }
}
