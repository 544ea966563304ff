// Crash safety: kill -9 a process running the service while a writer commits, several times, then check every log.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import pg from 'pg';
import type { ShapeDefinition } from '../../src/shapes/types.js';
import { createTestDb, def, materialize, readAll, truth, type TestDb } from './shapes-support.js';

let db: TestDb;
const CHILD = fileURLToPath(new URL('./shapes-crash-child.ts', import.meta.url));

beforeAll(async () => {
  db = await createTestDb('crash');
  await db.sql.query(`CREATE TABLE items (id int4 PRIMARY KEY, v int4 NOT NULL, grp int4 NOT NULL)`);
  await db.sql.query(`CREATE TABLE marker (id int4 PRIMARY KEY, n int8)`);
  await db.sql.query(`INSERT INTO marker VALUES (1, 0)`);
  await db.sql.query(`INSERT INTO items SELECT g, g % 50, g % 5 FROM generate_series(1, 200) g`);
});

afterAll(async () => {
  await db?.cleanup();
});

/** Runs the service in a child process until it reports its handles; returns a SIGKILL trigger. */
async function runChild(
  dataDir: string,
  defs: ShapeDefinition[],
): Promise<{ handles: string[]; kill: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, db.url, dataDir, JSON.stringify(defs)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const handles = await new Promise<string[]>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /ready (\[.*\])\n/.exec(out);
      if (m) resolve(JSON.parse(m[1]!) as string[]);
    });
    child.once('exit', (code) => reject(new Error(`child exited with ${code} before it was ready`)));
  });
  return {
    handles,
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

it(
  'kill -9 at random points while a writer commits: logs equal the truth, same handles, nothing duplicated',
  { timeout: 180_000 },
  async () => {
    const defs = [
      def('items'),
      def('items', { where: 'grp = 2' }),
      def('items', { where: 'v < 20', replica: 'full' }),
      def('marker'),
    ];
    const dataDir = (await import('node:fs')).mkdtempSync((await import('node:os')).tmpdir() + '/sy-crash-');
    db.dirs.push(dataDir);
    let running = true;
    const writer = (async () => {
      const c = new pg.Client({ connectionString: db.url });
      await c.connect();
      let i = 0;
      while (running) {
        i++;
        await c.query('BEGIN');
        await c.query('UPDATE items SET grp = (grp + 1) % 5, v = (v + 7) % 50 WHERE id = $1', [1 + ((i * 37) % 200)]);
        await c.query('INSERT INTO items VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET v = EXCLUDED.v', [
          200 + (i % 300),
          i % 50,
          i % 5,
        ]);
        if (i % 3 === 0) await c.query('DELETE FROM items WHERE id = $1', [200 + ((i * 7) % 300)]);
        await c.query('COMMIT');
      }
      await c.end();
    })();
    let handles: string[] | undefined;
    for (let round = 0; round < 3; round++) {
      const child = await runChild(dataDir, defs);
      if (handles === undefined) handles = child.handles;
      else expect(child.handles).toEqual(handles);
      await new Promise((r) => setTimeout(r, 200 + Math.floor(Math.random() * 600)));
      await child.kill();
    }
    running = false;
    await writer;
    const { service } = await db.start(dataDir);
    for (let i = 0; i < defs.length; i++) expect((await service.getOrCreate(defs[i]!)).handle).toBe(handles![i]);
    const m = await service.getOrCreate(def('marker'));
    const at = service.lastOffset(m.handle);
    await db.sql.query('UPDATE marker SET n = n + 1 WHERE id = 1');
    expect(await service.waitForData(m.handle, at, 15_000)).toBe('data');
    for (const d of defs.slice(0, 3)) {
      const { messages } = await readAll(service, (await service.getOrCreate(d)).handle);
      const seen = new Set<string>();
      for (const msg of messages) {
        if (msg.headers['lsn'] === undefined) continue;
        const id = `${String(msg.headers['lsn'])}_${String(msg.headers['op_position'])}`;
        expect(seen.has(id)).toBe(false);
        seen.add(id);
      }
      const want = await truth(db.sql, `SELECT id, v, grp FROM items${d.where ? ` WHERE ${d.where}` : ''}`);
      expect(new Map([...materialize(messages)].sort())).toEqual(new Map([...want].sort()));
    }
    await service.close();
  },
);
