// Cumulative counts per replicated table, for metrics labelled by schema and table.

/** One table's count. */
export interface TableCount {
  readonly schema: string;
  readonly table: string;
  readonly count: number;
}

/** Counts that only grow (Prometheus counters), kept per table. */
export class TableCounts {
  private readonly counts = new Map<string, { schema: string; table: string; count: number }>();

  add(schema: string, table: string, n = 1): void {
    if (n === 0) return;
    const key = `${schema}\u0000${table}`;
    const c = this.counts.get(key);
    if (c === undefined) this.counts.set(key, { schema, table, count: n });
    else c.count += n;
  }

  /** A copy of every table's count so far. */
  list(): TableCount[] {
    return [...this.counts.values()].map((c) => ({ ...c }));
  }
}

/** Lists of per-table counts added up, table by table (a table in one list only keeps its count). */
export function sumCounts(...lists: readonly (readonly TableCount[])[]): TableCount[] {
  const sum = new TableCounts();
  for (const list of lists) for (const c of list) sum.add(c.schema, c.table, c.count);
  return sum.list();
}
