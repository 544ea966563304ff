// Hostile input to `/v1/shape`: malformed parameters, invalid, oversized and deeply nested clauses, unknown names,
// garbage offsets and handles, fuzzed query strings. Always a 400 naming the problem (or the protocol's 409), never a
// 500; the server stays up and a shape followed by a real client keeps receiving changes throughout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../src/http/logger.js';
import { rng } from '../../bench/router-workloads.js';
import type { FreshDatabase } from '../support/pg-env.js';
import { serveFreshDatabase, type ServedDatabase } from '../support/served-database.js';
import { keyed, sortedEntries, trackShape, type TrackedShape } from '../support/shape-tracker.js';

const SEED = Number(process.env['SWITCHYARD_FUZZ_SEED'] ?? 4242);
const e = encodeURIComponent;

let db: FreshDatabase;
let served: ServedDatabase;
let base: string;
let tracker: TrackedShape;
let writing: Promise<void>;
let stopWriter = false;
let writes = 0;
const errorLogs: unknown[] = [];
const statuses = new Map<number, number>();
const log: Logger = { log: (level, event, fields) => void (level === 'error' && errorLogs.push({ event, ...fields })) };

interface Answer {
  status: number;
  text: string;
  json: unknown;
  headers: Headers;
}

async function get(qs: string): Promise<Answer> {
  const res = await fetch(`${base}/v1/shape?${qs}`);
  const text = await res.text();
  statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json, headers: res.headers };
}

/** The 400 body's messages for `field` (a 400 must name at least one parameter, each with a message). */
function fieldErrors(a: Answer): Record<string, string[]> {
  const errors = (a.json as { errors?: Record<string, string[]> } | undefined)?.errors;
  expect(errors, a.text.slice(0, 200)).toBeTypeOf('object');
  expect(Object.keys(errors!).length).toBeGreaterThan(0);
  for (const msgs of Object.values(errors!)) for (const m of msgs) expect(m).toMatch(/\S/);
  return errors!;
}

function expect400(a: Answer, field: string, message?: RegExp, what = ''): void {
  expect(a.status, `${what} → ${a.text.slice(0, 300)}`).toBe(400);
  expect(a.headers.get('cache-control')).toBe('no-store');
  const errs = fieldErrors(a);
  expect(errs, what).toHaveProperty(field);
  if (message !== undefined) expect(errs[field]!.join(' | '), what).toMatch(message);
}

beforeAll(async () => {
  served = await serveFreshDatabase(
    [
      `CREATE TABLE items (id int4 PRIMARY KEY, v int4 NOT NULL, name text, tags text[] NOT NULL)`,
      `INSERT INTO items SELECT g, g % 50, CASE WHEN g % 7 = 0 THEN NULL ELSE 'n' || chr(97 + g % 5) || g END, ARRAY['t' || (g % 3)] FROM generate_series(1, 120) g`,
      `CREATE VIEW vw AS SELECT * FROM items; CREATE MATERIALIZED VIEW mv AS SELECT 1 AS id;
    CREATE TABLE parted (id int PRIMARY KEY) PARTITION BY RANGE (id); CREATE TABLE parted1 PARTITION OF parted FOR VALUES FROM (0) TO (100);
    CREATE UNLOGGED TABLE unl (id int PRIMARY KEY); CREATE TABLE "MixedCase" (id int PRIMARY KEY);
    CREATE TABLE fz AS SELECT * FROM items; ALTER TABLE fz ADD PRIMARY KEY (id)`,
    ],
    {},
    log,
  );
  ({ db, base } = served);
  tracker = trackShape({ url: `${base}/v1/shape`, params: { table: 'items', where: 'v < 20' } });
  const deadline = Date.now() + 15_000;
  while (tracker.stats.upToDates === 0 && Date.now() < deadline) await sleep(20);
  // A writer whose changes the followed shape must keep receiving while the hostile requests go on.
  const w = await freshWriter();
  writing = (async () => {
    let i = 0;
    while (!stopWriter) {
      i++;
      await w.query('INSERT INTO items VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET v = EXCLUDED.v', [
        1000 + (i % 200),
        i % 40,
        `w${i}`,
        ['t1'],
      ]);
      await w.query('UPDATE items SET v = (v + 1) % 50 WHERE id = $1', [1 + (i % 120)]);
      writes++;
      await sleep(20);
    }
    await w.end();
  })();
});

