// Issue 12 item 6: one awaited routeBatch of 5,000 rows at a time (no batches in flight), Router vs ShardedRouter
// with 2 shards ('rows' placement, each batch split across the shards). Prints the shard bench's markdown.
// Run: npx tsx bench/shard-single-batch.ts [--shapes 300000] [--rounds 5]
import { runShardBench, shardBenchMarkdown } from './shard-bench.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const report = await runShardBench({
  shapes: arg('shapes', 300_000),
  workloads: ['seed-mix', 'all-complex'],
  changes: 50_000,
  batch: 5_000,
  inFlight: 1,
  rounds: arg('rounds', 5),
  targets: [{ label: 'ShardedRouter×2 rows (split)', shards: 2, placement: 'rows' }],
  transports: [],
  keyFilter: false,
  onProgress: (m) => process.stderr.write(`[shard-single-batch] ${m}\n`),
});
console.log(shardBenchMarkdown(report));
