// A cooperative cost meter: arbitrary-precision loops charge work units, and an active budget stops them early.
import { ErrorCode, SwitchyardError } from '../errors/index.js';

/**
 * Raised when an active work budget runs out. It is not a ValueError on purpose: constant folding turns value
 * errors into a rejected clause, but running out of budget is about our cost, not the clause's meaning.
 */
export class TooExpensiveError extends SwitchyardError {
  constructor(message: string) {
    super(ErrorCode.TooExpensive, message);
    this.name = 'TooExpensiveError';
  }
}

/** Rough cost of one work unit (one digit-by-digit multiply-add), used to refuse an operation before it starts. */
const NS_PER_UNIT = 1.5;
/** Units between clock reads, so that metering cheap operations costs nothing measurable. */
const CHECK_EVERY = 200_000;

let deadline = Infinity;
let label = '';
let sinceCheck = 0;

/** Charges `units` of work to the active budget (a no-op without one); throws TooExpensiveError past the deadline. */
export function chargeWork(units: number): void {
  if (deadline === Infinity) return;
  sinceCheck += units;
  if (sinceCheck < CHECK_EVERY) return;
  sinceCheck = 0;
  const now = performance.now();
  // Predict as well as check: one long multiplication must not overrun the budget by seconds.
  if (now > deadline || now + (units * NS_PER_UNIT) / 1e6 > deadline) {
    throw new TooExpensiveError(`${label} exceeds its time budget`);
  }
}

/**
 * Runs `fn` with a budget of `ms` milliseconds for the metered work inside it (`what` names the work in the
 * error). Budgets nest: the inner one never extends the outer deadline.
 */
export function withWorkBudget<T>(ms: number, what: string, fn: () => T): T {
  const savedDeadline = deadline;
  const savedLabel = label;
  const savedSince = sinceCheck;
  deadline = Math.min(savedDeadline, performance.now() + ms);
  label = savedDeadline === deadline ? savedLabel : what;
  sinceCheck = 0;
  try {
    return fn();
  } finally {
    deadline = savedDeadline;
    label = savedLabel;
    sinceCheck = savedSince;
  }
}
