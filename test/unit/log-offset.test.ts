// Offset parsing, printing and ordering per the shape protocol §3, and the LSN conversion checked against Postgres.
import { describe, expect, it } from 'vitest';
import {
  BEFORE_ALL,
  SNAPSHOT_END,
  compareOffsets,
  formatOffset,
  lsnFromText,
  parseOffset,
} from '../../src/log/offset.js';
import { offsetFileKey, offsetFromFileKey, readOffset, writeOffset } from '../../src/log/offset.js';

describe('parseOffset', () => {
  it.each([
    ['-1', '-1'],
    ['0_0', '0_0'],
    ['0_inf', '0_inf'],
    ['23805808_4', '23805808_4'],
    ['18446744073709551615_2', '18446744073709551615_2'],
  ])('accepts %s', (text, printed) => {
    const o = parseOffset(text);
    expect(o).toBeDefined();
    expect(formatOffset(o!)).toBe(printed);
  });

  it.each([
    '1_2_3',
    '10',
    '1_2 ',
    ' 1_2',
    '10_32.1',
    '-2',
    '01_2',
    '1_02',
    '1_',
    '_1',
    'now',
    '',
    '1_INF',
    '18446744073709551616_0',
    '1_4294967295',
  ])('rejects %j', (text) => expect(parseOffset(text)).toBeUndefined());
});

describe('compareOffsets', () => {
  const sorted = ['-1', '0_0', '0_1', '0_10', '0_inf', '9_0', '9_2', '10_0', '10_inf', '100_0'];
  it('orders numerically by tx then op, inf above every number (not as strings)', () => {
    const shuffled = [...sorted].reverse().map((t) => parseOffset(t)!);
    shuffled.sort(compareOffsets);
    expect(shuffled.map(formatOffset)).toEqual(sorted);
  });
  it('has -1 below and 0_inf above every snapshot chunk', () => {
    expect(compareOffsets(BEFORE_ALL, parseOffset('0_0')!)).toBe(-1);
    expect(compareOffsets(SNAPSHOT_END, parseOffset('0_4294967294')!)).toBe(1);
    expect(compareOffsets(SNAPSHOT_END, parseOffset('1_0')!)).toBe(-1);
  });
});

describe('binary and file-name forms', () => {
  it.each(['0_0', '0_inf', '23805808_4', '18446744073709551615_4294967294'])('round-trips %s', (text) => {
    const o = parseOffset(text)!;
    const b = Buffer.alloc(12);
    writeOffset(b, 0, o);
    expect(formatOffset(readOffset(b, 0))).toBe(text);
    expect(formatOffset(offsetFromFileKey(offsetFileKey(o))!)).toBe(text);
  });
  it('file keys sort like offsets', () => {
    const keys = ['9_2', '10_0', '0_inf', '0_3'].map((t) => offsetFileKey(parseOffset(t)!));
    expect([...keys].sort()).toEqual(['0_3', '0_inf', '9_2', '10_0'].map((t) => offsetFileKey(parseOffset(t)!)));
  });
});

describe('lsnFromText', () => {
  // Postgres: select '0/16B3F70'::pg_lsn - '0/0' → 23805808; 'FFFFFFFF/FFFFFFFF' → 18446744073709551615; '1/0' → 4294967296
  it.each([
    ['0/16B3F70', 23805808n],
    ['FFFFFFFF/FFFFFFFF', 18446744073709551615n],
    ['1/0', 4294967296n],
  ])('%s is %s', (text, n) => expect(lsnFromText(text)).toBe(n));
  it('rejects non-LSN text', () => expect(lsnFromText('16B3F70')).toBeUndefined());
});
