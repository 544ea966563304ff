// The service's per-shape cost (issue 13): N `user_id = $1` shapes created through the HTTP API by 32 concurrent
// clients against a real, indexed, fsync-on Postgres, next to Postgres's own rate for the same snapshot queries at the
// same concurrency; creation rate per tenth of the run, memory per idle shape after GC, restart to the first served
// shape, backlog ingest after a restart and write → client latency at a fixed write rate.
// `switchyard bench --suite service [--shapes 30k] [--clients 32] [--rows-per-shape 1] [--ingest-rows 50k]
// [--live-rate 1000] [--live-seconds 60] [--watched 16]`.
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { execFileSync, spawn } from 'node:child_process';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { parseLsn } from '../src/replication/lsn.js';
import { Router } from '../src/router/router.js';
import { startPostgres, type PostgresInstance } from '../test/support/postgres.js';
import { freePort } from '../test/support/service-process.js';
import { BENCH_WHERE } from './bench-shapes.js';
import { Follower, Writer, sleep } from './live-traffic.js';
import type { ChildMemory, ChildRequest, ChildSample } from './service-scale-child.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'service-scale-child.ts');

export interface ServiceScaleOptions {
  readonly shapes: number;
  readonly clients?: number;
  /** Rows of the table per shape (each shape's snapshot has this many rows). */
  readonly rowsPerShape?: number;
  /**
   * Create the shapes through the service's own `getOrCreate` in its process (`--in-process`) instead of HTTP: the
   * same creation code without request parsing, so a registry of 100k+ shapes is built in minutes for the memory and
   * restart measures. Postgres's own rates are then not measured (the creation rate is not the HTTP API's).
   */
  readonly inProcess?: boolean;
  /**
   * Backlog ingest: rows updated (1,000 per transaction, each row in its own shape) while the service is stopped,
   * then read from the slot by a fresh process (default min(shapes, 50,000); 0 skips the phase).
   */
  readonly ingestRows?: number;
  /** Live phase: single-row UPDATE transactions per second (default 1,000; 0 skips), for `liveSeconds` (default 60). */
  readonly liveRate?: number;
  readonly liveSeconds?: number;
  /** Shapes followed by live HTTP clients in the live phase (default 16): one write in ten goes to one of them. */
  readonly watched?: number;
  /**
   * `--hold <file>`: after the last phase, stop the service cleanly, write the cluster's URL, the data dir, a probe
   * shape and its handle to this file as JSON, and keep Postgres and the data dir until the file is deleted — so a
   * restart of another build (`bench/restart-profile.ts`) can be timed on the same million shapes.
   */
  readonly holdFile?: string;
  readonly onProgress?: (message: string) => void;
}

export interface RateFigures {
  readonly count: number;
  readonly seconds: number;
  readonly perSecond: number;
  /** Rate in each tenth of the run, by completion order. */
  readonly deciles: readonly number[];
}

export interface ServiceScaleReport {
  readonly date: string;
  readonly machine: { readonly cpu: string; readonly cores: number; readonly memGiB: number; readonly node: string };
  readonly shapes: number;
  readonly clients: number;
  readonly rowsPerShape: number;
  readonly creation: 'http' | 'in-process';
  /** Load average (1 min) sampled each second, max per phase. */
  readonly load: Readonly<Record<string, number>>;
  readonly postgres: { readonly plain: RateFigures; readonly snapshot: RateFigures } | undefined;
  readonly service: RateFigures & { readonly retries: number };
  /** Snapshots the service took for the creations (shared by creations arriving together). */
  readonly snapshots: ChildSample['snapshotBatches'] | undefined;
  readonly memory: {
    readonly baseline: ChildMemory;
    readonly idle: ChildMemory;
    readonly rssPerShape: number;
    readonly heapPerShape: number;
    readonly buffersPerShape: number;
    /** A standalone Router holding the same shapes: heap + array buffers per shape. */
    readonly routerPerShape: number;
  };
  readonly restart: { readonly withOneMs: number; readonly afterKill9Ms: number; readonly afterStopMs: number };
  readonly ingest: IngestFigures | undefined;
  readonly live: LiveFigures | undefined;
  readonly dataDirBytes: number;
}

