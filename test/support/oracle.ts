// Postgres as the semantic oracle for where clauses: what the server answers for a clause over given text records.
import pg from 'pg';
import { clauseShape, loadClauseParser } from './oracle-clause.js';
import { PINNED_SETTINGS_SQL, quoteIdent } from './pg-env.js';

/** One record's verdict: the clause's value (true, false or NULL), or the runtime error Postgres raised on it. */
export type OracleVerdict = boolean | null | { readonly error: string; readonly sqlstate: string };

export type OracleResult =
  | { readonly rejected: false; readonly results: OracleVerdict[] }
  /** Failed before reading any row (parse, analysis, literal input, constant folding, parameter binding). */
  | {
      readonly rejected: true;
      readonly error: string;
      readonly sqlstate: string;
      /** 0-based offset into the clause in code points, when Postgres reported one inside it. */
      readonly position?: number;
    };

export interface WhereOracleOptions {
  /** The alias the table gets, so qualified references like `t.col` work. Default `t`. */
  readonly tableAlias?: string;
  /** Per-statement timeout; a clause that runs longer counts as a runtime error on the rows. Default 20 s. */
  readonly statementTimeoutMs?: number;
}

export interface OracleStats {
  clauses: number;
  /** Statements sent, loading included. */
  queries: number;
  /** Times the records of a table had to be (re)loaded. */
  loads: number;
  /** Clauses whose all-records query failed at run time and were re-run per record. */
  perRecordFallbacks: number;
}

/** Switchyard's wording for a missing `$n` (where-language.md §8.1); 42P02 is Postgres's undefined_parameter. */
const MISSING_PARAM_SQLSTATE = '42P02';
const INDETERMINATE_PARAM = '42P18';
const TEXT_OID = 25;
/** Cannot be written unquoted, so no clause refers to it by accident. */
const ROW_COLUMN = '"sy oracle row"';
/** Result values stay text: the oracle reads only 't'/'f'/NULL. */
const RAW_TYPES: pg.CustomTypesConfig = { getTypeParser: (() => (v: string) => v) as pg.CustomTypesConfig['getTypeParser'] };
/** Postgres allows 65,535 bind parameters per statement. */
const MAX_PARAMS_PER_INSERT = 30_000;
const BATCH = 32;

interface Table {
  readonly from: string;
  readonly columns: readonly string[];
  readonly types: Readonly<Record<string, string>>;
  /** JSON of the records currently loaded. */
  loaded: string | undefined;
}

interface Bound {
  readonly values: (string | null)[];
  /** Parse-message parameter types: 0 lets Postgres infer the type, as for an untyped literal (§2.3). */
  readonly oids: number[];
}

type Rejection = Extract<OracleResult, { rejected: true }>;

function isDbError(e: unknown): e is pg.DatabaseError {
  return e instanceof pg.DatabaseError;
}

function verdictOfNegation(v: unknown): boolean | null {
  // The query selects NOT (<clause>) so that the clause is coerced to boolean exactly as a WHERE coerces it.
  return v === null ? null : v === 'f';
}

export class WhereOracle {
  readonly stats: OracleStats = { clauses: 0, queries: 0, loads: 0, perRecordFallbacks: 0 };
  private readonly client: pg.Client;
  private readonly alias: string;
  private readonly timeoutMs: number;
  private ready: Promise<void> | undefined;
  private readonly tables = new Map<string, Table>();
  private tableSeq = 0;
  /** Calls run one at a time: they share the loaded records of each table. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(url: string, opts: WhereOracleOptions = {}) {
    this.client = new pg.Client({ connectionString: url });
    this.alias = quoteIdent(opts.tableAlias ?? 't');
    this.timeoutMs = opts.statementTimeoutMs ?? 20_000;
  }

  /**
   * Evaluates `clause` on each record. `columns` maps names to Postgres type names (as written in SQL); record values
   * are Postgres text output (missing keys are NULL); `params` maps `'1'`, `'2'`… to the `$n` values.
   * Throws (a test bug, not a verdict) when a record value is not valid input for its column's type.
   */
  evaluate(
    columns: Readonly<Record<string, string>>,
    clause: string,
    records: readonly Readonly<Record<string, string | null>>[],
    params: Readonly<Record<string, string>> = {},
  ): Promise<OracleResult> {
    return this.exclusive(async () => {
      const table = await this.prepare(columns, records);
      this.stats.clauses++;
      return this.evaluateOne(table, clause, params, records.length);
    });
  }

