// The differential comparison: Switchyard's interpreter, compiler and rendered SQL against Postgres, per (clause, record).
import type pg from 'pg';
import { compileWhere, ErrorCode, ValueError, WhereError } from '../../src/index.js';
import { compileBool } from '../../src/eval/compile.js';
import { interpretExpr } from '../../src/eval/interpret.js';
import { RowView } from '../../src/eval/row-view.js';
import type { WhereOracle, OracleResult, OracleScanVerdict, OracleVerdict } from '../support/oracle.js';
import { hasUnsupported, renderTree, type BoolTree, type Group } from '../property/arbitraries.js';
import { COLUMNS } from '../property/value-pools.js';

type Rec = Record<string, string | null>;
/** T/F/N, or E for a runtime error. */
export type Outcome = 'T' | 'F' | 'N' | 'E';

export interface Failure {
  readonly kind: string;
  readonly clause: string;
  readonly params: Record<string, string>;
  readonly record?: Rec;
  readonly expected: string;
  readonly got: string;
}

const outcomeOfVerdict = (v: OracleVerdict): Outcome => (v === true ? 'T' : v === false ? 'F' : v === null ? 'N' : 'E');
const outcomeOfValue = (v: boolean | null): Outcome => (v === true ? 'T' : v === false ? 'F' : 'N');

/** Runs one evaluation; ValueError is the 'E' outcome, anything else thrown is a crash (reported with its message). */
function run(fn: () => boolean | null): { o: Outcome; detail: string } {
  try {
    return { o: outcomeOfValue(fn()), detail: '' };
  } catch (e) {
    if (e instanceof ValueError) return { o: 'E', detail: e.message };
    return { o: 'E', detail: `CRASH ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}` };
  }
}

/**
 * Postgres may evaluate AND/OR operands in any order and stop early (where-language.md §6.1), so a runtime error in
 * one operand may or may not surface. The outcomes reachable under some order, given each atom's own outcome.
 */
export function reachable(t: BoolTree, atom: (sql: string) => Outcome): Set<Outcome> {
  if (t.k === 'atom') return new Set([atom(t.sql)]);
  if (t.k === 'not') {
    const neg: Record<Outcome, Outcome> = { T: 'F', F: 'T', N: 'N', E: 'E' };
    return new Set([...reachable(t.arg, atom)].map((o) => neg[o]));
  }
  const sets = t.args.map((a) => reachable(a, atom));
  const [stop, keep] = t.k === 'and' ? (['F', 'T'] as const) : (['T', 'F'] as const);
  const out = new Set<Outcome>();
  if (sets.some((s) => s.has('E'))) out.add('E');
  if (sets.some((s) => s.has(stop))) out.add(stop);
  if (sets.every((s) => s.has(keep))) out.add(keep);
  if (sets.every((s) => s.has(keep) || s.has('N')) && sets.some((s) => s.has('N'))) out.add('N');
  return out;
}

function atoms(t: BoolTree, out: string[] = []): string[] {
  if (t.k === 'atom') out.push(t.sql);
  else if (t.k === 'not') atoms(t.arg, out);
  else for (const a of t.args) atoms(a, out);
  return out;
}

/**
 * Rejections the language spec makes on purpose where Postgres accepts (where-language.md §2.3, §3.1, §7, §8.1): kept
 * narrow by matching the error code and wording, never "any rejection".
 */
export function deliberateRejection(e: WhereError, tree: BoolTree): boolean {
  if (hasUnsupported(tree)) return true;
  if (e.code === ErrorCode.ParamConflict) return true; // §2.3: Postgres silently keeps the first-inferred type
  if (/LIKE pattern must not end with escape character/.test(e.message)) return true; // §7: constant pattern
  if (e.code === ErrorCode.NotSupported && /date\/time input .* is not supported/.test(e.message)) return true; // §4.1: ISO only
  if (
    e.code === ErrorCode.NotSupported &&
    /(array|jsonb|enum).*(order|compar)|(order|compar).*(array|jsonb|enum)/i.test(e.message)
  )
    return true;
  if (e.code === ErrorCode.NotSupported && /^JSON operator \S+ is not supported/.test(e.message)) return true; // §8.1: JSON operators
  return false;
}

/**
 * Postgres does not fold casts through STABLE input functions (date, time, timestamp(tz), interval: they read
 * DateStyle/TimeZone), so `'x'::time` fails per row at run time; the language folds every constant cast and rejects
 * it at creation (where-language.md §4.4). The same holds for constant arguments of STABLE functions (concat()).
 */