/** A backlog read from the slot by a freshly started service. */
export interface IngestFigures {
  readonly rows: number;
  readonly walBytes: number;
  /** Spawn → the first 200 for an existing shape. */
  readonly readyMs: number;
  /** Spawn → the slot's confirmed position at the last commit; undefined when the cap ended the phase first. */
  readonly caughtUpMs: number | undefined;
  /** Rows per second while the confirmed position moved (by WAL share: the transactions are alike). */
  readonly rowsPerSecond: number;
}

/** Write → client latency with the service live. */
export interface LiveFigures {
  readonly offeredRate: number;
  readonly committedPerSecond: number;
  readonly seconds: number;
  readonly watched: number;
  readonly delivered: number;
  readonly undelivered: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
  /** The same quantiles over the writes delivered after the first `warmupSeconds` (the service's start-up excluded). */
  readonly warmupSeconds: number;
  readonly steadyP50Ms: number;
  readonly steadyP99Ms: number;
  readonly steadyP999Ms: number;
}

export const TABLE_SQL = `CREATE TABLE items (id int8 PRIMARY KEY, user_id int8 NOT NULL, title text NOT NULL, score int4 NOT NULL);
  CREATE INDEX items_user_id ON items (user_id)`;

export async function runServiceScaleBench(opts: ServiceScaleOptions): Promise<ServiceScaleReport> {
  const n = opts.shapes;
  const clients = opts.clients ?? 32;
  const rowsPerShape = opts.rowsPerShape ?? 1;
  const say = opts.onProgress ?? (() => undefined);
  const load = new LoadSampler();
  // On disk (not the test harness's default /dev/shm): fsync must mean something, for Postgres and for the service.
  const cluster = await startPostgres({ fsync: true, dir: os.tmpdir(), settings: { max_connections: '200' } });
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sy-scale-'));
  let child: ServiceChild | undefined;
  try {
    await seed(cluster, n, rowsPerShape);
    say(`table seeded: ${(n * rowsPerShape).toLocaleString('en-US')} rows for ${n.toLocaleString('en-US')} users`);
    let postgres: ServiceScaleReport['postgres'];
    if (opts.inProcess !== true) {
      load.phase('postgres');
      const plain = await postgresRate(cluster.url, n, clients, false);
      const snapshot = await postgresRate(cluster.url, n, clients, true);
      postgres = { plain, snapshot };
      say(
        `postgres: ${Math.round(plain.perSecond)}/s plain, ${Math.round(snapshot.perSecond)}/s as snapshot transactions`,
      );
    }

    const port = await freePort();
    child = await ServiceChild.start(cluster.url, dataDir, port);
    const client = new ShapeClient(port, clients);
    // One shape first, so the table's router, the publication and the connections exist before the baseline; a
    // restart with that one shape is the fixed cost (process start-up included) the restart with N is compared to.
    const first = await client.create(n);
    await child.kill9();
    const withOneMs = await timeRestart(cluster.url, dataDir, port, n, first, (c) => (child = c));
    const baseline = await child.memory();
    load.phase('creation');
    const created =
      opts.inProcess === true ? await createInChild(child, n, clients, say) : await createAll(client, n, clients, say);
    const snapshots = (await child.sample()).snapshotBatches;
    const idle = await child.memory();
    say(`service: ${Math.round(created.perSecond)}/s; rss ${mb(idle.rss)} MB, heap ${mb(idle.heapUsed)} MB`);

    load.phase('restart');
    const probe = Math.floor(n / 2);
    const handle = await client.create(probe);
    await child.kill9();
    const afterKill9Ms = await timeRestart(cluster.url, dataDir, port, probe, handle, (c) => (child = c));
    await child.stop();
    const afterStopMs = await timeRestart(cluster.url, dataDir, port, probe, handle, (c) => (child = c));
    say(`restart: ${afterKill9Ms} ms after kill -9, ${afterStopMs} ms after a clean stop`);
    client.close();

    let ingest: IngestFigures | undefined;
    const ingestRows = opts.ingestRows ?? Math.min(n, 50_000);
    if (ingestRows > 0) {
      load.phase('ingest');
      await child.stop();
      ingest = await backlogIngest(cluster.url, dataDir, port, probe, ingestRows, (c) => (child = c));
      say(
        `ingest: ${Math.round(ingest.rowsPerSecond)} rows/s (${ingest.rows} rows; ready ${ingest.readyMs} ms, ` +
          `caught up ${ingest.caughtUpMs ?? 'not'} ms after spawn)`,
      );
    }
    let live: LiveFigures | undefined;
    const liveRate = opts.liveRate ?? 1000;
    const liveSeconds = opts.liveSeconds ?? 60;
    if (liveRate > 0 && liveSeconds > 0) {
      load.phase('live');
      live = await liveLatency(cluster.url, port, n, liveRate, liveSeconds, Math.min(n, opts.watched ?? 16));
      say(
        `live: ${live.committedPerSecond}/s committed, p50 ${live.p50Ms} ms, p99 ${live.p99Ms} ms; after ${live.warmupSeconds} s: p50 ${live.steadyP50Ms} ms, p99 ${live.steadyP99Ms} ms`,
      );
    }
    if (opts.holdFile !== undefined) {
      await child.stop();
      writeFileSync(opts.holdFile, JSON.stringify({ url: cluster.url, dataDir, probe, handle, shapes: n }) + '\n');
      say(`holding Postgres and ${dataDir} until ${opts.holdFile} is deleted`);
      while (existsSync(opts.holdFile)) await sleep(1000);
    }
    const routerPerShape = routerBytesPerShape(n);
    const per = (a: number, b: number): number => (a - b) / n;
    return {
      date: new Date().toISOString(),
      machine: machine(),
      shapes: n,
      clients,
      rowsPerShape,
      creation: opts.inProcess === true ? 'in-process' : 'http',
      load: load.finish(),
      postgres,
      service: created,
      snapshots,
      memory: {
        baseline,
        idle,
        rssPerShape: per(idle.rss, baseline.rss),
        heapPerShape: per(idle.heapUsed, baseline.heapUsed),
        buffersPerShape: per(idle.arrayBuffers, baseline.arrayBuffers),
        routerPerShape,
      },
      restart: { withOneMs, afterKill9Ms, afterStopMs },
      ingest,
      live,
      dataDirBytes: duBytes(dataDir),
    };
  } finally {
    load.finish();
    await child?.kill9().catch(() => undefined);
    await cluster.stop();
    removeInBackground(dataDir);
  }
}

