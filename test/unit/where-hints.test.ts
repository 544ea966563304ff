// Newcomer-facing error hints: did-you-mean for columns (transpositions count as one edit) and types, and the caret
// of an extra clause pointing at the keyword that starts it.
import { describe, expect, it } from 'vitest';
import { compileWhere, ErrorCode, renderCaret, WhereError } from '../../src/index.js';
import { didYouMean, editDistance } from '../../src/sql/suggest.js';

function rejection(where: string, columns: Record<string, string>): WhereError {
  try {
    compileWhere(where, columns);
  } catch (e) {
    if (e instanceof WhereError) return e;
    throw e;
  }
  throw new Error(`accepted: ${where}`);
}

describe('edit distance (optimal string alignment)', () => {
  it('counts an adjacent transposition as one edit', () => {
    expect(editDistance('nmae', 'name')).toBe(1);
    expect(editDistance('ab', 'ba')).toBe(1);
    expect(editDistance('pricee', 'price')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('same', 'same')).toBe(0);
    // OSA edits no substring twice: "ca" → "abc" is 3, not the unrestricted Damerau distance 2.
    expect(editDistance('ca', 'abc')).toBe(3);
  });

  it('suggests the closest name within the threshold, and nothing far away', () => {
    expect(didYouMean('nmae', ['id', 'name', 'price'])).toBe('name');
    expect(didYouMean('NAME', ['name'])).toBe('name');
    expect(didYouMean('qqqq', ['id', 'name'])).toBeUndefined();
  });
});

describe('did you mean', () => {
  const cols = { name: 'text', price: 'numeric' };

  it('names the column for a transposed or extended name', () => {
    expect(rejection("nmae = 'x'", cols).message).toBe('unknown column "nmae" (did you mean "name"?)');
    expect(rejection('pricee > 1', cols).message).toBe('unknown column "pricee" (did you mean "price"?)');
  });

  it('names the type for a mistyped cast or column type', () => {
    const cast = rejection('price::numerc > 1', cols);
    expect(cast.code).toBe(ErrorCode.NotSupported);
    expect(cast.message).toBe('type numerc is not supported in where clauses (did you mean "numeric"?)');
    expect(cast.position).toBe(7);
    const column = rejection('price > 1', { price: 'numerc' });
    expect(column.message).toBe(
      'type numerc is not supported in where clauses (only IS [NOT] NULL; did you mean "numeric"?)',
    );
    expect(rejection('at > 1', { at: 'timestmap' }).message).toContain('did you mean "timestamp"?');
  });

  it('gives no hint for real Postgres types that are not evaluated', () => {
    expect(rejection('addr > 1', { addr: 'inet' }).message).toBe(
      'type inet is not supported in where clauses (only IS [NOT] NULL)',
    );
    expect(rejection('b > 1', { b: 'bit' }).message).not.toContain('did you mean');
  });
});

describe('extra clause caret', () => {
  const cols = { price: 'numeric', title: 'text' };
  const caret = (where: string): string => {
    const e = rejection(where, cols);
    expect(e.code).toBe(ErrorCode.ExtraClause);
    expect(e.position).toBeDefined();
    return renderCaret(where, e.position as number, e.length);
  };

  it('points at the keyword that starts the clause', () => {
    expect(caret('price > 1 ORDER BY price')).toBe('price > 1 ORDER BY price\n          ^^^^^');
    expect(caret('price > 1 limit 3')).toBe('price > 1 limit 3\n          ^^^^^');
    expect(caret('price > 1 UNION SELECT 2')).toBe('price > 1 UNION SELECT 2\n          ^^^^^');
    expect(caret('price > 1 FOR UPDATE')).toBe('price > 1 FOR UPDATE\n          ^^^');
    expect(caret('price > 1 GROUP BY 1 HAVING true')).toBe('price > 1 GROUP BY 1 HAVING true\n          ^^^^^');
  });

  it('is not fooled by keywords or semicolons inside strings, identifiers, comments or parentheses', () => {
    expect(caret("title = 'a;b' ; select 1")).toBe("title = 'a;b' ; select 1\n              ^");
    expect(caret(`title = 'order by' OFFSET 1`)).toBe(`title = 'order by' OFFSET 1\n                   ^^^^^^`);
    expect(caret(`title = E'\\' limit' LIMIT 1`)).toBe(`title = E'\\' limit' LIMIT 1\n                    ^^^^^`);
    expect(caret(`title = $$;$$ /* limit */ LIMIT 1`)).toBe(
      `title = $$;$$ /* limit */ LIMIT 1\n                          ^^^^^`,
    );
    expect(caret('(SELECT 1 ORDER BY 1) = 1 LIMIT 1')).toBe(
      '(SELECT 1 ORDER BY 1) = 1 LIMIT 1\n                          ^^^^^',
    );
  });

  it('skips a keyword used as a name after a dot', () => {
    expect(caret('t.order = 1 FETCH FIRST 1 ROWS ONLY')).toBe('t.order = 1 FETCH FIRST 1 ROWS ONLY\n            ^^^^^');
  });
});
