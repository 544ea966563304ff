// Entry point of `switchyard bench`: runs the benchmarks with progress bars, writes the results to --out (default
// bench/out/, so a run never overwrites the committed bench/results/ the README cites), or prints JSON.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  routerBenchMarkdown,
  routerChartSvg,
  runRouterBench,
  type BenchMode,
  type BenchProgress,
} from './router-bench.js';
import { WORKLOADS, type WorkloadName } from './router-workloads.js';
import { runServiceScaleBench, serviceScaleMarkdown } from './service-scale.js';
import { runScaleBench, scaleChartSvg, scaleMarkdown } from './scale-bench.js';
import { runSoak, soakMarkdown, soakSvg } from './soak.js';
import { runShardBench, shardBenchMarkdown, shardBenchSvg } from './shard-bench.js';
import { runWhereBench } from './where-bench.js';
import { runZoo, zooChartSvg, zooMarkdown } from './zoo-bench.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

type CliProgress = typeof import('cli-progress');

/**
 * The progress-bar library, loaded only when bars are drawn (a terminal, no --json). It is a dev dependency: when it
 * is missing the run goes on with plain progress lines.
 */
async function progressBars(json: boolean): Promise<CliProgress | undefined> {
  if (json || !process.stderr.isTTY) return undefined;
  try {
    return (await import('cli-progress')).default;
  } catch {
    process.stderr.write('progress bars need the dev dependency cli-progress (npm install in the checkout)\n');
    return undefined;
  }
}

/** Writes result files into --out (default bench/out/) unless --no-write; tells which. */
function save(files: Readonly<Record<string, string>>): void {
  if (process.argv.includes('--no-write')) return;
  const dir = path.resolve(arg('out') ?? path.join(HERE, 'out'));
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  console.error(`wrote ${Object.keys(files).join(', ')} to ${dir}`);
}

