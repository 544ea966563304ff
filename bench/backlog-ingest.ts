// Backlog ingest (issues 12 item 6 and 13 item 5): N shapes registered, M rows committed while the service is down,
// then the time from the service's replication start until the slot is acknowledged past the last commit — rows/s
// into fsynced shape logs — with `--shards 0` and `--shards 2` side by side, rounds interleaved on one cluster.
// Run: npx tsx bench/backlog-ingest.ts [--shapes 100000] [--rows 200000] [--modes 0,2] [--rounds 2] [--cpu-prof dir]
//   [--baseline <another checkout>]: each round also runs that checkout's service (its bench/backlog-ingest.ts as the
//   child) on a backlog of its own, alternating which goes first, so two builds are compared on the same shapes.
import { fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { parseLsn } from '../src/replication/lsn.js';
import { SwitchyardService } from '../src/shapes/service.js';
import { ITEMS_TABLE_SQL, distinctSeedDefinitions, itemsInsertSql } from './router-workloads.js';

const SELF = fileURLToPath(import.meta.url);
const log = (s: string): void => void process.stderr.write(`[backlog-ingest] ${s}\n`);

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** What a child (one service start catching up one backlog) reports. */
interface RoundResult {
  readonly shards: number;
  /** Service start → replication start (registry resume, routers built, publication). */
  readonly resumeMs: number;
  /** Replication start → acknowledged LSN ≥ the backlog's last commit. */
  readonly ingestMs: number;
  readonly changes: number;
  readonly messages: number;
  readonly groupCommits: number;
  readonly fsyncs: number;
  readonly routeMs: number;
  /** Process CPU (user + system, every thread: shard workers included) during the ingest, ms. */
  readonly cpuMs: number;
  /** Main thread busy during the ingest (event-loop utilisation), ms: the work the pool and workers do not take. */
  readonly mainMs: number;
  readonly loadAfter: number;
}

// --- child: one service start ---------------------------------------------------------------------------------------

async function child(): Promise<void> {
  const [url, dataDir, shardsText, targetText, profDir] = process.argv.slice(3) as [
    string,
    string,
    string,
    string,
    string | undefined,
  ];
  const shards = Number(shardsText);
  const target = BigInt(targetText);
  const { ReplicationClient } = await import('../src/replication/replication-client.js');
  const inspector = profDir !== undefined && profDir !== '' ? await import('node:inspector/promises') : undefined;
  const session = inspector !== undefined ? new inspector.Session() : undefined;
  session?.connect();
  // The clock (and the profile) starts when replication starts: resuming the registry is not ingest.
  let t0 = 0;
  let cpu0: NodeJS.CpuUsage = process.cpuUsage();
  let elu0 = performance.eventLoopUtilization();
  const proto = ReplicationClient.prototype as unknown as { start(): Promise<void> };
  const start = proto.start;
  proto.start = async function (this: unknown): Promise<void> {
    if (session !== undefined) {
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 200 });
      await session.post('Profiler.start');
    }
    t0 = performance.now();
    cpu0 = process.cpuUsage();
    elu0 = performance.eventLoopUtilization();
    return start.call(this);
  };
  const tStart = performance.now();
  const svc = await SwitchyardService.start({ databaseUrl: url, dataDir, router: { shards } });
  // The replication client's acknowledged LSN (what the slot was last told), read without building all metrics.
  const replication = (svc as unknown as { replication: { acknowledgedLsn: bigint } }).replication;
  for (;;) {
    if (replication.acknowledgedLsn >= target) break;
    await new Promise((r) => setTimeout(r, 2));
  }
  const t1 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  const elu = performance.eventLoopUtilization(elu0);
  if (session !== undefined) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(join(profDir!, `ingest-shards${shards}-${Date.now()}.cpuprofile`), JSON.stringify(profile));
  }
  const m = svc.metrics();
  const result: RoundResult = {
    shards,
    resumeMs: t0 - tStart,
    ingestMs: t1 - t0,
    changes: m.changes,
    messages: m.messages,
    groupCommits: m.groupCommits,
    fsyncs: m.fsyncs,
    routeMs: m.routeNanos / 1e6,
    cpuMs: (cpu.user + cpu.system) / 1000,
    mainMs: elu.active,
    loadAfter: loadavg()[0]!,
  };
  await svc.close();
  process.send?.(result);
  process.exit(0);
}

