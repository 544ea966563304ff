// Unit tests of transaction assembly (records, TOAST filling, framing) and of the bounded delivery queue.
import { describe, expect, it } from 'vitest';
import { TransactionAssembler } from '../../src/replication/transaction-assembler.js';
import { DeliveryQueue } from '../../src/replication/delivery-queue.js';
import { UNCHANGED_TOAST, type PgoutputMessage, type RelationMessage } from '../../src/replication/pgoutput-decoder.js';
import type { RelationInfo, Transaction, TypeInfo } from '../../src/replication/transaction-types.js';
import { ReplicationError } from '../../src/replication/errors.js';

const items: RelationMessage = {
  tag: 'relation',
  oid: 100,
  namespace: 'public',
  name: 'items',
  replicaIdentity: 'f',
  columns: [
    { flags: 1, name: 'id', typeOid: 20, typmod: -1 },
    { flags: 0, name: 'body', typeOid: 25, typmod: -1 },
    { flags: 0, name: 'n', typeOid: 23, typmod: -1 },
  ],
};

function collect(): {
  asm: TransactionAssembler;
  txs: Transaction[];
  rels: RelationInfo[];
  types: TypeInfo[];
} {
  const txs: Transaction[] = [];
  const rels: RelationInfo[] = [];
  const types: TypeInfo[] = [];
  const asm = new TransactionAssembler({
    transaction: (tx) => txs.push(tx),
    relation: (r) => rels.push(r),
    type: (t) => types.push(t),
  });
  return { asm, txs, rels, types };
}

const begin = (lsn: bigint, xid = 1): PgoutputMessage => ({ tag: 'begin', finalLsn: lsn, commitTime: 5n, xid });
const commit = (lsn: bigint): PgoutputMessage => ({
  tag: 'commit',
  flags: 0,
  commitLsn: lsn,
  endLsn: lsn + 0x30n,
  commitTime: 5n,
});

