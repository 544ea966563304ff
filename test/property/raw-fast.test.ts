// The raw-text fast paths must agree with decoding then comparing, for every value they accept.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CompareOp } from '../../src/sql/ast.js';
import { rawComparator, rawKeyable } from '../../src/eval/raw-fast.js';
import { comparator } from '../../src/eval/semantics.js';
import { codecFor } from '../../src/values/registry.js';
import { pgType } from '../../src/values/types.js';

const OPS: CompareOp[] = ['=', '<>', '<', '<=', '>', '>='];

function agree(
  typeName: 'int8' | 'numeric' | 'timestamptz' | 'timestamp' | 'date',
  values: fc.Arbitrary<string>,
): void {
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

const digits = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });

describe('raw-text fast paths equal decode-and-compare', () => {
  it('int8', () =>
    agree(
      'int8',
      fc.oneof(
        fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String),
        fc.integer({ min: -50, max: 50 }).map(String),
      ),
    ));
  it('numeric', () =>
    agree(
      'numeric',
      fc
        .tuple(fc.boolean(), digits(1, 22), digits(0, 12))
        .map(([neg, i, f]) => `${neg ? '-' : ''}${i}${f ? '.' + f : ''}`),
    ));
  const ts = fc
    .record({
      y: fc.integer({ min: 1, max: 9999 }),
      mo: fc.integer({ min: 1, max: 12 }),
      d: fc.integer({ min: 1, max: 28 }),
      s: fc.integer({ min: 0, max: 86399 }),
      us: fc.integer({ min: 0, max: 999999 }),
    })
    .map(
      ({ y, mo, d, s, us }) =>
        `${String(y).padStart(4, '0')}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')} ${String(Math.floor(s / 3600)).padStart(2, '0')}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}.${String(us).padStart(6, '0')}`,
    );
  it('timestamp', () => agree('timestamp', ts));
  it('timestamptz', () =>
    agree(
      'timestamptz',
      ts.map((s) => s + '+00'),
    ));
  it('date', () =>
    agree(
      'date',
      ts.map((s) => s.slice(0, 10)),
    ));
  it('int8 raw keys are canonical text of valid values only', () => {
    const key = rawKeyable(pgType('int8')) as (raw: string) => string | undefined;
    expect(key('42')).toBe('42');
    expect(key('-0')).toBeUndefined();
    expect(key('007')).toBeUndefined();
    expect(key('9223372036854775808')).toBeUndefined();
  });
});

describe('decoder fast paths equal the general input functions', () => {
  it('timestamptz canonical text', async () => {
    const { parseTimestamptz, parseTimestamp } = await import('../../src/values/datetime-parse.js');
    fc.assert(
      fc.property(
        fc.record({
          y: fc.integer({ min: 1, max: 9999 }),
          mo: fc.integer({ min: 1, max: 12 }),
          d: fc.integer({ min: 1, max: 31 }),
          h: fc.integer({ min: 0, max: 24 }),
          mi: fc.integer({ min: 0, max: 60 }),
          s: fc.integer({ min: 0, max: 60 }),
          f: fc.string({ unit: fc.constantFrom(...'0123456789'), maxLength: 7 }),
        }),
        ({ y, mo, d, h, mi, s, f }) => {
          const p2 = (x: number) => String(x).padStart(2, '0');
          const body = `${String(y).padStart(4, '0')}-${p2(mo)}-${p2(d)} ${p2(h)}:${p2(mi)}:${p2(s)}${f ? '.' + f : ''}`;
          let slow: unknown;
          let fast: unknown;
          try {
            slow = parseTimestamp(body);
          } catch (e) {
            slow = (e as Error).message.replace('timestamp with time zone', 'timestamp').replace(/\+00"/, '"');
          }
          try {
            fast = parseTimestamptz(body + '+00');
          } catch (e) {
            fast = (e as Error).message.replace('timestamp with time zone', 'timestamp').replace(/\+00"/, '"');
          }
          if (typeof slow === 'string' || typeof fast === 'string') expect(typeof fast).toBe(typeof slow);
          else expect(fast).toBe(slow);
        },
      ),
      { numRuns: 5000 },
    );
  });
  it('numeric plain decimals', async () => {
    const { parseNumeric, formatNumeric } = await import('../../src/values/numeric.js');
    fc.assert(
      fc.property(fc.tuple(fc.boolean(), digits(1, 16), digits(0, 16)), ([neg, i, f]) => {
        const text = `${neg ? '-' : ''}${i}${f ? '.' + f : ''}`;
        const v = parseNumeric(text);
        const viaExp = parseNumeric(`${text}e0`);
        expect(formatNumeric(v)).toBe(formatNumeric(viaExp));
      }),
      { numRuns: 3000 },
    );
  });
});
