// Starts a throwaway Postgres 15 for development or benchmarks and keeps it until Ctrl-C: `npx tsx scripts/dev-postgres.ts`.
import { startPostgres } from '../test/support/postgres.js';

const fsync = process.argv.includes('--fsync');
const portArg = process.argv.find((a) => a.startsWith('--port='));
const started = performance.now();
const pg = await startPostgres({ fsync, ...(portArg ? { port: Number(portArg.slice('--port='.length)) } : {}) });
console.log(`${pg.binaries.version} (${pg.binaries.source}) ready in ${Math.round(performance.now() - started)} ms`);
console.log(`url:      ${pg.url}`);
console.log(`psql:     psql '${pg.url}'`);
console.log(`tests:    SWITCHYARD_TEST_PG_URL='${pg.url}' npx vitest run test/integration`);
console.log(`data dir: ${pg.dataDir} (removed on exit)`);

// The server is unref'd (its watchdog stops it if this process dies); this timer keeps the process alive.
const keepAlive = setInterval(() => undefined, 1 << 30);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    clearInterval(keepAlive);
    void pg.stop().then(() => console.log('stopped'));
  });
}
