// The service suite's later phases on the cluster and data dir a `--suite service --hold <file>` run keeps: restart
// after a clean stop, backlog ingest, live latency — run by another build's service on the same million shapes.
// `npx tsx bench/held-run.ts <hold.json> [--child <service-scale-child.ts>] [--shapes 1m] [--ingest-rows 50000]
// [--live-rate 1000] [--live-seconds 60] [--phases ingest,live]`; the restart always runs (it starts the service); the
// held run's own service must be stopped (it is, once the file exists).
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { freePort } from '../test/support/service-process.js';
import { ServiceChild, backlogIngest, liveLatency, timeRestart } from './service-scale.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : dflt;
};
const hold = JSON.parse(readFileSync(args[0]!, 'utf8')) as {
  url: string;
  dataDir: string;
  probe: number;
  handle: string;
  shapes?: number;
};
const childArg = opt('child', '');
const child = childArg === '' ? undefined : path.resolve(childArg);
const shapes = hold.shapes ?? Number(opt('shapes', '1000000'));
const phases = new Set(opt('phases', 'ingest,live').split(','));
const port = await freePort();
let running: ServiceChild | undefined;
const set = (c: ServiceChild): void => void (running = c);
const say = (m: string): void => console.log(`${m} (load ${loadavg()[0]!.toFixed(2)})`);
try {
  const restartMs = await timeRestart(hold.url, hold.dataDir, port, hold.probe, hold.handle, set, child);
  say(`restart after a clean stop: ${restartMs} ms`);
  if (phases.has('ingest')) {
    await running!.stop();
    const ingest = await backlogIngest(
      hold.url,
      hold.dataDir,
      port,
      hold.probe,
      Number(opt('ingest-rows', '50000')),
      set,
      child,
    );
    say(`ingest: ${JSON.stringify(ingest)}`);
  }
  if (phases.has('live')) {
    const live = await liveLatency(
      hold.url,
      port,
      shapes,
      Number(opt('live-rate', '1000')),
      Number(opt('live-seconds', '60')),
      16,
    );
    say(`live: ${JSON.stringify(live)}`);
  }
} finally {
  await running?.stop().catch(() => undefined);
}
