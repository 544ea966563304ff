// SQL spellings of a value for generated clauses: the string forms of where-language.md §2.1 and typed literal forms.
import fc from 'fast-check';
import type { Ty } from './value-pools.js';

export const quote = (v: string): string => `'${v.replace(/'/g, "''")}'`;

/** E'…' with backslash escapes for the characters that need them. */
export function eString(v: string): string {
  return `E'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
}

/** U&'…' with every non-ASCII code point (and the backslash) escaped. */
export function uString(v: string): string {
  let out = '';
  for (const ch of v) {
    const cp = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === "'") out += "''";
    else if (cp < 0x80) out += ch;
    else if (cp <= 0xffff) out += `\\${cp.toString(16).toUpperCase().padStart(4, '0')}`;
    else out += `\\+${cp.toString(16).toUpperCase().padStart(6, '0')}`;
  }
  return `U&'${out}'`;
}

export function dollar(v: string): string {
  return v.includes('$') ? quote(v) : `$$${v}$$`;
}

/** Any of the four string spellings of v. */
export function stringLiteral(v: string): fc.Arbitrary<string> {
  return fc.oneof(
    { arbitrary: fc.constant(quote(v)), weight: 6 },
    { arbitrary: fc.constant(eString(v)), weight: 1 },
    { arbitrary: fc.constant(uString(v)), weight: 1 },
    { arbitrary: fc.constant(dollar(v)), weight: 1 },
  );
}

/** SQL type name of a generator type (several aliases, so the analyzer's name table is exercised). */
export function sqlTypeOf(ty: Ty): fc.Arbitrary<string> {
  const names: Partial<Record<Ty, string[]>> = {
    int2: ['int2', 'smallint'],
    int4: ['int4', 'integer', 'int'],
    int8: ['int8', 'bigint'],
    numeric: ['numeric', 'decimal', 'numeric(20,5)', 'numeric(40,30)'],
    float4: ['float4', 'real'],
    float8: ['float8', 'double precision'],
    text: ['text'],
    varchar: ['varchar', 'varchar(3)', 'character varying'],
    bpchar: ['bpchar', 'char(3)', 'character(6)'],
    name: ['name'],
    bool: ['bool', 'boolean'],
    timestamptz: ['timestamptz', 'timestamp with time zone'],
    timestamp: ['timestamp', 'timestamp without time zone'],
    time: ['time', 'time without time zone'],
  };
  return fc.constantFrom(...(names[ty] ?? [ty]));
}

const PLAIN_NUMBER = /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i;

/** A constant of type ty spelled as SQL: bare number, untyped string, `'v'::T`, `CAST('v' AS T)` or `T 'v'`. */
export function literalOf(ty: Ty, v: string): fc.Arbitrary<string> {
  const typed = sqlTypeOf(ty).chain((name) =>
    fc.oneof(
      stringLiteral(v).map((s) => `${s}::${name}`),
      stringLiteral(v).map((s) => `CAST(${s} AS ${name})`),
      ...(/^[a-z]+$/.test(name) &&
      !name.endsWith('[]') &&
      !['int2', 'int4', 'int8', 'name', 'bool', 'jsonb', 'uuid'].includes(name)
        ? [fc.constant(`${name} ${quote(v)}`)]
        : []),
    ),
  );
  const forms: fc.Arbitrary<string>[] = [typed, stringLiteral(v)];
  if (PLAIN_NUMBER.test(v) && ['int2', 'int4', 'int8', 'numeric', 'float4', 'float8'].includes(ty)) {
    const bare = v.startsWith('-') ? fc.constantFrom(`(${v})`, v, `(- ${v.slice(1)})`) : fc.constant(v);
    forms.push(bare, bare);
  }
  if (ty === 'bool') forms.push(fc.constantFrom('true', 'false', 'TRUE'));
  return fc.oneof(...forms);
}
