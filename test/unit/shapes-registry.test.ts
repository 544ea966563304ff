// Shape registry records: one layout per distinct column selection, shape records naming it, shared layouts and
// snapshot visibilities after a reopen and after a compaction, and version 1 records (a layout per shape) still read;
// a compaction writes snapshot chunks that the records and deletions written after them override.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MetaStore } from '../../src/log/index.js';
import type { ShapeLog } from '../../src/log/shape-log.js';
import { parseSnapshot, type LogSource } from '../../src/shapes/live-shape.js';
import { SNAPSHOT_CHUNK } from '../../src/shapes/registry-snapshot.js';
import {
  SHAPE_RECORD_PREFIX,
  ShapeRegistry,
  definitionKey,
  issuedNoLaterThan,
  type ShapeRecord,
} from '../../src/shapes/registry.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sy-registry-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const logs: LogSource = { getLog: (): ShapeLog | undefined => undefined };

function record(user: number, columns?: string[]): ShapeRecord {
  return {
    definition: {
      schema: 'public',
      table: 'items',
      where: 'user_id = $1',
      params: { '1': String(user) },
      ...(columns !== undefined ? { columns } : {}),
      replica: 'default',
      log: 'full',
    },
    tableOid: 16384,
    selected: columns ?? ['id', 'user_id', 'title'],
    keyColumns: ['id'],
    valueKeyColumns: ['id'],
    usedColumns: { id: 20, user_id: 20, title: 25 },
    selectsAll: columns === undefined,
    columnCount: 3,
    schema: { id: { type: 'int8', pk_index: 0, not_null: true }, user_id: { type: 'int8' }, title: { type: 'text' } },
  };
}

const open = async (): Promise<{ meta: MetaStore; registry: ShapeRegistry }> => {
  const meta = await MetaStore.open(dir, { externalPrefix: SHAPE_RECORD_PREFIX });
  return { meta, registry: new ShapeRegistry(meta, logs) };
};

