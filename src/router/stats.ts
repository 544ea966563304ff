// stats(): shapes per lane, distinct keys and entries per index, an estimate of heap bytes, and the counters.
import type { RouterCore } from './core.js';
import type { IndexStats, LaneKind, RouterStats, RoutingSummary } from './types.js';

/** A count per lane, all zero. */
export function emptyLanes(): Record<LaneKind, number> {
  return { equality: 0, expression: 0, range: 0, prefix: 0, inclusion: 0, always: 0, unindexed: 0 };
}

/** Rough per-shape overhead outside the indexes: interned id, record object, entry and owner arrays. */
const SHAPE_OVERHEAD = 150;

export function collectStats(router: RouterCore): RouterStats {
  const indexes: IndexStats[] = [];
  let bytes = router.ctx.entries.bytes + router.shapeCount * SHAPE_OVERHEAD;
  let residuals = 0;
  for (const t of router.tables.values()) {
    residuals += t.residuals.live;
    for (const ix of t.rawEqs) {
      indexes.push({ table: t.name, kind: 'equality', probe: ix.sql, keys: ix.pm.keyCount, entries: ix.pm.size });
      bytes += ix.pm.bytes + ix.pm.keyCount * 24;
      for (const f of ix.families) bytes += f.parts.bytes;
    }
    for (const p of t.probes) {
      for (const f of p.families) bytes += f.parts.bytes;
      if (p.eq) {
        indexes.push({ table: t.name, kind: p.lane, probe: p.sql, keys: p.eq.keyCount, entries: p.eq.size });
        bytes += p.eq.bytes + p.eq.keyCount * 24;
      }
      if (p.range) {
        indexes.push({ table: t.name, kind: 'range', probe: p.sql, keys: p.range.size, entries: p.range.size });
        bytes += p.range.bytes;
      }
      for (const px of [p.prefix, p.iprefix]) {
        if (px === undefined) continue;
        indexes.push({ table: t.name, kind: 'prefix', probe: p.sql, keys: px.keyCount, entries: px.size });
        bytes += px.bytes;
      }
      if (p.incl) {
        indexes.push({ table: t.name, kind: 'inclusion', probe: p.sql, keys: p.incl.keyCount, entries: p.incl.size });
        bytes += p.incl.bytes;
      }
    }
    for (const b of t.boundsIxs) {
      const probe = b.sql.split('\u0000').join(' ').split('\u0001').join(', ');
      indexes.push({ table: t.name, kind: 'range', probe, keys: b.pairs.size, entries: b.pairs.size });
      bytes += b.pairs.bytes;
    }
    let entries = 0;
    for (const g of t.groups) {
      entries += g.posting.length;
      bytes += g.posting.bytes + 200;
    }
    if (t.groups.length > 0)
      indexes.push({ table: t.name, kind: 'unindexed', probe: '', keys: t.groups.length, entries });
    if (t.always.posting.length > 0)
      indexes.push({ table: t.name, kind: 'always', probe: '', keys: 1, entries: t.always.posting.length });
  }
  const c = router.ctx.counters;
  const failure = router.ctx.lastFailure;
  return {
    mode: router.mode,
    shapes: router.shapeCount,
    lanes: { ...router.laneCounts },
    entries: router.ctx.entries.size,
    residuals,
    indexes,
    estimatedBytes: bytes + residuals * 400,
    counters: { ...c, matches: [...c.matches] },
    ...(failure !== undefined
      ? {
          lastFailure: failure instanceof Error ? failure.message : String(failure),
          lastFailureKind: failure instanceof Error ? failure.name : typeof failure,
        }
      : {}),
  };
}

/** The metrics view: shapes, lanes, fail-open counts and memory, without walking the indexes twice. */
export function summarize(router: RouterCore): RoutingSummary {
  const s = collectStats(router);
  return {
    shapes: s.shapes,
    lanes: s.lanes,
    failOpen: s.counters.failOpen,
    failedOpenIds: s.counters.failedOpenIds,
    evaluationWork: s.counters.evaluationWork,
    slowEvaluations: s.counters.slowEvaluations,
    estimatedBytes: s.estimatedBytes,
  };
}