async function freshWriter(): Promise<import('pg').Client> {
  const pg = (await import('pg')).default;
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  return c;
}

afterAll(async () => {
  stopWriter = true;
  await writing?.catch(() => undefined);
  tracker?.stop();
  await served?.stop();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const W = (clause: string): string => `table=items&offset=-1&where=${e(clause)}`;

describe('bad input to /v1/shape', () => {
  it('malformed parameters, invalid clauses, unknown tables and columns: 400 naming the parameter', async () => {
    const cases: [string, string, RegExp?][] = [
      ['', 'table', /blank/],
      ['offset=-1', 'table', /blank/],
      ['table=items', 'offset', /blank/],
      ['table=nosuch&offset=-1', 'table', /does not exist/],
      ['table=MixedCase&offset=-1', 'table', /does not exist.*quote/i],
      ['table=vw&offset=-1', 'table', /does not exist/],
      ['table=mv&offset=-1', 'table', /does not exist/],
      ['table=parted&offset=-1', 'table', /partitioned/],
      ['table=parted1&offset=-1', 'table', /partition/],
      ['table=unl&offset=-1', 'table', /unlogged/],
      ['table=pg_catalog.pg_class&offset=-1', 'table', /pg_class/],
      ['table=a.b.c&offset=-1', 'table', /too many dotted names/],
      [`table=${e('"unterminated')}&offset=-1`, 'table'],
      [`table=${'x'.repeat(2000)}&offset=-1`, 'table'],
      [`table=items${e('\u0000')}&offset=-1`, 'table'],
      ['table=items&offset=-1&columns=', 'columns', /empty column name/],
      ['table=items&offset=-1&columns=nosuch', 'columns', /unknown columns: "nosuch"/],
      ['table=items&offset=-1&columns=v,name', 'columns', /primary key/],
      [`table=items&offset=-1&columns=${e('"id')}`, 'columns', /unterminated/],
      ['table=items&offset=-1&replica=bogus', 'replica', /expected "default" or "full"/],
      ['table=items&offset=-1&log=bogus', 'log', /changes_only/],
      ['table=items&offset=-1&live=true', 'live', /offset == -1/],
      ['table=items&offset=now&live=true', 'live', /now/],
      ['table=items&offset=-1&live_sse=true', 'live_sse'],
      ['table=items&offset=-1&subset__where=1', 'subset__where', /must return boolean/],
      ['table=items&offset=-1&subset__limit=5', 'subset__order_by', /required when limit/],
      ['table=items&offset=-1&params=notjson', 'params'],
      ['table=items&offset=-1&params=[1,2]', 'params'],
      [`table=items&offset=-1&params=${e('{"1":5}')}`, 'params', /must be a string/],
      [`${W('v = $1')}&params[0]=1`, 'params', /positive integers/],
      [`${W('v = $1')}&params[x]=1`, 'params', /positive integers/],
      [`${W('name = $1')}&params[1]=${e('a\u0000b')}`, 'params', /0x00/],
      [W('v = $1'), 'where', /\$1 was not provided/],
      [`${W('v = $1')}&params[1]=abc`, 'where', /invalid input syntax for type integer: "abc"/],
      [W('nosuch = 1'), 'where', /unknown column "nosuch"/],
      [W('"V" = 1'), 'where', /unknown column "V"/],
      [W('v ='), 'where', /syntax error/],
      [W('v = 1; DROP TABLE items'), 'where', /only a boolean expression/],
      [W('id IN (SELECT 1)'), 'where', /not supported/],
      [W('pg_sleep(1) IS NULL'), 'where', /pg_sleep/],
      [W('random() > 0.5'), 'where', /not immutable/],
      [W('name + 1 = 2'), 'where', /operator does not exist: text \+ integer/],
      [W('v'), 'where', /must return boolean/],
      [W("v = 'abc'"), 'where', /invalid input syntax for type integer/],
      [W('v = 99999999999::int4'), 'where', /integer out of range/],
      [W('v = 1\u0000 OR true'), 'where', /0x00/],
      [W("name = 'unterminated"), 'where', /unterminated/],
      [W('v = 1 AND'), 'where', /syntax error/],
      [W('(v = 1'), 'where', /syntax error/],
      [W("tags @> 'not an array'"), 'where', /malformed array literal|array/],
      [W('%ff%fe'), 'where'],
    ];
    for (const [qs, field, message] of cases) expect400(await get(qs), field, message, qs.slice(0, 100));
    // Not bad input: rows on which a clause raises are simply not in the shape (README), so creation succeeds.
    const raising = await get(W('1/(v-3) > 0'));
    expect(raising.status, raising.text.slice(0, 200)).toBe(200);
    const values = (raising.json as { value?: { v?: string } }[]).flatMap((m) =>
      m.value?.v ? [Number(m.value.v)] : [],
    );
    expect(values.every((v) => v > 3)).toBe(true);
  });

  it("where errors: Electric's exact body with `At location N:`, our code, position and caret in a header", async () => {
    const cases: [string, string, { code: string; position: number; caret: string }][] = [
      // The official client's own test pins this body exactly (integration.test.ts, "invalid requests").
      ['1 x 1', 'At location 17: syntax error at or near "x"', { code: 'syntax', position: 2, caret: '1 x 1\n  ^' }],
      [
        "name = 'é' x",
        'At location 26: syntax error at or near "x"',
        { code: 'syntax', position: 11, caret: "name = 'é' x\n           ^" },
      ],
      [
        'nosuch = 1',
        'At location 0: unknown column "nosuch"',
        { code: 'unknown_column', position: 0, caret: 'nosuch = 1\n^^^^^^' },
      ],
      // Electric counts bytes for errors found after parsing: é takes two.
      [
        "name = 'é' AND zzz = 1",
        'At location 16: unknown column "zzz"',
        { code: 'unknown_column', position: 15, caret: "name = 'é' AND zzz = 1\n               ^^^" },
      ],
    ];
    for (const [clause, text, detail] of cases) {
      const a = await get(W(clause));
      expect(a.status, clause).toBe(400);
      expect(a.json, clause).toStrictEqual({ message: 'Invalid request', errors: { where: [text] } });
      const header = a.headers.get('switchyard-error-details');
      expect(header, clause).toMatch(/^[\x20-\x7e]+$/);
      expect(JSON.parse(header!), clause).toEqual({ where: detail });
    }
    // A long clause gets an excerpt around the position, not the whole line.
    const long = `${'v = 1 OR '.repeat(100)}v = 1 x`;
    const a = await get(W(long));
    const caret = (JSON.parse(a.headers.get('switchyard-error-details')!) as { where: { caret: string } }).where.caret;
    expect(caret.length).toBeLessThan(300);
    expect(caret).toMatch(/^….*v = 1 x\n +\^$/);
    expect((a.json as { errors: { where: string[] } }).errors.where[0]).toBe(
      `At location ${15 + long.indexOf('x')}: syntax error at or near "x"`,
    );
  });

  it('deep nesting (5,000 parentheses, NOTs, calls, unary minus, additions) answers promptly and never with a 500', async () => {
    const nested: [string, 'ok' | RegExp][] = [
      ['NOT '.repeat(5000) + 'v = 1', /nests/],
      ['abs('.repeat(5000) + 'v' + ')'.repeat(5000) + ' = 1', /nests/],
      ['- '.repeat(5000) + 'v = 1', /nests/],
      ['v = ' + '1 + '.repeat(5000) + '1', /nests/],
      ['('.repeat(5000) + 'v = 1' + ')'.repeat(5000), 'ok'],
      ['('.repeat(5000) + 'v = 1', /syntax error/],
      ['ARRAY['.repeat(3000) + '1' + ']'.repeat(3000) + ' IS NULL', /nests|array/i],
      ['CASE WHEN v = 1 THEN '.repeat(2000) + 'true' + ' END'.repeat(2000), /nests/],
      ['v = 1 AND '.repeat(5000) + 'true', 'ok'],
    ];
    for (const [clause, want] of nested) {
      const t = performance.now();
      const a = await get(W(clause));
      const ms = performance.now() - t;
      expect(ms, clause.slice(0, 40)).toBeLessThan(10_000);
      if (want === 'ok') expect(a.status, clause.slice(0, 40)).toBe(200);
      else expect400(a, 'where', want, clause.slice(0, 40));
    }
  });

  it('constant folding past the compile budget is a prompt 400 too_expensive; Postgres-cheap huge constants pass', async () => {
    const t = performance.now();
    const [costly, health] = await Promise.all([get(W('v > 9.99 ^ 100000')), fetch(`${base}/v1/health`)]);
    expect(performance.now() - t).toBeLessThan(5_000);
    expect400(costly, 'where', /^At location \d+: .*work budget/, '9.99 ^ 100000');
    const detail = (JSON.parse(costly.headers.get('switchyard-error-details')!) as { where: { code: string } }).where;
    expect(detail).toMatchObject({ code: 'too_expensive', position: expect.any(Number) });
    expect(health.status).toBe(200);
    // 10^100000 is one base-10000 digit for Postgres and for us: it compiles (the clause that hung).
    const cheap = await get(W('v > 10::numeric ^ 100000'));
    expect(cheap.status, cheap.text.slice(0, 200)).toBe(200);
    const ops = (cheap.json as { headers?: { operation?: string } }[]).filter(
      (m) => m.headers?.operation !== undefined,
    );
    expect(ops).toEqual([]); // no v exceeds 10^100000
  });

  it('oversized clauses: over 64 KiB is a 400 naming where, also beyond the 256 KiB request-head limit', async () => {
    expect400(await get(W(`name = '${'x'.repeat(65_536)}'`)), 'where', /too large .*limit 65536/);
    expect400(await get(W('v = 1 OR '.repeat(20_000) + 'true')), 'where', /too large/);
    expect400(await get(W(`name = '${'y'.repeat(300_000)}'`)), 'where', /too large/);
    // Just under the limit is parsed (and here accepted).
    const a = await get(W(`name <> '${'z'.repeat(65_000)}'`));
    expect(a.status).toBe(200);
  });

  it('garbage offsets are 400 on offset; unknown or garbage handles get the protocol 409 with a usable handle', async () => {
    for (const off of [
      'abc',
      '1_',
      '_1',
      '-2',
      '01_0',
      '1_01',
      '1_-1',
      '1.5_0',
      '0x10_0',
      '1_2_3',
      ' 1_0',
      '99999999999999999999999999_0',
      '1_99999999999',
      '1_inf_1',
      'Infinity',
      '%00',
    ]) {
      expect400(await get(`table=items&offset=${e(off)}&handle=abc`), 'offset', /invalid format/, off);
    }
    expect400(await get('table=items&offset=0_0'), 'handle', /blank/);
    for (const h of ['abc', '../../etc/passwd', 'h'.repeat(5000), '%00', '-1', '"', '12345-67890']) {
      for (const extra of ['', '&live=true']) {
        const a = await get(`table=items&offset=0_0&handle=${e(h)}${extra}`);
        expect(a.status, h.slice(0, 40)).toBe(409);
        expect(a.headers.get('electric-handle')).toMatch(/\S/);
        expect(a.json).toEqual([{ headers: { control: 'must-refetch' } }]);
      }
    }
  });

  it('fuzzed query strings (bounded, seeded): only 200, 400 with named fields, or 409', async () => {
    const r = rng(SEED);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
    const junk = (): string => {
      const n = Math.floor(r() * 12);
      let s = '';
      for (let i = 0; i < n; i++)
        s +=
          r() < 0.3
            ? `%${Math.floor(r() * 256)
                .toString(16)
                .padStart(2, '0')}`
            : e(String.fromCharCode(32 + Math.floor(r() * 95)));
      return s;
    };
    const keys = [
      'table',
      'offset',
      'handle',
      'where',
      'columns',
      'replica',
      'log',
      'live',
      'cursor',
      'params[1]',
      'params[2]',
      'params',
      'live_sse',
      'subset__limit',
      'secret',
      'table',
      'offset',
      junk(),
    ];
    const values: Record<string, (() => string)[]> = {
      table: [() => 'items', () => 'public.items', () => e('"items"'), () => junk(), () => 'nosuch', () => 'unl'],
      offset: [
        () => '-1',
        () => 'now',
        () => '0_0',
        () => '0_inf',
        () => `${Math.floor(r() * 1e9)}_${Math.floor(r() * 10)}`,
        () => junk(),
      ],
      where: [
        () => e('v < $1'),
        () => e('name ILIKE $2'),
        () => e('v IN (1, 2, $1)'),
        () => junk(),
        () => e('v <'),
        () => e("tags @> ARRAY['t1']"),
      ],
      columns: [() => 'id,v', () => 'id', () => junk(), () => e('"id", name')],
      'params[1]': [() => String(Math.floor(r() * 60)), () => junk()],
      'params[2]': [() => 'n%25', () => junk()],
    };
    const N = 300;
    const queue: string[] = [];
    for (let i = 0; i < N; i++) {
      // Mostly around a valid core, so the fuzz reaches the clause, column and offset checks behind the basic ones.
      const parts: string[] =
        r() < 0.7 ? ['table=items', pick(['offset=-1', 'offset=-1', 'offset=now', 'offset=0_inf&handle=x'])] : [];
      const n = 1 + Math.floor(r() * 4);
      for (let k = 0; k < n; k++) {
        const key = pick(keys);
        const gen = values[key];
        parts.push(`${key}=${gen !== undefined && r() < 0.8 ? pick(gen)() : junk()}`);
      }
      queue.push(parts.join('&'));
    }
    const seen = new Map<number, number>();
    const worker = async (): Promise<void> => {
      for (let qs = queue.shift(); qs !== undefined; qs = queue.shift()) {
        const a = await get(qs);
        seen.set(a.status, (seen.get(a.status) ?? 0) + 1);
        expect([200, 400, 409], `${qs} → ${a.text.slice(0, 200)}`).toContain(a.status);
        if (a.status === 400) fieldErrors(a);
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    console.log(`[service-bad-input] fuzz seed ${SEED}: ${JSON.stringify(Object.fromEntries(seen))}`);
    expect(seen.get(400) ?? 0).toBeGreaterThan(N / 4);
  });

  it('fuzzed where clauses (token soup): 200 with exactly the rows Postgres selects, or 400 naming where', async () => {
    const r = rng(SEED + 1);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
    const operand = (): string =>
      pick([
        'v',
        'id',
        'name',
        "'n%'",
        '1',
        '20',
        'NULL',
        '-3',
        "'t1'",
        'tags',
        "ARRAY['t1']",
        'length(name)',
        'v % 7',
        "'abc'",
        '2.5',
        'true',
      ]);
    const op = (): string =>
      pick([
        '=',
        '<>',
        '<',
        '>=',
        'LIKE',
        'ILIKE',
        '+',
        '*',
        '/',
        '@>',
        '&&',
        'IS',
        'IN',
        'AND',
        'OR',
        '||',
        'BETWEEN',
      ]);
    const clause = (depth: number): string => {
      const k = r();
      if (depth > 3 || k < 0.35) return `${operand()} ${op()} ${operand()}`;
      if (k < 0.5) return `NOT (${clause(depth + 1)})`;
      if (k < 0.6) return `${operand()} IN (${operand()}, ${operand()})`;
      if (k < 0.65) return `${operand()} BETWEEN ${operand()} AND ${operand()}`;
      if (k < 0.7) return `${operand()} IS ${pick(['NULL', 'NOT NULL', 'TRUE', 'DISTINCT FROM 3'])}`;
      if (k < 0.75) return `${clause(depth + 1)} ${pick(['', ')', '(', ',', 'AND'])}`;
      return `(${clause(depth + 1)}) ${pick(['AND', 'OR'])} (${clause(depth + 1)})`;
    };
    const counts = { ok: 0, rejected: 0 };
    let raisingClauses = 0;
    /**
     * The rows Postgres selects; when the scan raises on some row, the rows on which the clause is TRUE without
     * raising (the shape rule), each row scanned alone (a materialized one-row CTE keeps the planner's qual order).
     */
    const selectedIds = async (where: string): Promise<number[]> => {
      try {
        return (await db.client.query<{ id: number }>(`SELECT id FROM fz WHERE ${where}`)).rows.map((x) => x.id);
      } catch (err) {
        if (!/^(22|0A)/.test(String((err as { code?: unknown }).code))) throw err;
      }
      raisingClauses++;
      const out: number[] = [];
      for (const { id } of (await db.client.query<{ id: number }>('SELECT id FROM fz')).rows) {
        const one = `WITH r AS MATERIALIZED (SELECT * FROM fz WHERE id = ${id}) SELECT id FROM r AS fz WHERE ${where}`;
        try {
          out.push(...(await db.client.query<{ id: number }>(one)).rows.map((x) => x.id));
        } catch (err) {
          if (!/^(22|0A)/.test(String((err as { code?: unknown }).code))) throw err;
        }
      }
      return out;
    };
    for (let i = 0; i < 150; i++) {
      const where = clause(0);
      const a = await get(`table=fz&offset=-1&where=${e(where)}`);
      expect([200, 400], `${where} → ${a.text.slice(0, 200)}`).toContain(a.status);
      if (a.status === 400) {
        counts.rejected++;
        expect(fieldErrors(a), where).toHaveProperty('where');
        continue;
      }
      counts.ok++;
      // Accepted: the snapshot (one chunk here) of the static table holds exactly the rows Postgres selects.
      const ids = (a.json as { value?: { id: string } }[])
        .filter((m) => m.value !== undefined)
        .map((m) => Number(m.value!.id));
      const pgIds = await selectedIds(where);
      expect(
        ids.sort((x, y) => x - y),
        where,
      ).toEqual(pgIds.sort((x, y) => x - y));
    }
    console.log(`[service-bad-input] where fuzz: ${JSON.stringify(counts)}, ${raisingClauses} raising clauses`);
    expect(counts.ok).toBeGreaterThan(10);
    expect(counts.rejected).toBeGreaterThan(10);
  });

  it('the server stayed up, never answered 500, logged no error, and the followed shape kept receiving changes', async () => {
    const before = tracker.stats.changes;
    const at = writes;
    await waitFor(() => writes > at + 5 && tracker.stats.changes > before, 10_000);
    stopWriter = true;
    await writing;
    const want = keyed((await db.client.query('SELECT id, v, name, tags FROM items WHERE v < 20')).rows, 'items');
    await waitFor(
      () =>
        sortedEntries(tracker.rows).length === want.size &&
        JSON.stringify(sortedEntries(tracker.rows)) === JSON.stringify(sortedEntries(want)),
      15_000,
    );
    expect(tracker.violations).toEqual([]);
    expect(tracker.handles).toHaveLength(1);
    expect(tracker.stats.changes).toBeGreaterThan(50);
    expect((await fetch(`${base}/v1/health`)).status).toBe(200);
    expect(statuses.get(500)).toBeUndefined();
    expect(errorLogs).toEqual([]);
  });
});

async function waitFor(pred: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(25);
  }
}
