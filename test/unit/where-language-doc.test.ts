// Keeps docs/where-language.md honest: every error code is documented, and its function list is the analyzer's.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors/index.js';
import { SPECIAL_FUNCTION_NAMES } from '../../src/sql/analyze-funcs.js';
import { CAST_FUNCTIONS, FUNCTIONS, VOLATILE_FUNCTIONS } from '../../src/sql/catalog.js';

const read = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const DOC = read('docs/where-language.md');
const README = read('README.md');

/** The text of one `###` section of the doc, up to the next heading of any level. */
function section(title: string): string {
  const start = DOC.indexOf(`### ${title}`);
  expect(start, `section "${title}" in docs/where-language.md`).toBeGreaterThanOrEqual(0);
  const rest = DOC.slice(start + 4);
  const end = rest.search(/\n#{2,3} /);
  return end === -1 ? rest : rest.slice(0, end);
}

/** The names written as inline code (`name`) in `text`. */
function codeSpans(text: string): Set<string> {
  return new Set([...text.matchAll(/`([^`\n]+)`/g)].map((m) => m[1] as string));
}

describe('docs/where-language.md', () => {
  it('documents every error code (or README.md does)', () => {
    const documented = new Set([...codeSpans(DOC), ...codeSpans(README)]);
    const missing = Object.values(ErrorCode).filter((code) => !documented.has(code));
    expect(missing).toEqual([]);
  });

  it('lists every function the analyzer resolves, and no other', () => {
    const resolved = new Set([...FUNCTIONS.keys(), ...Object.keys(CAST_FUNCTIONS), ...SPECIAL_FUNCTION_NAMES]);
    const listed = section('6.3 Functions');
    const table = listed.slice(0, listed.indexOf('\n\n', listed.indexOf('|')));
    // The first cell of each row of the table names the function(s).
    const names = new Set<string>();
    for (const line of table.split('\n').filter((l) => l.startsWith('| `'))) {
      for (const name of codeSpans(line.split(' | ')[0] as string)) names.add(name);
    }
    expect([...resolved].filter((f) => !names.has(f)).sort()).toEqual([]);
    expect([...names].filter((f) => !resolved.has(f)).sort()).toEqual([]);
  });

  it('names every function rejected as volatile', () => {
    const listed = codeSpans(section('6.3 Functions'));
    expect([...VOLATILE_FUNCTIONS].filter((f) => !listed.has(f))).toEqual([]);
  });
});
