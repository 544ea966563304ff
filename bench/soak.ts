// Soak (issue 13, item 6): the service holds N shapes while a writer commits at a fixed rate for M minutes; RSS, heap,
// replication lag and write→client latency (p50/p99) are sampled over time and charted; the run ends by itself.
// `switchyard bench --suite soak [--shapes 1m] [--minutes 10] [--rate 100] [--watched 16]`.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startPostgres } from '../test/support/postgres.js';
import { freePort } from '../test/support/service-process.js';
import { timeSeriesSvg } from './chart.js';
import { Follower, Writer, sleep, slotLag } from './live-traffic.js';
import type { ChildMemory, ChildSample } from './service-scale-child.js';
import {
  LoadSampler,
  ServiceChild,
  machine,
  removeInBackground,
  seed,
  type ServiceScaleReport,
} from './service-scale.js';

export interface SoakOptions {
  readonly shapes: number;
  readonly minutes: number;
  /** Committed single-row updates per second (each a transaction). */
  readonly rate: number;
  /** Shapes followed by live HTTP clients (long-polls); writes to them are timed to the client. */
  readonly watched: number;
  /** Seconds between samples. */
  readonly sampleSeconds?: number;
  readonly onProgress?: (message: string) => void;
}

export interface SoakSample {
  /** Minutes since the writer started. */
  readonly minute: number;
  readonly rssMB: number;
  readonly heapMB: number;
  /** WAL bytes the slot holds beyond what the service confirmed (Postgres's view). */
  readonly lagKB: number;
  readonly loadedLogs: number;
  /** Writes committed in the window, per second. */
  readonly writesPerSecond: number;
  /** Write (before COMMIT is sent) → the change read by a live client, over the window (ms). */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly delivered: number;
}

export interface SoakReport {
  readonly date: string;
  readonly machine: ServiceScaleReport['machine'];
  readonly shapes: number;
  readonly minutes: number;
  readonly rate: number;
  readonly watched: number;
  readonly load: Readonly<Record<string, number>>;
  readonly creationSeconds: number;
  /** After two full collections, once the shapes were created and again at the end of the run. */
  readonly idle: ChildMemory;
  readonly end: ChildMemory;
  readonly samples: readonly SoakSample[];
  readonly writes: number;
  /** Timed writes that never reached their client by the end (should be 0). */
  readonly undelivered: number;
}

/** Runs the soak: Postgres (fsync on), the service in its own process, N shapes, the writer, the live clients. */
export async function runSoak(opts: SoakOptions): Promise<SoakReport> {
  const say = opts.onProgress ?? (() => undefined);
  const n = opts.shapes;
  const load = new LoadSampler();
  const cluster = await startPostgres({ fsync: true, dir: os.tmpdir(), settings: { max_connections: '200' } });
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sy-soak-'));
  let child: ServiceChild | undefined;
  const followers: Follower[] = [];
  try {
    await seed(cluster, n, 1);
    const port = await freePort();
    child = await ServiceChild.start(cluster.url, dataDir, port);
    load.phase('creation');
    const t0 = performance.now();
    for (let d = 0; d < 10; d++) {
      const to = Math.round(((d + 1) * n) / 10);
      await child.create(Math.round((d * n) / 10), to, 64);
      say(`${to.toLocaleString('en-US')} shapes created`);
    }
    const creationSeconds = (performance.now() - t0) / 1000;
    const idle = await child.memory();
    say(`idle: rss ${mb(idle.rss)} MB, heap ${mb(idle.heapUsed)} MB`);

    const timed = new Map<string, number>();
    const latencies: number[] = [];
    const watched = Math.min(opts.watched, n);
    for (let i = 0; i < watched; i++) followers.push(new Follower(port, i, timed, latencies));
    await Promise.all(followers.map((f) => f.untilLive()));
    followers.forEach((f) => f.run());

    load.phase('soak');
    const writer = new Writer(cluster.url, n, watched, opts.rate, timed);
    await writer.connect();
    const slot = new pg.Client({ connectionString: cluster.url });
    await slot.connect();
    const samples: SoakSample[] = [];
    const every = (opts.sampleSeconds ?? 10) * 1000;
    const start = performance.now();
    writer.start();
    let lastWrites = 0;
    for (let at = every; at <= opts.minutes * 60_000 + 1; at += every) {
      await sleep(start + at - performance.now());
      const s = await child.sample();
      const lag = await slotLag(slot);
      const window = latencies.splice(0).sort((a, b) => a - b);
      const writes = writer.committed;
      samples.push(toSample(at / 60_000, s, lag, (writes - lastWrites) / (every / 1000), window));
      lastWrites = writes;
      const last = samples[samples.length - 1]!;
      say(
        `${last.minute.toFixed(1)} min: rss ${last.rssMB} MB, heap ${last.heapMB} MB, lag ${last.lagKB} KB, ` +
          `${last.writesPerSecond}/s, p50 ${last.p50Ms} ms, p99 ${last.p99Ms} ms (${last.delivered} timed)`,
      );
    }
    await writer.stop();
    // The last timed writes get a moment to arrive before the count of undelivered ones is taken.
    await sleep(3000);
    load.phase('end');
    const end = await child.memory();
    await slot.end();
    return {
      date: new Date().toISOString(),
      machine: machine(),
      shapes: n,
      minutes: opts.minutes,
      rate: opts.rate,
      watched,
      load: load.finish(),
      creationSeconds,
      idle,
      end,
      samples,
      writes: writer.committed,
      undelivered: timed.size,
    };
  } finally {
    load.finish();
    followers.forEach((f) => f.stop());
    await child?.kill9().catch(() => undefined);
    await cluster.stop();
    removeInBackground(dataDir);
  }
}

