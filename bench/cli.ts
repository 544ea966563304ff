// Entry point of `switchyard bench`: runs the benchmarks with progress bars, writes bench/results/, or prints JSON.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import cliProgress from 'cli-progress';
import { latencyChartSvg } from './chart.js';
import { routerBenchMarkdown, runRouterBench, type BenchMode, type BenchProgress } from './router-bench.js';
import { WORKLOADS, type WorkloadName } from './router-workloads.js';
import { runScaleBench, scaleMarkdown } from './scale-bench.js';
import { runShardBench, shardBenchMarkdown, shardBenchSvg } from './shard-bench.js';
import { runWhereBench } from './where-bench.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const RESULTS = path.join(HERE, 'results');

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
      if (!process.argv.includes('--no-write')) {
        mkdirSync(RESULTS, { recursive: true });
        writeFileSync(path.join(RESULTS, 'shard-bench.md'), md);
        writeFileSync(path.join(RESULTS, 'shard-bench.json'), JSON.stringify(report, null, 2) + '\n');
        writeFileSync(path.join(RESULTS, 'shard-bench.svg'), shardBenchSvg(report));
        console.error(
          `wrote ${path.relative(process.cwd(), RESULTS)}/shard-bench.md, shard-bench.json, shard-bench.svg`,
        );
      }
    }
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
    if (!process.argv.includes('--no-write')) {
      mkdirSync(RESULTS, { recursive: true });
      writeFileSync(path.join(RESULTS, 'where.md'), lines.join('\n') + '\n');
    }
    return;
  }

  const bars =
    json || !process.stderr.isTTY
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
  let bar: cliProgress.SingleBar | null = null;
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
  if (!process.argv.includes('--no-write')) {
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(path.join(RESULTS, 'router.md'), md);
    writeFileSync(path.join(RESULTS, 'router.json'), JSON.stringify(report, null, 2) + '\n');
    const m = report.machine;
    writeFileSync(
      path.join(RESULTS, 'router-latency.svg'),
      latencyChartSvg(report.results, `${m.cpu} × ${m.cores}, Node ${m.node}, ${report.startedAt}`),
    );
    console.error(`wrote ${path.relative(process.cwd(), RESULTS)}/router.md, router.json, router-latency.svg`);
  }
}

/** Loads each count of seed-mix shapes from a file into one Router, with a progress bar per load. */
async function scaleSuite(counts: readonly number[], json: boolean, changes: number | undefined): Promise<void> {
  const bar =
    json || !process.stderr.isTTY
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
  if (!process.argv.includes('--no-write')) {
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(path.join(RESULTS, 'scale.md'), md);
    writeFileSync(path.join(RESULTS, 'scale.json'), JSON.stringify(report, null, 2) + '\n');
    const points = report.figures.map((f) => ({
      workload: 'seed-mix' as const,
      shapes: f.shapes,
      mode: 'indexed' as const,
      medianNs: f.medianNs,
    }));
    writeFileSync(
      path.join(RESULTS, 'scale-latency.svg'),
      latencyChartSvg(
        points,
        `one Router loaded from a file, ${report.machine.cpu} × ${report.machine.cores}, ${report.startedAt}`,
      ),
    );
    console.error(`wrote ${path.relative(process.cwd(), RESULTS)}/scale.md, scale.json, scale-latency.svg`);
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : String(e));
  process.exit(1);
});
