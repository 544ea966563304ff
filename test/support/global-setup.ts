// Vitest global setup of the integration project: one throwaway Postgres for the whole run, its URL via inject('pgUrl').
import type { TestProject } from 'vitest/node';
import './pg-env.js';
import { startPostgres } from './postgres.js';

/**
 * Runs only when the integration project has selected files (vitest initialises a project's global setup for the
 * projects that run specs), so `vitest run test/unit` never starts Postgres. SWITCHYARD_TEST_PG_URL reuses a running
 * server instead (e.g. the dev one); its `postgres` database must be reachable as a superuser.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const external = process.env['SWITCHYARD_TEST_PG_URL'];
  if (external !== undefined && external !== '') {
    project.provide('pgUrl', external);
    return undefined;
  }
  const started = performance.now();
  const pg = await startPostgres();
  const ms = Math.round(performance.now() - started);
  console.log(`[switchyard] PostgreSQL (${pg.binaries.source}) on ${pg.host}:${pg.port} started in ${ms} ms`);
  project.provide('pgUrl', pg.url);
  return async () => {
    const t = performance.now();
    await pg.stop();
    console.log(`[switchyard] stopped in ${Math.round(performance.now() - t)} ms`);
  };
}