export async function seed(cluster: PostgresInstance, n: number, rowsPerShape: number): Promise<void> {
  const c = new pg.Client({ connectionString: cluster.url });
  await c.connect();
  try {
    await c.query(TABLE_SQL);
    await c.query(
      `INSERT INTO items SELECT g, g % $1, 'title ' || g, (g * 31) % 1000 FROM generate_series(0, $2::int8 - 1) g`,
      [n, n * rowsPerShape],
    );
    await c.query('VACUUM ANALYZE items');
  } finally {
    await c.end();
  }
}

/**
 * Postgres answering the shapes' snapshot queries itself, `clients` connections at once: `plain` is the bare
 * `SELECT … WHERE user_id = $1`; `snapshot` is what the service runs per shape (REPEATABLE READ, the snapshot and
 * WAL position, the query through a cursor, COMMIT).
 */
async function postgresRate(url: string, n: number, clients: number, snapshot: boolean): Promise<RateFigures> {
  const conns = await Promise.all(
    Array.from({ length: clients }, async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      return c;
    }),
  );
  const select = 'SELECT id, user_id, title, score FROM items WHERE user_id = $1';
  const timer = new CompletionTimer(n);
  let next = 0;
  await Promise.all(
    conns.map(async (c) => {
      for (let i = next++; i < n; i = next++) {
        if (snapshot) {
          await c.query(
            'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SELECT pg_current_snapshot()::text, pg_current_wal_insert_lsn()::text',
          );
          await c.query(`DECLARE sy_snapshot NO SCROLL CURSOR FOR ${select.replace('$1', String(i))}`);
          await c.query('FETCH 2000 FROM sy_snapshot');
          await c.query('COMMIT');
        } else {
          await c.query({ name: 'q', text: select, values: [i] });
        }
        timer.done();
      }
    }),
  );
  await Promise.all(conns.map((c) => c.end()));
  return timer.figures();
}

