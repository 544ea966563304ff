// Splits a normalised clause into disjuncts (bounded DNF) and picks one access atom per disjunct; the rest is residual.
import type { Expr } from '../sql/ast.js';
import { andOf, classify, type Access, type AtomPolicy, type RangeAccess } from './atoms.js';
import { renderSql } from '../sql/render.js';

/** Beyond this many disjuncts an OR is kept whole, as one residual conjunct, instead of being distributed. */
export const MAX_DISJUNCTS = 128;

export interface DisjunctPlan {
  /** null: no indexable conjunct — the disjunct goes to the table's unindexed lane (or `always` if it is TRUE). */
  readonly access: Access | null;
  /** Conjuncts the access does not decide, ANDed; null when the access alone decides the disjunct. */
  readonly residual: Expr | null;
}

export interface ShapePlan {
  readonly disjuncts: readonly DisjunctPlan[];
}

/** Disjunctive normal form with a size bound: a list of conjunct lists; [] is FALSE, [[]] is TRUE. */
export function toDnf(e: Expr): Expr[][] {
  switch (e.kind) {
    case 'const':
      if (e.value === true) return [[]];
      if (e.value === false || e.value === null) return [];
      return [[e]];
    case 'or': {
      const out: Expr[][] = [];
      for (const a of e.args) {
        out.push(...toDnf(a));
        if (out.length > MAX_DISJUNCTS) return [[e]];
      }
      return out;
    }
    case 'and': {
      let acc: Expr[][] = [[]];
      for (const a of e.args) {
        const d = toDnf(a);
        if (d.length === 0) return [];
        if (acc.length * d.length > MAX_DISJUNCTS) {
          for (const c of acc) c.push(a);
          continue;
        }
        const next: Expr[][] = [];
        for (const c of acc) for (const x of d) next.push([...c, ...x]);
        acc = next;
      }
      return acc;
    }
    default:
      return [[e]];
  }
}

/** Lower score is better: equality beats prefix beats inclusion beats range, and fewer postings beat more. */
export type Scorer = (a: Access) => number;

/**
 * Plans a clause: per disjunct the best-scoring access. `filter` mode (Electric's design) has a narrower policy
 * (equality and inclusion on plain columns) and sends the whole clause to the unindexed lane unless every disjunct
 * has an access.
 */
export function planClause(expr: Expr, policy: AtomPolicy, scorer: Scorer, mode: 'indexed' | 'filter'): ShapePlan {
  const dnf = toDnf(expr);
  const disjuncts: DisjunctPlan[] = [];
  for (const conj of dnf) {
    const plan = planDisjunct(conj, policy, scorer);
    if (plan !== 'never') disjuncts.push(plan);
  }
  if (mode === 'filter' && disjuncts.some((d) => d.access === null) && disjuncts.length > 0) {
    return { disjuncts: [{ access: null, residual: expr }] };
  }
  return { disjuncts };
}

function planDisjunct(conj: readonly Expr[], policy: AtomPolicy, scorer: Scorer): DisjunctPlan | 'never' {
  if (conj.length === 0) return { access: null, residual: null };
  const candidates: Access[] = [];
  for (const atom of conj) {
    const c = classify(atom, policy);
    if (c === null) continue;
    if (c.kind === 'never') return 'never';
    candidates.push(c);
  }
  mergeRanges(candidates);
  // Both modes pick by live statistics: Electric's nested condition tree reaches the rarer key's shapes after two
  // lookups, which a flat index matches by posting under the rarer key (hot-key tenants would otherwise be linear).
  let best: Access | null = null;
  let bestScore = Infinity;
  for (const c of candidates) {
    const s = scorer(c);
    if (s < bestScore) {
      bestScore = s;
      best = c;
    }
  }
  if (best === null) return { access: null, residual: andOf(conj) };
  if (best.kind === 'eq' && best.exact) best = withThreshold(best, candidates, scorer);
  else if (best.kind === 'range' && best.exact) best = withMoreRanges(best, candidates);
  const rest = best.exact ? conj.filter((a) => !best.consumed.includes(a)) : conj;
  return { access: best, residual: rest.length === 0 ? null : andOf(rest) };
}

/**
 * An exact equality access plus the best exact range on another probe: the shapes of one key then sit in sorted
 * bound arrays under it, and a row reaches exactly those whose bound it passes (no residual per shape).
 */
function withThreshold(eq: Extract<Access, { kind: 'eq' }>, cands: readonly Access[], scorer: Scorer): Access {
  let then: RangeAccess | undefined;
  let thenScore = Infinity;
  for (const c of cands) {
    if (c.kind !== 'range' || !c.exact) continue;
    const s = scorer(c);
    if (s < thenScore) {
      thenScore = s;
      then = c;
    }
  }
  if (then === undefined) return eq;
  const withThen = { ...eq, then, consumed: [...eq.consumed, ...then.consumed] };
  if (then.lo !== undefined && then.hi !== undefined) return withThen;
  // A second one-sided bound on another probe: the key's pairs decide both (no residual per candidate).
  const sql = renderSql(then.probe);
  let then2: RangeAccess | undefined;
  let score2 = Infinity;
  for (const c of cands) {
    if (c.kind !== 'range' || !c.exact || (c.lo !== undefined && c.hi !== undefined)) continue;
    if (renderSql(c.probe) === sql) continue;
    const s = scorer(c);
    if (s < score2) {
      score2 = s;
      then2 = c;
    }
  }
  if (then2 === undefined) return withThen;
  return { ...withThen, then2, consumed: [...withThen.consumed, ...then2.consumed] };
}

/** Most further ranges one structure of bounds decides with its access (each costs a comparison per candidate). */
const MAX_MORE = 4;

/** A range access plus the other exact ranges of the conjunction (atoms it does not already stand for). */
function withMoreRanges(r: RangeAccess, cands: readonly Access[]): Access {
  const taken = new Set<Expr>(r.consumed);
  const more: RangeAccess[] = [];
  // Two-sided candidates first: they stand for both of their one-sided atoms.
  const ranges = cands.filter((c): c is RangeAccess => c.kind === 'range' && c.exact);
  ranges.sort((a, b) => b.consumed.length - a.consumed.length);
  for (const c of ranges) {
    if (more.length >= MAX_MORE || c.consumed.some((a) => taken.has(a))) continue;
    for (const a of c.consumed) taken.add(a);
    more.push(c);
  }
  if (more.length === 0) return r;
  return { ...r, more, consumed: [...taken] };
}

/** Pairs a lower and an upper threshold on the same probe into one two-sided range (BETWEEN, `a < x AND x < b`). */
function mergeRanges(cands: Access[]): void {
  const lowers = new Map<string, number>();
  for (let i = 0; i < cands.length; i++) {
    const c = cands[i] as Access;
    if (c.kind !== 'range' || c.hi !== undefined) continue;
    const k = renderSql(c.probe);
    if (!lowers.has(k)) lowers.set(k, i);
  }
  if (lowers.size === 0) return;
  for (let i = 0; i < cands.length; i++) {
    const c = cands[i] as Access;
    if (c.kind !== 'range' || c.lo !== undefined) continue;
    const li = lowers.get(renderSql(c.probe));
    if (li === undefined) continue;
    const lo = cands[li] as Extract<Access, { kind: 'range' }>;
    if (lo.keyType !== c.keyType) continue;
    cands.push({ ...lo, hi: c.hi, hiIncl: c.hiIncl, consumed: [...lo.consumed, ...c.consumed] });
    lowers.delete(renderSql(c.probe));
  }
}
