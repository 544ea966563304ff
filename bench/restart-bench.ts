// Restart time of the service with many idle shapes (issue 13 item 3), several builds side by side on one data dir.
// `npx tsx bench/restart-bench.ts --shapes 100000 --work <dir> [--variant name=<path to service-scale-child.ts>]…`:
// creates the shapes once through the service's own getOrCreate (in its process) with the first variant and keeps a
// cleanly stopped copy of the data directory; each variant then restarts from a fresh copy of it (after a clean
// stop), and, for the crash figure, creates `--crash-shapes` more shapes and is killed with SIGKILL before it restarts.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startPostgres } from '../test/support/postgres.js';
import { freePort } from '../test/support/service-process.js';
import { ServiceChild, ShapeClient, removeInBackground, seed, timeRestart } from './service-scale.js';

function arg(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : fallback;
  if (v === undefined) throw new Error(`--${name} is required`);
  return v;
}
const n = Number(arg('shapes', '100000'));
const crashShapes = Number(arg('crash-shapes', '20000'));
const work = path.resolve(arg('work'));
const rounds = Number(arg('rounds', '2'));
const variants = process.argv.flatMap((a, i) =>
  process.argv[i - 1] === '--variant' ? [a.split('=') as [string, string]] : [],
);
if (variants.length === 0) variants.push(['this', path.join(import.meta.dirname, 'service-scale-child.ts')]);
const load = (): string =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
const say = (m: string): void => console.log(`${new Date().toISOString().slice(11, 19)} ${m} (load ${load()})`);

mkdirSync(work, { recursive: true });
const cluster = await startPostgres({ fsync: true, dir: os.tmpdir(), settings: { max_connections: '200' } });
const clean = path.join(work, `clean-${n}`);
const copy = (to: string): void => {
  rmSync(to, { recursive: true, force: true });
  execFileSync('cp', ['-a', clean, to]);
};
try {
  await seed(cluster, n + crashShapes, 1);
  const port = await freePort();
  const probe = Math.floor(n / 2);
  rmSync(clean, { recursive: true, force: true });
  say(`creating ${n} shapes with ${variants[0]![0]}`);
  const creator = await ServiceChild.start(cluster.url, clean, port, variants[0]![1]);
  const t0 = performance.now();
  await creator.create(0, n, 64);
  say(`created in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const client = new ShapeClient(port, 1);
  const handle = await client.create(probe);
  client.close();
  await creator.stop();
  writeFileSync(path.join(work, 'probe.json'), JSON.stringify({ probe, handle }));
  const rows: string[] = [];
  // `--loop`: keeps Postgres and the created shapes, and runs again each time `<work>/next` appears (lines of
  // name=child variants), for profiling while changing the code.
  for (let pass = 0; ; pass++) {
    if (pass > 0) {
      const next = path.join(work, 'next');
      while (!existsSync(next)) await new Promise((r) => setTimeout(r, 1000));
      const lines = readFileSync(next, 'utf8')
        .trim()
        .split('\n')
        .filter((l) => l.includes('='));
      rmSync(next);
      variants.splice(0, variants.length, ...lines.map((l) => l.split('=') as [string, string]));
      rows.length = 0;
    }
    for (let r = 0; r < rounds; r++) {
      for (const [name, child] of variants) {
        const dir = path.join(work, `run-${name}`);
        copy(dir);
        let running: ServiceChild | undefined;
        const set = (c: ServiceChild): void => void (running = c);
        const stopMs = await timeRestart(cluster.url, dir, port, probe, handle, set, child);
        await running!.stop();
        say(`${name}: restart after a clean stop ${stopMs} ms`);
        // The crash case: more shapes created by this build, then SIGKILL.
        const c = await ServiceChild.start(cluster.url, dir, port, child);
        await c.create(n, n + crashShapes, 64);
        await c.kill9();
        const killMs = await timeRestart(cluster.url, dir, port, probe, handle, set, child);
        await running!.stop();
        say(`${name}: restart after ${crashShapes} more shapes and kill -9 ${killMs} ms`);
        rows.push(`| ${name} | ${r + 1} | ${stopMs} | ${killMs} | ${load()} |`);
        removeInBackground(dir);
      }
    }
    console.log(
      [
        '| build | round | after clean stop (ms) | after kill -9 (ms) | load 1/5/15 |',
        '|---|---|---|---|---|',
        ...rows,
      ].join('\n'),
    );
    if (!process.argv.includes('--loop')) break;
  }
} finally {
  await cluster.stop();
}