/** Every shape through `GET /v1/shape?offset=-1`, `clients` requests at once; 429/503 are retried. */
async function createAll(
  client: ShapeClient,
  n: number,
  clients: number,
  say: (m: string) => void,
): Promise<RateFigures & { retries: number }> {
  const timer = new CompletionTimer(n);
  let next = 0;
  let lastSay = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let i = next++; i < n; i = next++) {
        await client.create(i);
        const done = timer.done();
        if (performance.now() - lastSay > 5000) {
          lastSay = performance.now();
          say(`${done.toLocaleString('en-US')} shapes, ${Math.round(done / timer.elapsedSeconds())}/s so far`);
        }
      }
    }),
  );
  return { ...timer.figures(), retries: client.retries };
}

/** Every shape through the service's `getOrCreate` in its own process, in ten steps (the rate per tenth). */
async function createInChild(
  child: ServiceChild,
  n: number,
  concurrency: number,
  say: (m: string) => void,
): Promise<RateFigures & { retries: number }> {
  const deciles: number[] = [];
  const t0 = performance.now();
  for (let d = 0; d < 10; d++) {
    const from = Math.round((d * n) / 10);
    const to = Math.round(((d + 1) * n) / 10);
    const t = performance.now();
    await child.create(from, to, concurrency);
    deciles.push(((to - from) * 1000) / Math.max(1e-6, performance.now() - t));
    say(`${to.toLocaleString('en-US')} shapes in process, ${Math.round(deciles[d]!)}/s in this tenth`);
  }
  const seconds = (performance.now() - t0) / 1000;
  return { count: n, seconds, perSecond: n / seconds, deciles, retries: 0 };
}

/** The slot's confirmed position (the service's only slot on the bench's cluster). */
async function confirmedLsn(c: pg.Client): Promise<bigint> {
  const r = await c.query<{ c: string | null }>('SELECT max(confirmed_flush_lsn)::text AS c FROM pg_replication_slots');
  return parseLsn(r.rows[0]?.c ?? '0/0');
}

/**
 * With the service stopped, updates rows 0…rows-1 (one shape each: `user_id = id` when one row per shape) in
 * transactions of 1,000, then starts the service and samples the slot every 200 ms until its confirmed position
 * reaches the last commit (or 15 minutes pass). Every touched log is cold: the process has just started.
 */
export async function backlogIngest(
  url: string,
  dataDir: string,
  port: number,
  probe: number,
  rows: number,
  set: (c: ServiceChild) => void,
  child = CHILD,
): Promise<IngestFigures> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const start = await confirmedLsn(c);
    let target = start;
    for (let k = 0; k < rows; k += 1000) {
      await c.query('BEGIN');
      await c.query('UPDATE items SET score = score + 1 WHERE id >= $1 AND id < $2', [k, Math.min(rows, k + 1000)]);
      // Inside the last transaction: its commit record lies beyond this position.
      if (k + 1000 >= rows)
        target = parseLsn((await c.query<{ l: string }>('SELECT pg_current_wal_insert_lsn()::text AS l')).rows[0]!.l);
      await c.query('COMMIT');
    }
    const t0 = performance.now();
    let readyMs = 0;
    const starting = ServiceChild.start(url, dataDir, port, child).then(async (started) => {
      set(started);
      const client = new ShapeClient(port, 1);
      await client.create(probe);
      readyMs = Math.round(performance.now() - t0);
      client.close();
    });
    let starts: { t: number; lsn: bigint } | undefined;
    let last = { t: t0, lsn: start };
    const deadline = t0 + 15 * 60_000;
    while (last.lsn < target && last.t < deadline) {
      await sleep(200);
      last = { t: performance.now(), lsn: await confirmedLsn(c) };
      if (starts === undefined && last.lsn > start) starts = last;
    }
    await starting;
    const caughtUpMs = last.lsn >= target ? Math.round(last.t - t0) : undefined;
    // The rate over the interval the position moved in, scaled by the WAL share it covered; a backlog read within
    // one sample interval is timed from the spawn instead (start-up included: an underestimate).
    const share = Number(last.lsn - (starts?.lsn ?? start)) / Number(target - start);
    const from = starts !== undefined && last.t > starts.t ? starts.t : t0;
    const rowsPerSecond = (rows * Math.min(1, share)) / Math.max(1e-3, (last.t - from) / 1000);
    return { rows, walBytes: Number(target - start), readyMs, caughtUpMs, rowsPerSecond };
  } finally {
    await c.end();
  }
}

