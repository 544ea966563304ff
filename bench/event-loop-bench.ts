// How long the service's event loop stalls, and how fast /v1/health and an unrelated shape answer, while (a) costly
// where clauses are compiled through the HTTP API and (b) a 100k-row transaction is routed and appended.
//
//   npx tsx bench/event-loop-bench.ts [--write] [--unsliced]
//
// The service runs in this process, as in production. Two stall figures per phase: perf_hooks'
// monitorEventLoopDelay (its max; wall time, so a loaded machine descheduling the process counts), and the loop
// probe of test/integration/event-loop.test.ts (each 2 ms tick: the smaller of the wall time since the last tick and
// the CPU time used meanwhile — only work holding the loop raises both). `--unsliced` adds (b) with time slicing off
// (`--slice-ms` Infinity) for comparison; `--write` writes bench/results/event-loop.md.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { startServer, type RunningServer } from '../src/cli/serve.js';
import { silentLogger } from '../src/http/logger.js';
import { startPostgres } from '../test/support/postgres.js';

const ROWS = 100_000;
const COSTLY = [
  'v > 9.99 ^ 100000',
  'v > 123.456 ^ 100000',
  'v > 3.14159265358979 ^ 100000',
  'v > sqrt(9.99 ^ 30000)',
  'v > 2 ^ 0.5 ^ 100000',
];

interface Phase {
  readonly name: string;
  readonly elMaxMs: number;
  readonly elP99Ms: number;
  readonly stallMs: number;
  readonly health: Latency;
  readonly shape: Latency;
  readonly loadBefore: number;
  readonly loadAfter: number;
  readonly note: string;
}

interface Latency {
  readonly n: number;
  readonly medianMs: number;
  readonly maxMs: number;
}

function latency(ms: number[]): Latency {
  const s = [...ms].sort((a, b) => a - b);
  return { n: s.length, medianMs: s[Math.floor(s.length / 2)] ?? NaN, maxMs: s[s.length - 1] ?? NaN };
}

/** The smaller of wall and CPU time between 2 ms ticks, at most. */
function stallProbe(): () => number {
  let last = performance.now();
  let lastCpu = process.cpuUsage();
  let max = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    const cpu = process.cpuUsage();
    const used = (cpu.user + cpu.system - lastCpu.user - lastCpu.system) / 1000;
    max = Math.max(max, Math.min(now - last, used));
    last = now;
    lastCpu = cpu;
  }, 2);
  return () => {
    clearInterval(timer);
    return max;
  };
}

/** Requests `url` back to back until stopped; the latencies of 200 answers (anything else throws). */
function poll(url: string): () => Promise<number[]> {
  let running = true;
  const out: number[] = [];
  const loop = (async () => {
    while (running) {
      const t = performance.now();
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
      out.push(performance.now() - t);
    }
  })();
  return async () => {
    running = false;
    await loop;
    return out;
  };
}

async function measure(name: string, base: string, shapeUrl: string, work: () => Promise<string>): Promise<Phase> {
  const loadBefore = loadavg()[0] as number;
  const el = monitorEventLoopDelay({ resolution: 1 });
  el.enable();
  const stall = stallProbe();
  const polls = [poll(`${base}/v1/health`), poll(shapeUrl)];
  const note = await work();
  el.disable();
  const stallMs = stall();
  const [health, shape] = await Promise.all(polls.map((p) => p()));
  return {
    name,
    elMaxMs: el.max / 1e6,
    elP99Ms: el.percentile(99) / 1e6,
    stallMs,
    health: latency(health as number[]),
    shape: latency(shape as number[]),
    loadBefore,
    loadAfter: loadavg()[0] as number,
    note,
  };
}

