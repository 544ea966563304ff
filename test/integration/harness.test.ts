// The test infrastructure itself: the run's Postgres, per-test databases, crash/restart control and the where oracle.
import { existsSync } from 'node:fs';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import type { OracleResult, OracleVerdict } from '../support/oracle.js';
import { useOracle } from '../support/oracle-fixture.js';
import { freshDatabase } from '../support/pg-env.js';
import { startPostgres } from '../support/postgres.js';

type Rec = Record<string, string | null>;

describe('the run Postgres', () => {
  it('is PostgreSQL 15 with logical replication settings', async () => {
    const client = new pg.Client({ connectionString: inject('pgUrl') });
    await client.connect();
    try {
      const { rows } = await client.query<Record<string, string>>(
        `SELECT current_setting('server_version_num') AS v, current_setting('wal_level') AS wal,
                current_setting('max_wal_senders') AS senders, current_setting('max_replication_slots') AS slots`,
      );
      expect(rows[0]!['v']!.slice(0, 2)).toBe('15');
      expect(rows[0]!['wal']).toBe('logical');
      expect(Number(rows[0]!['senders'])).toBeGreaterThanOrEqual(20);
      expect(Number(rows[0]!['slots'])).toBeGreaterThanOrEqual(20);
    } finally {
      await client.end();
    }
  });

  it('gives each test its own C-collation database, dropped with its replication slots', async () => {
    const db = await freshDatabase();
    const { rows } = await db.client.query<Record<string, string>>(
      `SELECT datcollate, datctype, pg_encoding_to_char(encoding) AS enc, current_setting('DateStyle') AS ds,
              current_setting('IntervalStyle') AS ist, current_setting('TimeZone') AS tz
         FROM pg_database WHERE datname = current_database()`,
    );
    expect(rows[0]).toEqual({
      datcollate: 'C',
      datctype: 'C',
      enc: 'UTF8',
      ds: 'ISO, DMY',
      ist: 'iso_8601',
      tz: 'UTC',
    });
    await db.client.query(`SELECT pg_create_logical_replication_slot('${db.name}_slot', 'pgoutput')`);
    // A replication connection (trust in pg_hba.conf) keeps a walsender on the database until drop().
    const repl = new pg.Client({ connectionString: db.url, replication: 'database' } as pg.ClientConfig);
    repl.on('error', () => undefined); // drop() terminates it
    await repl.connect();
    const ident = await repl.query('IDENTIFY_SYSTEM');
    expect(ident.rows[0]).toHaveProperty('xlogpos');
    await db.drop();
    await repl.end().catch(() => undefined);
    const admin = new pg.Client({ connectionString: inject('pgUrl') });
    await admin.connect();
    try {
      const left = await admin.query(
        'SELECT 1 FROM pg_database WHERE datname = $1 UNION ALL SELECT 1 FROM pg_replication_slots WHERE slot_name = $2',
        [db.name, `${db.name}_slot`],
      );
      expect(left.rowCount).toBe(0);
    } finally {
      await admin.end();
    }
  });
});

describe('startPostgres crash control', () => {
  it('kill9() loses no acknowledged commit; restart() recovers; stop() removes every file', async () => {
    const server = await startPostgres(); // fsync off: synchronous_commit alone keeps commits through a process crash
    try {
      const c1 = new pg.Client({ connectionString: server.url });
      c1.on('error', () => undefined); // kill9() cuts it off
      await c1.connect();
      await c1.query('CREATE TABLE crash (v int); INSERT INTO crash VALUES (1), (2)');
      await server.kill9();
      expect(server.isRunning()).toBe(false);
      await c1.end().catch(() => undefined);
      await server.restart();
      const c2 = new pg.Client({ connectionString: server.url });
      await c2.connect();
      expect((await c2.query('SELECT sum(v)::int AS s FROM crash')).rows[0]).toEqual({ s: 3 });
      await c2.end();
      await server.restart();
      expect(server.isRunning()).toBe(true);
    } finally {
      await server.stop();
    }
    expect(existsSync(server.dataDir)).toBe(false);
  });
});

