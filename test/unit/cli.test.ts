// The `switchyard` command as a user runs it: --version from package.json, `check` output and exit status.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { SYNTAX_ONLY_OK } from '../../src/cli/check.js';
import { startupBanner } from '../../src/cli/serve.js';
import { packageVersion } from '../../src/http/version.js';
import { runSwitchyard } from '../support/cli-process.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

it('--version prints the version in package.json', async () => {
  const cli = runSwitchyard(['--version']);
  expect(await cli.exited).toBe(0);
  expect(cli.stdout().trim()).toBe(pkg.version);
  expect(packageVersion()).toBe(pkg.version);
});

it('check prints the normalized clause (exit 0) or the error with a caret (exit 1)', async () => {
  const ok = runSwitchyard(['check', '--columns', '{"price":"numeric"}', 'price > 1']);
  expect(await ok.exited).toBe(0);
  expect(ok.stdout()).toContain('columns: price');
  const bad = runSwitchyard(['check', '--columns', '{"name":"text"}', "nmae = 'x'"]);
  expect(await bad.exited).toBe(1);
  expect(bad.stderr()).toContain('unknown column "nmae" (did you mean "name"?)');
  expect(bad.stderr()).toContain("nmae = 'x'\n^^^^");
});

it('check without --columns checks the syntax only', async () => {
  const ok = runSwitchyard(['check', 'a = 1']);
  expect(await ok.exited).toBe(0);
  expect(ok.stdout().trim()).toBe(SYNTAX_ONLY_OK);
  const bad = runSwitchyard(['check', 'a = 1 ORDER BY a']);
  expect(await bad.exited).toBe(1);
  expect(bad.stderr()).toContain('error [extra_clause]');
  expect(bad.stderr()).toContain('a = 1 ORDER BY a\n      ^');
});

it('an unknown command or a bad flag exits non-zero', async () => {
  expect(await runSwitchyard(['frobnicate']).exited).not.toBe(0);
  const badPort = runSwitchyard(['serve', '--port', 'eighty']);
  expect(await badPort.exited).toBe(1);
  expect(badPort.stderr()).toContain('--port must be a positive integer');
});

it('the banner gives a ready-to-paste psql command for the embedded Postgres and a demo insert', () => {
  const opts = {
    port: 3000,
    dataDir: '.switchyard',
    longPollTimeoutMs: 20_000,
    chunkBytes: 1 << 20,
    enableDelete: false,
    demo: true,
    version: '1.2.3',
  };
  const db = 'postgres://postgres:pw@127.0.0.1:5555/postgres';
  const banner = startupBanner({ url: 'http://localhost:3000', embeddedDatabaseUrl: db }, opts);
  expect(banner).toContain('Switchyard 1.2.3 is running at http://localhost:3000');
  expect(banner).toContain(`curl -i 'http://localhost:3000/v1/shape?table=items&offset=-1'`);
  expect(banner).toContain(`  psql '${db}'\n`);
  expect(banner).toContain(`psql '${db}' -c "insert into items (title) values ('hello')"`);
  expect(banner).toContain('.switchyard/pg-password');
  // With an external database the URL (and its password) is the user's own: nothing to print.
  const external = startupBanner({ url: 'http://localhost:3000' }, { ...opts, demo: false });
  expect(external).not.toContain('psql');
});
