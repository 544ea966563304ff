// A subquery shape's restart: the log folded into what a client holds, and the difference to the rows read again.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { ShapeLogStore, makeOffset } from '../../src/log/index.js';
import {
  deleteMessage,
  insertMessage,
  keyPrefix,
  snapshotEndMessage,
  updateMessage,
  type MessageShape,
  type Row,
} from '../../src/shapes/messages.js';
import { difference, heldRows } from '../../src/shapes/subquery-resume.js';

let dir: string;
let store: ShapeLogStore;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sy-subquery-resume-'));
  store = await ShapeLogStore.open(dir);
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const shape = (replica: 'default' | 'full'): MessageShape => ({
  schema: 'public',
  table: 'users',
  selected: ['id', 'name', 'org'],
  keyColumns: ['id'],
  valueKeyColumns: ['id'],
  replica,
  keyPrefix: keyPrefix('public', 'users'),
});
const key = (id: number): string => `"public"."users"/"${id}"`;
const row = (id: number, name: string, org = '1'): Row => ({ id: String(id), name, org, hidden: 'x' });
const tx = (lsn: number) => ({ lsn: String(lsn), txids: [7] });

it('folds snapshot rows and changes (updates merged, deletes removing) into the rows a client holds', () => {
  const s = shape('default');
  const log = store.createLog('a');
  log.appendSnapshot([row(1, 'a'), row(2, 'b'), row(3, 'c')].map((r) => JSON.stringify(insertMessage(s, r))));
  log.appendSnapshot([snapshotEndMessage({ xmin: 1n, xmax: 2n, xip: [] })]);
  log.finishSnapshot();
  const del = deleteMessage(s, row(3, 'c'), tx(100), 0);
  const upd = updateMessage(s, row(1, 'a'), row(1, 'a2'), tx(100), 2, key(1))!;
  const ins = insertMessage(s, row(4, 'd', '2'), tx(200), 0);
  log.append([
    { offset: makeOffset(100n, 0), json: JSON.stringify(del) },
    { offset: makeOffset(100n, 2), json: JSON.stringify(upd) },
    { offset: makeOffset(200n, 0), json: JSON.stringify(ins) },
  ]);
  expect([...heldRows(log)]).toEqual([
    [key(1), { id: '1', name: 'a2', org: '1' }],
    [key(2), { id: '2', name: 'b', org: '1' }],
    [key(4), { id: '4', name: 'd', org: '2' }],
  ]);
});

it('takes the client from what it holds to the rows: deletes, updates of changed selected values, inserts', () => {
  const s = shape('default');
  const held = new Map<string, Row>([
    [key(1), { id: '1', name: 'a', org: '1' }],
    [key(2), { id: '2', name: 'b', org: '1' }],
    [key(3), { id: '3', name: 'c', org: '1' }],
  ]);
  const rows = new Map<string, Row>([
    [key(2), { ...row(2, 'b'), hidden: 'changed, not selected' }],
    [key(3), row(3, 'c2')],
    [key(5), row(5, 'e')],
  ]);
  const entries = difference(s, held, rows, 999n);
  expect(entries.map((e) => e.offset)).toEqual([makeOffset(999n, 0), makeOffset(999n, 2), makeOffset(999n, 4)]);
  expect(entries.map((e) => JSON.parse(e.json!) as unknown)).toEqual([
    {
      key: key(1),
      value: { id: '1' },
      headers: { operation: 'delete', relation: ['public', 'users'], lsn: '999', op_position: 0, txids: [] },
    },
    {
      key: key(3),
      value: { id: '3', name: 'c2' },
      headers: { operation: 'update', relation: ['public', 'users'], lsn: '999', op_position: 2, txids: [] },
    },
    {
      key: key(5),
      value: { id: '5', name: 'e', org: '1' },
      headers: {
        operation: 'insert',
        relation: ['public', 'users'],
        lsn: '999',
        op_position: 4,
        txids: [],
        last: true,
      },
    },
  ]);
  expect(difference(s, rows, rows, 999n)).toEqual([]);
});

it('with replica full, deletes carry the held row and updates the whole row with the old values changed', () => {
  const s = shape('full');
  const held = new Map<string, Row>([
    [key(1), { id: '1', name: 'a', org: '1' }],
    [key(2), { id: '2', name: 'b', org: '1' }],
  ]);
  const rows = new Map<string, Row>([[key(2), row(2, 'b', '3')]]);
  const msgs = difference(s, held, rows, 5n).map((e) => JSON.parse(e.json!) as Record<string, unknown>);
  expect(msgs.map((m) => [m['value'], m['old_value']])).toEqual([
    [{ id: '1', name: 'a', org: '1' }, undefined],
    [{ id: '2', name: 'b', org: '3' }, { org: '1' }],
  ]);
});
