// One restart of the service on an existing data dir and Postgres, timed to the first 200 of a shape that must keep
// its handle (profiling aid for bench/restart-bench.ts): `npx tsx bench/restart-profile.ts <url> <dataDir> <probe>
// <handle> [child] [--crash from:to]`; with `--crash` the service first creates shapes from…to-1 and is killed
// with SIGKILL; SWITCHYARD_RESTART_CPU_PROF=<dir> writes a CPU profile of the timed start.
import { freePort } from '../test/support/service-process.js';
import { ServiceChild, timeRestart } from './service-scale.js';

const args = process.argv.slice(2);
const crashAt = args.indexOf('--crash');
const crash = crashAt >= 0 ? args.splice(crashAt, 2)[1]!.split(':').map(Number) : undefined;
const [url, dir, probe, handle, child] = args as [string, string, string, string, string?];
const port = await freePort();
if (crash !== undefined) {
  const c = await ServiceChild.start(url, dir, port, child);
  await c.create(crash[0]!, crash[1]!, 64);
  await c.kill9();
}
const prof = process.env['SWITCHYARD_RESTART_CPU_PROF'];
if (prof !== undefined) process.env['SWITCHYARD_BENCH_CPU_PROF'] = prof;
let running: ServiceChild | undefined;
const ms = await timeRestart(url, dir, port, Number(probe), handle, (c) => void (running = c), child);
// Read at once: the service is idle after the first 200 but for its background orphan scan and journal replay.
console.log(`restart ${ms} ms, service CPU ${running!.cpuMs()} ms`);
await running!.stop();
