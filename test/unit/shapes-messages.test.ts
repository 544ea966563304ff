// Pure parts of the shape service: row keys and escaping, message values per replica mode, snapshot visibility.
import { describe, expect, it } from 'vitest';
import { fullXid, parseSnapshot, visibleToSnapshot } from '../../src/shapes/live-shape.js';
import {
  deleteMessage,
  insertMessage,
  keyPrefix,
  rowKey,
  updateMessage,
  type MessageShape,
} from '../../src/shapes/messages.js';
import { definitionKey } from '../../src/shapes/registry.js';

const shape = (replica: 'default' | 'full', extra: Partial<MessageShape> = {}): MessageShape => ({
  schema: 'public',
  table: 'items',
  selected: ['id', 'title', 'n'],
  keyColumns: ['id'],
  valueKeyColumns: ['id'],
  replica,
  keyPrefix: keyPrefix('public', 'items'),
  ...extra,
});
const tx = { lsn: '123', txids: [7] };

describe('row keys (shape-protocol.md §4.2)', () => {
  it('quotes parts, doubles / in values and / and . in relation names, NULL as _', () => {
    expect(rowKey(shape('default'), { id: '1' })).toBe('"public"."items"/"1"');
    expect(rowKey(shape('default'), { id: 'a/b' })).toBe('"public"."items"/"a//b"');
    expect(rowKey(shape('default', { keyColumns: ['a', 'b'] }), { a: null, b: 'x' })).toBe('"public"."items"/_/"x"');
    expect(keyPrefix('my.schema', 'a/b')).toBe('"my..schema"."a//b"');
  });
});

describe('messages per replica mode (§4.3)', () => {
  const old = { id: '1', title: 'a', n: '5' };
  const row = { id: '1', title: 'b', n: '5' };
  it('insert carries the selected columns only; snapshot rows carry no lsn', () => {
    expect(insertMessage(shape('default', { selected: ['id', 'title'] }), row)).toEqual({
      key: '"public"."items"/"1"',
      value: { id: '1', title: 'b' },
      headers: { operation: 'insert', relation: ['public', 'items'] },
    });
  });
  it('default update: PK + changed columns; unchanged update dropped', () => {
    expect(updateMessage(shape('default'), old, row, tx, 4, 'k')).toEqual({
      key: 'k',
      value: { id: '1', title: 'b' },
      headers: { operation: 'update', relation: ['public', 'items'], lsn: '123', op_position: 4, txids: [7] },
    });
    expect(updateMessage(shape('default'), old, old, tx, 4, 'k')).toBeUndefined();
    // A change to a column the shape does not select is dropped too.
    expect(updateMessage(shape('default', { selected: ['id', 'n'] }), old, row, tx, 4, 'k')).toBeUndefined();
  });
  it('full update: whole row and old_value of changed columns; absent (TOAST) columns kept from the old row', () => {
    const m = updateMessage(shape('full'), old, { id: '1', n: '6' }, tx, 0, 'k');
    expect(m?.value).toEqual({ id: '1', title: 'a', n: '6' });
    expect(m?.old_value).toEqual({ n: '5' });
  });
  it('delete: PK only (default) or the whole old row (full)', () => {
    expect(deleteMessage(shape('default'), old, tx, 0).value).toEqual({ id: '1' });
    expect(deleteMessage(shape('full'), old, tx, 0).value).toEqual(old);
  });
});

describe('snapshot visibility', () => {
  it('parses pg_current_snapshot text', () => {
    const v = parseSnapshot('100:105:100,102', 50n);
    expect(v.xmin).toBe(100n);
    expect(v.xmax).toBe(105n);
    expect([...v.xip]).toEqual([100n, 102n]);
  });
  it('skips transactions the snapshot saw, applies the others', () => {
    const v = parseSnapshot('100:105:100,102', 1000n);
    expect(visibleToSnapshot(v, 99, 10n)).toBe(true); // < xmin
    expect(visibleToSnapshot(v, 101, 10n)).toBe(true); // between, not in progress
    expect(visibleToSnapshot(v, 102, 10n)).toBe(false); // in progress at snapshot time
    expect(visibleToSnapshot(v, 105, 10n)).toBe(false); // >= xmax
    expect(visibleToSnapshot(v, 99, 1000n)).toBe(false); // committed after the snapshot's WAL position
  });
  it('maps 32-bit xids across the epoch boundary', () => {
    const epoch1 = (1n << 32n) + 5n;
    expect(fullXid(3, epoch1)).toBe((1n << 32n) + 3n);
    expect(fullXid(0xfffffff0, epoch1)).toBe(0xfffffff0n);
    expect(fullXid(10, 20n)).toBe(10n);
  });
});

describe('definition identity', () => {
  it('ignores column order and param key order, distinguishes replica and log', () => {
    const base = { schema: 'public', table: 't', replica: 'default' as const, log: 'full' as const };
    expect(definitionKey({ ...base, columns: ['b', 'a'] })).toBe(definitionKey({ ...base, columns: ['a', 'b'] }));
    expect(definitionKey({ ...base, params: { '2': 'x', '1': 'y' } })).toBe(
      definitionKey({ ...base, params: { '1': 'y', '2': 'x' } }),
    );
    expect(definitionKey({ ...base, where: '' })).toBe(definitionKey(base));
    expect(definitionKey({ ...base, replica: 'full' })).not.toBe(definitionKey(base));
  });
});