function parseCount(s: string): number {
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(s.trim());
  if (!m) throw new Error(`bad shape count "${s}" (use e.g. 1k, 100k, 1m)`);
  const mult = m[2]?.toLowerCase() === 'k' ? 1e3 : m[2]?.toLowerCase() === 'm' ? 1e6 : 1;
  return Math.round(Number(m[1]) * mult);
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const suite = arg('suite') ?? 'router';
  const counts = (arg('shapes') ?? '1k,10k,100k,1m').split(',').map(parseCount);
  const workloads = (arg('workloads') ?? WORKLOADS.join(',')).split(',') as WorkloadName[];
  const modes = (arg('modes') ?? 'indexed,filter,naive').split(',') as BenchMode[];
  const changes = arg('changes') !== undefined ? Number(arg('changes')) : undefined;

  // Ten million shapes only fit one indexed Router: counts above 1M (e.g. `--shapes 10m`) are the scale suite.
  if (suite === 'scale' || (arg('suite') === undefined && counts.every((n) => n > 1_000_000))) {
    await scaleSuite(counts, json, changes);
    return;
  }
  if (suite === 'service') {
    // Issue 13: the service's per-shape cost through the HTTP API, beside Postgres's rate for the same queries.
    const report = await runServiceScaleBench({
      shapes: arg('shapes') !== undefined ? (counts[0] as number) : 30_000,
      ...(arg('clients') !== undefined ? { clients: Number(arg('clients')) } : {}),
      ...(arg('rows-per-shape') !== undefined ? { rowsPerShape: Number(arg('rows-per-shape')) } : {}),
      // `--in-process`: shapes created by the service's own getOrCreate in its process (a large registry fast).
      inProcess: process.argv.includes('--in-process'),
      ...(arg('ingest-rows') !== undefined ? { ingestRows: parseCount(arg('ingest-rows')!) } : {}),
      ...(arg('live-rate') !== undefined ? { liveRate: Number(arg('live-rate')) } : {}),
      ...(arg('live-seconds') !== undefined ? { liveSeconds: Number(arg('live-seconds')) } : {}),
      ...(arg('watched') !== undefined ? { watched: Number(arg('watched')) } : {}),
      ...(arg('hold') !== undefined ? { holdFile: path.resolve(arg('hold')!) } : {}),
      onProgress: (m) => process.stderr.write(`${m}\n`),
    });
    if (json) console.log(JSON.stringify(report, null, 2));
    else {
      const md = serviceScaleMarkdown(report);
      console.log(md);
      // An in-process run (memory and restart at scale) does not replace the HTTP creation run's results.
      const name = report.creation === 'in-process' ? 'service-scale-inprocess' : 'service-scale';
      save({ [`${name}.md`]: md, [`${name}.json`]: JSON.stringify(report, null, 2) + '\n' });
    }
    return;
  }
  if (suite === 'soak') {
    // Issue 13 item 6: N shapes held while a writer commits at a fixed rate; memory, lag and latency over time.
    const report = await runSoak({
      shapes: arg('shapes') !== undefined ? (counts[0] as number) : 1_000_000,
      minutes: arg('minutes') !== undefined ? Number(arg('minutes')) : 10,
      rate: arg('rate') !== undefined ? Number(arg('rate')) : 100,
      watched: arg('watched') !== undefined ? Number(arg('watched')) : 16,
      onProgress: (m) => process.stderr.write(`${m}\n`),
    });
    if (json) console.log(JSON.stringify(report, null, 2));
    else {
      const md = soakMarkdown(report);
      console.log(md);
      save({ 'soak.md': md, 'soak.json': JSON.stringify(report, null, 2) + '\n', 'soak.svg': soakSvg(report) });
    }
    return;
  }
  if (suite === 'shard') {
    // Issue 5: ShardedRouter (1–3 shards, each placement) vs Router at the first count (default 1M); the 10M
    // single-Router run is the scale suite.
    const report = await runShardBench({
      shapes: arg('shapes') !== undefined ? (counts[0] as number) : 1_000_000,
      ...(arg('rounds') !== undefined ? { rounds: Number(arg('rounds')) } : {}),
      onProgress: (m) => process.stderr.write(`${m}\n`),
    });
    if (json) console.log(JSON.stringify(report, null, 2));
    else {
      const md = shardBenchMarkdown(report);
      console.log(md);
      save({
        'shard-bench.md': md,
        'shard-bench.json': JSON.stringify(report, null, 2) + '\n',
        'shard-bench.svg': shardBenchSvg(report),
      });
    }
    return;
  }
  if (suite === 'zoo') {
    await zooSuite(json);
    return;
  }
  if (suite === 'where') {
    const r = runWhereBench();
    if (json) {
      console.log(JSON.stringify(r, null, 2));
      return;
    }
    const cpus = os.cpus();
    const lines = [
      `Where-clause benchmark — ${new Date().toISOString()} — ${cpus[0]?.model ?? 'unknown'} × ${cpus.length}, Node ${process.version}, load average ${os
        .loadavg()
        .map((x) => x.toFixed(1))
        .join(' / ')}`,
      '',
      'Compiled `Predicate.matches` per record, decoding of Postgres text included (median of 7 rounds), against the reference interpreter.',
      '',
      '| clause | compiled ns/record | interpreter ns/record | ratio | match rate |',
      '|---|---:|---:|---:|---:|',
      ...r.map(
        (x) =>
          `| \`${x.where}\` | ${x.compiledNs.toFixed(1)} | ${x.interpretedNs.toFixed(0)} | ${(x.interpretedNs / x.compiledNs).toFixed(1)}× | ${(x.matchRate * 100).toFixed(1)}% |`,
      ),
    ];
    console.log(lines.join('\n'));
    save({ 'where.md': lines.join('\n') + '\n' });
    return;
  }

  const cliProgress = await progressBars(json);
  const bars = !cliProgress
    ? null
    : new cliProgress.MultiBar(
        {
          format: '{label} |{bar}| {percentage}% {phase}',
          hideCursor: true,
          clearOnComplete: false,
          stream: process.stderr,
        },
        cliProgress.Presets.shades_classic,
      );
  let bar: InstanceType<CliProgress['SingleBar']> | null = null;
  let current = '';
  const onProgress = (p: BenchProgress): void => {
    const label = `${p.workload} ${p.shapes.toLocaleString('en-US')} ${p.mode}`.padEnd(34);
    if (bars) {
      if (label !== current) {
        bar?.update(bar.getTotal(), { phase: 'done' });
        bar = bars.create(100, 0, { label, phase: p.phase });
        current = label;
      }
      bar?.update(Math.round((p.done / Math.max(1, p.total)) * 100), { label, phase: p.phase });
    } else if (!json && p.phase === 'done') {
      process.stderr.write(`done ${label}\n`);
    }
  };
  const report = await runRouterBench({
    workloads,
    counts,
    modes,
    ...(changes !== undefined ? { changes } : {}),
    onProgress,
  });
  bars?.stop();
  if (json) {
    console.log(JSON.stringify(report, null, 2));
    return;
  }
  const md = routerBenchMarkdown(report);
  console.log(md);
  save({
    'router.md': md,
    'router.json': JSON.stringify(report, null, 2) + '\n',
    'router-latency.svg': routerChartSvg(report),
  });
}