describe('TransactionAssembler', () => {
  it('frames a multi-change transaction and keys records by column name', () => {
    const { asm, txs, rels } = collect();
    asm.handle(begin(0x100n, 42));
    asm.handle(items);
    asm.handle({ tag: 'insert', relationOid: 100, newTuple: ['1', 'a', null] });
    asm.handle({
      tag: 'update',
      relationOid: 100,
      oldKind: 'O',
      oldTuple: ['1', 'a', null],
      newTuple: ['1', 'b', '7'],
    });
    asm.handle({ tag: 'delete', relationOid: 100, oldKind: 'O', oldTuple: ['1', 'b', '7'] });
    asm.handle({ tag: 'truncate', relationOids: [100], cascade: false, restartIdentity: true });
    expect(asm.inTransaction).toBe(true);
    expect(txs).toHaveLength(0);
    asm.handle(commit(0x100n));
    expect(asm.inTransaction).toBe(false);
    expect(rels).toHaveLength(1);
    const rel = rels[0]!;
    expect(rel).toEqual({
      oid: 100,
      schema: 'public',
      table: 'items',
      replicaIdentity: 'full',
      columns: [
        { name: 'id', typeOid: 20, typmod: -1, isKey: true },
        { name: 'body', typeOid: 25, typmod: -1, isKey: false },
        { name: 'n', typeOid: 23, typmod: -1, isKey: false },
      ],
    });
    expect(txs).toEqual([
      {
        xid: 42,
        commitLsn: 0x100n,
        endLsn: 0x130n,
        commitTime: 5n,
        // When the commit was decoded (performance.now()): the service's visibility latency starts there.
        receivedAt: expect.any(Number) as number,
        changes: [
          { op: 'insert', relation: rel, record: { id: '1', body: 'a', n: null } },
          {
            op: 'update',
            relation: rel,
            record: { id: '1', body: 'b', n: '7' },
            oldRecord: { id: '1', body: 'a', n: null },
            oldIdentity: 'full',
          },
          { op: 'delete', relation: rel, oldRecord: { id: '1', body: 'b', n: '7' }, oldIdentity: 'full' },
          { op: 'truncate', relations: [rel], cascade: false, restartIdentity: true },
        ],
      },
    ]);
  });

  it('fills unchanged TOAST from the full old row', () => {
    const { asm, txs } = collect();
    asm.handle(items);
    asm.handle(begin(0x200n));
    asm.handle({
      tag: 'update',
      relationOid: 100,
      oldKind: 'O',
      oldTuple: ['1', 'big', '1'],
      newTuple: ['1', UNCHANGED_TOAST, '2'],
    });
    asm.handle(commit(0x200n));
    const ch = txs[0]!.changes[0]!;
    expect(ch).toMatchObject({ op: 'update', record: { id: '1', body: 'big', n: '2' } });
    expect('unchangedToast' in ch).toBe(false);
  });

  it('marks unchanged TOAST it cannot fill and never invents a value', () => {
    const { asm, txs } = collect();
    asm.handle({ ...items, replicaIdentity: 'd' });
    asm.handle(begin(0x300n));
    asm.handle({
      tag: 'update',
      relationOid: 100,
      oldKind: null,
      oldTuple: null,
      newTuple: ['1', UNCHANGED_TOAST, '2'],
    });
    asm.handle({
      tag: 'update',
      relationOid: 100,
      oldKind: 'K',
      oldTuple: ['1', null, null],
      newTuple: ['2', UNCHANGED_TOAST, '2'],
    });
    // A full old row whose own value is unchanged TOAST cannot fill either.
    asm.handle({
      tag: 'update',
      relationOid: 100,
      oldKind: 'O',
      oldTuple: ['1', UNCHANGED_TOAST, '1'],
      newTuple: ['1', UNCHANGED_TOAST, '2'],
    });
    asm.handle(commit(0x300n));
    const [a, b, c] = txs[0]!.changes;
    expect(a).toEqual({
      op: 'update',
      relation: expect.anything(),
      record: { id: '1', n: '2' },
      oldRecord: null,
      oldIdentity: 'none',
      unchangedToast: ['body'],
    });
    expect(b).toMatchObject({
      record: { id: '2', n: '2' },
      oldRecord: { id: '1' },
      oldIdentity: 'key',
      unchangedToast: ['body'],
    });
    expect(Object.keys((b as { oldRecord: object }).oldRecord)).toEqual(['id']);
    expect(c).toMatchObject({ record: { id: '1', n: '2' }, oldRecord: { id: '1', n: '1' }, unchangedToast: ['body'] });
  });

  it('keeps only key columns of a key-only old row', () => {
    const { asm, txs } = collect();
    asm.handle({ ...items, replicaIdentity: 'd' });
    asm.handle(begin(0x400n));
    asm.handle({ tag: 'delete', relationOid: 100, oldKind: 'K', oldTuple: ['9', null, null] });
    asm.handle(commit(0x400n));
    expect(txs[0]!.changes[0]).toMatchObject({ op: 'delete', oldRecord: { id: '9' }, oldIdentity: 'key' });
    expect(Object.keys((txs[0]!.changes[0] as { oldRecord: object }).oldRecord)).toEqual(['id']);
  });

  it('handles a column named __proto__ as data', () => {
    const { asm, txs } = collect();
    asm.handle({
      ...items,
      columns: [
        { flags: 1, name: '__proto__', typeOid: 25, typmod: -1 },
        { flags: 0, name: 'x', typeOid: 25, typmod: -1 },
      ],
    });
    asm.handle(begin(0x500n));
    asm.handle({ tag: 'insert', relationOid: 100, newTuple: ['p', 'q'] });
    asm.handle(commit(0x500n));
    const rec = (txs[0]!.changes[0] as { record: Record<string, string | null> }).record;
    expect(Object.keys(rec)).toEqual(['__proto__', 'x']);
    expect(Object.getOwnPropertyDescriptor(rec, '__proto__')?.value).toBe('p');
    expect(Object.getPrototypeOf(rec)).toBe(Object.prototype);
  });

  it('builds rows through the generated fast path with any column name, same as the general path', () => {
    const { asm, txs } = collect();
    const names = ['a"b', "c'd", 'e\\f', '${x}', '}; throw 1; ({', 'ünï', 'constructor', 'toString', ''];
    asm.handle({
      ...items,
      columns: names.map((name, i) => ({ flags: i === 0 ? 1 : 0, name, typeOid: 25, typmod: -1 })),
    });
    asm.handle(begin(0x600n));
    const values = names.map((_, i) => (i === 3 ? null : `v${i}`));
    asm.handle({ tag: 'insert', relationOid: 100, newTuple: values });
    // Same tuple with one unchanged TOAST value takes the general path.
    asm.handle({ tag: 'insert', relationOid: 100, newTuple: values.map((v, i) => (i === 1 ? UNCHANGED_TOAST : v)) });
    asm.handle(commit(0x600n));
    const [fast, slow] = txs[0]!.changes as unknown as { record: Record<string, string | null> }[];
    expect(Object.entries(fast!.record)).toEqual(names.map((n, i) => [n, values[i]]));
    expect(Object.entries(slow!.record)).toEqual(names.map((n, i) => [n, values[i]]).filter((_, i) => i !== 1));
  });

  it('reports every Relation message, replaces changed definitions, maps empty namespace to pg_catalog', () => {
    const { asm, rels, types } = collect();
    asm.handle(items);
    asm.handle(items);
    asm.handle({ ...items, columns: [...items.columns, { flags: 0, name: 'extra', typeOid: 16, typmod: -1 }] });
    expect(rels).toHaveLength(3);
    expect(rels[1]).toBe(rels[0]); // identical re-send keeps the same object
    expect(rels[2]!.columns.map((c) => c.name)).toEqual(['id', 'body', 'n', 'extra']);
    expect(asm.relation(100)).toBe(rels[2]);
    asm.handle({ tag: 'relation', oid: 5, namespace: '', name: 'pg_x', replicaIdentity: 'n', columns: [] });
    expect(rels[3]).toMatchObject({ schema: 'pg_catalog', replicaIdentity: 'nothing' });
    asm.handle({ tag: 'type', oid: 9, namespace: 'public', name: 'mood' });
    expect(types).toEqual([{ oid: 9, schema: 'public', name: 'mood' }]);
  });

  it('rejects protocol violations', () => {
    const { asm } = collect();
    expect(() => asm.handle({ tag: 'insert', relationOid: 100, newTuple: [] })).toThrow(ReplicationError);
    asm.handle(items);
    expect(() => asm.handle({ tag: 'insert', relationOid: 100, newTuple: ['1', 'a', null] })).toThrow(
      /outside a transaction/,
    );
    asm.handle(begin(0x10n));
    expect(() => asm.handle({ tag: 'insert', relationOid: 100, newTuple: ['1'] })).toThrow(/has 3/);
    expect(() => asm.handle({ tag: 'insert', relationOid: 999, newTuple: [] })).toThrow(/before its Relation/);
    expect(() => asm.handle(begin(0x20n))).toThrow(/Begin inside/);
    expect(() => asm.handle(commit(0x11n))).toThrow(/differs/);
    asm.reset();
    expect(asm.inTransaction).toBe(false);
    expect(() => asm.handle(commit(0x10n))).toThrow(/Commit outside/);
  });
});