describe('ShapeRegistry records', () => {
  it('stores a layout once, and shapes naming it; reopened shapes share layouts and visibilities', async () => {
    const { meta, registry } = await open();
    const batch = parseSnapshot('100:105:101,103', 0x1000n);
    for (let i = 0; i < 50; i++) {
      const s = registry.register(
        registry.newHandle(String(i)),
        record(i, i % 2 === 0 ? ['id', 'user_id'] : undefined),
      );
      s.visibility = batch;
      s.state = 'ready';
      registry.persist(s);
    }
    await meta.commit();
    expect([...meta.entriesWithPrefix('layout:')]).toHaveLength(2);
    const handles = [...registry.all()].map((s) => s.handle);
    await meta.close();

    const re = await open();
    const stored = [...re.registry.stored()];
    expect(stored.map((s) => s.handle).sort()).toEqual([...handles].sort());
    const shapes = stored.map((st) => re.registry.registerStored(st));
    expect(new Set(shapes.map((s) => s.layout)).size).toBe(2);
    expect(new Set(shapes.map((s) => s.visibility)).size).toBe(1);
    expect(shapes[0]!.visibility).toEqual(batch);
    const s7 = shapes.find((s) => s.definition.params?.['1'] === '7')!;
    expect(s7.definition).toEqual(record(7).definition);
    expect(s7.selected).toEqual(['id', 'user_id', 'title']);
    expect(s7.defKey).toBe(definitionKey(record(7).definition));
    expect(stored.every((st) => st.done)).toBe(true);

    // A compaction renders the records from the live shapes: the same shapes come back.
    await re.meta.compactNow();
    await re.meta.close();
    const again = await open();
    expect([...again.registry.stored()].map((s) => s.handle).sort()).toEqual([...handles].sort());
    await again.meta.close();
  });

  it('reads version 1 records (a whole layout per shape) and interns their layouts', async () => {
    const meta = await MetaStore.open(dir, { externalPrefix: SHAPE_RECORD_PREFIX });
    for (const [h, user] of [
      ['h-1', 1],
      ['h-2', 2],
    ] as const) {
      const r = record(user);
      meta.set(SHAPE_RECORD_PREFIX + h, {
        v: 1,
        def: { ...r.definition, params: { ...r.definition.params } },
        oid: r.tableOid,
        selected: [...r.selected],
        key: [...r.keyColumns],
        valueKey: [...r.valueKeyColumns],
        used: { ...r.usedColumns },
        selectsAll: r.selectsAll,
        columnCount: r.columnCount,
        schema: r.schema as never,
        vis: { xmin: '100', xmax: '105', xip: ['101'], lsn: '4096' },
        done: true,
      });
    }
    await meta.commit();
    await meta.close();
    const re = await open();
    const shapes = [...re.registry.stored()].map((st) => re.registry.registerStored(st));
    expect(shapes.map((s) => s.handle).sort()).toEqual(['h-1', 'h-2']);
    expect(shapes[0]!.layout).toBe(shapes[1]!.layout);
    expect(shapes[0]!.visibility).toBe(shapes[1]!.visibility);
    expect(shapes[0]!.visibility).toEqual(parseSnapshot('100:105:101', 4096n));
    await re.meta.close();
  });

  it('a compaction writes snapshot chunks; records and deletions after them override them; v2 records still read', async () => {
    const { meta, registry } = await open();
    const batch = parseSnapshot('100:105:101,103', 0x1000n);
    const n = SNAPSHOT_CHUNK + 10;
    for (let i = 0; i < n; i++) {
      const s = registry.register(registry.newHandle(String(i)), record(i, i % 3 === 0 ? ['id'] : undefined));
      s.visibility = i % 2 === 0 ? batch : undefined;
      // One shape persisted before its snapshot completed: it must come back not done.
      s.state = i === 5 ? 'creating' : 'ready';
      registry.persist(s);
    }
    await meta.commit();
    const live = new Map([...registry.all()].map((s) => [s.handle, s]));
    await meta.compactNow();
    // After the snapshot: one shape removed, one created (version 2 records, as a running service appends them).
    const gone = [...live.values()][7]!;
    registry.remove(gone);
    live.delete(gone.handle);
    const added = registry.register(registry.newHandle('new'), record(n + 1));
    added.state = 'ready';
    registry.persist(added);
    live.set(added.handle, added);
    await meta.commit();
    await meta.close();
    const raw = await MetaStore.open(dir, { externalPrefix: SHAPE_RECORD_PREFIX });
    // Parsed at open: two chunks, two layouts, the handle clock and the three records after the compaction.
    expect(raw.openRecords).toBe(2 + 2 + 1 + 3);
    const snapshot = raw.takeSnapshot();
    expect(snapshot.chunks).toHaveLength(2);
    expect([...snapshot.deleted]).toEqual([SHAPE_RECORD_PREFIX + gone.handle]);
    expect([...raw.takeStored().keys()]).toEqual([SHAPE_RECORD_PREFIX + added.handle]);
    await raw.close();

    const re = await open();
    const stored = [...re.registry.stored()];
    expect(stored).toHaveLength(live.size);
    for (const st of stored) {
      const was = live.get(st.handle)!;
      expect(st.defKey).toBe(was.defKey);
      expect(st.definition).toEqual(was.definition);
      expect(st.done).toBe(was.state === 'ready');
      expect(st.visibility).toEqual(was.visibility);
      expect('id' in st.layout && st.layout.selected).toEqual(was.layout.selected);
    }
    expect(new Set(stored.map((s) => s.visibility).filter((v) => v !== undefined)).size).toBe(1);
    stored.forEach((st) => (re.registry.registerStored(st).state = st.done ? 'ready' : 'creating'));
    // A compaction of the reopened registry gives the same shapes back again.
    await re.meta.compactNow();
    await re.meta.close();
    const again = await open();
    expect([...again.registry.stored()].map((s) => s.handle).sort()).toEqual([...live.keys()].sort());
    await again.meta.close();
  });

  it('refuses a snapshot chunk of an unknown format rather than guessing', async () => {
    const meta = await MetaStore.open(dir, { externalPrefix: SHAPE_RECORD_PREFIX });
    meta.setSnapshotSource(() => [{ v: 99, rows: [] }]);
    await meta.compactNow();
    await meta.close();
    const re = await open();
    expect(() => [...re.registry.stored()]).toThrow(/unknown format/);
    await re.meta.close();
  });

  it('handles issued after a point of the clock are told apart from earlier ones (the orphan scan skips them)', async () => {
    const { meta, registry } = await open();
    const early = registry.newHandle('a');
    const cutoff = registry.lastHandleTs;
    const late = registry.newHandle('b');
    expect(issuedNoLaterThan(early, cutoff)).toBe(true);
    expect(issuedNoLaterThan(late, cutoff)).toBe(false);
    expect(issuedNoLaterThan('not-a-handle', cutoff)).toBe(true);
    await meta.close();
  });
});
