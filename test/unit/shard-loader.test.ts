// The shape-file loader: the fast line reader gives exactly what JSON.parse gives, bad lines are counted, not fatal.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Router } from '../../src/router/index.js';
import { loadShapes, ShardedRouter, writeShapesFile } from '../../src/shard/index.js';
import { parseShapeBytes, parseShapeLine } from '../../src/shard/shape-lines.js';

const SCHEMA = { 'public.items': { id: 'int8', user_id: 'int8', name: 'text' } };
const dir = mkdtempSync(join(tmpdir(), 'switchyard-loader-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('parseShapeLine', () => {
  // Both readers (the byte fast path where it applies, JSON.parse otherwise) give what JSON.parse gives.
  const same = (line: string): void => {
    const o = JSON.parse(line) as Record<string, unknown>;
    const b = Buffer.from(`xx${line}yy`, 'utf8');
    const fast = parseShapeBytes(b, 2, b.length - 2);
    for (const got of fast === null ? [parseShapeLine(line)] : [fast, parseShapeLine(line)]) {
      expect(got.id).toBe(o.id);
      expect(got.def.table).toBe(o.table);
      expect(got.def.where).toBe(o.where);
      expect(got.def.params === undefined ? undefined : { ...got.def.params }).toEqual(o.params ?? undefined);
    }
  };
  it('reads the compact layout from bytes, and leaves every other line to JSON.parse', () => {
    const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');
    const at = (s: string): ReturnType<typeof parseShapeBytes> => parseShapeBytes(bytes(s), 0, bytes(s).length);
    expect(at('{"id":"a","table":"public.items","where":"user_id = $1","params":{"1":"42"}}')).toEqual({
      id: 'a',
      def: { table: 'public.items', where: 'user_id = $1', params: { '1': '42' } },
    });
    expect(at('{"id":"a","table":"t","params":{}}')).toEqual({ id: 'a', def: { table: 't', params: {} } });
    for (const other of [
      '{"id":"é","table":"t"}',
      '{"id":"a\\"b","table":"t"}',
      '{"id":"a\tb","table":"t"}',
      '{"id":"a","table":"t"} ',
      '{"table":"t","id":"a"}',
      '{"id":"a","table":"t","params":{"1":5}}',
      '{"id":"a","table":"t","params":{"__proto__":"x"}}',
      '{"id":"a","table":"t"',
    ])
      expect(at(other)).toBeNull();
  });
  it('rejects what JSON.parse rejects even where the layout looks compact (a raw control character in a string)', () => {
    const line = '{"id":"a\u0001b","table":"t"}';
    expect(parseShapeBytes(Buffer.from(line), 0, line.length)).toBeNull();
    expect(() => parseShapeLine(line)).toThrow(SyntaxError);
  });
  it('reads canonical lines and every variation JSON.parse accepts the same way', () => {
    for (const line of [
      '{"id":"a","table":"public.items"}',
      '{"id":"a","table":"public.items","where":"user_id = $1","params":{"1":"42"}}',
      '{"id":"a","table":"public.items","where":"name = $1 OR name = $2","params":{"1":"x","2":"y"}}',
      '{"id":"a","table":"public.items","params":{}}',
      '{"id":"a\\"b","table":"public.items","where":"name = \'\\\\\'"}',
      '{"id":"\\u00e9","table":"public.items","where":"name = \'é\'"}',
      '{ "id": "a", "table": "public.items", "where": "user_id = 1" }',
      '{"table":"public.items","id":"a","where":"user_id = 1"}',
      '{"id":"a","table":"public.items","params":{"1":"x","1":"y"}}',
      '{"id":"a","table":"public.items","params":{"__proto__":"x"}}',
      '{"id":"a","table":"public.items","where":"user_id = 1"}\r',
    ])
      same(line);
  });
  it('keeps a "__proto__" parameter as an own property (never touches the prototype)', () => {
    const got = parseShapeLine('{"id":"a","table":"t","params":{"__proto__":"x"}}');
    expect(Object.getPrototypeOf(got.def.params)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(got.def.params, '__proto__')?.value).toBe('x');
  });
  it('rejects lines that are not shapes with a clear message', () => {
    expect(() => parseShapeLine('{"id":1,"table":"t"}')).toThrow(/string "id" and "table"/);
    expect(() => parseShapeLine('{"id":"a","table":"t","where":5}')).toThrow(/"where" must be a string/);
    expect(() => parseShapeLine('{"id":"a","table":"t"')).toThrow(SyntaxError);
    expect(() => parseShapeLine('null')).toThrow(/JSON object/);
    expect(() => parseShapeLine('{"id":"a","table":"t","params":{"1":5}}')).toThrow(/values must be strings/);
  });
});

