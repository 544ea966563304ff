// Exported error classes: each carries an ErrorCode, a message naming the problem, and where known a position.
import { ErrorCode } from './codes.js';

/** Base class of every error Switchyard throws on purpose. */
export class SwitchyardError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SwitchyardError';
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message };
  }
}

/** A where clause was rejected; `position` is a 0-based offset into the clause wherever the error has a place. */
export class WhereError extends SwitchyardError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly position?: number,
    /** Length of the offending text at `position`, for carets; 1 when unknown. */
    readonly length: number = 1,
  ) {
    super(code, message);
    this.name = 'WhereError';
  }

  override toJSON(): Record<string, unknown> {
    return this.position === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, position: this.position };
  }
}

/**
 * A value could not be decoded or an operation failed while evaluating a row (or folding a constant).
 * The router turns it into fail-open; compileWhere turns it into a WhereError when it happens on constants.
 */
export class ValueError extends SwitchyardError {
  constructor(code: ErrorCode, message: string) {
    super(code, message);
    this.name = 'ValueError';
  }
}

/** A router-level misuse: unknown table, duplicate or unknown shape id. */
export class RouterError extends SwitchyardError {
  constructor(code: ErrorCode, message: string) {
    super(code, message);
    this.name = 'RouterError';
  }
}

/** Shorthand constructors for the most common value errors, with Postgres's own wording. */
export const invalidInput = (typeName: string, text: string): ValueError =>
  new ValueError(ErrorCode.InvalidValue, `invalid input syntax for type ${typeName}: "${text}"`);

export const outOfRange = (what = 'integer'): ValueError =>
  new ValueError(ErrorCode.OutOfRange, `${what} out of range`);

export const divisionByZero = (): ValueError => new ValueError(ErrorCode.DivisionByZero, 'division by zero');

/** Renders a one-line caret under `position` of `text` (used by the CLI and HTTP error bodies). */
export function renderCaret(text: string, position: number, length = 1): string {
  const lineStart = text.lastIndexOf('\n', position - 1) + 1;
  const lineEndRaw = text.indexOf('\n', position);
  const lineEnd = lineEndRaw === -1 ? text.length : lineEndRaw;
  const line = text.slice(lineStart, lineEnd);
  const col = [...text.slice(lineStart, position)].length;
  const width = Math.max(1, Math.min(length, lineEnd - position));
  return `${line}\n${' '.repeat(col)}${'^'.repeat(width)}`;
}
