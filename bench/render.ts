// Re-renders the committed tables and charts in bench/results/ from their JSON, without re-running a benchmark:
// `npx tsx bench/render.ts` after a change to how results are drawn. shard-bench.md is left alone (it carries notes
// written by hand beside the generated tables).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { routerBenchMarkdown, routerChartSvg, type RouterBenchReport } from './router-bench.js';
import { scaleChartSvg, scaleMarkdown, type ScaleReport } from './scale-bench.js';
import { shardBenchSvg, type ShardBenchReport } from './shard-bench.js';
import { zooChartSvg, zooMarkdown, type ZooReport } from './zoo-bench.js';

const RESULTS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');

function read<T>(name: string): T {
  return JSON.parse(readFileSync(path.join(RESULTS, name), 'utf8')) as T;
}

const router = read<RouterBenchReport>('router.json');
const scale = read<ScaleReport>('scale.json');
const shard = read<ShardBenchReport>('shard-bench.json');
const zoo = read<ZooReport>('zoo.json');
const files: Record<string, string> = {
  'router.md': routerBenchMarkdown(router),
  'router-latency.svg': routerChartSvg(router),
  'scale.md': scaleMarkdown(scale),
  'scale-latency.svg': scaleChartSvg(scale),
  'shard-bench.svg': shardBenchSvg(shard),
  'zoo.md': zooMarkdown(zoo),
  'zoo.svg': zooChartSvg(zoo),
};
for (const [name, text] of Object.entries(files)) writeFileSync(path.join(RESULTS, name), text);
console.error(`rendered ${Object.keys(files).join(', ')} in ${path.relative(process.cwd(), RESULTS)}`);