export function stableConstantCast(e: WhereError, pg: OracleResult): boolean {
  if (e.code !== ErrorCode.ConstantError || pg.rejected) return false;
  // Input functions of date, time, timestamp(tz) and interval are STABLE: Postgres never folds them.
  if (
    /^invalid input syntax for type (date|time|timestamp|timestamp with time zone|time without time zone|timestamp without time zone|interval):/.test(
      e.message,
    )
  )
    return true;
  if (/^date\/time input .* is not supported in where clauses/.test(e.message)) return true;
  // Otherwise (a STABLE function such as concat() or an array/text output under the cast) Postgres must have raised
  // the same error at run time on some row.
  return pg.results.some((v) => typeof v === 'object' && v !== null && v.error === e.message);
}

export interface Checker {
  readonly oracle: WhereOracle;
  /** Client on the oracle's database with pinned settings, to render records to text output. */
  readonly client: pg.Client;
}

const rendered = new Map<string, string | null>();

/** Input literal → Postgres text output under the pinned settings (what pgoutput would send); NULL when not storable. */
export async function renderRecords(client: pg.Client, records: readonly Rec[]): Promise<Rec[]> {
  const out: Rec[] = [];
  for (const r of records) {
    const o: Rec = {};
    for (const [col, v] of Object.entries(r)) {
      if (v === null) {
        o[col] = null;
        continue;
      }
      const type = COLUMNS[col]!;
      const key = `${type}\u0000${v}`;
      if (!rendered.has(key)) {
        try {
          const res = await client.query<{ v: string }>(`SELECT ($1::text)::${type}::text AS v`, [v]);
          rendered.set(key, res.rows[0]!.v);
        } catch {
          rendered.set(key, null);
        }
      }
      o[col] = rendered.get(key)!;
    }
    out.push(o);
  }
  return out;
}

export interface GroupStats {
  scan: ScanStats;
  clauses: number;
  accepted: number;
  pairs: number;
  pgRejected: number;
  runtimeErrors: number;
  orderTolerated: number;
}

/** Checks one group: every clause against every record. Returns the failures (empty when all agree). */
export async function checkGroup(c: Checker, group: Group, stats: GroupStats): Promise<Failure[]> {
  const records = await renderRecords(c.client, group.records);
  const sqls = group.clauses.map(renderTree);
  const usesParams = sqls.map((s) => /\$\d/.test(s));
  const plain = sqls.filter((_, i) => !usesParams[i]);
  const plainResults = await c.oracle.evaluateMany(COLUMNS, plain, records);
  const pgResults: OracleResult[] = [];
  let p = 0;
  for (let i = 0; i < sqls.length; i++) {
    pgResults.push(
      usesParams[i] ? await c.oracle.evaluate(COLUMNS, sqls[i]!, records, group.params) : plainResults[p++]!,
    );
  }
  const failures: Failure[] = [];
  const renderedSql: { i: number; sql: string }[] = [];
  const compiled = new Map<number, ReturnType<typeof compileWhere>>();
  for (let i = 0; i < sqls.length; i++) {
    stats.clauses++;
    const clause = sqls[i]!;
    const tree = group.clauses[i]!;
    const params = usesParams[i] ? group.params : {};
    const pgr = pgResults[i]!;
    const fail = (kind: string, expected: string, got: string, record?: Rec): void => {
      failures.push({ kind, clause, params, ...(record ? { record } : {}), expected, got });
    };
    let pred: ReturnType<typeof compileWhere> | undefined;
    let rejection: WhereError | undefined;
    try {
      pred = compileWhere(clause, COLUMNS, { params, table: { schema: 'pg_temp', name: 't' } });
    } catch (e) {
      if (e instanceof WhereError) rejection = e;
      else {
        fail(
          'compile crash',
          pgr.rejected ? `rejected: ${pgr.error}` : 'accepted',
          e instanceof Error ? `${e.name}: ${e.message}` : String(e),
        );
        continue;
      }
    }
    if (pgr.rejected) stats.pgRejected++;
    if (rejection !== undefined) {
      if (!pgr.rejected && !deliberateRejection(rejection, tree) && !stableConstantCast(rejection, pgr))
        fail('over-rejected', 'accepted by Postgres', `${rejection.code}: ${rejection.message}`);
      continue;
    }
    if (pgr.rejected) {
      fail('under-rejected', `rejected: ${pgr.sqlstate} ${pgr.error}`, 'accepted');
      continue;
    }
    // Oracle limitation (reported): a `$n` used only where no type can be inferred (`concat($2)`) comes back as a
    // per-row error instead of being typed text (where-language.md §2.3); such clauses are skipped.
    if (
      pgr.results.some(
        (v) => typeof v === 'object' && v !== null && /could not determine data type of parameter/.test(v.error),
      )
    )
      continue;
    if (hasUnsupported(tree))
      fail('accepted unsupported', 'WhereError (not supported by spec)', `accepted as ${pred!.sql}`);
    stats.accepted++;
    compiled.set(i, pred!);
    renderedSql.push({ i, sql: pred!.sql });
    // The clause's value as an expression (a select list: left to right), compared with Postgres's select list.
    const exprRow = new RowView(pred!.layout);
    const exprCompiled = compileBool(pred!.expr, pred!.layout);
    const exprEval = (rec: Rec): boolean | null => exprCompiled(exprRow.reset(rec));
    for (let r = 0; r < records.length; r++) {
      stats.pairs++;
      const expected = outcomeOfVerdict(pgr.results[r]!);
      if (expected === 'E') stats.runtimeErrors++;
      const comp = run(() => exprEval(records[r]!));
      const interp = run(
        () => interpretExpr(pred!.expr, new RowView(pred!.layout).reset(records[r]!)) as boolean | null,
      );
      if (comp.detail.startsWith('CRASH') || interp.detail.startsWith('CRASH')) {
        fail(
          'eval crash',
          expected,
          `compiled ${comp.o} ${comp.detail} / interpreted ${interp.o} ${interp.detail}`,
          records[r],
        );
        continue;
      }
      if (comp.o !== interp.o)
        fail(
          'compiled != interpreted',
          `interpreted ${interp.o} ${interp.detail}`,
          `compiled ${comp.o} ${comp.detail}`,
          records[r],
        );
      if (comp.o !== expected) {
        if (await orderMayExplain(c, tree, records[r]!, params, comp.o, expected)) stats.orderTolerated++;
        else
          fail(
            'wrong verdict',
            `${expected}${expected === 'E' ? ` ${errorText(pgr.results[r]!)}` : ''}`,
            `${comp.o} ${comp.detail}`,
            records[r],
          );
      }
    }
  }
  for (const [i, pred] of compiled) {
    const pgr = pgResults[i]!;
    const raisesSomewhere =
      (!pgr.rejected && pgr.results.some((v) => v !== null && typeof v === 'object')) ||
      records.some((r) => run(() => pred.evaluate(r)).o === 'E');
    if (!raisesSomewhere) continue;
    const params = usesParams[i] ? group.params : {};
    failures.push(...(await checkScan(c, sqls[i]!, pred, records, params, stats.scan)));
  }
  await checkRenderedSql(c, group, renderedSql, pgResults, records, failures, stats);
  return failures;
}