/**
 * The live phase: `watched` shapes followed by long-polling HTTP clients while single-row updates are committed at
 * `rate` per second for `seconds` (one in ten to a watched shape, timed from before its COMMIT is sent to the change
 * read by the client; the others to random shapes).
 */
/** Seconds of the live phase whose deliveries the steady-state quantiles leave out. */
const LIVE_WARMUP_SECONDS = 10;

export async function liveLatency(
  url: string,
  port: number,
  n: number,
  rate: number,
  seconds: number,
  watched: number,
): Promise<LiveFigures> {
  const timed = new Map<string, number>();
  const latencies: number[] = [];
  const followers = Array.from({ length: watched }, (_, i) => new Follower(port, i, timed, latencies));
  try {
    await Promise.all(followers.map((f) => f.untilLive()));
    followers.forEach((f) => f.run());
    const writer = new Writer(url, n, watched, rate, timed);
    await writer.connect();
    writer.start();
    // Right after a restart the service is still starting up (JIT, background scans): reported apart as well.
    const warmupSeconds = Math.min(LIVE_WARMUP_SECONDS, seconds / 4);
    await sleep(warmupSeconds * 1000);
    const warm = latencies.length;
    await sleep((seconds - warmupSeconds) * 1000);
    await writer.stop();
    // The last timed writes get a moment to arrive before the undelivered ones are counted.
    await sleep(3000);
    const steady = latencies.slice(warm).sort((a, b) => a - b);
    const xs = latencies.sort((a, b) => a - b);
    const quantile = (v: number[], p: number): number =>
      v.length === 0 ? NaN : Math.round(v[Math.min(v.length - 1, Math.floor(p * v.length))]! * 10) / 10;
    const q = (p: number): number => quantile(xs, p);
    return {
      offeredRate: rate,
      committedPerSecond: Math.round(writer.committed / seconds),
      seconds,
      watched,
      delivered: xs.length,
      undelivered: timed.size,
      p50Ms: q(0.5),
      p99Ms: q(0.99),
      p999Ms: q(0.999),
      maxMs: q(1),
      warmupSeconds,
      steadyP50Ms: quantile(steady, 0.5),
      steadyP99Ms: quantile(steady, 0.99),
      steadyP999Ms: quantile(steady, 0.999),
    };
  } finally {
    followers.forEach((f) => f.stop());
  }
}

/** Spawns the service (`child`: a service-scale-child.ts, of this build or another) and times its first 200. */
export async function timeRestart(
  url: string,
  dataDir: string,
  port: number,
  probe: number,
  handle: string,
  set: (c: ServiceChild) => void,
  child = CHILD,
): Promise<number> {
  const t0 = performance.now();
  const c = await ServiceChild.start(url, dataDir, port, child);
  set(c);
  const client = new ShapeClient(port, 1);
  const got = await client.create(probe);
  const ms = Math.round(performance.now() - t0);
  client.close();
  if (got !== handle) throw new Error(`after the restart shape ${probe} has handle ${got}, was ${handle}: not resumed`);
  return ms;
}

/** Heap + array buffers per shape of a Router holding the same N shapes (the router's own share). */
function routerBytesPerShape(n: number): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return NaN;
  const used = (): number => {
    gc();
    gc();
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const router = new Router({
    schema: { 'public.items': { id: 'int8', user_id: 'int8', title: 'text', score: 'int4' } },
  });
  router.addShape('warm', { table: 'items', where: BENCH_WHERE, params: { '1': '-1' } });
  const before = used();
  for (let i = 0; i < n; i++)
    router.addShape(`h${i}`, { table: 'items', where: BENCH_WHERE, params: { '1': String(i) } });
  const bytes = (used() - before) / n;
  // Keeps the router reachable until after the measurement.
  if (router.stats().shapes < n) throw new Error('router lost shapes');
  return bytes;
}

/** The service in a child process (its memory is its own), with its JSON log drained. */
export class ServiceChild {
  private constructor(
    private readonly proc: ChildProcess,
    private readonly exited: Promise<void>,
    /** The last 4,000 characters the service wrote to stderr. */
    private readonly stderrTail: () => string,
  ) {}

