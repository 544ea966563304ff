// Postgres as the semantic oracle for where clauses: what the server answers for a clause over given text records.
import pg from 'pg';
import { clauseShape, loadClauseParser } from './oracle-clause.js';
import { OracleTables, ROW_COLUMN, type OracleRecords, type OracleTable as Table } from './oracle-tables.js';
import { PINNED_SETTINGS_SQL, quoteIdent } from './pg-env.js';

/** One record's verdict: the clause's value (true, false or NULL), or the runtime error Postgres raised on it. */
export type OracleVerdict = boolean | null | { readonly error: string; readonly sqlstate: string };

/**
 * One record's fate under `SELECT … FROM t WHERE <clause>` on a table holding just that record (a sequential scan):
 * returned (true), not returned (false: the clause was FALSE or NULL), or the error the scan raised.
 */
export type OracleScanVerdict = boolean | { readonly error: string; readonly sqlstate: string };

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
const INT4_OID = 23;
/** Evaluates `sel` (a NOT (<clause>) query for row $1) on rows 0…n-1, catching each row's error. */
const PER_ROW_FUNCTION = `
CREATE FUNCTION pg_temp.sy_oracle_rows(sel text, n int) RETURNS TABLE (v text, err text, state text)
LANGUAGE plpgsql AS $f$
DECLARE b boolean;
BEGIN
  FOR i IN 0 .. n - 1 LOOP
    BEGIN
      EXECUTE sel INTO b USING i;
      v := b::text; err := NULL; state := NULL;
    EXCEPTION WHEN OTHERS THEN
      v := NULL; err := SQLERRM; state := SQLSTATE;
    END;
    RETURN NEXT;
  END LOOP;
END $f$`;
/** Result values stay text: the oracle reads only 't'/'f'/NULL. */
const RAW_TYPES: pg.CustomTypesConfig = {
  getTypeParser: (() => (v: string) => v) as pg.CustomTypesConfig['getTypeParser'],
};
const MAX_BATCH = 32;

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
  private readonly tables = new OracleTables((sql) => {
    this.stats.queries++;
    return this.client.query(sql);
  });
  /** Calls run one at a time: they share the loaded records of each table. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(url: string, opts: WhereOracleOptions = {}) {
    this.client = new pg.Client({ connectionString: url });
    // A lost connection also fails the pending query, which is where callers see it; without a listener it would
    // crash the test process instead.
    this.client.on('error', () => undefined);
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
    records: OracleRecords,
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
    records: OracleRecords,
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
      // A batch fails as a whole when any clause in it is rejected or errors on a row; its clauses are then run one
      // by one. The batch size follows the observed failure rate p (about 1/√p minimises the expected cost).
      let failureRate = 0.001;
      for (let i = 0; i < batchable.length;) {
        const size = Math.max(1, Math.min(MAX_BATCH, Math.floor(1 / Math.sqrt(failureRate))));
        const group = batchable.slice(i, i + size);
        i += group.length;
        if (group.length > 1 && (await this.batch(table, clauses, group, out))) {
          failureRate *= 0.9;
          continue;
        }
        let failing = 0;
        for (const j of group) {
          const r = (out[j] = await this.evaluateOne(table, clauses[j]!, {}, records.length));
          if (r.rejected || r.results.some((v) => v !== null && typeof v === 'object')) failing++;
        }
        failureRate = 0.8 * failureRate + 0.2 * (failing / group.length);
      }
      return out;
    });
  }

  /**
   * Runs the clause as a WHERE over a one-row table per record, so Postgres's planner orders and short-circuits its
   * conditions exactly as for a shape's `SELECT … FROM table WHERE …` (order_qual_clauses, ExecQual); a select list
   * evaluates the expression left to right instead and may raise where the scan does not. Undefined when Postgres
   * rejects the clause. One round trip per record: meant for the clauses that raise somewhere.
   */
  evaluateScan(
    columns: Readonly<Record<string, string>>,
    clause: string,
    records: OracleRecords,
    params: Readonly<Record<string, string>> = {},
  ): Promise<OracleScanVerdict[] | undefined> {
    return this.exclusive(async () => {
      const table = await this.prepare(columns, records);
      const ones = await this.oneRowTables(table, records.length);
      const shape = clauseShape(clause);
      if (shape.kind !== 'expression') return undefined;
      const bound: Bound = { values: [], oids: [] };
      for (let k = 1; k <= Math.max(0, ...shape.params); k++) {
        const value = params[String(k)];
        bound.values.push(shape.params.has(k) ? (value ?? null) : null);
        bound.oids.push(shape.params.has(k) ? 0 : TEXT_OID);
      }
      const out: OracleScanVerdict[] = [];
      for (const one of ones) {
        try {
          const rows = await this.query(`SELECT 1 FROM ${one} AS ${this.alias} WHERE\n${clause}\n`, bound);
          out.push(rows.length > 0);
        } catch (e) {
          if (!isDbError(e)) throw e;
          if (e.code === INDETERMINATE_PARAM || e.code?.startsWith('42')) return undefined;
          out.push({ error: e.message, sqlstate: e.code ?? '' });
        }
      }
      return out;
    });
  }

  private readonly oneRowLoaded = new Map<string, string>();

  /** `<table>_one_<i>` holding record i alone, (re)loaded when the table's records changed. */
  private async oneRowTables(table: Table, count: number): Promise<string[]> {
    const names = Array.from({ length: count }, (_, i) => `${table.from}_one_${i}`);
    if (this.oneRowLoaded.get(table.from) === table.loaded) return names;
    const sql = names.map(
      (n, i) =>
        `CREATE TEMPORARY TABLE IF NOT EXISTS ${n.slice('pg_temp.'.length)} (LIKE ${table.from}); TRUNCATE ${n}; ` +
        `INSERT INTO ${n} SELECT * FROM ${table.from} WHERE ${ROW_COLUMN} = ${i}`,
    );
    this.stats.queries++;
    await this.client.query(sql.join('; '));
    if (table.loaded !== undefined) this.oneRowLoaded.set(table.from, table.loaded);
    return names;
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
      // Record values are loaded as quoted literals, which rely on standard_conforming_strings.
      await this.client.query(
        `${PINNED_SETTINGS_SQL}; SET standard_conforming_strings = on; SET statement_timeout = ${this.timeoutMs}`,
      );
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

  private async prepare(columns: Readonly<Record<string, string>>, records: OracleRecords): Promise<Table> {
    await this.connect();
    const table = await this.tables.get(columns, records);
    this.stats.loads = this.tables.loads;
    return table;
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
      return {
        rejected: true,
        error: 'malformed where clause: only a boolean expression is allowed',
        sqlstate: '42601',
      };
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
    // Only the boolean coercion error names its context ("argument of NOT must be type boolean"); every other error
    // reads the same in both forms, so the second round trip is spent only there.
    if (!/\bNOT\b/.test(planError.message)) return rejection(planError, clause, `EXPLAIN SELECT NOT (\n`.length);
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

  /**
   * Finds each record's verdict or error after the all-records query failed. Without parameters one server-side loop
   * does it (a subtransaction per record catches the error); otherwise, or if that loop fails (a statement timeout is
   * not catchable there), one query per record.
   */
  private async perRecord(table: Table, expr: string, bound: Bound, count: number): Promise<OracleVerdict[]> {
    this.stats.perRecordFallbacks++;
    const one = this.selectSql(table, expr, ` WHERE ${ROW_COLUMN} = $1`);
    if (bound.values.length === 0) {
      try {
        await this.ensurePerRowFunction();
        const rows = await this.query(`SELECT v, err, state FROM pg_temp.sy_oracle_rows($1, $2)`, {
          values: [one, String(count)],
          oids: [TEXT_OID, INT4_OID],
        });
        return rows.map(([v, err, state]) =>
          err !== null ? { error: String(err), sqlstate: String(state) } : v === null ? null : v === 'false',
        );
      } catch (e) {
        if (!isDbError(e)) throw e;
      }
    }
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

  private perRowFunction: Promise<unknown> | undefined;

  private ensurePerRowFunction(): Promise<unknown> {
    this.perRowFunction ??= this.client.query(PER_ROW_FUNCTION);
    return this.perRowFunction;
  }

  /** One query for a group of parameterless clauses; false (nothing written) when it fails. */
  private async batch(
    table: Table,
    clauses: readonly string[],
    group: readonly number[],
    out: OracleResult[],
  ): Promise<boolean> {
    const exprs = group.map((i) => `NOT (\n${clauses[i]!}\n)`).join(',\n');
    let rows: unknown[][];
    try {
      rows = await this.query(this.selectSql(table, exprs));
    } catch (e) {
      if (!isDbError(e)) throw e;
      return false;
    }
    group.forEach((clauseIndex, col) => {
      out[clauseIndex] = { rejected: false, results: rows.map((r) => verdictOfNegation(r[col])) };
    });
    return true;
  }
}

function rejection(e: pg.DatabaseError, clause: string, prefixLength: number): Rejection {
  const base = { rejected: true as const, error: e.message, sqlstate: e.code ?? '' };
  if (e.position === undefined) return base;
  // Postgres positions are 1-based and count characters (code points), as does this offset.
  const offset = Number(e.position) - 1 - prefixLength;
  return offset >= 0 && offset <= [...clause].length ? { ...base, position: offset } : base;
}