  /**
   * Same as evaluate() per clause, for many clauses over one record set: clauses without parameters are sent
   * BATCH at a time in one query, and a failing batch is bisected down to the offending clauses.
   */
  evaluateMany(
    columns: Readonly<Record<string, string>>,
    clauses: readonly string[],
    records: readonly Readonly<Record<string, string | null>>[],
  ): Promise<OracleResult[]> {
    return this.exclusive(async () => {
      const table = await this.prepare(columns, records);
      this.stats.clauses += clauses.length;
      const out: OracleResult[] = new Array<OracleResult>(clauses.length);
      const batchable: number[] = [];
      for (let i = 0; i < clauses.length; i++) {
        const shape = clauseShape(clauses[i]!);
        if (shape.kind === 'expression' && shape.params.size === 0) batchable.push(i);
        else out[i] = await this.evaluateOne(table, clauses[i]!, {}, records.length);
      }
      for (let i = 0; i < batchable.length; i += BATCH) {
        await this.batch(table, clauses, batchable.slice(i, i + BATCH), records.length, out);
      }
      return out;
    });
  }

  /** Runs setup SQL on the oracle's session (e.g. `CREATE TYPE mood AS ENUM (…)` for enum columns). */
  exec(sql: string): Promise<void> {
    return this.exclusive(async () => {
      await this.connect();
      await this.client.query(sql);
    });
  }