describe('WhereOracle', () => {
  const fx = useOracle();

  const results = (r: OracleResult): OracleVerdict[] => {
    if (r.rejected) throw new Error(`unexpected rejection: ${r.error}`);
    return r.results;
  };
  const one = (column: string, value: string | null): Rec[] => [{ [column]: value }];

  // where-language.md §10.3, rows 55–75: [#, column type, clause, record values, expected verdicts].
  const exactness: [number, string, string, (string | null)[], OracleVerdict[]][] = [
    [55, 'numeric', 'c = 0.1 + 0.2', ['0.3', '0.30000000000000004'], [true, false]],
    [56, 'numeric', 'c = 1', ['1.00'], [true]],
    [57, 'numeric', 'c > 12345678901234567890.1', ['12345678901234567890.2'], [true]],
    [58, 'int8', 'c = 9007199254740993', ['9007199254740993', '9007199254740992'], [true, false]],
    [59, 'float8', "c = 'NaN'", ['NaN'], [true]],
    [59, 'float8', "c > 'Infinity'", ['NaN'], [true]],
    [60, 'float8', 'c = 0', ['-0'], [true]],
    [61, 'float4', 'c = 0.1', ['0.1'], [false]],
    [62, 'text', "c < 'a'", ['B', 'b'], [true, false]],
    [63, 'text', "c > U&'\\FFFD'", ['😀'], [true]],
    [64, 'text', "upper(c) = 'É'", ['é'], [false]],
    [65, 'char(5)', "c = 'abc'", ['abc  '], [true]],
    [65, 'char(5)', "c LIKE 'abc'", ['abc  '], [false]],
    [66, 'int4', 'c NOT IN (1, NULL)', ['2'], [null]],
    [67, 'int4[]', "c = '{1,NULL}'", ['{1,NULL}'], [true]],
    [68, 'int4[]', "c = '{1,2}'", ['[0:1]={1,2}'], [false]],
    [69, 'interval', "c = '1 day'", ['PT24H'], [true]],
    [70, 'timestamptz', "c > '2024-01-02 03:04:05.120001+02'", ['2024-01-02 01:04:05.120002+00'], [true]],
    [71, 'uuid', "c = '550E8400-E29B-41D4-A716-446655440000'", ['550e8400-e29b-41d4-a716-446655440000'], [true]],
    [72, 'text', "c LIKE 'a\\_c'", ['abc'], [false]],
    [72, 'text', "c LIKE 'a#%c' ESCAPE '#'", ['a%c'], [true]],
    [74, 'int4', 'c = 5000000000', ['5'], [false]],
    [75, 'int4', 'c = 2.5', ['2'], [false]],
    [0, 'int8', 'c = 7', ['7', '8', null], [true, false, null]],
    [0, 'int8[]', "c @> '{1,3}'", ['{3,1}', '{1,2}', null], [true, false, null]],
  ];

  it.each(exactness)('§10.3 #%i: %s %s', async (_n, type, clause, values, expected) => {
    const r = await fx.oracle.evaluate(
      { c: type },
      clause,
      values.map((v) => ({ c: v })),
    );
    expect(results(r)).toEqual(expected);
  });

  it('#73: a LIKE pattern ending in the escape fails on each row at run time, not at analysis', async () => {
    const r = await fx.oracle.evaluate({ c: 'text' }, "c LIKE 'ab\\'", [{ c: 'abc' }, { c: null }]);
    expect(results(r)).toEqual([{ error: 'LIKE pattern must not end with escape character', sqlstate: '22025' }, null]);
  });

  it('#76: finds which records raise a runtime error', async () => {
    const r = await fx.oracle.evaluate({ c: 'int4' }, 'c + 1 > 0', [{ c: '1' }, { c: '2147483647' }, { c: null }]);
    expect(results(r)).toEqual([true, { error: 'integer out of range', sqlstate: '22003' }, null]);
    expect(fx.oracle.stats.perRecordFallbacks).toBeGreaterThan(0);
    // With parameters the fallback runs one query per record instead of the server-side loop.
    const p = await fx.oracle.evaluate({ c: 'int4' }, 'c + $1 > 0', [{ c: '1' }, { c: '2147483647' }, { c: null }], {
      '1': '1',
    });
    expect(results(p)).toEqual([true, { error: 'integer out of range', sqlstate: '22003' }, null]);
  });

  const rejections: [string, string, string, string][] = [
    ['syntax', 'c = = 1', '42601', 'syntax error at or near "="'],
    ['unbalanced', 'c) OR (true', '42601', 'syntax error at or near ")"'],
    ['extra clause', 'true ORDER BY 1', '42601', 'malformed where clause: only a boolean expression is allowed'],
    [
      'statement smuggling',
      'true; DROP TABLE x',
      '42601',
      'malformed where clause: only a boolean expression is allowed',
    ],
    ['unknown column', "nmae = 'x'", '42703', 'column "nmae" does not exist'],
    ['no operator', "c > '{}'::int4[]", '42883', 'operator does not exist: integer > integer[]'],
    ['invalid literal', "c = 'test'", '22P02', 'invalid input syntax for type integer: "test"'],
    ['constant error', 'c = 1/0', '22012', 'division by zero'],
    ['constant overflow', 'c = 2147483647 + 1', '22003', 'integer out of range'],
    ['not boolean', 'c + 1', '42804', 'argument of WHERE must be type boolean, not type integer'],
  ];

  it.each(rejections)('rejects before reading rows: %s', async (_what, clause, sqlstate, error) => {
    const r = await fx.oracle.evaluate({ c: 'int4' }, clause, one('c', '1'));
    expect(r).toMatchObject({ rejected: true, sqlstate, error });
  });

  it('reports positions as offsets into the clause', async () => {
    expect(await fx.oracle.evaluate({ c: 'int4' }, "c = 1 AND nmae = 'x'", one('c', '1'))).toMatchObject({
      position: 10,
    });
  });

  it('accepts a trailing line comment', async () => {
    expect(results(await fx.oracle.evaluate({ c: 'int4' }, 'c = 1 -- note', one('c', '1')))).toEqual([true]);
  });

  it('binds $n as untyped literals, inferring their type from context', async () => {
    const cols = { id: 'int8', tags: 'text[]', d: 'date' };
    const recs: Rec[] = [
      { id: '7', tags: '{a,b}', d: '31/01/2024' },
      { id: '8', tags: '{c}', d: '2024-02-01' },
    ];
    expect(results(await fx.oracle.evaluate(cols, 'id = $1', recs, { '1': '7' }))).toEqual([true, false]);
    expect(results(await fx.oracle.evaluate(cols, '$1 = ANY(tags)', recs, { '1': 'c' }))).toEqual([false, true]);
    // DateStyle is pinned to ISO, DMY: 01/02/2024 is 1 February.
    expect(results(await fx.oracle.evaluate(cols, 'd = $1', recs, { '1': '01/02/2024' }))).toEqual([false, true]);
    expect(results(await fx.oracle.evaluate(cols, 'id = $2', recs, { '2': '8', '5': 'ignored' }))).toEqual([
      false,
      true,
    ]);
    // §2.3: a $n with no type from context is text.
    expect(results(await fx.oracle.evaluate(cols, '$1 IS NULL', recs, { '1': 'x' }))).toEqual([false, false]);
  });

  it('rejects bad or missing parameter values', async () => {
    const cols = { id: 'int8' };
    expect(await fx.oracle.evaluate(cols, 'id = $1', one('id', '1'), { '1': 'abc' })).toMatchObject({
      rejected: true,
      sqlstate: '22P02',
      error: 'invalid input syntax for type bigint: "abc"',
    });
    expect(await fx.oracle.evaluate(cols, 'id = $2', one('id', '1'), { '1': '1' })).toMatchObject({
      rejected: true,
      error: 'parameter $2 was not provided',
    });
  });

  it('throws on record values Postgres cannot read (a test bug, not a verdict)', async () => {
    await expect(fx.oracle.evaluate({ c: 'int4' }, 'c = 1', one('c', 'x'))).rejects.toThrow(
      /record 0 .*invalid input syntax/,
    );
    await expect(fx.oracle.evaluate({ c: 'int4' }, 'c = 1', one('nope', '1'))).rejects.toThrow(/unknown column "nope"/);
  });

  it('evaluateMany answers exactly as evaluate does, clause by clause', async () => {
    const cols = { c: 'int4' };
    const recs: Rec[] = [{ c: '1' }, { c: '2147483647' }, { c: null }];
    const clauses = ['c = 1', 'c = = 1', 'c > 0', 'c + 1 > 0', 'c = 1/0', 'c IS NULL', "c = 'x'"];
    const many = await fx.oracle.evaluateMany(cols, clauses, recs);
    for (let i = 0; i < clauses.length; i++) {
      expect(many[i]).toEqual(await fx.oracle.evaluate(cols, clauses[i]!, recs));
    }
  });

  it('handles quoted column names and types created with exec()', async () => {
    await fx.oracle.exec(`CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')`);
    const cols = { 'Mixed Case': 'text', m: 'mood', 'm[]': 'mood[]' };
    const recs: Rec[] = [
      { 'Mixed Case': 'x', m: 'happy', 'm[]': '{ok,sad}' },
      { 'Mixed Case': 'X', m: 'sad', 'm[]': '{}' },
    ];
    expect(results(await fx.oracle.evaluate(cols, `"Mixed Case" = 'x' AND m = 'happy'`, recs))).toEqual([true, false]);
    expect(results(await fx.oracle.evaluate(cols, `'ok' = ANY("m[]")`, recs))).toEqual([true, false]);
    expect(await fx.oracle.evaluate(cols, `m = 'meh'`, recs)).toMatchObject({
      rejected: true,
      sqlstate: '22P02',
      error: 'invalid input value for enum mood: "meh"',
    });
  });

  it('runs concurrent calls one at a time, each on its own records', async () => {
    const cols = { c: 'int4' };
    const calls = Array.from({ length: 20 }, (_, i) => fx.oracle.evaluate(cols, 'c % 2 = 0', [{ c: String(i) }]));
    expect((await Promise.all(calls)).map((r) => results(r)[0])).toEqual(
      Array.from({ length: 20 }, (_, i) => i % 2 === 0),
    );
  });
});