/** A row's fate in a WHERE: returned (T), not returned (X: FALSE or NULL), or an error with its SQLSTATE class. */
type ScanOutcome = 'T' | 'X' | `E${string}`;

export interface ScanStats {
  /** Clauses checked as a table scan, and (clause, record) pairs. */
  clauses: number;
  rows: number;
  /** Rows where the planned evaluation (Predicate.evaluate) disagrees with Postgres's scan. */
  disagree: number;
  /** Rows where evaluating the clause as an expression, left to right (the order before planQuals), would disagree. */
  disagreeExpressionOrder: number;
  /** Clauses with at least one row disagreeing in expression order. */
  clausesDisagreeingBefore: number;
  /** Rows where Postgres scans Predicate.sql (the snapshot query) differently from the clause. */
  renderedDisagree: number;
}

export const emptyScanStats = (): ScanStats => ({
  clauses: 0,
  rows: 0,
  disagree: 0,
  disagreeExpressionOrder: 0,
  clausesDisagreeingBefore: 0,
  renderedDisagree: 0,
});

/**
 * Switchyard's ValueErrors carry no SQLSTATE: they are data exceptions (class 22) except where Postgres words the
 * same failure as feature_not_supported (0A000): NaN or infinity into an integer, a construct not supported.
 */
function ourErrorClass(e: ValueError): string {
  if (e.code === ErrorCode.NotSupported || /^cannot convert (NaN|-?infinity) to /.test(e.message)) return '0A';
  return '22';
}

function scanOutcome(fn: () => boolean | null): { o: ScanOutcome; detail: string } {
  try {
    return { o: fn() === true ? 'T' : 'X', detail: '' };
  } catch (e) {
    if (e instanceof ValueError) return { o: `E${ourErrorClass(e)}`, detail: e.message };
    return { o: 'E', detail: `CRASH ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}` };
  }
}

function pgScanOutcome(v: OracleScanVerdict): ScanOutcome {
  return v === true ? 'T' : v === false ? 'X' : `E${v.sqlstate.slice(0, 2)}`;
}

/**
 * The clause as a shape's WHERE: per record, Postgres's sequential scan (conditions in its planner's order) against
 * Predicate.evaluate and .interpret (planQuals). Also counts how the old left-to-right evaluation would have fared.
 */