/**
 * The workload zoo (issue 12): `--cases a,b` (default all), `--shapes 20k` per case, `--seed-shapes 1k,10k,100k,1m`
 * for the seed mix (`--big` adds 10M), `--rows` generated per case and `--budget-ms` of timed routing per case.
 */
async function zooSuite(json: boolean): Promise<void> {
  const seedSizes = (arg('seed-shapes') ?? '1k,10k,100k,1m').split(',').map(parseCount);
  if (process.argv.includes('--big')) seedSizes.push(10_000_000);
  const cases = arg('cases');
  const report = await runZoo({
    ...(cases !== undefined ? { cases: cases.split(',') } : {}),
    ...(arg('shapes') !== undefined ? { shapes: parseCount(arg('shapes') as string) } : {}),
    seedSizes,
    ...(arg('rows') !== undefined ? { rows: Number(arg('rows')) } : {}),
    ...(arg('budget-ms') !== undefined ? { budgetMs: Number(arg('budget-ms')) } : {}),
    onProgress: (m) => {
      if (!json) process.stderr.write(`${m}\n`);
    },
  });
  if (json) {
    console.log(JSON.stringify(report, null, 2));
    return;
  }
  const md = zooMarkdown(report);
  console.log(md);
  save({ 'zoo.md': md, 'zoo.json': JSON.stringify(report, null, 2) + '\n', 'zoo.svg': zooChartSvg(report) });
}

/** Loads each count of seed-mix shapes from a file into one Router, with a progress bar per load. */
async function scaleSuite(counts: readonly number[], json: boolean, changes: number | undefined): Promise<void> {
  const cliProgress = await progressBars(json);
  const bar = !cliProgress
    ? null
    : new cliProgress.SingleBar(
        { format: 'loading {label} |{bar}| {percentage}% {rate} shapes/s', hideCursor: true, stream: process.stderr },
        cliProgress.Presets.shades_classic,
      );
  let current = -1;
  let lastLog = 0;
  const report = await runScaleBench({
    sizes: counts,
    ...(changes !== undefined ? { changes } : {}),
    onMessage: (m) => {
      bar?.stop();
      current = -1;
      process.stderr.write(`${m}\n`);
    },
    onLoad: (n, p) => {
      const pct = Math.floor((100 * p.bytes) / Math.max(1, p.totalBytes));
      const rate = Math.round(p.loaded / Math.max(0.001, p.elapsedMs / 1000)).toLocaleString('en-US');
      if (bar) {
        if (current !== n) bar.start(100, 0, { label: n.toLocaleString('en-US'), rate });
        current = n;
        bar.update(pct, { rate });
      } else if (!json && p.elapsedMs - lastLog >= 5000) {
        lastLog = p.elapsedMs;
        process.stderr.write(`loading ${n.toLocaleString('en-US')}: ${pct}% ${rate} shapes/s\n`);
      }
    },
  });
  bar?.stop();
  if (json) {
    console.log(JSON.stringify(report, null, 2));
    return;
  }
  const md = scaleMarkdown(report);
  console.log(md);
  save({
    'scale.md': md,
    'scale.json': JSON.stringify(report, null, 2) + '\n',
    'scale-latency.svg': scaleChartSvg(report),
  });
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : String(e));
  process.exit(1);
});