async function runService(url: string, sliceMs: number, unslicedOnly: boolean): Promise<Phase[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sy-el-bench-'));
  const sql = new pg.Client({ connectionString: url });
  await sql.connect();
  await sql.query(`DROP TABLE IF EXISTS big, other;
    CREATE TABLE big (id int8 PRIMARY KEY, v int4 NOT NULL, name text);
    CREATE TABLE other (id int4 PRIMARY KEY, v int4 NOT NULL); INSERT INTO other VALUES (1, 1), (2, 2)`);
  let server: RunningServer | undefined;
  const phases: Phase[] = [];
  try {
    server = await startServer(
      {
        port: 0,
        host: '127.0.0.1',
        databaseUrl: url,
        dataDir,
        longPollTimeoutMs: 20_000,
        chunkBytes: 1 << 20,
        enableDelete: false,
        demo: false,
        processSliceMs: sliceMs,
      },
      silentLogger,
    );
    const base = `http://127.0.0.1:${(server.http.server.address() as AddressInfo).port}`;
    const svc = server.service;
    const create = (table: string, where?: string): Promise<Response> =>
      fetch(
        `${base}/v1/shape?table=${table}&offset=-1${where === undefined ? '' : `&where=${encodeURIComponent(where)}`}`,
      );
    if ((await create('big', 'v >= 0')).status !== 200) throw new Error('shape on big refused');
    const other = await create('other');
    await other.arrayBuffer();
    // The unrelated shape's catch-up request (non-live: answered from its log, so each answer is one round trip).
    const shapeUrl = `${base}/v1/shape?table=other&offset=-1&handle=${other.headers.get('electric-handle')}`;
    const suffix = sliceMs === Infinity ? ' (time slicing off)' : '';
    if (!unslicedOnly) {
      phases.push(await measure('idle (1 s)', base, shapeUrl, () => sleep(1000).then(() => '')));
      phases.push(
        await measure('compiling costly clauses', base, shapeUrl, async () => {
          const t = performance.now();
          let refused = 0;
          for (const [i, where] of COSTLY.entries()) {
            const res = await create('other', `${where} + ${i}`);
            await res.arrayBuffer();
            if (res.status === 400 && (res.headers.get('switchyard-error-details') ?? '').includes('too_expensive'))
              refused++;
          }
          return `${COSTLY.length} requests, ${refused} refused too_expensive, ${(performance.now() - t).toFixed(0)} ms in all`;
        }),
      );
    }
    const before = svc.metrics();
    phases.push(
      await measure(`routing a ${ROWS / 1000}k-row transaction${suffix}`, base, shapeUrl, async () => {
        const t = performance.now();
        await sql.query(`INSERT INTO big SELECT g, g % 100, 'n' || g FROM generate_series(1, ${ROWS}) g`);
        while (svc.metrics().changes - before.changes < ROWS || svc.lastSeenLsn() <= before.durableLsn) await sleep(20);
        const m = svc.metrics();
        return (
          `${ROWS} rows in ${(performance.now() - t).toFixed(0)} ms; ${m.processing.yields - before.processing.yields} ` +
          `yields; longest slice ${m.processing.longestSliceMs.toFixed(1)} ms wall / ${m.processing.longestSliceCpuMs.toFixed(1)} ms CPU`
        );
      }),
    );
  } finally {
    await server?.stop();
    await sql.end();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return phases;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const f = (x: number): string => x.toFixed(1);

function markdown(phases: readonly Phase[]): string {
  const lines = [
    `Event-loop bench — ${new Date().toISOString()} — ${cpus()[0]?.model ?? '?'} × ${cpus().length}, Node ${process.version}`,
    '',
    'Target (issue 11): `/v1/health` and an unrelated shape answer within 100 ms meanwhile.',
    '',
    '| phase | loop delay max ms | loop delay p99 ms | stall (min of wall, CPU) ms | health median / max ms (n) | other shape median / max ms (n) | load 1-min before → after | notes |',
    '|---|---:|---:|---:|---|---|---|---|',
  ];
  for (const p of phases)
    lines.push(
      `| ${p.name} | ${f(p.elMaxMs)} | ${f(p.elP99Ms)} | ${f(p.stallMs)} | ${f(p.health.medianMs)} / ${f(p.health.maxMs)} (${p.health.n}) | ${f(p.shape.medianMs)} / ${f(p.shape.maxMs)} (${p.shape.n}) | ${p.loadBefore.toFixed(1)} → ${p.loadAfter.toFixed(1)} | ${p.note} |`,
    );
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  const cluster = await startPostgres({ settings: { max_wal_size: '4GB' } });
  try {
    const phases = await runService(cluster.url, 10, false);
    if (process.argv.includes('--unsliced')) phases.push(...(await runService(cluster.url, Infinity, true)));
    const md = markdown(phases);
    process.stdout.write(md);
    if (process.argv.includes('--write')) {
      const out = fileURLToPath(new URL('./results/event-loop.md', import.meta.url));
      writeFileSync(out, md);
      process.stderr.write(`wrote ${out}\n`);
    }
  } finally {
    await cluster.stop();
  }
}

await main();
