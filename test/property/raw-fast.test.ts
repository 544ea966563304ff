// The raw-text fast paths must agree with decoding then comparing, for every value they accept.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CompareOp } from '../../src/sql/ast.js';
import { rawComparator, rawKeyable } from '../../src/eval/raw-fast.js';
import { comparator } from '../../src/eval/semantics.js';
import { codecFor } from '../../src/values/registry.js';
import { pgType } from '../../src/values/types.js';

const OPS: CompareOp[] = ['=', '<>', '<', '<=', '>', '>='];

function agree(typeName: 'int8' | 'numeric' | 'timestamptz' | 'timestamp' | 'date', values: fc.Arbitrary<string>): void {
  const t = pgType(typeName);
  const codec = codecFor(t);
  fc.assert(
    fc.property(values, values, fc.constantFrom(...OPS), (a, b, op) => {
      const constant = codec.parse(b);
      const fast = rawComparator(op, t, constant);
      if (fast === undefined) return;
      const raw = codec.format(codec.parse(a));
      const got = fast(raw);
      if (got === undefined) return;
      expect(got).toBe(comparator(op, t)(codec.parse(raw), constant));
    }),
    { numRuns: 3000 },
  );
}

const digits = (min: number, max: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });

describe('raw-text fast paths equal decode-and-compare', () => {
  it('int8', () => agree('int8', fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String), fc.integer({ min: -50, max: 50 }).map(String))));
  it('numeric', () =>
    agree('numeric', fc.tuple(fc.boolean(), digits(1, 22), digits(0, 12)).map(([neg, i, f]) => `${neg ? '-' : ''}${i}${f ? '.' + f : ''}`)));
  const ts = fc
    .record({ y: fc.integer({ min: 1, max: 9999 }), mo: fc.integer({ min: 1, max: 12 }), d: fc.integer({ min: 1, max: 28 }), s: fc.integer({ min: 0, max: 86399 }), us: fc.integer({ min: 0, max: 999999 }) })
    .map(({ y, mo, d, s, us }) => `${String(y).padStart(4, '0')}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')} ${String(Math.floor(s / 3600)).padStart(2, '0')}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}.${String(us).padStart(6, '0')}`);
  it('timestamp', () => agree('timestamp', ts));
  it('timestamptz', () => agree('timestamptz', ts.map((s) => s + '+00')));
  it('date', () => agree('date', ts.map((s) => s.slice(0, 10))));
  it('int8 raw keys are canonical text of valid values only', () => {
    const key = rawKeyable(pgType('int8')) as (raw: string) => string | undefined;
    expect(key('42')).toBe('42');
    expect(key('-0')).toBeUndefined();
    expect(key('007')).toBeUndefined();
    expect(key('9223372036854775808')).toBeUndefined();
  });
});