export async function checkScan(
  c: Checker,
  clause: string,
  pred: ReturnType<typeof compileWhere>,
  records: readonly Rec[],
  params: Record<string, string>,
  stats: ScanStats,
): Promise<Failure[]> {
  const scan = await c.oracle.evaluateScan(COLUMNS, clause, records, params);
  if (scan === undefined) return [];
  stats.clauses++;
  const failures: Failure[] = [];
  const exprCompiled = compileBool(pred.expr, pred.layout);
  const exprRow = new RowView(pred.layout);
  let before = false;
  for (let r = 0; r < records.length; r++) {
    stats.rows++;
    const want = pgScanOutcome(scan[r]!);
    const got = scanOutcome(() => pred.evaluate(records[r]!));
    const interp = scanOutcome(() => pred.interpret(records[r]!));
    const old = scanOutcome(() => exprCompiled(exprRow.reset(records[r]!)));
    if (old.o !== want) {
      stats.disagreeExpressionOrder++;
      before = true;
    }
    if (got.o === want && interp.o === want) continue;
    stats.disagree++;
    const pgText = typeof scan[r] === 'object' ? ` ${(scan[r] as { error: string }).error}` : '';
    failures.push({
      kind: 'scan verdict differs',
      clause,
      params,
      record: records[r]!,
      expected: `${want}${pgText}`,
      got: `compiled ${got.o} ${got.detail} / interpreted ${interp.o} ${interp.detail}`,
    });
  }
  if (before) stats.clausesDisagreeingBefore++;
  // The snapshot query runs Predicate.sql: Postgres must scan it as it scans the clause (same order, same errors).
  const rendered = await c.oracle.evaluateScan(COLUMNS, pred.sql, records, params);
  for (let r = 0; r < records.length; r++) {
    const want = pgScanOutcome(scan[r]!);
    const got = rendered === undefined ? 'rejected' : pgScanOutcome(rendered[r]!);
    if (got === want) continue;
    stats.renderedDisagree++;
    failures.push({
      kind: 'rendered SQL scans differently',
      clause,
      params,
      record: records[r]!,
      expected: want,
      got: `${got} from ${pred.sql}`,
    });
  }
  return failures;
}

function errorText(v: OracleVerdict): string {
  return typeof v === 'object' && v !== null ? v.error : '';
}

/** A T/F/N-vs-E disagreement is tolerated only when both outcomes are reachable under some AND/OR evaluation order. */
async function orderMayExplain(
  c: Checker,
  tree: BoolTree,
  record: Rec,
  params: Record<string, string>,
  got: Outcome,
  expected: Outcome,
): Promise<boolean> {
  if (got !== 'E' && expected !== 'E') return false;
  if (tree.k === 'atom') return false;
  const list = atoms(tree);
  const outcomes = new Map<string, Outcome>();
  for (const a of list) {
    if (outcomes.has(a)) continue;
    const r = await c.oracle.evaluate(COLUMNS, a, [record], /\$\d/.test(a) ? params : {});
    if (r.rejected) return false;
    outcomes.set(a, outcomeOfVerdict(r.results[0]!));
  }
  const set = reachable(tree, (sql) => outcomes.get(sql)!);
  return set.has(got) && set.has(expected);
}

/** Predicate.sql is what snapshot queries run: Postgres must give it the same verdicts as the original clause. */
async function checkRenderedSql(
  c: Checker,
  group: Group,
  list: readonly { i: number; sql: string }[],
  original: readonly OracleResult[],
  records: readonly Rec[],
  failures: Failure[],
  stats: GroupStats,
): Promise<void> {
  const withParams = list.filter((x) => /\$\d/.test(x.sql));
  const plain = list.filter((x) => !/\$\d/.test(x.sql));
  const results = await c.oracle.evaluateMany(
    COLUMNS,
    plain.map((x) => x.sql),
    records,
  );
  const all: [(typeof list)[number], OracleResult][] = plain.map((x, k) => [x, results[k]!]);
  for (const x of withParams) all.push([x, await c.oracle.evaluate(COLUMNS, x.sql, records, group.params)]);
  for (const [{ i, sql }, res] of all) {
    const clause = renderTree(group.clauses[i]!);
    const orig = original[i]!;
    if (orig.rejected) continue;
    if (res.rejected) {
      failures.push({
        kind: 'rendered SQL rejected',
        clause,
        params: group.params,
        expected: 'accepted',
        got: `${sql} → ${res.sqlstate} ${res.error}`,
      });
      continue;
    }
    for (let r = 0; r < records.length; r++) {
      const want = outcomeOfVerdict(orig.results[r]!);
      const got = outcomeOfVerdict(res.results[r]!);
      if (want === got) continue;
      if (await orderMayExplain(c, group.clauses[i]!, records[r]!, group.params, got, want)) {
        stats.orderTolerated++;
        continue;
      }
      failures.push({
        kind: 'rendered SQL differs',
        clause,
        params: group.params,
        record: records[r]!,
        expected: want,
        got: `${got} ${errorText(res.results[r]!)} from ${sql}`,
      });
    }
  }
}
