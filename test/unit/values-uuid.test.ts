// uuid_in / uuid_out, pinned against Postgres 15.
import { describe, expect, it } from 'vitest';
import { parseUuid, uuidCodec } from '../../src/values/uuid.js';

const CANON = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';

describe('parseUuid (Postgres answers)', () => {
  const ok = [
    CANON,
    'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
    '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}',
    'a0eebc999c0b4ef8bb6d6bb9bd380a11',
    'a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11',
    '{a0eebc99-9c0b4ef8-bb6d6bb9-bd380a11}',
  ];
  for (const text of ok) it(text, () => expect(parseUuid(text)).toBe(CANON));
  const bad = [
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11-',
    ' a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11 ',
    'a0eeb-c99-9c0b-4ef8-bb6d-6bb9bd380a11',
    '{a0eebc999c0b4ef8bb6d6bb9bd380a11',
    'a0eebc999c0b4ef8bb6d6bb9bd380a11}',
    'a0eebc99--9c0b-4ef8-bb6d-6bb9bd380a11',
    '-a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1',
    'g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    '',
  ];
  for (const text of bad) {
    it(`rejects ${JSON.stringify(text)}`, () =>
      expect(() => parseUuid(text)).toThrow(`invalid input syntax for type uuid: "${text}"`));
  }
});

describe('uuid order', () => {
  it('compares as unsigned bytes', () => {
    expect(
      uuidCodec.compare!(
        parseUuid('00000000-0000-0000-0000-00000000000a'),
        parseUuid('00000000-0000-0000-0000-000000000009'),
      ),
    ).toBe(1);
    expect(
      uuidCodec.compare!(
        parseUuid('F0000000-0000-0000-0000-000000000000'),
        parseUuid('10000000-0000-0000-0000-000000000000'),
      ),
    ).toBe(1);
    expect(uuidCodec.equals(parseUuid('{A0EEBC999C0B4EF8BB6D6BB9BD380A11}'), CANON)).toBe(true);
  });
});
