// Runs the real Postgres 15 grammar (libpg-query) on a clause and returns its raw WHERE node with position mapping.
import { loadModule, parseSync } from 'libpg-query';
import { ErrorCode, WhereError } from '../errors/index.js';
import { extraClausePosition } from './extra-clause.js';

/** Loaded once per process (and per worker thread): the WASM parser must be initialised before parseSync. */
await loadModule();

export const MAX_CLAUSE_BYTES = 65_536;
const PREFIX = 'SELECT 1 FROM t WHERE ';
const ALLOWED_SELECT_KEYS = new Set(['targetList', 'fromClause', 'whereClause', 'limitOption', 'op']);

/** A raw parse-tree node as libpg-query emits it: `{ NodeType: { …fields } }`. */
export type RawNode = Record<string, unknown>;

export interface ParsedClause {
  readonly where: RawNode;
  /** Maps a Postgres location (byte offset into the wrapped query) to an offset into the clause string. */
  readonly position: (location: number) => number;
}

/** Clauses up to this size are remembered parsed (shapes of one family repeat one text with other parameters). */
const CACHED_CLAUSE_BYTES = 2_048;
/** Parsed clauses remembered at most (least recently used dropped): at most ~10 MB of frozen trees. */
const CACHED_CLAUSES = 512;
const parsedClauses = new Map<string, ParsedClause>();

/**
 * Parses `clause` as exactly one boolean expression, rejecting smuggled statements and trailing clauses. Results
 * of short clauses are remembered: the tree is deeply frozen, so a consumer that tried to change a shared tree
 * would throw rather than corrupt another shape's clause.
 */
export function parseClause(clause: string): ParsedClause {
  const hit = parsedClauses.get(clause);
  if (hit !== undefined) {
    parsedClauses.delete(clause);
    parsedClauses.set(clause, hit);
    return hit;
  }
  const parsed = parseUncached(clause);
  if (clause.length <= CACHED_CLAUSE_BYTES) {
    deepFreeze(parsed.where);
    if (parsedClauses.size >= CACHED_CLAUSES) parsedClauses.delete(parsedClauses.keys().next().value as string);
    parsedClauses.set(clause, parsed);
  }
  return parsed;
}

function deepFreeze(node: unknown): void {
  if (node === null || typeof node !== 'object' || Object.isFrozen(node)) return;
  Object.freeze(node);
  for (const v of Object.values(node)) deepFreeze(v);
}

function parseUncached(clause: string): ParsedClause {
  const bytes = Buffer.byteLength(clause, 'utf8');
  if (bytes > MAX_CLAUSE_BYTES) {
    throw new WhereError(ErrorCode.TooLarge, `where clause exceeds ${MAX_CLAUSE_BYTES} bytes (it has ${bytes})`);
  }
  const position = makePositionMapper(clause);
  if (clause.trim() === '') {
    throw new WhereError(ErrorCode.Syntax, 'where clause is empty', 0);
  }
  let tree: { stmts?: { stmt: RawNode }[] };
  try {
    tree = parseSync(PREFIX + clause) as typeof tree;
  } catch (e) {
    const err = e as { message?: string; sqlDetails?: { cursorPosition?: number } };
    const cursor = err.sqlDetails?.cursorPosition;
    const pos = typeof cursor === 'number' ? codePointIndex(clause, cursor - PREFIX.length) : undefined;
    let message = err.message ?? 'syntax error';
    if (/at end of input/.test(message)) message = message.replace('at end of input', 'at end of where clause');
    if (/memory exhausted|stack depth limit exceeded/.test(message)) {
      // The grammar's own stack ran out: that is nesting, not a typo.
      throw new WhereError(
        ErrorCode.TooLarge,
        `where clause nests too deeply for the Postgres parser (${message})`,
        pos,
      );
    }
    throw new WhereError(ErrorCode.Syntax, message, pos);
  }
  const stmts = tree.stmts ?? [];
  const select = stmts.length === 1 ? (stmts[0]?.stmt['SelectStmt'] as RawNode | undefined) : undefined;
  const extraKeys = select ? Object.keys(select).filter((k) => !ALLOWED_SELECT_KEYS.has(k)) : [];
  if (!select || extraKeys.length > 0 || select['whereClause'] === undefined || select['op'] !== 'SETOP_NONE') {
    const setOp = typeof select?.['op'] === 'string' && select['op'] !== 'SETOP_NONE' ? select['op'].slice(6) : '';
    const found =
      setOp !== ''
        ? setOp
        : extraKeys.length > 0
          ? extraKeys.map(describeKey).join(', ')
          : stmts.length > 1
            ? '";"'
            : '';
    const at = extraClausePosition(clause);
    throw new WhereError(
      ErrorCode.ExtraClause,
      'malformed where clause: only a boolean expression is allowed' + (found !== '' ? ` (found ${found})` : ''),
      at?.start,
      at?.length,
    );
  }
  return { where: select['whereClause'] as RawNode, position };
}

function describeKey(key: string): string {
  const names: Record<string, string> = {
    sortClause: 'ORDER BY',
    limitCount: 'LIMIT',
    limitOffset: 'OFFSET',
    groupClause: 'GROUP BY',
    havingClause: 'HAVING',
    windowClause: 'WINDOW',
    lockingClause: 'FOR UPDATE/SHARE',
    withClause: 'WITH',
    distinctClause: 'DISTINCT',
    intoClause: 'INTO',
    valuesLists: 'VALUES',
  };
  return names[key] ?? key;
}

/** Postgres reports byte offsets into the wrapped UTF-8 query; callers want UTF-16 offsets into the clause. */
/**
 * The string index of the `n`-th character (code point) of `clause`, clamped to it. The parser's error cursor counts
 * characters, unlike node locations, which count bytes.
 */
function codePointIndex(clause: string, n: number): number {
  let i = 0;
  for (let k = 0; k < n && i < clause.length; k++) i += clause.codePointAt(i)! >= 0x10000 ? 2 : 1;
  return Math.min(i, clause.length);
}

function makePositionMapper(clause: string): (location: number) => number {
  // eslint-disable-next-line no-control-regex -- the ASCII range starts at NUL by definition
  const ascii = !/[^\x00-\x7f]/.test(clause);
  if (ascii) return (loc) => (loc < 0 ? 0 : Math.max(0, loc - PREFIX.length));
  const byteToChar = new Map<number, number>();
  let byte = 0;
  for (let i = 0; i < clause.length; i++) {
    byteToChar.set(byte, i);
    const cp = clause.codePointAt(i) as number;
    byte += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (cp >= 0x10000) i++;
  }
  byteToChar.set(byte, clause.length);
  return (loc) => {
    if (loc < 0) return 0;
    let b = loc - PREFIX.length;
    while (b > 0 && !byteToChar.has(b)) b--;
    return byteToChar.get(Math.max(0, b)) ?? 0;
  };
}
