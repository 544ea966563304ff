// Enum types: declared labels in sort order (pg_enum.enumsortorder), label input/output, and ordering by position.
import { ErrorCode, ValueError } from '../errors/index.js';
import type { Codec } from './codec.js';

/** One enum type: the name Postgres prints for it (format_type) and its labels in sort order. */
export interface EnumType {
  /** As format_type prints it (`mood`, `"Mood"`, `app.mood`): used in rendered SQL and in error messages. */
  readonly sqlName: string;
  readonly labels: readonly string[];
  /** Label → position in sort order. */
  readonly order: ReadonlyMap<string, number>;
}

const INTERNED = new Map<string, EnumType>();

/** Interned: the same name and labels give the same object, so types compare with `===`. */
export function enumType(sqlName: string, labels: readonly string[]): EnumType {
  const key = `${sqlName}\u0000${labels.join('\u0000')}`;
  let t = INTERNED.get(key);
  if (t === undefined) {
    if (new Set(labels).size !== labels.length) {
      throw new ValueError(ErrorCode.UnknownType, `enum ${sqlName} declares a label twice`);
    }
    t = { sqlName, labels: [...labels], order: new Map(labels.map((l, i) => [l, i])) };
    INTERNED.set(key, t);
  }
  return t;
}

const CODECS = new WeakMap<EnumType, Codec<string>>();

/** enum_in / enum_out / enum_cmp: labels are matched exactly (no trimming, case-sensitive), ordered by position. */
export function enumCodec(e: EnumType): Codec<string> {
  let c = CODECS.get(e);
  if (c === undefined) {
    const pos = (v: string): number => e.order.get(v) ?? -1;
    c = {
      parse(text: string): string {
        if (!e.order.has(text)) {
          throw new ValueError(ErrorCode.InvalidValue, `invalid input value for enum ${e.sqlName}: "${text}"`);
        }
        return text;
      },
      format: (v) => v,
      compare: (a, b) => pos(a) - pos(b),
      equals: (a, b) => a === b,
      key: (v) => v,
    };
    CODECS.set(e, c);
  }
  return c;
}

/** The column-type string that declares an enum for compileWhere and the router: `enum mood ('sad', 'ok')`. */
export function enumTypeName(sqlName: string, labels: readonly string[]): string {
  return `enum ${sqlName} (${labels.map((l) => `'${l.replaceAll("'", "''")}'`).join(', ')})`;
}

/**
 * Parses `enum <name> ('label', …)` with an optional `[]` (the inverse of enumTypeName); undefined when `raw` does
 * not start with the word enum. Labels are SQL string literals ('' escapes a quote).
 */
export function parseEnumTypeName(raw: string): { type: EnumType; array: boolean } | undefined {
  const m = /^\s*enum\s+/i.exec(raw);
  if (m === null) return undefined;
  let i = m[0].length;
  const open = raw.indexOf('(', i);
  const bad = (why: string): never => {
    throw new ValueError(ErrorCode.UnknownType, `type "${raw}" is not a valid enum declaration: ${why}`);
  };
  if (open < 0) bad("expected enum <name> ('label', ...)");
  const name = raw.slice(i, open).trim();
  if (name === '') bad('the enum has no name');
  i = open + 1;
  const labels: string[] = [];
  const skipSpace = (): void => {
    while (i < raw.length && /\s/.test(raw[i] as string)) i++;
  };
  skipSpace();
  if (raw[i] === ')') i++;
  else {
    for (;;) {
      skipSpace();
      if (raw[i] !== "'") bad('labels must be quoted string literals');
      let label = '';
      i++;
      for (;;) {
        if (i >= raw.length) bad('unterminated label');
        if (raw[i] === "'") {
          if (raw[i + 1] === "'") {
            label += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        label += raw[i];
        i++;
      }
      labels.push(label);
      skipSpace();
      if (raw[i] === ',') {
        i++;
        continue;
      }
      if (raw[i] === ')') {
        i++;
        break;
      }
      bad("expected ',' or ')' after a label");
    }
  }
  const rest = raw.slice(i).trim();
  if (rest !== '' && rest !== '[]') bad(`unexpected "${rest}" after the labels`);
  return { type: enumType(name, labels), array: rest === '[]' };
}