const tx = (lsn: bigint, n: number): Transaction => ({
  xid: 1,
  commitLsn: lsn,
  endLsn: lsn + 1n,
  commitTime: 0n,
  changes: new Array(n).fill({ op: 'truncate', relations: [], cascade: false, restartIdentity: false }),
});

describe('DeliveryQueue', () => {
  it('delivers in order, one at a time, pausing above the high mark and resuming at the low mark', async () => {
    const log: string[] = [];
    const gates: (() => void)[] = [];
    const q = new DeliveryQueue(
      {
        onTransaction: (t) =>
          new Promise<void>((resolve) => {
            log.push(`start ${t.commitLsn}`);
            gates.push(() => {
              log.push(`end ${t.commitLsn}`);
              resolve();
            });
          }),
      },
      {
        pause: () => log.push('pause'),
        resume: () => log.push('resume'),
        delivered: () => undefined,
        failed: () => log.push('failed'),
      },
      10,
      4,
    );
    q.push({ kind: 'transaction', tx: tx(1n, 4) }); // weight 5
    q.push({ kind: 'transaction', tx: tx(2n, 4) }); // weight 10: pause
    q.push({ kind: 'transaction', tx: tx(3n, 2) }); // weight 13
    expect(q.isPaused).toBe(true);
    expect(log).toEqual(['start 1', 'pause']);
    const step = async (): Promise<void> => {
      gates.shift()!();
      await new Promise((r) => setImmediate(r));
    };
    await step(); // 8 left
    expect(log.at(-1)).toBe('start 2');
    await step(); // 3 left → resume
    expect(log).toContain('resume');
    await step();
    await q.settle();
    expect(q.idle).toBe(true);
    expect(q.pendingWeight).toBe(0);
    expect(log).toEqual(['start 1', 'pause', 'end 1', 'start 2', 'end 2', 'resume', 'start 3', 'end 3']);
  });

  it('clears itself and reports when the consumer throws; dedupes relation re-sends', async () => {
    const seen: string[] = [];
    let failures = 0;
    const q = new DeliveryQueue(
      {
        onTransaction: async (t) => {
          if (t.commitLsn === 2n) throw new Error('disk full');
          seen.push(`tx ${t.commitLsn}`);
        },
        onRelation: (r, prev) => {
          seen.push(`rel ${r.table} ${prev === undefined ? 'new' : 'changed'}`);
        },
      },
      { pause: () => undefined, resume: () => undefined, delivered: () => undefined, failed: () => failures++ },
      100,
    );
    const rel: RelationInfo = { oid: 1, schema: 'public', table: 't', replicaIdentity: 'full', columns: [] };
    q.push({ kind: 'relation', relation: rel });
    q.push({ kind: 'relation', relation: { ...rel } });
    q.push({ kind: 'relation', relation: { ...rel, replicaIdentity: 'default' } });
    q.push({ kind: 'transaction', tx: tx(1n, 1) });
    q.push({ kind: 'transaction', tx: tx(2n, 1) });
    q.push({ kind: 'transaction', tx: tx(3n, 1) });
    await q.settle();
    expect(seen).toEqual(['rel t new', 'rel t changed', 'tx 1']);
    expect(failures).toBe(1);
    expect(q.idle).toBe(true);
    expect(q.pendingWeight).toBe(0);
  });
});