  static async start(url: string, dataDir: string, port: number, child = CHILD): Promise<ServiceChild> {
    const proc = fork(child, [url, dataDir, String(port)], {
      execArgv: [
        '--expose-gc',
        '--max-old-space-size=8192',
        '--import',
        'tsx',
        // A CPU profile of the service per start (`SWITCHYARD_BENCH_CPU_PROF=<dir>`), to see where creation goes.
        ...(process.env['SWITCHYARD_BENCH_CPU_PROF']
          ? ['--cpu-prof', `--cpu-prof-dir=${process.env['SWITCHYARD_BENCH_CPU_PROF']}`]
          : []),
      ],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    let err = '';
    proc.stdout!.resume();
    proc.stderr!.on('data', (b: Buffer) => void (err = (err + b.toString('utf8')).slice(-4000)));
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      proc.once('message', () => resolve());
      void exited.then(() => reject(new Error(`service exited before listening:\n${err}`)));
    });
    return new ServiceChild(proc, exited, () => err);
  }

  /** Sends a request and resolves with the answer; rejects (with the service's stderr) if the service exits first. */
  private ask<T>(req: ChildRequest, pick: (m: Record<string, unknown>) => T): Promise<T> {
    return new Promise((resolve, reject) => {
      const onExit = (): void => reject(new Error(`service exited during ${req.cmd}:\n${this.stderrTail()}`));
      this.proc.once('exit', onExit);
      this.proc.once('message', (m: Record<string, unknown>) => {
        this.proc.off('exit', onExit);
        resolve(pick(m));
      });
      this.proc.send(req);
    });
  }

  /** Memory without a collection and the service's metrics (what a soak samples while it runs). */
  sample(): Promise<ChildSample> {
    return this.ask({ cmd: 'sample' }, (m) => m['sample'] as ChildSample);
  }

  memory(): Promise<ChildMemory> {
    return this.ask({ cmd: 'mem' }, (m) => m['mem'] as ChildMemory);
  }

  async create(from: number, to: number, concurrency: number): Promise<void> {
    const failed = await this.ask({ cmd: 'create', from, to, concurrency }, (m) => m['failed']);
    if (failed !== undefined) throw new Error(String(failed));
  }