  async close(): Promise<void> {
    await this.queue;
    if (this.ready !== undefined) await this.client.end();
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private connect(): Promise<void> {
    this.ready ??= (async () => {
      await this.client.connect();
      await this.client.query(`${PINNED_SETTINGS_SQL}; SET statement_timeout = ${this.timeoutMs}`);
      const { rows } = await this.client.query<{ datcollate: string; datctype: string }>(
        'SELECT datcollate, datctype FROM pg_database WHERE datname = current_database()',
      );
      const db = rows[0];
      if (db === undefined || !['C', 'POSIX'].includes(db.datcollate) || !['C', 'POSIX'].includes(db.datctype)) {
        throw new Error(
          `the oracle needs a database with LC_COLLATE and LC_CTYPE C (code point order, ASCII case mapping); ` +
            `this one has ${db?.datcollate}/${db?.datctype}: use freshDatabase()`,
        );
      }
      await loadClauseParser();
    })();
    return this.ready;
  }

  private async query(text: string, bound: Bound = { values: [], oids: [] }): Promise<unknown[][]> {
    this.stats.queries++;
    const types = bound.oids.length === 0 ? RAW_TYPES : Object.assign(bound.oids.slice(), RAW_TYPES);
    // Extended protocol always: no multi-statement strings, and text parameters of type 0 (unknown).
    const config: pg.QueryArrayConfig & { queryMode: 'extended' } = {
      text,
      values: bound.values,
      types,
      rowMode: 'array',
      queryMode: 'extended',
    };
    const res = await this.client.query(config);
    return res.rows;
  }

  private async prepare(
    columns: Readonly<Record<string, string>>,
    records: readonly Readonly<Record<string, string | null>>[],
  ): Promise<Table> {
    await this.connect();
    const table = await this.table(columns);
    await this.load(table, records);
    return table;
  }

  /** One temporary table per distinct column set, created once. */
  private async table(columns: Readonly<Record<string, string>>): Promise<Table> {
    const key = JSON.stringify(Object.entries(columns));
    let table = this.tables.get(key);
    if (table !== undefined) return table;
    const names = Object.keys(columns);
    if (names.some((n) => quoteIdent(n) === ROW_COLUMN)) throw new Error(`oracle: column name ${ROW_COLUMN} is reserved`);
    const from = `pg_temp.sy_oracle_${++this.tableSeq}`;
    const defs = names.map((n) => `${quoteIdent(n)} ${columns[n]}`);
    try {
      await this.query(`CREATE TEMPORARY TABLE ${from.slice('pg_temp.'.length)} (${[`${ROW_COLUMN} int4`, ...defs].join(', ')})`);
    } catch (e) {
      throw new Error(`oracle: cannot create a table with columns ${JSON.stringify(columns)}: ${String(e)}`);
    }
    table = { from, columns: names, types: { ...columns }, loaded: undefined };
    this.tables.set(key, table);
    return table;
  }

  /** Loads the records through unknown-typed parameters, so each value goes through its type's input function. */
  private async load(table: Table, records: readonly Readonly<Record<string, string | null>>[]): Promise<void> {
    const key = JSON.stringify(records);
    if (table.loaded === key) return;
    this.stats.loads++;
    table.loaded = undefined;
    const known = new Set(table.columns);
    records.forEach((r, i) => {
      for (const c of Object.keys(r)) if (!known.has(c)) throw new Error(`oracle: record ${i} has unknown column "${c}"`);
    });
    await this.query(`TRUNCATE ${table.from}`);
    const width = table.columns.length + 1;
    const perChunk = Math.max(1, Math.floor(MAX_PARAMS_PER_INSERT / width));
    const head = `INSERT INTO ${table.from} (${[ROW_COLUMN, ...table.columns.map(quoteIdent)].join(', ')}) VALUES `;
    for (let start = 0; start < records.length; start += perChunk) {
      const chunk = records.slice(start, start + perChunk);
      const values: (string | null)[] = [];
      const tuples = chunk.map((r, j) => {
        values.push(String(start + j));
        for (const c of table.columns) values.push(r[c] ?? null);
        const base = j * width;
        return `(${Array.from({ length: width }, (_, k) => `$${base + k + 1}`).join(', ')})`;
      });
      try {
        await this.query(head + tuples.join(', '), { values, oids: [] });
      } catch (e) {
        if (!isDbError(e)) throw e;
        throw await this.badRecord(table, head, chunk, start, e);
      }
    }
    table.loaded = key;
  }

  /** Finds which record of a failed chunk Postgres cannot read, for a precise test-bug report. */
  private async badRecord(
    table: Table,
    head: string,
    chunk: readonly Readonly<Record<string, string | null>>[],
    start: number,
    cause: pg.DatabaseError,
  ): Promise<Error> {
    const width = table.columns.length + 1;
    const tuple = `(${Array.from({ length: width }, (_, k) => `$${k + 1}`).join(', ')})`;
    for (let j = 0; j < chunk.length; j++) {
      const r = chunk[j]!;
      try {
        await this.query(`${head}${tuple}`, { values: ['-1', ...table.columns.map((c) => r[c] ?? null)], oids: [] });
      } catch (e) {
        const cols = JSON.stringify(table.types);
        return new Error(`oracle: record ${start + j} ${JSON.stringify(r)} is not valid input for ${cols}: ${String(e)}`);
      }
    }
    return new Error(`oracle: loading records failed: ${cause.message}`);
  }

  private selectSql(table: Table, exprs: string, rowFilter = ''): string {
    return `SELECT ${exprs} FROM ${table.from} AS ${this.alias}${rowFilter} ORDER BY ${ROW_COLUMN}`;
  }

  private async evaluateOne(
    table: Table,
    clause: string,
    params: Readonly<Record<string, string>>,
    count: number,
  ): Promise<OracleResult> {
    const shape = clauseShape(clause);
    if (shape.kind === 'syntax') return this.syntaxRejection(table, clause);
    if (shape.kind === 'extra') {
      return { rejected: true, error: 'malformed where clause: only a boolean expression is allowed', sqlstate: '42601' };
    }
    const maxRef = Math.max(0, ...shape.params);
    const bound: Bound = { values: [], oids: [] };
    for (let k = 1; k <= maxRef; k++) {
      const used = shape.params.has(k);
      const value = params[String(k)];
      if (used && value === undefined) {
        return { rejected: true, error: `parameter $${k} was not provided`, sqlstate: MISSING_PARAM_SQLSTATE };
      }
      // An unreferenced gap number still needs a type for Postgres to accept the statement.
      bound.values.push(used ? value! : null);
      bound.oids.push(used ? 0 : TEXT_OID);
    }
    const expr = `NOT (\n${clause}\n)`;
    const sql = this.selectSql(table, expr);
    for (;;) {
      try {
        const rows = await this.query(sql, bound);
        return { rejected: false, results: rows.map((r) => verdictOfNegation(r[0])) };
      } catch (e) {
        if (!isDbError(e)) throw e;
        // §2.3: a `$k` whose type cannot be inferred is typed text (Postgres would refuse the statement).
        const k = e.code === INDETERMINATE_PARAM ? Number(/\$(\d+)/.exec(e.message)?.[1]) : NaN;
        if (k >= 1 && bound.oids[k - 1] === 0) {
          bound.oids[k - 1] = TEXT_OID;
          continue;
        }
        const rejection = await this.classify(table, clause, sql, bound);
        if (rejection !== undefined) return rejection;
        return { rejected: false, results: await this.perRecord(table, expr, bound, count) };
      }
    }
  }

  /**
   * A failed all-records query either never reached a row (EXPLAIN, which parses, analyses and plans with the same
   * parameters, fails too) or hit a runtime error on some row. For a rejection the message comes from the plain
   * `SELECT … WHERE <clause>` form when that fails too, so it reads as Postgres words it for a WHERE clause.
   */
  private async classify(table: Table, clause: string, sql: string, bound: Bound): Promise<Rejection | undefined> {
    let planError: pg.DatabaseError;
    try {
      await this.query(`EXPLAIN ${sql}`, bound);
      return undefined;
    } catch (e) {
      if (!isDbError(e)) throw e;
      planError = e;
    }
    const wherePrefix = `EXPLAIN SELECT 1 FROM ${table.from} AS ${this.alias} WHERE `;
    try {
      await this.query(`${wherePrefix}${clause}`, bound);
    } catch (e) {
      if (!isDbError(e)) throw e;
      return rejection(e, clause, wherePrefix.length);
    }
    return rejection(planError, clause, `EXPLAIN SELECT NOT (\n`.length);
  }

  private async syntaxRejection(table: Table, clause: string): Promise<OracleResult> {
    const prefix = `EXPLAIN SELECT 1 FROM ${table.from} AS ${this.alias} WHERE `;
    try {
      await this.query(`${prefix}${clause}`);
    } catch (e) {
      if (!isDbError(e)) throw e;
      return rejection(e, clause, prefix.length);
    }
    throw new Error(`oracle: libpg-query rejects a clause that Postgres accepts: ${clause}`);
  }

  private async perRecord(table: Table, expr: string, bound: Bound, count: number): Promise<OracleVerdict[]> {
    this.stats.perRecordFallbacks++;
    const out: OracleVerdict[] = [];
    for (let i = 0; i < count; i++) {
      try {
        const rows = await this.query(this.selectSql(table, expr, ` WHERE ${ROW_COLUMN} = ${i}`), bound);
        out.push(verdictOfNegation(rows[0]?.[0] ?? null));
      } catch (e) {
        if (!isDbError(e)) throw e;
        out.push({ error: e.message, sqlstate: e.code ?? '' });
      }
    }
    return out;
  }

  private async batch(table: Table, clauses: readonly string[], idx: readonly number[], count: number, out: OracleResult[]): Promise<void> {
    if (idx.length === 1) {
      out[idx[0]!] = await this.evaluateOne(table, clauses[idx[0]!]!, {}, count);
      return;
    }
    const exprs = idx.map((i) => `NOT (\n${clauses[i]!}\n)`).join(',\n');
    try {
      const rows = await this.query(this.selectSql(table, exprs));
      idx.forEach((clauseIndex, col) => {
        out[clauseIndex] = { rejected: false, results: rows.map((r) => verdictOfNegation(r[col])) };
      });
    } catch (e) {
      if (!isDbError(e)) throw e;
      const half = Math.ceil(idx.length / 2);
      await this.batch(table, clauses, idx.slice(0, half), count, out);
      await this.batch(table, clauses, idx.slice(half), count, out);
    }
  }
}

function rejection(e: pg.DatabaseError, clause: string, prefixLength: number): Rejection {
  const base = { rejected: true as const, error: e.message, sqlstate: e.code ?? '' };
  if (e.position === undefined) return base;
  // Postgres positions are 1-based and count characters (code points), as does this offset.
  const offset = Number(e.position) - 1 - prefixLength;
  return offset >= 0 && offset <= [...clause].length ? { ...base, position: offset } : base;
}
