// A deterministic cost meter: arbitrary-precision loops charge work units, an active budget stops them early, a clock caps both.
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
 * The service's default cap on one evaluation of a shape's expression for one row (a router residual or expression
 * key, or the exact re-check of a whole clause): what a compile may spend. Past it the evaluation raises
 * too_expensive and the service invalidates the shape (a clause that costs this much per row would hold every other
 * shape's changes up); Postgres-sized work on ordinary values charges microseconds.
 */
export const DEFAULT_SHAPE_ROW_BUDGET_MS = 50;

/** An evaluation that charges at least this much work (1 nominal ms) counts as slow in the metrics. */
export const SLOW_EVALUATION_UNITS = 1_000_000;

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
/** withWorkBudget calls in progress: a compile, even with an infinite budget, is not a row's evaluation. */
let budgetDepth = 0;
let budgetLabel = '';
let budgetMs = 0;
let rowOperationLimit = DEFAULT_ROW_OPERATION_LIMIT_MS * WORK_UNITS_PER_MS;
/**
 * Off (Infinity) in the library, where numeric functions may be called directly, outside any evaluation scope (their
 * work would add up against the last one's budget); the service sets DEFAULT_SHAPE_ROW_BUDGET_MS unless told otherwise.
 */
let shapeRowBudget = Infinity;

/**
 * `total`: every unit charged since the process started, compile and row evaluation alike. Read it before and after
 * an evaluation to attribute that evaluation's metered work (the router does, per residual and probe): an object
 * field, so a reader pays one load. `evaluationStart`: `total` when the current evaluation began.
 */
export const workMeter = { total: 0, evaluationStart: 0 };

/**
 * The real-time safety net. Work units are the rule, but they are only as good as their calibration (a unit is
 * meant to be a nanosecond; some loops run slower, and BigInt ↔ digit conversions are not all metered), so the
 * clock is read too: once per CLOCK_CHECK_UNITS units charged (a step that large is checked before it runs). The
 * work stops when the time it has held the thread, plus the step about to run at PROJECTED_NS_PER_UNIT, passes
 * the cap. "Held the thread" is the smaller of wall and process CPU time since the scope began, as the event-loop
 * test measures a stall: a loaded machine that deschedules us grows only the first, GC helper threads only the
 * second; the CPU time is read (one getrusage) only once the wall time alone would pass the cap.
 *
 * A compile's cap is COMPILE_CAP_FACTOR × its budget, timed from the budget's start, and bites once the compile
 * has charged CAP_MIN_UNITS_SHARE of its budget; one evaluation (everything charged between two `beginEvaluation`
 * calls: RowView.reset calls it per row, the router per residual and expression key) is capped alike at
 * COMPILE_CAP_FACTOR × the shape row budget, and never above the row operation limit, in real ms (same share),
 * timed from its first clock check (no clock read for evaluations with little work). Work charged outside both (a
 * numeric function called directly) counts towards the last evaluation's scope.
 */
export const CLOCK_CHECK_UNITS = 100_000;
/**
 * 1.8: the default 50 ms budget gets a 90 ms cap, under the 100 ms any one request may hold the event loop, while
 * clauses the units accept but whose unmetered parts run slow (`9.99 ^ 12000`: 10 ms of units, 13–80 ms of CPU on
 * this shared machine) still pass.
 */
export const COMPILE_CAP_FACTOR = 1.8;
/** Real ns per unit assumed for a step about to run: the slowest metered loops measured run about 2–3 ns a unit. */
const PROJECTED_NS_PER_UNIT = 2;

/**
 * The cap bites only once a scope has charged this share of its units (its budget, or for a row the row operation
 * limit): it is there to bound metered work whose units under-count its time. A scope that has used little of its
 * units spends its time in unmetered work (BigInt conversions, rendering a 100,000-digit literal: `10::numeric ^
 * 100000` charges 0.1 ms and takes 30–65 ms here, more while the JIT is cold), which no check can interrupt
 * anyway; refusing it would only make a cheap clause's verdict depend on the machine's load.
 */
export const CAP_MIN_UNITS_SHARE = 0.25;

/**
 * The active scope: its cap in real ms, the units it must charge before the cap bites, the units charged, when its
 * clocks started (wall −1: not yet), units since the last check.
 */
const scope = { capMs: Infinity, minUnits: 0, units: 0, wall: -1, cpu: 0, sinceCheck: 0 };
let rowScopeFresh = false;

/**
 * Starts a new evaluation scope (a row, or one expression's evaluation for it): work charged from now on counts
 * towards its shape row budget and its wall-clock cap. O(1) and no clock read, since it runs for every row and
 * expression; the clock starts at the scope's first check.
 */
export function beginEvaluation(): void {
  rowScopeFresh = true;
  workMeter.evaluationStart = workMeter.total;
}

/** True for the error an evaluation raises when it runs out of its shape row budget (or its real-time cap). */
export function isTooExpensive(err: unknown): boolean {
  return err instanceof SwitchyardError && err.code === ErrorCode.TooExpensive;
}

/**
 * Charges `units` of work. Inside a budget (withWorkBudget) the budget shrinks and TooExpensiveError is thrown
 * when it is spent; outside one (row evaluation), a single operation above the row limit raises a ValueError
 * with code too_expensive, which callers treat like any other evaluation error of the row. Either way the
 * wall-clock cap of the scope applies (see CLOCK_CHECK_UNITS).
 */
export function chargeWork(units: number): void {
  workMeter.total += units;
  if (remaining !== Infinity) {
    remaining -= units;
    if (remaining < 0) throw new TooExpensiveError(`${budgetLabel} exceeds its work budget of ${budgetMs} ms`);
    if (overClock(units))
      throw new TooExpensiveError(
        `${budgetLabel} exceeds its work budget of ${budgetMs} ms (stopped by its real-time cap of ${Math.round(scope.capMs * 10) / 10} ms)`,
      );
    return;
  }
  if (units > rowOperationLimit) {
    workMeter.total -= units; // refused before it ran: the meter counts work done
    throw new ValueError(
      ErrorCode.TooExpensive,
      `numeric computation too expensive for one row (over ${rowOperationLimit / WORK_UNITS_PER_MS} ms of work in one step)`,
    );
  }
  // Checked before the step runs (its units are charged ahead), so an evaluation never overshoots by a step.
  if (budgetDepth === 0 && workMeter.total - workMeter.evaluationStart > shapeRowBudget) {
    workMeter.total -= units;
    throw new ValueError(
      ErrorCode.TooExpensive,
      `evaluating the clause for one row exceeds the shape row budget of ${shapeRowBudget / WORK_UNITS_PER_MS} ms of work`,
    );
  }
  // Inside a compile with no budget (withWorkBudget(Infinity)) the compile's own scope stays.
  if (rowScopeFresh && budgetDepth === 0) {
    rowScopeFresh = false;
    const capMs = Math.min(
      rowOperationLimit / WORK_UNITS_PER_MS,
      (shapeRowBudget / WORK_UNITS_PER_MS) * COMPILE_CAP_FACTOR,
    );
    startScope(capMs, Math.min(rowOperationLimit, shapeRowBudget));
  }
  if (overClock(units)) {
    workMeter.total -= units;
    throw new ValueError(
      ErrorCode.TooExpensive,
      `numeric computation too expensive for one row (over ${Math.round(scope.capMs * 10) / 10} ms of real time)`,
    );
  }
}

/**
 * Starts a scope capped at `capMs` of real time once it has charged CAP_MIN_UNITS_SHARE of `units`; `now`: start its
 * clocks now, else at its first check.
 */
function startScope(capMs: number, units: number, now = false): void {
  scope.capMs = capMs;
  scope.minUnits = units * CAP_MIN_UNITS_SHARE;
  scope.units = 0;
  scope.wall = now ? performance.now() : -1;
  // The CPU clock is a system call (~25 µs under load) that most compiles would pay for nothing: its baseline is
  // taken at the first clock check instead, counting the time before it as all CPU (stops no later than exact).
  scope.cpu = NaN;
  scope.sinceCheck = 0;
}

/**
 * Counts `units` (charged for a step about to run) in the scope; every CLOCK_CHECK_UNITS, reads the clock: true when
 * the time held so far plus this step's projected time passes the cap.
 */
function overClock(units: number): boolean {
  const sc = scope;
  sc.units += units;
  sc.sinceCheck += units;
  if (sc.sinceCheck < CLOCK_CHECK_UNITS || sc.capMs === Infinity) return false;
  sc.sinceCheck = 0;
  const now = performance.now();
  if (sc.wall < 0) {
    sc.wall = now;
    sc.cpu = cpuMs();
    return false;
  }
  if (Number.isNaN(sc.cpu)) sc.cpu = cpuMs() - (now - sc.wall);
  if (sc.units < sc.minUnits) return false;
  const ahead = (units * PROJECTED_NS_PER_UNIT) / 1e6;
  const wall = now - sc.wall;
  if (wall + ahead <= sc.capMs) return false;
  return Math.min(wall, cpuMs() - sc.cpu) + ahead > sc.capMs;
}

/** CPU time of the process (user + system), in ms. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
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
  const savedScope = { ...scope };
  const units = ms * WORK_UNITS_PER_MS;
  // Budgets nest: an inner one never extends the outer.
  if (units < remaining) {
    remaining = units;
    budgetLabel = what;
    budgetMs = ms;
    startScope(ms * COMPILE_CAP_FACTOR, units, true);
  } else if (remaining === Infinity) {
    // No budget at all: only the row operation limit's cap, timed from now (not the last row's scope).
    startScope(rowOperationLimit / WORK_UNITS_PER_MS, rowOperationLimit, true);
  }
  budgetDepth++;
  try {
    return fn();
  } finally {
    budgetDepth--;
    ({ remaining, budgetLabel, budgetMs } = saved);
    Object.assign(scope, savedScope);
  }
}

/** The current shape row budget: work one evaluation of a shape's expression may charge for one row, nominal ms. */
export function shapeRowBudgetMs(): number {
  return shapeRowBudget / WORK_UNITS_PER_MS;
}

/** Sets the shape row budget (nominal ms; Infinity disables it). Returns the previous value. */
export function setShapeRowBudgetMs(ms: number): number {
  if (!(ms > 0)) throw new RangeError(`shape row budget must be a positive number of ms, got ${String(ms)}`);
  const prev = shapeRowBudget / WORK_UNITS_PER_MS;
  shapeRowBudget = ms * WORK_UNITS_PER_MS;
  return prev;
}

/** Sets the per-operation cap for row evaluation (nominal ms; Infinity disables it). Returns the previous value. */
export function setRowOperationLimitMs(ms: number): number {
  if (!(ms > 0)) throw new RangeError(`row operation limit must be a positive number of ms, got ${String(ms)}`);
  const prev = rowOperationLimit / WORK_UNITS_PER_MS;
  rowOperationLimit = ms * WORK_UNITS_PER_MS;
  return prev;
}
