// The oracle's temporary tables: one set per column list, each holding one loaded record set, reused LRU.
import { quoteIdent, quoteLiteral } from './pg-env.js';

/** Record number column; it cannot be written unquoted, so no clause refers to it by accident. */
export const ROW_COLUMN = '"sy oracle row"';

export type OracleRecords = readonly Readonly<Record<string, string | null>>[];

export interface OracleTable {
  /** `pg_temp.<name>`. */
  readonly from: string;
  readonly columns: readonly string[];
  readonly types: Readonly<Record<string, string>>;
  /** JSON of the records currently loaded; undefined while (re)loading. */
  loaded: string | undefined;
}

/** Runs SQL over the simple query protocol (several statements, one round trip, one implicit transaction). */
export type SimpleExec = (sql: string) => Promise<unknown>;

/**
 * Differential tests often alternate between a few record sets, so each column list keeps up to `perColumnSet`
 * tables with their records loaded; the least recently used one is reloaded when a new set comes.
 */
export class OracleTables {
  loads = 0;
  private readonly byColumns = new Map<string, OracleTable[]>();
  private seq = 0;

  constructor(
    private readonly exec: SimpleExec,
    private readonly perColumnSet = 8,
  ) {}

  async get(columns: Readonly<Record<string, string>>, records: OracleRecords): Promise<OracleTable> {
    const columnsKey = JSON.stringify(Object.entries(columns));
    const recordsKey = JSON.stringify(records);
    let list = this.byColumns.get(columnsKey);
    if (list === undefined) {
      list = [];
      this.byColumns.set(columnsKey, list);
    }
    const hit = list.findIndex((t) => t.loaded === recordsKey);
    if (hit >= 0) {
      const [table] = list.splice(hit, 1);
      list.unshift(table!);
      return table!;
    }
    const table = list.length < this.perColumnSet ? await this.create(columns) : list.pop()!;
    if (list[0] !== table) list.unshift(table);
    await this.load(table, records, recordsKey);
    return table;
  }

  private async create(columns: Readonly<Record<string, string>>): Promise<OracleTable> {
    const names = Object.keys(columns);
    if (names.some((n) => quoteIdent(n) === ROW_COLUMN))
      throw new Error(`oracle: column name ${ROW_COLUMN} is reserved`);
    const name = `sy_oracle_${++this.seq}`;
    const defs = [`${ROW_COLUMN} int4`, ...names.map((n) => `${quoteIdent(n)} ${columns[n]}`)];
    try {
      await this.exec(`CREATE TEMPORARY TABLE ${name} (${defs.join(', ')})`);
    } catch (e) {
      throw new Error(`oracle: cannot create a table with columns ${JSON.stringify(columns)}: ${String(e)}`);
    }
    return { from: `pg_temp.${name}`, columns: names, types: { ...columns }, loaded: undefined };
  }

  /**
   * Values are sent as quoted literals: untyped, so Postgres runs each through its column type's input function with
   * the typmod, exactly as for text output read back (and as unknown-typed parameters would be). TRUNCATE and
   * INSERT go in one round trip and one transaction.
   */
  private async load(table: OracleTable, records: OracleRecords, recordsKey: string): Promise<void> {
    this.loads++;
    table.loaded = undefined;
    const known = new Set(table.columns);
    records.forEach((r, i) => {
      for (const c of Object.keys(r))
        if (!known.has(c)) throw new Error(`oracle: record ${i} has unknown column "${c}"`);
    });
    const head = `INSERT INTO ${table.from} (${[ROW_COLUMN, ...table.columns.map(quoteIdent)].join(', ')}) VALUES `;
    const tuple = (r: Readonly<Record<string, string | null>>, i: number): string =>
      `(${[String(i), ...table.columns.map((c) => literal(r[c]))].join(', ')})`;
    const insert = records.length === 0 ? '' : `; ${head}${records.map(tuple).join(', ')}`;
    try {
      await this.exec(`TRUNCATE ${table.from}${insert}`);
    } catch (e) {
      throw await this.badRecord(table, head, records, tuple, e);
    }
    table.loaded = recordsKey;
  }

  /** Finds which record Postgres cannot read, for a precise test-bug report. */
  private async badRecord(
    table: OracleTable,
    head: string,
    records: OracleRecords,
    tuple: (r: Readonly<Record<string, string | null>>, i: number) => string,
    cause: unknown,
  ): Promise<Error> {
    for (let i = 0; i < records.length; i++) {
      try {
        await this.exec(`${head}${tuple(records[i]!, -1)}`);
      } catch (e) {
        const r = JSON.stringify(records[i]);
        return new Error(
          `oracle: record ${i} ${r} is not valid input for ${JSON.stringify(table.types)}: ${String(e)}`,
        );
      }
    }
    return new Error(`oracle: loading records failed: ${String(cause)}`);
  }
}

function literal(v: string | null | undefined): string {
  return v === null || v === undefined ? 'NULL' : quoteLiteral(v);
}