  /**
   * CPU time (user + system, ms) the service process used so far, from /proc (Linux; NaN elsewhere): on a shared
   * machine it moves far less with the load than wall time does.
   */
  cpuMs(): number {
    try {
      const stat = readFileSync(`/proc/${this.proc.pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // Fields 14 and 15 (utime, stime) in USER_HZ ticks (100/s on Linux); after the name they are the 12th and 13th.
      return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
    } catch {
      return NaN;
    }
  }

  async kill9(): Promise<void> {
    // A profile is written only on a normal exit: while profiling, "kill -9" is a clean stop (the restart figures
    // of such a run are not crash restarts).
    if (process.env['SWITCHYARD_BENCH_CPU_PROF'] && this.proc.connected) return this.stop();
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
    await this.exited;
  }

  async stop(): Promise<void> {
    this.proc.send({ cmd: 'stop' });
    await this.exited;
  }
}

/** Keep-alive HTTP client creating shapes `user_id = i` from the start of their log (the official client's first call). */
export class ShapeClient {
  private readonly agent: http.Agent;
  retries = 0;

  constructor(
    private readonly port: number,
    sockets: number,
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  }

  /** Resolves with the shape's handle once its first response (the snapshot) has been read whole. */
  async create(i: number): Promise<string> {
    const q = `table=items&where=${encodeURIComponent(BENCH_WHERE)}&params%5B1%5D=${i}&offset=-1`;
    for (;;) {
      const { status, handle, body } = await this.get(`/v1/shape?${q}`);
      if (status === 200 && handle !== undefined) return handle;
      if (status !== 429 && status !== 503) throw new Error(`shape ${i}: HTTP ${status} ${body.slice(0, 300)}`);
      this.retries++;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  close(): void {
    this.agent.destroy();
  }

  private get(p: string): Promise<{ status: number; handle: string | undefined; body: string }> {
    return new Promise((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: this.port, path: p, agent: this.agent }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (b: Buffer) => parts.push(b));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            handle: res.headers['electric-handle'] as string | undefined,
            body: Buffer.concat(parts).toString('utf8'),
          }),
        );
        res.on('error', reject);
      });
      req.on('error', reject);
    });
  }
}

/** Completion times in order: the overall rate and the rate over each tenth of the completions. */
class CompletionTimer {
  private readonly times: Float64Array;
  private count = 0;
  private readonly start = performance.now();

  constructor(private readonly total: number) {
    this.times = new Float64Array(total);
  }

  done(): number {
    this.times[this.count++] = performance.now();
    return this.count;
  }

  elapsedSeconds(): number {
    return (performance.now() - this.start) / 1000;
  }

  figures(): RateFigures {
    const deciles: number[] = [];
    let prevT = this.start;
    let prevI = 0;
    for (let d = 1; d <= 10; d++) {
      const end = Math.max(prevI + 1, Math.round((d * this.count) / 10));
      const t = this.times[end - 1]!;
      deciles.push(((end - prevI) * 1000) / Math.max(1e-6, t - prevT));
      prevT = t;
      prevI = end;
    }
    const seconds = (this.times[this.count - 1]! - this.start) / 1000;
    if (this.count !== this.total) throw new Error(`${this.count} of ${this.total} completed`);
    return { count: this.count, seconds, perSecond: this.count / seconds, deciles };
  }
}

/** Load average (1 min) each second; the max per named phase. */
export class LoadSampler {
  private readonly max: Record<string, number> = {};
  private current = 'setup';
  private readonly timer = setInterval(() => this.sample(), 1000);

  phase(name: string): void {
    this.current = name;
    this.sample();
  }

  finish(): Record<string, number> {
    clearInterval(this.timer);
    return { ...this.max };
  }

  private sample(): void {
    const l = os.loadavg()[0]!;
    this.max[this.current] = Math.max(this.max[this.current] ?? 0, Number(l.toFixed(2)));
  }
}

export function machine(): ServiceScaleReport['machine'] {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    node: process.version,
  };
}

/** Bytes under a directory (`du`: a million log directories walked from JavaScript would block for minutes). */
function duBytes(dir: string): number {
  const out = execFileSync('du', ['-sb', dir], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return Number(out.split('\t')[0]);
}

const mb = (b: number): string => (b / 2 ** 20).toFixed(0);

/** The report as the Markdown table committed under bench/results/. */
export function serviceScaleMarkdown(r: ServiceScaleReport): string {
  const rate = (x: number): string => Math.round(x).toLocaleString('en-US');
  const s = r.service;
  const flat = s.deciles[9]! / s.deciles[0]!;
  const beyond = r.memory.heapPerShape + r.memory.buffersPerShape - r.memory.routerPerShape;
  const lines = [
    `# Service per-shape cost — \`switchyard bench --suite service --shapes ${r.shapes}\``,
    '',
    `${r.date} — ${r.machine.cpu} × ${r.machine.cores}, ${r.machine.memGiB} GiB, Node ${r.machine.node}; load average ` +
      `(1 min, max per phase): ${Object.entries(r.load)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}. Postgres 15 with fsync on, data on the OS temp dir; the service in its own process; ` +
      `${r.clients} concurrent clients; table \`items\` indexed on \`user_id\`, ${r.rowsPerShape} row(s) per shape.`,
    '',
    '| measure | figure | target |',
    '|---|---|---|',
    ...(r.postgres === undefined
      ? [
          `| shapes created in the service's process (\`getOrCreate\`, ${r.clients} at once; not the HTTP API's rate) | ${rate(s.perSecond)}/s (${s.count.toLocaleString('en-US')} in ${s.seconds.toFixed(1)} s) | — |`,
        ]
      : [
          `| Postgres, bare \`SELECT … WHERE user_id = $1\` | ${rate(r.postgres.plain.perSecond)}/s | — |`,
          `| Postgres, the service's snapshot transaction (REPEATABLE READ, snapshot + LSN, cursor, COMMIT) | ${rate(r.postgres.snapshot.perSecond)}/s | — |`,
          `| shapes created through the HTTP API (\`offset=-1\`, snapshot read whole) | ${rate(s.perSecond)}/s (${s.count.toLocaleString('en-US')} in ${s.seconds.toFixed(1)} s, ${s.retries} retries) | ≥ 0.5× Postgres |`,
          `| ratio to Postgres: bare / snapshot transaction | ${(s.perSecond / r.postgres.plain.perSecond).toFixed(2)}× / ${(s.perSecond / r.postgres.snapshot.perSecond).toFixed(2)}× | ≥ 0.5× |`,
        ]),
    ...(r.snapshots === undefined
      ? []
      : [
          `| snapshots taken for the creations (shared by creations arriving together) | ${r.snapshots.batches.toLocaleString('en-US')} for ${r.snapshots.claims.toLocaleString('en-US')} creations (${(r.snapshots.claims / Math.max(1, r.snapshots.batches)).toFixed(1)} per snapshot, at most ${r.snapshots.largestBatch}) | — |`,
        ]),
    `| creation rate per tenth of the run | ${s.deciles.map(rate).join(', ')} | — |`,
    `| flatness: last tenth / first tenth | ${flat.toFixed(2)} | ${r.postgres === undefined ? '—' : '≥ 0.8'} |`,
    `| service RSS per idle shape (after GC) | ${rate(r.memory.rssPerShape)} B | — |`,
    `| service heap + array buffers per idle shape | ${rate(r.memory.heapPerShape + r.memory.buffersPerShape)} B (heap ${rate(r.memory.heapPerShape)}, buffers ${rate(r.memory.buffersPerShape)}) | — |`,
    `| a bare Router holding the same shapes | ${rate(r.memory.routerPerShape)} B | — |`,
    `| service beyond the router, per idle shape | ${rate(beyond)} B | ≤ 1,024 B |`,
    `| restart to the first served shape: after kill -9 / after a clean stop (with 1 shape: ${r.restart.withOneMs} ms) | ${r.restart.afterKill9Ms} ms / ${r.restart.afterStopMs} ms | 1M shapes ≤ 15 s |`,
    ...(r.ingest === undefined
      ? []
      : [
          `| backlog ingest: ${r.ingest.rows.toLocaleString('en-US')} rows (1,000 per transaction, each in its own shape) read from the slot after a restart, cold logs, fsync on | ${rate(r.ingest.rowsPerSecond)} rows/s (first served ${r.ingest.readyMs} ms, caught up ${r.ingest.caughtUpMs === undefined ? 'not within 15 min' : `${r.ingest.caughtUpMs} ms`} after spawn) | ≥ 50,000 rows/s at 1M shapes |`,
        ]),
    ...(r.live === undefined
      ? []
      : [
          `| write → client, ${r.live.offeredRate} single-row transactions/s offered (${r.live.committedPerSecond}/s committed) for ${r.live.seconds} s, ${r.live.watched} shapes long-polled: p50 / p99 / p99.9 / max | ${r.live.p50Ms} / ${r.live.p99Ms} / ${r.live.p999Ms} / ${r.live.maxMs} ms (${r.live.delivered} timed, ${r.live.undelivered} undelivered) | p50 ≤ 5 ms, p99 ≤ 20 ms at 100k shapes |`,
          `| the same, deliveries after the first ${r.live.warmupSeconds} s (the restarted service warmed up): p50 / p99 / p99.9 | ${r.live.steadyP50Ms} / ${r.live.steadyP99Ms} / ${r.live.steadyP999Ms} ms | p50 ≤ 5 ms, p99 ≤ 20 ms |`,
        ]),
    `| data directory | ${mb(r.dataDirBytes)} MB (${rate(r.dataDirBytes / r.shapes)} B per shape) | — |`,
    '',
    `RSS and heap are the service process's, before (one shape) and after creating the ${r.shapes.toLocaleString('en-US')} shapes, ` +
      'each after two full collections. Restart times run from spawning the process (Node and tsx start-up ' +
      'included) to the first 200 for an existing shape, which must keep its handle.',
  ];
  return lines.join('\n') + '\n';
}

/**
 * Removes a service data directory without waiting: deleting a million log directories takes hours on this disk (about
 * 130 per second under load), and a bench that waited for it in its cleanup never wrote its report. The directory is
 * renamed away first, so a new run never meets it.
 */
export function removeInBackground(dir: string): void {
  const trash = `${dir}.trash-${Date.now()}`;
  try {
    renameSync(dir, trash);
  } catch {
    return; // already gone
  }
  spawn('rm', ['-rf', trash], { detached: true, stdio: 'ignore' }).unref();
}