describe('loadShapes', () => {
  it('loads a written file into a Router, counting bad lines and rejected shapes without stopping', async () => {
    const file = join(dir, 'shapes.jsonl');
    await writeShapesFile(file, [
      { id: 's1', def: { table: 'public.items', where: 'user_id = $1', params: { '1': '7' } } },
      { id: 's2', def: { table: 'public.items', where: "name LIKE 'a%'" } },
      { id: 's3', def: { table: 'public.items' } },
    ]);
    const bad = join(dir, 'bad.jsonl');
    const good = (await import('node:fs')).readFileSync(file, 'utf8');
    writeFileSync(
      bad,
      `${good}not json\n{"id":"s4","table":"public.items","where":"nope = 1"}\n{"id":"s1","table":"public.items"}\n\n`,
    );
    const r = new Router({ schema: SCHEMA });
    const res = await loadShapes(bad, r);
    expect(res.loaded).toBe(3);
    expect(res.failed).toBe(3);
    expect(res.failures.map((f) => f.line)).toEqual([4, 5, 6]);
    expect(res.failures[1]?.message).toMatch(/nope/);
    expect(res.failures[2]?.message).toMatch(/already exists/);
    expect(
      r.route({ table: 'public.items', op: 'insert', record: { id: '1', user_id: '7', name: 'ab' } }).sort(),
    ).toEqual(['s1', 's2', 's3']);
    // the same file into a ShardedRouter: the same counts, and rejections still name their lines
    const sharded = new ShardedRouter({ schema: SCHEMA, shards: 2 });
    try {
      const sres = await loadShapes(bad, sharded);
      expect([sres.loaded, sres.failed]).toEqual([3, 3]);
      expect(sres.failures.map((f) => f.line).sort()).toEqual([4, 5, 6]);
      expect(
        (
          await sharded.route({ table: 'public.items', op: 'insert', record: { id: '1', user_id: '7', name: 'ab' } })
        ).sort(),
      ).toEqual(['s1', 's2', 's3']);
    } finally {
      await sharded.close();
    }
  });
});

describe('ShardedRouter.addShapes', () => {
  it('takes `{ id, def }` and the shape file line form alike, and reports an item with neither', async () => {
    const sharded = new ShardedRouter({ schema: SCHEMA, shards: 2 });
    try {
      const res = await sharded.addShapes([
        { id: 'def', def: { table: 'public.items', where: 'user_id = $1', params: { '1': '7' } } },
        // what a shape file line holds (and parseShapeLine reads): no `def` wrapper
        { id: 'line', table: 'public.items', where: "name = 'ab'" },
        parseShapeLine('{"id":"parsed","table":"public.items","where":"id = 1"}'),
        { id: 'neither' } as unknown as { id: string; table: string },
      ]);
      expect(res.added).toBe(3);
      expect(res.errors.map((e) => [e.id, e.error.name, e.error.message])).toEqual([
        ['neither', 'RouterError', 'a shape needs a "table" (or a "def" holding one)'],
      ]);
      expect(
        (
          await sharded.route({ table: 'public.items', op: 'insert', record: { id: '1', user_id: '7', name: 'ab' } })
        ).sort(),
      ).toEqual(['def', 'line', 'parsed']);
    } finally {
      await sharded.close();
    }
  });
});
