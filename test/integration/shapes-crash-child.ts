// Child process of the crash test: runs a SwitchyardService on a data dir, creates shapes, reports handles, runs on.
import { SwitchyardService } from '../../src/shapes/service.js';
import type { ShapeDefinition } from '../../src/shapes/types.js';

const [url, dataDir, defsJson] = process.argv.slice(2) as [string, string, string];
const defs = JSON.parse(defsJson) as ShapeDefinition[];
const service = await SwitchyardService.start({
  databaseUrl: url,
  dataDir,
  replicationServerOptions: '-c wal_sender_timeout=5s',
});
const handles: string[] = [];
for (const d of defs) handles.push((await service.getOrCreate(d)).handle);
process.stdout.write(`ready ${JSON.stringify(handles)}\n`);
setInterval(() => undefined, 1000);
