// Per-table fail-open counts of TableRouters: the router's own counter, kept across a rebuild of the table's router.
import { expect, it } from 'vitest';
import { TableRouters } from '../../src/shapes/table-routers.js';

it("counts a table's fail-opens per table and keeps them when the table's router is rebuilt", async () => {
  const routers = new TableRouters();
  await routers.ensureTable('public', 'nums', { id: 'int4', n: 'int4' });
  await routers.ensureTable('public', 'calm', { id: 'int4' });
  await routers.add('s1', 'public', 'nums', '10 / n = 2', undefined);
  await routers.add('s2', 'public', 'calm', 'id > 0', undefined);
  const nums = routers.tableRef('public', 'nums')!;
  const route = (n: string) => routers.routeImages([nums], [{ id: '1', n }]);
  expect(route('0')).toEqual([{ ids: ['s1'], failedOpen: ['s1'] }]);
  expect(route('5')).toEqual([{ ids: ['s1'], failedOpen: [] }]);
  const counts = () => routers.stats().failOpenByTable;
  expect(counts()).toEqual([
    { schema: 'public', table: 'nums', count: 1 },
    { schema: 'public', table: 'calm', count: 0 },
  ]);
  // A new column type rebuilds the router (a fresh counter); the metric must not go back.
  expect(await routers.ensureTable('public', 'nums', { id: 'int8', n: 'int4' })).toEqual([]);
  expect(counts()[0]).toEqual({ schema: 'public', table: 'nums', count: 1 });
  expect(route('0')).toEqual([{ ids: ['s1'], failedOpen: ['s1'] }]);
  expect(counts()[0]).toEqual({ schema: 'public', table: 'nums', count: 2 });
  await routers.close();
});
