// analyzeClause: the tree compileWhere compiles, without compiling it, with the same errors.
import { describe, expect, it } from 'vitest';
import { analyzeClause, compileWhere } from '../../src/where.js';
import { renderSql } from '../../src/sql/render.js';
import { WhereError } from '../../src/errors/index.js';

const COLUMNS = { id: 'int4', name: 'text', tags: 'text[]', price: 'numeric' };

describe('analyzeClause', () => {
  it('gives the normalized tree and columns compileWhere compiles', () => {
    for (const where of [
      'id = 1',
      "name LIKE 'ab%' AND price > 10",
      'tags @> $1 OR id IN (1, 2, 3)',
      'NOT (id BETWEEN 1 AND 5) AND name IS NOT NULL',
    ]) {
      const opts = { params: { '1': '{a}' } };
      const a = analyzeClause(where, COLUMNS, opts);
      const p = compileWhere(where, COLUMNS, opts);
      expect(renderSql(a.expr), where).toBe(p.sql);
      expect(a.columns).toEqual(p.columns);
    }
  });

  it('raises the errors compileWhere raises', () => {
    for (const where of ['nmae = 1', 'id = ', "id = 'x'", 'id = 1 / 0']) {
      let expected: unknown;
      try {
        compileWhere(where, COLUMNS);
      } catch (err) {
        expected = err;
      }
      expect(expected, where).toBeInstanceOf(WhereError);
      expect(() => analyzeClause(where, COLUMNS)).toThrow((expected as WhereError).message);
    }
  });
});
