// What the kill -9 tests share: a fresh database and data directory per file, the kill/restart loop under a writer,
// and the verdict that every client converged to Postgres with its handle kept.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Row } from '@electric-sql/client';
import { afterAll, beforeAll, expect } from 'vitest';
import { freshDatabase, type FreshDatabase } from './pg-env.js';
import { startServiceProcess, type ServiceProcess } from './service-process.js';
import { sameRows, sleep, sortedEntries, waitUntil, type TrackedShape } from './shape-tracker.js';

/** The run's seed: SWITCHYARD_CRASH_SEED replays a failure (every test prints the seed it used). */
export const CRASH_SEED = Number(process.env['SWITCHYARD_CRASH_SEED'] ?? Date.now() % 1_000_000);

/** One test file's database, data directory, service process and clients (filled by `crashSuite`'s hooks). */
export interface CrashState {
  db: FreshDatabase;
  dataDir: string;
  svc: ServiceProcess | undefined;
  readonly trackers: TrackedShape[];
}

/** Registers the file's hooks: a fresh database set up by `setupSql`, a data directory, and their teardown. */
export function crashSuite(name: string, setupSql: readonly string[]): CrashState {
  const state = { trackers: [] as TrackedShape[], svc: undefined } as unknown as CrashState;
  beforeAll(async () => {
    state.db = await freshDatabase();
    state.dataDir = mkdtempSync(join(tmpdir(), `sy-${name}-`));
    for (const sql of setupSql) await state.db.client.query(sql);
  });
  afterAll(async () => {
    for (const t of state.trackers) t.stop();
    await state.svc?.kill9();
    await state.db?.drop();
    if (state.dataDir !== undefined) rmSync(state.dataDir, { recursive: true, force: true });
  });
  return state;
}

/**
 * Kills the service `kills` times, each after a random pause of `pauseMs` + up to `spreadMs`, sometimes leaving it
 * down a while (so catch-up after the restart has work to do), and restarts it on the same port and data directory.
 */
export async function killAndRestart(
  state: CrashState,
  port: number,
  r: () => number,
  kills: number,
  pauseMs: number,
  spreadMs: number,
): Promise<void> {
  for (let k = 0; k < kills; k++) {
    await sleep(pauseMs + Math.floor(r() * spreadMs));
    await state.svc!.kill9();
    if (r() < 0.5) await sleep(Math.floor(r() * 500));
    state.svc = await startServiceProcess(state.db.url, state.dataDir, port);
  }
}

/**
 * Waits until every client holds its truth (`onSettled` runs either way, for the failure's log), then asserts each
 * one: no protocol violation, exactly Postgres's rows, one handle throughout and never a refetch (a crash keeps the
 * shape), and no error logged by the service.
 */
export async function expectConverged(
  state: CrashState,
  truths: readonly Map<string, Row>[],
  timeoutMs: number,
  onSettled: () => void,
): Promise<void> {
  try {
    await waitUntil(
      () => state.trackers.every((t, i) => sameRows(t.rows, truths[i]!)),
      timeoutMs,
      'clients converging to the truth',
    );
  } finally {
    onSettled();
  }
  for (let i = 0; i < state.trackers.length; i++) {
    const t = state.trackers[i]!;
    expect(t.violations, t.name).toEqual([]);
    expect(sortedEntries(t.rows), t.name).toEqual(sortedEntries(truths[i]!));
    expect(t.handles, t.name).toHaveLength(1);
    expect(t.stats.refetches, t.name).toBe(0);
  }
  expect(state.svc!.lines.filter((l) => l.level === 'error')).toEqual([]);
}
