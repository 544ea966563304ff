// A deterministic cost meter: arbitrary-precision loops charge work units, and an active budget stops them early.
import { ErrorCode, SwitchyardError, ValueError } from '../errors/index.js';

/**
 * Work is counted, not timed, so that a clause is accepted or rejected the same way on every run, on every
 * machine and after a restart. One unit is about one digit-by-digit multiply-add (roughly a nanosecond on a
 * current core); budgets are given in milliseconds of that nominal speed.
 */
export const WORK_UNITS_PER_MS = 1_000_000;

/** Default compile budget: constant folding that Postgres itself finishes in a few milliseconds fits easily. */
export const DEFAULT_COMPILE_BUDGET_MS = 50;

/**
 * Default cap on one operation while evaluating a row (outside any compile budget): 2 s nominal. Postgres-sized
 * work (`9.99 ^ 100000` on a column value is under a second) passes; only operations beyond that raise.
 */
export const DEFAULT_ROW_OPERATION_LIMIT_MS = 2000;

/**
 * Raised when an active budget runs out. Not a ValueError on purpose: constant folding turns value errors into a
 * rejected clause ("constant_error"), while running out of budget is about our cost, not the clause's meaning.
 */
export class TooExpensiveError extends SwitchyardError {
  constructor(message: string) {
    super(ErrorCode.TooExpensive, message);
    this.name = 'TooExpensiveError';
  }
}

let remaining = Infinity;
let budgetLabel = '';
let budgetMs = 0;
let rowOperationLimit = DEFAULT_ROW_OPERATION_LIMIT_MS * WORK_UNITS_PER_MS;

/**
 * Charges `units` of work. Inside a budget (withWorkBudget) the budget shrinks and TooExpensiveError is thrown
 * when it is spent; outside one (row evaluation), a single operation above the row limit raises a ValueError
 * with code too_expensive, which callers treat like any other evaluation error of the row.
 */
export function chargeWork(units: number): void {
  if (remaining !== Infinity) {
    remaining -= units;
    if (remaining < 0) throw new TooExpensiveError(`${budgetLabel} exceeds its work budget of ${budgetMs} ms`);
    return;
  }
  if (units > rowOperationLimit) {
    throw new ValueError(
      ErrorCode.TooExpensive,
      `numeric computation too expensive for one row (over ${rowOperationLimit / WORK_UNITS_PER_MS} ms of work in one step)`,
    );
  }
}

let compileBudgetDefault = DEFAULT_COMPILE_BUDGET_MS;

/** The compile budget compileWhere uses when its caller gives none (the service sets it from its configuration). */
export function defaultCompileBudgetMs(): number {
  return compileBudgetDefault;
}

/** Sets the process-wide default compile budget (nominal ms; Infinity disables it). */
export function setDefaultCompileBudgetMs(ms: number): void {
  if (!(ms > 0)) throw new RangeError(`compile budget must be a positive number of ms, got ${String(ms)}`);
  compileBudgetDefault = ms;
}

/** The current per-operation cap of row evaluation, in nominal ms. */
export function rowOperationLimitMs(): number {
  return rowOperationLimit / WORK_UNITS_PER_MS;
}

/** Runs `fn` with a budget of `ms` nominal milliseconds of metered work; `what` names the work in the error. */
export function withWorkBudget<T>(ms: number, what: string, fn: () => T): T {
  if (!(ms >= 0)) throw new RangeError(`work budget must be a non-negative number of ms, got ${String(ms)}`);
  const saved = { remaining, budgetLabel, budgetMs };
  const units = ms * WORK_UNITS_PER_MS;
  // Budgets nest: an inner one never extends the outer.
  if (units < remaining) {
    remaining = units;
    budgetLabel = what;
    budgetMs = ms;
  }
  try {
    return fn();
  } finally {
    ({ remaining, budgetLabel, budgetMs } = saved);
  }
}

/** Sets the per-operation cap for row evaluation (nominal ms; Infinity disables it). Returns the previous value. */
export function setRowOperationLimitMs(ms: number): number {
  if (!(ms > 0)) throw new RangeError(`row operation limit must be a positive number of ms, got ${String(ms)}`);
  const prev = rowOperationLimit / WORK_UNITS_PER_MS;
  rowOperationLimit = ms * WORK_UNITS_PER_MS;
  return prev;
}