// --- parent ---------------------------------------------------------------------------------------------------------

function runChild(
  script: string,
  url: string,
  dataDir: string,
  shards: number,
  target: bigint,
  profDir: string,
): Promise<RoundResult> {
  const proc = fork(script, ['--child', url, dataDir, String(shards), target.toString(), profDir], {
    execArgv: ['--max-old-space-size=8192', '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    let result: RoundResult | undefined;
    proc.on('message', (m) => (result = m as RoundResult));
    proc.on('exit', (code) =>
      result !== undefined ? resolve(result) : reject(new Error(`child exited ${code} without a result`)),
    );
  });
}

async function parent(): Promise<void> {
  const { startPostgres } = await import('../test/support/postgres.js');
  const SHAPES = Number(arg('shapes') ?? 100_000);
  const ROWS = Number(arg('rows') ?? 200_000);
  const BATCH = Number(arg('batch') ?? 1000);
  const ROUNDS = Number(arg('rounds') ?? 2);
  const modes = (arg('modes') ?? '0,2').split(',').map(Number);
  const profDir = arg('cpu-prof') ?? '';
  const baseline = arg('baseline');
  const builds = [
    { label: 'this build', script: SELF },
    ...(baseline !== undefined ? [{ label: 'baseline', script: join(baseline, 'bench', 'backlog-ingest.ts') }] : []),
  ];
  if (profDir !== '') mkdirSync(profDir, { recursive: true });
  const loads: number[] = [];
  const sampler = setInterval(() => loads.push(loadavg()[0]!), 1000);
  const cluster = await startPostgres({
    fsync: true,
    dir: tmpdir(),
    settings: { shared_buffers: '256MB', max_wal_size: '4GB' },
  });
  const dataDir = mkdtempSync(join(tmpdir(), 'sy-backlog-'));
  const sql = new pg.Client({ connectionString: cluster.url });
  await sql.connect();
  const lines: string[] = [];
  try {
    await sql.query(ITEMS_TABLE_SQL);
    // Shapes: the router bench's seed mix, distinct definitions, changes_only, created by the service's getOrCreate.
    const defs = distinctSeedDefinitions(SHAPES);
    const tc = performance.now();
    const svc = await SwitchyardService.start({
      databaseUrl: cluster.url,
      dataDir,
      admission: { maxConcurrentCreations: 64, maxShapes: 0, maxShapesPerTable: 0, maxWhereBytes: 0, maxWhereNodes: 0 },
    });
    let next = 0;
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        for (let i = next++; i < defs.length; i = next++) {
          await svc.getOrCreate(defs[i]!);
          if (i % 10_000 === 0 && i > 0) log(`${i} shapes (${Math.round(i / ((performance.now() - tc) / 1000))}/s)`);
        }
      }),
    );
    const created = svc.metrics();
    const createS = (performance.now() - tc) / 1000;
    log(`${created.shapes} shapes in ${createS.toFixed(0)} s`);
    await svc.close();
    const w = new pg.Client({ connectionString: cluster.url });
    await w.connect();
    let id = 1;
    const results: (RoundResult & { build: string })[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const [shards, build] of modes.flatMap((m) =>
        (round % 2 === 0 ? builds : [...builds].reverse()).map((b) => [m, b] as const),
      )) {
        // The backlog: M rows committed while no service reads the slot.
        let last = 0n;
        for (let k = 0; k < ROWS; k += BATCH) {
          await w.query('BEGIN');
          await w.query(itemsInsertSql(id, Math.min(BATCH, ROWS - k), Math.max(10, SHAPES)));
          id += Math.min(BATCH, ROWS - k);
          if (k + BATCH >= ROWS)
            last = parseLsn((await w.query<{ l: string }>('SELECT pg_current_wal_insert_lsn()::text AS l')).rows[0]!.l);
          await w.query('COMMIT');
        }
        await w.query('CHECKPOINT');
        const load = loadavg()[0]!;
        // Only the last round is profiled: the others are timed without the sampler.
        const r = await runChild(build.script, cluster.url, dataDir, shards, last, round === ROUNDS - 1 ? profDir : '');
        const slot = await sql.query<{ c: string }>(
          'SELECT confirmed_flush_lsn::text AS c FROM pg_replication_slots ORDER BY slot_name LIMIT 1',
        );
        const confirmed = parseLsn(slot.rows[0]!.c);
        if (confirmed < last) throw new Error(`slot confirmed ${confirmed} < last commit ${last}`);
        results.push({ ...r, build: build.label });
        const line = `round ${round + 1}${builds.length > 1 ? `, ${build.label},` : ''} --shards ${shards}: ${Math.round(ROWS / (r.ingestMs / 1000)).toLocaleString('en')} rows/s (${ROWS.toLocaleString('en')} rows in ${(r.ingestMs / 1000).toFixed(2)} s; process CPU ${(r.cpuMs / 1000).toFixed(2)} s = ${((r.cpuMs * 1000) / ROWS).toFixed(1)} µs/row; main thread busy ${((r.mainMs * 1000) / ROWS).toFixed(1)} µs/row; prepare ${((r.routeMs * 1000) / ROWS).toFixed(1)} µs/row; ${r.messages.toLocaleString('en')} messages, ${r.groupCommits} group commits; resume ${(r.resumeMs / 1000).toFixed(1)} s; load 1-min ${load.toFixed(2)} before, ${r.loadAfter.toFixed(2)} after)`;
        log(line);
        lines.push(line);
      }
    }
    await w.end();
    const machine = `${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 1024 ** 3).toFixed(1)} GiB, Node ${process.version}`;
    const rate = (s: number, build = builds[0]!.label): number[] =>
      results.filter((r) => r.shards === s && r.build === build).map((r) => ROWS / (r.ingestMs / 1000));
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
    const summary = builds.flatMap((b) =>
      modes.map(
        (s) =>
          `${builds.length > 1 ? `${b.label}, ` : ''}--shards ${s}: ${rate(s, b.label)
            .map((x) => Math.round(x).toLocaleString('en'))
            .join(', ')} rows/s`,
      ),
    );
    const ratio =
      modes.length === 2
        ? `ratio --shards ${modes[1]} / --shards ${modes[0]} (medians): ${(median(rate(modes[1]!)) / median(rate(modes[0]!))).toFixed(2)}`
        : '';
    const md = [
      `# Backlog ingest — \`npx tsx bench/backlog-ingest.ts ${process.argv.slice(2).join(' ')}\``,
      '',
      `${new Date().toISOString()} — ${machine}; load average (1 min) during the run: max ${Math.max(...loads).toFixed(2)}, at the end ${loadavg()
        .map((x) => x.toFixed(2))
        .join(
          ' / ',
        )}. Postgres 15 fsync on, data and the service's data dir on ext4; ${created.shapes.toLocaleString('en')} seed-mix shapes (changes_only) created by getOrCreate in ${createS.toFixed(0)} s; each round commits ${ROWS.toLocaleString('en')} rows in ${BATCH}-row transactions while no service runs, then starts the service in a fresh process and times replication start → acknowledged LSN ≥ the last commit (every entry fsynced).`,
      '',
      ...summary.map((s) => `- ${s}`),
      ...(ratio !== '' ? [`- ${ratio}`] : []),
      '',
      ...lines.map((l) => `- ${l}`),
      '',
    ].join('\n');
    console.log(md);
    mkdirSync(new URL('./out/', import.meta.url), { recursive: true });
    writeFileSync(new URL('./out/backlog-ingest.md', import.meta.url), md);
  } finally {
    clearInterval(sampler);
    await sql.end().catch(() => undefined);
    await cluster.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') await child();
else await parent();