function toSample(minute: number, s: ChildSample, lagBytes: number, wps: number, window: number[]): SoakSample {
  const q = (p: number): number =>
    window.length === 0 ? 0 : round1(window[Math.min(window.length - 1, Math.floor(p * window.length))]!);
  return {
    minute,
    rssMB: Number(mb(s.rss)),
    heapMB: Number(mb(s.heapUsed)),
    lagKB: Math.round(lagBytes / 1024),
    loadedLogs: s.loadedLogs,
    writesPerSecond: Math.round(wps),
    p50Ms: q(0.5),
    p99Ms: q(0.99),
    delivered: window.length,
  };
}

const mb = (b: number): string => (b / 2 ** 20).toFixed(0);
const round1 = (x: number): number => Math.round(x * 10) / 10;

/** Mean of a field over the first and the last fifth of the samples: the flatness the soak is judged by. */
function drift(samples: readonly SoakSample[], f: (s: SoakSample) => number): { first: number; last: number } {
  const k = Math.max(1, Math.floor(samples.length / 5));
  const mean = (xs: readonly SoakSample[]): number => xs.reduce((a, s) => a + f(s), 0) / xs.length;
  return { first: mean(samples.slice(0, k)), last: mean(samples.slice(-k)) };
}

export function soakMarkdown(r: SoakReport): string {
  const fmt = (x: number, d = 0): string => x.toLocaleString('en-US', { maximumFractionDigits: d });
  const rows = (label: string, f: (s: SoakSample) => number, unit: string, d = 0): string => {
    const { first, last } = drift(r.samples, f);
    const max = Math.max(...r.samples.map(f));
    return `| ${label} | ${fmt(first, d)} ${unit} | ${fmt(last, d)} ${unit} | ${fmt(max, d)} ${unit} |`;
  };
  return [
    `# Soak — \`switchyard bench --suite soak --shapes ${r.shapes} --minutes ${r.minutes} --rate ${r.rate}\``,
    '',
    `${r.date} — ${r.machine.cpu} × ${r.machine.cores}, ${r.machine.memGiB} GiB, Node ${r.machine.node}; load average ` +
      `(1 min, max per phase): ${Object.entries(r.load)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}. Postgres 15 with fsync on; the service in its own process holding ` +
      `${r.shapes.toLocaleString('en-US')} shapes \`user_id = $1\` (created in ${fmt(r.creationSeconds)} s through its ` +
      `own getOrCreate); ${r.rate} single-row UPDATE transactions/s for ${r.minutes} min, one in ten to one of ` +
      `${r.watched} shapes followed by live HTTP clients (latency: before COMMIT is sent → change read by the client), ` +
      'the others to random shapes (their logs loaded, appended, evicted).',
    '',
    '| measure | first fifth (mean) | last fifth (mean) | max |',
    '|---|---|---|---|',
    rows('RSS', (s) => s.rssMB, 'MB'),
    rows('heap used (no forced GC)', (s) => s.heapMB, 'MB'),
    rows('replication lag (slot, Postgres view)', (s) => s.lagKB, 'KB'),
    rows('writes committed', (s) => s.writesPerSecond, '/s'),
    rows('write → client p50', (s) => s.p50Ms, 'ms', 1),
    rows('write → client p99', (s) => s.p99Ms, 'ms', 1),
    rows('logs loaded in memory', (s) => s.loadedLogs, ''),
    '',
    `After two full collections: heap ${mb(r.idle.heapUsed)} MB / RSS ${mb(r.idle.rss)} MB with the shapes idle, ` +
      `heap ${mb(r.end.heapUsed)} MB / RSS ${mb(r.end.rss)} MB at the end. ${fmt(r.writes)} writes committed; ` +
      `${r.undelivered} timed writes not delivered by the end. Chart: soak.svg (one sample every ` +
      `${fmt((r.samples[1]?.minute ?? 0) * 60 - (r.samples[0]?.minute ?? 0) * 60)} s).`,
    '',
  ].join('\n');
}

export function soakSvg(r: SoakReport): string {
  const line = (label: string, f: (s: SoakSample) => number): SeriesLine => ({
    label,
    points: r.samples.map((s) => [s.minute, f(s)] as const),
  });
  return timeSeriesSvg(
    [
      { title: 'memory', unit: 'MB', lines: [line('RSS', (s) => s.rssMB), line('heap', (s) => s.heapMB)] },
      { title: 'replication lag', unit: 'KB', lines: [line('slot lag', (s) => s.lagKB)] },
      {
        title: 'write → client latency',
        unit: 'ms',
        lines: [line('p50', (s) => s.p50Ms), line('p99', (s) => s.p99Ms)],
      },
    ],
    `Soak: ${r.shapes.toLocaleString('en-US')} shapes, ${r.rate} writes/s, ${r.minutes} min (${r.date.slice(0, 16)}Z)`,
  );
}

type SeriesLine = { readonly label: string; readonly points: readonly (readonly [number, number])[] };
