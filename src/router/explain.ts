// explain(change, id): which index entries of a shape a row reached, with which probe value and residual verdict.
import { codecFor } from '../values/registry.js';
import type { RowView } from '../eval/row-view.js';
import type { Value } from '../values/types.js';
import type { RouterCore } from './core.js';
import { BoundsIx, Group, ProbeIx, RawEq, type Owner, type TableState } from './table-state.js';
import type { Change, ExplainDisjunct, ExplainRow, Explanation, LaneKind, RowRecord } from './types.js';

export function explainShape(router: RouterCore, s: number, id: string, change: Change): Explanation {
  const rec = router.records.get(s);
  if (rec === undefined) throw new Error('shape record missing');
  const table = rec.table;
  const base = { id, table: table.name, where: rec.where ?? '', indexed: rec.indexed };
  const changeTable = router.lookupTable(change.table);
  if (changeTable !== table) {
    return {
      ...base,
      matched: false,
      reason: `the change is on ${changeTable?.name ?? change.table}, the shape on ${table.name}`,
      rows: [],
    };
  }
  if (change.op === 'truncate')
    return { ...base, matched: true, reason: 'a truncate reaches every shape of its table', rows: [] };
  const rows: ExplainRow[] = [];
  if (change.op === 'delete' || change.op === 'update')
    rows.push(explainRow(router, table, s, rec.entries, 'old', change.oldRecord));
  if (change.op === 'insert' || change.op === 'update')
    rows.push(explainRow(router, table, s, rec.entries, 'new', change.record));
  const matched = rows.some((r) => r.matched);
  const reason = matched
    ? rows.some((r) => r.error !== undefined)
      ? 'a value could not be evaluated: the router fails open'
      : rows.filter((r) => r.matched).length === 2
        ? 'both the old and the new row match'
        : `the ${rows.find((r) => r.matched)?.row ?? ''} row matches`
    : rec.entries.length === 0
      ? 'the clause can never be true'
      : 'no disjunct matches';
  return { ...base, matched, reason, rows };
}

function explainRow(
  router: RouterCore,
  table: TableState,
  s: number,
  entries: readonly number[],
  which: 'new' | 'old',
  record: RowRecord,
): ExplainRow {
  const rec = router.records.get(s);
  const ctx = router.ctx;
  const saved = JSON.stringify(ctx.counters);
  const savedFailure = ctx.lastFailure;
  ctx.lastFailure = undefined;
  const trace = new Set<number>();
  table.trace = trace;
  ctx.begin();
  try {
    table.routeRow(record);
  } finally {
    table.trace = null;
  }
  const matched = ctx.emitted(s);
  // Another shape's expression may have raised too: only a failure that failed this shape open is its error.
  const failure = ctx.emittedFailed(s) ? ctx.lastFailure : undefined;
  ctx.begin();
  Object.assign(ctx.counters, JSON.parse(saved) as object);
  ctx.lastFailure = savedFailure;
  const row = table.row;
  const disjuncts: ExplainDisjunct[] = [];
  const et = ctx.entries;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as number;
    const owner = rec?.owners[i];
    const rid = et.residualOf(e);
    const residual = rid >= 0 ? table.residuals.sqls[rid] : undefined;
    let residualResult: boolean | null | 'error' | undefined;
    if (rid >= 0) {
      try {
        residualResult = (table.residuals.fns[rid] as (r: RowView) => boolean | null)(row);
      } catch {
        residualResult = 'error';
      }
    }
    let probe: string | undefined;
    let probeValue: string | undefined;
    let access = '';
    let accessMatched = true;
    if (owner instanceof RawEq) {
      probe = owner.sql;
      const t = record[owner.column];
      probeValue = t === null || t === undefined ? 'NULL' : t;
      access =
        et.homes[e] === owner.pm
          ? `${owner.sql} ${et.keys[e] === null ? 'IS NULL' : `= '${String(et.keys[e])}'`} (raw text)`
          : `${owner.sql} key (raw text) and sorted bounds (threshold family)`;
      accessMatched = trace.has(e);
    } else if (owner instanceof ProbeIx) {
      probe = owner.sql;
      try {
        const v = owner.probe.compute(row);
        probeValue = v === null ? 'NULL' : formatValue(owner, v);
      } catch (err) {
        probeValue = `error: ${(err as Error).message}`;
      }
      access = `${describeKey(owner, et.homes[e], et.keys[e])} on ${owner.sql}`;
      accessMatched = trace.has(e);
    } else if (owner instanceof BoundsIx) {
      access = 'one-sided bounds decided together (conjunction of ranges)';
      accessMatched = trace.has(e);
    } else if (owner instanceof Group) {
      access = owner === table.always ? 'always (no where clause)' : '';
    }
    const lane = laneOfEntry(table, owner, et.homes[e]);
    const ok = accessMatched && (residualResult === undefined || residualResult === true || residualResult === 'error');
    disjuncts.push({
      lane,
      access,
      ...(probe !== undefined ? { probe } : {}),
      ...(probeValue !== undefined ? { probeValue } : {}),
      accessMatched,
      ...(residual !== undefined ? { residual } : {}),
      ...(residualResult !== undefined ? { residualResult } : {}),
      matched: ok,
    });
  }
  return { row: which, disjuncts, matched, ...(failure !== undefined ? { error: (failure as Error).message } : {}) };
}

function formatValue(p: ProbeIx, v: Value): string {
  try {
    return codecFor(p.type).format(v);
  } catch {
    return String(v);
  }
}

function laneOfEntry(table: TableState, owner: Owner | undefined, home: unknown): LaneKind {
  if (owner instanceof Group) return owner === table.always ? 'always' : 'unindexed';
  if (owner instanceof ProbeIx) {
    if (home === owner.range) return 'range';
    if (home === owner.prefix || home === owner.iprefix) return 'prefix';
    if (owner.incl !== undefined && home !== owner.eq) return 'inclusion';
  }
  return owner?.lane ?? 'unindexed';
}

function describeKey(p: ProbeIx, home: unknown, key: unknown): string {
  if (home !== undefined && home === p.eq) return key === null ? 'IS NULL' : `equality key ${String(key)}`;
  if (p.families.length > 0 && !(home === p.range || home === p.prefix || home === p.iprefix) && p.incl === undefined)
    return 'equality key and sorted bounds (threshold family)';
  if (home !== undefined && home === p.range) return 'range';
  if (home !== undefined && (home === p.prefix || home === p.iprefix))
    return `${home === p.iprefix ? 'ILIKE' : 'LIKE'} prefix '${String(key)}'`;
  if (p.incl !== undefined) {
    if (home === p.incl.elements) return `array element ${String(key)}`;
    if (home === p.incl.within) return `<@ candidate element ${String(key)}`;
    return 'array inclusion';
  }
  return String(key);
}
