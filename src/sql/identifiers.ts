// Column references and table names: Postgres identifier folding, the 63-byte limit, qualifiers, did-you-mean.
import { ErrorCode, RouterError } from '../errors/index.js';
import type { ColumnExpr } from './ast.js';
import type { AnalyzeContext } from './context.js';
import type { RawNode } from './parse.js';
import { didYouMean } from './suggest.js';

// Column hints are part of identifier handling; the distance itself lives in suggest.ts (shared with type names).
export { didYouMean };

export const MAX_IDENTIFIER_BYTES = 63;

/** One identifier token read from source text: quoted (exact, `""` → `"`) or unquoted (ASCII folded to lower). */
export function readIdentifier(src: string, at: number): { name: string; end: number; quoted: boolean } | undefined {
  if (src[at] === '"') {
    let i = at + 1;
    let name = '';
    while (i < src.length) {
      if (src[i] === '"') {
        if (src[i + 1] === '"') {
          name += '"';
          i += 2;
          continue;
        }
        return { name, end: i + 1, quoted: true };
      }
      name += src[i];
      i++;
    }
    return undefined;
  }
  const m = /^[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*/.exec(src.slice(at));
  return m
    ? { name: m[0].replace(/[A-Z]+/g, (s) => s.toLowerCase()), end: at + m[0].length, quoted: false }
    : undefined;
}

/** The identifiers of a dotted reference as written in the source, starting at `at` (the parser truncates them). */
function readDotted(src: string, at: number): { parts: string[]; end: number } {
  const parts: string[] = [];
  let i = at;
  for (;;) {
    const id = readIdentifier(src, i);
    if (!id) break;
    parts.push(id.name);
    i = id.end;
    const m = /^\s*\.\s*/.exec(src.slice(i));
    if (!m) break;
    i += m[0].length;
  }
  return { parts, end: i };
}

export function columnRef(ctx: AnalyzeContext, n: RawNode): ColumnExpr {
  const fields = n['fields'] as RawNode[];
  const start = ctx.span(n['location']).start;
  if (fields.some((f) => 'A_Star' in f)) {
    ctx.fail(ErrorCode.NotSupported, '"*" is not supported in where clauses', { start, end: start + 1 });
  }
  const parsed = fields.map((f) => (f['String'] as { sval: string }).sval);
  const src = readDotted(ctx.clause, start);
  const parts = src.parts.length === parsed.length ? src.parts : parsed;
  const span = { start, end: src.parts.length === parsed.length ? src.end : start + 1 };
  for (const p of parts) {
    if (Buffer.byteLength(p, 'utf8') > MAX_IDENTIFIER_BYTES) {
      ctx.fail(
        ErrorCode.IdentifierTooLong,
        `identifier "${p.slice(0, 20)}…" exceeds ${MAX_IDENTIFIER_BYTES} bytes`,
        span,
      );
    }
  }
  const name = parts[parts.length - 1] as string;
  if (parts.length > 1) {
    const table = ctx.opts.table;
    const qual = parts.slice(0, -1);
    const ok =
      table !== undefined &&
      ((qual.length === 1 && qual[0] === table.name) ||
        (qual.length === 2 && qual[0] === table.schema && qual[1] === table.name));
    if (!ok) {
      ctx.fail(
        ErrorCode.UnknownColumn,
        `unknown reference "${parts.join('.')}": only columns of the shape's table can be used`,
        span,
      );
    }
  }
  const type = ctx.opts.columns.get(name);
  if (type === undefined) {
    const hint = didYouMean(name, [...ctx.opts.columns.keys()]);
    ctx.fail(ErrorCode.UnknownColumn, `unknown column "${name}"${hint ? ` (did you mean "${hint}"?)` : ''}`, span);
  }
  ctx.referenced.add(name);
  return { kind: 'column', name, type, span };
}

/**
 * Parses a table name as the `table` request parameter spells it: `foo` → public.foo, `foo.bar`, `"Foo"."Bar"`,
 * `"foo.woah".bar`. Three or more parts, empty or over-long identifiers are rejected.
 */
export function parseTableName(text: string): { schema: string; name: string } {
  const src = text.trim();
  const { parts, end } = readDotted(src, 0);
  const bad = (why: string): never => {
    throw new RouterError(ErrorCode.InvalidTableName, `invalid table name "${text}": ${why}`);
  };
  if (src.includes('""') && /(^|\.)""($|\.)/.test(src)) bad('zero-length delimited identifier');
  if (parts.length === 0 || end !== src.length) bad('expected [schema.]table');
  if (parts.length > 2) bad('too many dotted names (at most schema.table)');
  for (const p of parts) {
    if (p === '') bad('zero-length delimited identifier');
    if (Buffer.byteLength(p, 'utf8') > MAX_IDENTIFIER_BYTES) bad(`identifier exceeds ${MAX_IDENTIFIER_BYTES} bytes`);
  }
  return parts.length === 1
    ? { schema: 'public', name: parts[0] as string }
    : { schema: parts[0] as string, name: parts[1] as string };
}
