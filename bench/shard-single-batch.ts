// Issue 12 item 6: one awaited routeBatch of 5,000 rows at a time (no batches in flight), Router vs ShardedRouter
// with 2 shards ('rows' placement, each batch split across the shards): two workers, and one worker beside a local
// shard on the calling thread. `--before DIR` adds DIR's ShardedRouter (another checkout's src/, e.g. a `git archive`
// of the previous commit with node_modules linked) as a target, for before/after in one run.
// Prints the shard bench's markdown. Run: npx tsx bench/shard-single-batch.ts [--shapes 300000] [--rounds 5]
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ShardedRouter } from '../src/shard/index.js';
import { runShardBench, shardBenchMarkdown, type Target } from './shard-bench.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const targets: Target[] = [];
const b = process.argv.indexOf('--before');
if (b >= 0) {
  const dir = path.resolve(process.argv[b + 1] as string);
  const mod = (await import(pathToFileURL(path.join(dir, 'src/shard/index.ts')).href)) as {
    ShardedRouter: typeof ShardedRouter;
  };
  targets.push({
    label: 'before: ShardedRouter×2 rows (split)',
    shards: 2,
    placement: 'rows',
    impl: mod.ShardedRouter,
  });
}
targets.push(
  { label: 'ShardedRouter×2 rows (split)', shards: 2, placement: 'rows' },
  { label: 'ShardedRouter×2 rows, local shard + 1 worker', shards: 2, placement: 'rows', localShard: true },
);

const report = await runShardBench({
  shapes: arg('shapes', 300_000),
  workloads: ['seed-mix', 'all-complex'],
  changes: 50_000,
  batch: 5_000,
  inFlight: 1,
  rounds: arg('rounds', 5),
  targets,
  transports: [],
  keyFilter: false,
  onProgress: (m) => process.stderr.write(`[shard-single-batch] ${m}\n`),
});
console.log(shardBenchMarkdown(report));
