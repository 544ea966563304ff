// Benchmarks the sync service end to end on an fsync-enabled Postgres with 100k shapes registered (router seed mix):
// (a) row changes per second from Postgres into durable shape logs, (b) commit → client latency at 1,000 changes/s.
// Run: npx tsx bench/service-bench.ts [--shapes 100000] [--rows 200000] [--seconds 15]
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { cpus, freemem, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { startServer, type RunningServer } from '../src/cli/serve.js';
import { silentLogger } from '../src/http/logger.js';
import { startPostgres } from '../test/support/postgres.js';
import { ITEMS_TABLE_SQL, distinctSeedDefinitions, itemsInsertSql } from './router-workloads.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const SHAPES = arg('shapes', 100_000);
const ROWS = arg('rows', 200_000);
const BATCH = arg('batch', 1000);
const SECONDS = arg('seconds', 15);
const RATE = arg('rate', 1000);

const loads: number[] = [];
const sampler = setInterval(() => loads.push(loadavg()[0]!), 1000);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const log = (s: string): void => void process.stderr.write(`[service-bench] ${s}\n`);

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  // On disk (not the harness's default /dev/shm): fsync must mean something.
  const cluster = await startPostgres({
    fsync: true,
    dir: tmpdir(),
    settings: { shared_buffers: '256MB', max_wal_size: '4GB' },
  });
  const dataDir = mkdtempSync(join(tmpdir(), 'sy-bench-data-'));
  const sql = new pg.Client({ connectionString: cluster.url });
  sql.on('error', (err) => log(`sql client: ${String(err)}`));
  await sql.connect();
  await sql.query(ITEMS_TABLE_SQL);
  let server: RunningServer | undefined;
  const results: Record<string, string> = {};
  try {
    server = await startServer(
      {
        port: 0,
        host: '127.0.0.1',
        databaseUrl: cluster.url,
        dataDir,
        longPollTimeoutMs: 20_000,
        chunkBytes: 1 << 20,
        enableDelete: false,
        demo: false,
      },
      silentLogger,
    );
    let svc = server.service;
    let base = `http://127.0.0.1:${(server.http.server.address() as AddressInfo).port}/v1/shape`;

    // --- 100k shapes through the service API (changes_only: no snapshot rows) -----------------------------------
    // The seed mix draws user ids at random, so n draws give fewer than n distinct shapes: draw more, keep n distinct.
    const defs = distinctSeedDefinitions(SHAPES);
    const t0 = performance.now();
    let next = 0;
    const creators = Array.from({ length: 32 }, async () => {
      for (let i = next++; i < defs.length; i = next++) {
        await svc.getOrCreate(defs[i]!);
        if (i % 10_000 === 0 && i > 0) log(`${i} shapes (${Math.round(i / ((performance.now() - t0) / 1000))}/s)`);
      }
    });
    await Promise.all(creators);
    const createS = (performance.now() - t0) / 1000;
    const m0 = svc.metrics();
    log(`${m0.shapes} shapes in ${createS.toFixed(1)} s; lanes ${JSON.stringify(m0.lanes)}`);
    results['shapes'] =
      `${m0.shapes} (seed mix: ${JSON.stringify(m0.lanes)}), created through the service API in ${createS.toFixed(1)} s`;
    const users = Math.max(10, SHAPES);

    // --- (a) sustained throughput into durable shape logs -------------------------------------------------------
    const before = svc.metrics();
    const w = new pg.Client({ connectionString: cluster.url });
    w.on('error', (err) => log(`writer: ${String(err)}`));
    await w.connect();
    const loadsA0 = loads.length;
    const tStart = performance.now();
    let lastLsn = 0n;
    for (let from = 1; from <= ROWS; from += BATCH) {
      await w.query('BEGIN');
      await w.query(itemsInsertSql(from, Math.min(BATCH, ROWS - from + 1), users));
      if (from + BATCH > ROWS)
        lastLsn = lsn((await w.query<{ l: string }>('SELECT pg_current_wal_insert_lsn()::text AS l')).rows[0]!.l);
      await w.query('COMMIT');
    }
    const tWritten = performance.now();
    for (;;) {
      const m = svc.metrics();
      if (m.changes - before.changes >= ROWS && svc.lastSeenLsn() >= lastLsn) break;
      await sleep(1);
    }
    const tDurable = performance.now();
    const after = svc.metrics();
    const seconds = (tDurable - tStart) / 1000;
    const rate = ROWS / seconds;
    const routeMs = (after.routeNanos - before.routeNanos) / 1e6;
    const loadA = loads.slice(loadsA0);
    results['(a) throughput'] =
      `${Math.round(rate).toLocaleString('en')} rows/s: ${ROWS.toLocaleString('en')} rows in ${ROWS / BATCH} transactions, first commit → all durable in shape logs ${seconds.toFixed(2)} s (writer finished at ${((tWritten - tStart) / 1000).toFixed(2)} s)`;
    results['(a) detail'] =
      `messages appended ${after.messages - before.messages}, routing ${routeMs.toFixed(0)} ms total (${((routeMs * 1e3) / ROWS).toFixed(2)} µs/row), group commits ${after.groupCommits - before.groupCommits}, fsyncs ${after.fsyncs - before.fsyncs}, log bytes ${(after.logBytes - before.logBytes).toLocaleString('en')}, load avg during ${loadA.length ? Math.max(...loadA).toFixed(2) : 'n/a'} (max)`;
    log(results['(a) throughput']);
    log(results['(a) detail']);

    // --- (a2) the service's own ingest rate: a backlog written while it is down, then caught up ----------------
    // (a) is bounded by how fast this machine's Postgres commits the rows; here Postgres has finished writing first.
    await server.stop();
    for (let from = ROWS + 1; from <= 2 * ROWS; from += BATCH) {
      await w.query('BEGIN');
      await w.query(itemsInsertSql(from, Math.min(BATCH, 2 * ROWS - from + 1), users));
      if (from + BATCH > 2 * ROWS)
        lastLsn = lsn((await w.query<{ l: string }>('SELECT pg_current_wal_insert_lsn()::text AS l')).rows[0]!.l);
      await w.query('COMMIT');
    }
    const tResume = performance.now();
    server = await startServer(
      {
        port: 0,
        host: '127.0.0.1',
        databaseUrl: cluster.url,
        dataDir,
        longPollTimeoutMs: 20_000,
        chunkBytes: 1 << 20,
        enableDelete: false,
        demo: false,
      },
      silentLogger,
    );
    const svc2 = server.service;
    const tUp = performance.now();
    for (;;) {
      if (svc2.metrics().changes >= ROWS && svc2.lastSeenLsn() >= lastLsn) break;
      await sleep(1);
    }
    const tCaught = performance.now();
    const m2 = svc2.metrics();
    const catchS = (tCaught - tUp) / 1000;
    results['(a2) catch-up'] =
      `${Math.round(ROWS / catchS).toLocaleString('en')} rows/s: a backlog of ${ROWS.toLocaleString('en')} rows (${ROWS / BATCH} transactions) written while the service was down, durable in shape logs ${catchS.toFixed(2)} s after restart (resume of ${m2.shapes} shapes took ${((tUp - tResume) / 1000).toFixed(2)} s; routing ${(m2.routeNanos / 1e3 / ROWS).toFixed(2)} µs/row, ${m2.messages} messages, ${m2.groupCommits} group commits)`;
    log(results['(a2) catch-up']);

    svc = svc2;
    base = `http://127.0.0.1:${(server.http.server.address() as AddressInfo).port}/v1/shape`;

    // --- (b) commit → client latency at a fixed rate ------------------------------------------------------------
    // Where the time goes: wrap the service's group-commit fsync and per-transaction processing (bench-only probe).
    const probe = { sync: [] as number[], process: [] as number[] };
    const inner = svc as unknown as {
      pipeline: { visibility: { reset(): void } };
      store: { syncAll(): Promise<void> };
      processor: { prepare(...args: unknown[]): Promise<unknown> };
    };
    const syncAll = inner.store.syncAll.bind(inner.store);
    inner.store.syncAll = async () => {
      const t = performance.now();
      await syncAll();
      probe.sync.push(performance.now() - t);
    };
    const processTx = inner.processor.prepare.bind(inner.processor);
    // Wall time of processing a transaction (time-sliced since issue 11: yields included).
    inner.processor.prepare = async (...args: unknown[]) => {
      const t = performance.now();
      const out = await processTx(...args);
      probe.process.push(performance.now() - t);
      return out;
    };
    const followed = [0, 1, 2, 3, 4].map((k) => 1_000_000 + k); // user ids no seed shape uses
    const sent = new Map<number, number>();
    const lat: number[] = [];
    const received: [number, number][] = [];
    let warm = true;
    let stop = false;
    const ac = new AbortController();
    const clients = followed.map(async (uid) => {
      let r = await fetch(
        `${base}?table=items&where=${encodeURIComponent('user_id = $1')}&params[1]=${uid}&log=changes_only&offset=now`,
      );
      let handle = r.headers.get('electric-handle')!;
      let offset = r.headers.get('electric-offset')!;
      await r.text();
      let cursor = '';
      while (!stop) {
        try {
          r = await fetch(
            `${base}?table=items&where=${encodeURIComponent('user_id = $1')}&params[1]=${uid}&log=changes_only&handle=${handle}&offset=${offset}&live=true&cursor=${cursor}`,
            { signal: ac.signal },
          );
        } catch {
          break;
        }
        const body = (await r.json()) as { value?: { id: string }; headers: { operation?: string } }[];
        const now = performance.now();
        handle = r.headers.get('electric-handle') ?? handle;
        offset = r.headers.get('electric-offset') ?? offset;
        cursor = r.headers.get('electric-cursor') ?? cursor;
        for (const m of body) {
          if (m.headers.operation !== 'insert' || m.value === undefined) continue;
          const t = sent.get(Number(m.value.id));
          if (t !== undefined && !warm) {
            lat.push(now - t);
            received.push([Number(m.value.id), now]);
          }
        }
      }
    });
    await sleep(500);
    // Several connections: one committing 200 times a second would be bounded by Postgres's commit fsync.
    const WRITERS = 4;
    const perTx = Math.max(1, Math.round(RATE / (WRITERS * 50))); // 50 commits/s per writer
    const interval = (1000 * perTx * WRITERS) / RATE;
    let id = 10_000_000;
    const acked = new Map<number, number>();
    inner.pipeline.visibility.reset(); // the catch-up's transactions are not this phase's
    const tB = performance.now();
    const loadsB0 = loads.length;
    const writers = Array.from({ length: WRITERS }, async (_, wi) => {
      const c = new pg.Client({ connectionString: cluster.url });
      c.on('error', (err) => log(`latency writer: ${String(err)}`));
      await c.connect();
      let k = 0;
      while (performance.now() - tB < SECONDS * 1000) {
        if (performance.now() - tB > 2000) warm = false;
        const wait = tB + (k + wi / WRITERS) * interval - performance.now();
        if (wait > 0) await sleep(wait);
        k++;
        const ids: number[] = [];
        const values: string[] = [];
        for (let j = 0; j < perTx; j++) {
          const rid = id++;
          ids.push(rid);
          // Each row matches one followed shape (and, through tag and tenant, some seed shapes).
          values.push(
            `(${rid}, ${followed[rid % followed.length]}, ${rid % 12500}, ARRAY['t${rid % 25000}'], ${rid % 1000000}, 1.5, 'n', 'e', 's', now())`,
          );
        }
        await c.query('BEGIN');
        await c.query(`INSERT INTO items VALUES ${values.join(', ')}`);
        const at = performance.now();
        for (const rid of ids) sent.set(rid, at);
        await c.query('COMMIT');
        const done = performance.now();
        for (const rid of ids) acked.set(rid, done);
      }
      await c.end();
    });
    await Promise.all(writers);
    const achieved = ((id - 10_000_000) / ((performance.now() - tB) / 1000)).toFixed(0);
    await sleep(1000);
    stop = true;
    ac.abort();
    await Promise.allSettled(clients);
    await w.end();
    lat.sort((a, b) => a - b);
    // From the moment the writer saw COMMIT acknowledged (negative when the row arrived first: clamped to 0).
    const latAck = received.map(([rid, t]) => Math.max(0, t - (acked.get(rid) ?? t))).sort((a, b) => a - b);
    const loadB = loads.slice(loadsB0);
    results['(b) latency'] =
      `p50 ${pct(lat, 50).toFixed(2)} ms, p90 ${pct(lat, 90).toFixed(2)} ms, p99 ${pct(lat, 99).toFixed(2)} ms, max ${lat[lat.length - 1]!.toFixed(1)} ms over ${lat.length} rows (writer ${achieved} changes/s in ${perTx}-row transactions on ${WRITERS} connections; t0 = COMMIT sent, t1 = long-poll response parsed)`;
    results['(b) latency from COMMIT ack'] =
      `p50 ${pct(latAck, 50).toFixed(2)} ms, p99 ${pct(latAck, 99).toFixed(2)} ms (t0 = COMMIT acknowledged to the writer)`;
    const ps = probe.sync.sort((a, b) => a - b);
    const pp = probe.process.sort((a, b) => a - b);
    const commitMs = received.map(([rid]) => (acked.get(rid) ?? 0) - (sent.get(rid) ?? 0)).sort((a, b) => a - b);
    results['(b) where the time goes'] =
      `Postgres COMMIT (sent → acknowledged) p50 ${pct(commitMs, 50).toFixed(2)} ms p99 ${pct(commitMs, 99).toFixed(2)} ms; shape-log group fsync p50 ${pct(ps, 50).toFixed(2)} ms p99 ${pct(ps, 99).toFixed(2)} ms over ${ps.length}; routing + building per transaction p50 ${pct(pp, 50).toFixed(3)} ms p99 ${pct(pp, 99).toFixed(3)} ms`;
    const vis = svc.metrics().visibilityLatency;
    const q = (l: { p50: number; p99: number }): string => `p50 ${l.p50.toFixed(2)} ms p99 ${l.p99.toFixed(2)} ms`;
    results['(b) service side'] =
      `commit message received → readable ${q(vis.fromReceipt)}; Postgres commit timestamp → readable ${q(vis.fromCommit)} (the service's own figures over its last ${vis.fromReceipt.count} transactions touching a shape)`;
    log(results['(b) service side']);
    results['(b) load'] = `load avg during ${loadB.length ? Math.max(...loadB).toFixed(2) : 'n/a'} (max)`;
    log(results['(b) latency']);
  } catch (err) {
    log(`failed: ${String(err)}`);
    results['error'] = String(err);
  } finally {
    clearInterval(sampler);
    await server?.stop().catch(() => undefined);
    await sql.end().catch(() => undefined);
    await cluster.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  report(results);
}

function lsn(text: string): bigint {
  const [hi, lo] = text.split('/') as [string, string];
  return (BigInt(`0x${hi}`) << 32n) | BigInt(`0x${lo}`);
}

function report(results: Record<string, string>): void {
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 1024 ** 3).toFixed(1)} GiB RAM (${(freemem() / 1024 ** 3).toFixed(1)} GiB free at the end), Node ${process.version}, load average at the end ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' / ')}`;
  const rows = Object.entries(results);
  const w = Math.max(...rows.map(([k]) => k.length));
  const table = rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
  console.log(`\nmachine  ${machine}\n${table}\n`);
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  const md = [
    '# Service benchmark (bench/service-bench.ts)',
    '',
    `Command: \`npx tsx bench/service-bench.ts ${process.argv.slice(2).join(' ')}\` — fsync-enabled Postgres 15 and the service data dir on ext4 (os.tmpdir()), service in-process, HTTP on localhost.`,
    '',
    `Machine: ${machine}.`,
    '',
    '| measure | result |',
    '| --- | --- |',
    ...rows.map(([k, v]) => `| ${k} | ${v.replace(/\|/g, '\\|')} |`),
    '',
  ].join('\n');
  writeFileSync(new URL('./results/service-raw.md', import.meta.url), md);
}

await main();
