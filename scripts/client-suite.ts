// Runs the official TypeScript client's own integration suites, unchanged, against `switchyard serve` and a throwaway Postgres.
//
//   npx tsx scripts/client-suite.ts [--client installed|mirror] [--files integration,client] [--chunk-bytes 10000]
//                                   [--long-poll-timeout 20000] [--compare <summary.json>] [--verbose] [-- <vitest args>]
//
// The suites (packages/typescript-client/test/{integration,client}.test.ts of electric-sql/electric) are taken from the
// repository snapshot at ELECTRIC_REPO (default /work/.mirror/electric-sql+electric/repo, a git directory). They
// hard-code their Postgres (localhost:54321, database `electric`, user postgres) and read ELECTRIC_URL, so this
// script starts Postgres on that port, inside a private network namespace when `unshare -n` works (concurrent runs
// do not collide), else one run at a time behind a lock file. Their dependencies (vitest, jsdom, pg, …) are installed
// once from the npm registry into a cache directory; nothing here is part of `npm test`.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { freePort } from '../test/support/service-process.js';
import { startPostgres, type PostgresInstance } from '../test/support/postgres.js';

const PROJECT = fileURLToPath(new URL('..', import.meta.url));
const SUITE_PG_PORT = 54321; // test/support/test-helpers.ts of the client hard-codes it
const PKG = 'packages/typescript-client';

/** The suites' own dependencies, pinned; versions satisfy the client package's devDependency ranges. */
const SUITE_DEPS: Readonly<Record<string, string>> = {
  vitest: '4.1.12',
  jsdom: '26.1.0',
  uuid: '10.0.0',
  pg: '8.23.1',
  'cache-control-parser': '2.0.6',
  'vitest-localstorage-mock': '0.1.2',
  '@microsoft/fetch-event-source': '2.0.1',
};

interface Options {
  readonly repo: string;
  readonly client: 'installed' | 'mirror';
  readonly files: readonly string[];
  readonly chunkBytes: string;
  readonly longPollMs: string;
  readonly compare: string | undefined;
  readonly verbose: boolean;
  readonly vitestArgs: readonly string[];
  readonly cacheDir: string;
}

function parseOptions(): Options {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      client: { type: 'string', default: 'installed' },
      files: { type: 'string', default: 'integration,client' },
      'chunk-bytes': { type: 'string', default: '10000' },
      'long-poll-timeout': { type: 'string', default: '20000' },
      compare: { type: 'string' },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\nimport ')[0]);
    process.exit(0);
  }
  if (values.client !== 'installed' && values.client !== 'mirror') {
    throw new Error(
      `--client must be "installed" (node_modules/@electric-sql/client/src) or "mirror" (the snapshot's src)`,
    );
  }
  return {
    repo: process.env['ELECTRIC_REPO'] ?? '/work/.mirror/electric-sql+electric/repo',
    client: values.client,
    files: values.files.split(',').map((f) => f.trim()),
    chunkBytes: values['chunk-bytes'],
    longPollMs: values['long-poll-timeout'],
    compare: values.compare,
    verbose: values.verbose,
    vitestArgs: positionals,
    cacheDir: process.env['SWITCHYARD_CLIENT_SUITE_DIR'] ?? join(tmpdir(), 'switchyard-client-suite'),
  };
}

/** One run at a time: the suites need port 54321. Waits for a live holder; takes over a dead one's lock. */
async function acquireLock(path: string): Promise<() => void> {
  let announced = false;
  for (;;) {
    try {
      const fd = openSync(path, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(path, 'utf8'));
      if (!Number.isInteger(holder) || holder <= 0 || !alive(holder)) {
        rmSync(path, { force: true });
        continue;
      }
      if (!announced) console.log(`[client-suite] waiting for run ${holder} to finish (lock ${path})`);
      announced = true;
      await sleep(2000);
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function run(cmd: string, args: readonly string[], cwd: string): void {
  const r = spawnSync(cmd, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal})`);
}

/** Installs the suites' dependencies into `<cache>/node_modules` unless the same pinned set is already there. */
function installDeps(cacheDir: string): void {
  const manifest = JSON.stringify(
    { name: 'switchyard-client-suite', private: true, dependencies: SUITE_DEPS },
    null,
    2,
  );
  const stamp = join(cacheDir, 'node_modules', '.switchyard-stamp');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === manifest) return;
  console.log(`[client-suite] installing ${Object.keys(SUITE_DEPS).join(', ')} into ${cacheDir}`);
  writeFileSync(join(cacheDir, 'package.json'), manifest);
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], cacheDir);
  writeFileSync(stamp, manifest);
}

/** Extracts the client package (tests unchanged) from the snapshot; `installed` swaps in our devDependency's src. */
function extractSuites(opts: Options, runDir: string): string {
  const paths = ['src', 'test', 'vitest.config.ts', 'tsconfig.json', 'package.json'].map((p) => `${PKG}/${p}`);
  const archive = spawnSync('git', [`--git-dir=${opts.repo}`, 'archive', 'HEAD', ...paths, 'tsconfig.base.json'], {
    maxBuffer: 1 << 30,
  });
  if (archive.status !== 0) throw new Error(`git archive failed: ${archive.stderr.toString()}`);
  const tar = spawnSync('tar', ['-x', '-C', runDir], { input: archive.stdout });
  if (tar.status !== 0) throw new Error(`tar failed: ${tar.stderr.toString()}`);
  const pkgDir = join(runDir, PKG);
  // Hard links, not a symlink: vite refuses modules whose real path lies outside the project root.
  run('cp', ['-al', join(opts.cacheDir, 'node_modules'), join(pkgDir, 'node_modules')], runDir);
  if (opts.client === 'installed') {
    rmSync(join(pkgDir, 'src'), { recursive: true });
    cpSync(join(PROJECT, 'node_modules/@electric-sql/client/src'), join(pkgDir, 'src'), { recursive: true });
  }
  return pkgDir;
}

function describeSources(opts: Options): string {
  const commit = spawnSync('git', [`--git-dir=${opts.repo}`, 'log', '-1', '--format=%h %s', 'HEAD'], {
    encoding: 'utf8',
  }).stdout.trim();
  const installed = JSON.parse(
    readFileSync(join(PROJECT, 'node_modules/@electric-sql/client/package.json'), 'utf8'),
  ) as { version: string };
  const client = opts.client === 'installed' ? `@electric-sql/client ${installed.version} src` : 'the snapshot src';
  return `suites from electric ${commit}; client: ${client}`;
}

async function startSuitePostgres(): Promise<{ pg: PostgresInstance; url: string }> {
  const instance = await startPostgres({ port: SUITE_PG_PORT, settings: { listen_addresses: 'localhost' } });
  const admin = new pg.Client({ connectionString: instance.url });
  await admin.connect();
  await admin.query('CREATE DATABASE electric');
  await admin.end();
  return { pg: instance, url: instance.url.replace(/\/postgres(\?|$)/, '/electric$1') };
}

/** `switchyard serve` from the source tree (no build step), its JSON log into `logFile`. */
async function startService(opts: Options, databaseUrl: string, dataDir: string, logFile: string) {
  const port = await freePort();
  const main = new URL('../src/cli/main.ts', import.meta.url).href;
  const flags = ['serve', '--host', '127.0.0.1', '--port', String(port), '--database-url', databaseUrl];
  flags.push('--data-dir', dataDir, '--chunk-bytes', opts.chunkBytes, '--long-poll-timeout', opts.longPollMs);
  flags.push('--enable-delete');
  const code = `const { main } = await import(${JSON.stringify(main)}); await main(['node', 'switchyard', ...process.argv.slice(1)]);`;
  const out = openSync(logFile, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code, ...flags], {
    cwd: PROJECT,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  const url = `http://localhost:${port}`;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`switchyard serve exited (${child.exitCode}); see ${logFile}`);
    try {
      const res = await fetch(`${url}/v1/health`);
      if (res.ok && ((await res.json()) as { status: string }).status === 'active') return { child, url };
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error(`switchyard serve did not become active within 60 s; see ${logFile}`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      done();
    });
    child.kill('SIGTERM');
  });
}

async function runVitest(opts: Options, pkgDir: string, serviceUrl: string, runDir: string) {
  const jsonFile = join(runDir, 'vitest.json');
  const logFile = join(runDir, 'vitest.log');
  const files = opts.files.map((f) => `test/${f}.test.ts`);
  const args = [join(pkgDir, 'node_modules/vitest/vitest.mjs'), 'run', ...files];
  args.push('--typecheck.enabled=false', '--reporter=default', '--reporter=json', `--outputFile=${jsonFile}`);
  args.push(...opts.vitestArgs);
  const out = openSync(logFile, 'w');
  const child = spawn(process.execPath, args, {
    cwd: pkgDir,
    env: { ...process.env, ELECTRIC_URL: serviceUrl, CI: 'true', NO_COLOR: '1' },
    stdio: ['ignore', opts.verbose ? 'inherit' : out, opts.verbose ? 'inherit' : out],
  });
  closeSync(out);
  const code = await new Promise<number | null>((done) => child.once('exit', done));
  return { code, jsonFile, logFile };
}

interface AssertionResult {
  readonly fullName: string;
  readonly status: string;
  readonly failureMessages: readonly string[];
}
interface VitestJson {
  readonly testResults: readonly { readonly name: string; readonly assertionResults: readonly AssertionResult[] }[];
}
interface Summary {
  readonly sources: string;
  readonly files: Record<string, { passed: number; failed: number; skipped: number }>;
  readonly failures: Record<string, string>;
  readonly passed: readonly string[];
}

function summarize(jsonFile: string, sources: string): Summary {
  const data = JSON.parse(readFileSync(jsonFile, 'utf8')) as VitestJson;
  const files: Summary['files'] = {};
  const failures: Record<string, string> = {};
  const passed: string[] = [];
  for (const file of data.testResults) {
    const name = file.name.slice(file.name.lastIndexOf('/') + 1);
    const counts = { passed: 0, failed: 0, skipped: 0 };
    for (const t of file.assertionResults) {
      const id = `${name} › ${t.fullName}`;
      if (t.status === 'passed') {
        counts.passed++;
        passed.push(id);
      } else if (t.status === 'failed') {
        counts.failed++;
        failures[id] = firstLine(t.failureMessages[0] ?? '');
      } else counts.skipped++;
    }
    files[name] = counts;
  }
  return { sources, files, failures, passed };
}

/** The first informative line: vitest reports errors raised in fixtures under a placeholder `STACK_TRACE_ERROR`. */
function firstLine(message: string): string {
  const lines = message.split('\n').filter((l) => l.trim() !== '' && !/^\s+at /.test(l));
  const line = lines.find((l) => !/^Error: STACK_TRACE_ERROR$/.test(l.trim())) ?? lines[0] ?? '';
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

/** Every failing test with its whole failure message, for reading after the run. */
function failureReport(jsonFile: string): string {
  const data = JSON.parse(readFileSync(jsonFile, 'utf8')) as VitestJson;
  const out: string[] = [];
  for (const file of data.testResults) {
    for (const t of file.assertionResults) {
      if (t.status === 'failed') out.push(`=== ${t.fullName}\n${t.failureMessages.join('\n---\n')}\n`);
    }
  }
  return out.join('\n');
}

/** Removes run directories over three hours old (a run takes minutes; concurrent runs keep theirs). */
function pruneRuns(cacheDir: string): void {
  for (const d of readdirSync(cacheDir)) {
    if (d.startsWith('run-') && Date.now() - statSync(join(cacheDir, d)).mtimeMs > 3 * 3600_000) {
      rmSync(join(cacheDir, d), { recursive: true, force: true });
    }
  }
}

function report(summary: Summary, before: Summary | undefined, compareName: string | undefined): void {
  console.log(`\n[client-suite] ${summary.sources}`);
  let pass = 0;
  let total = 0;
  for (const [file, c] of Object.entries(summary.files)) {
    console.log(`  ${file}: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`);
    pass += c.passed;
    total += c.passed + c.failed + c.skipped;
  }
  console.log(`  total: ${pass} of ${total} pass`);
  const failed = Object.entries(summary.failures);
  if (failed.length > 0) console.log('\nfailing:');
  for (const [id, why] of failed) console.log(`  ✗ ${id}\n      ${why}`);
  if (before === undefined) return;
  const was = new Set(before.passed);
  const now = new Set(summary.passed);
  console.log(`\ncompared with ${compareName} (${before.passed.length} passed then, ${summary.passed.length} now):`);
  for (const id of summary.passed) if (!was.has(id)) console.log(`  + ${id}`);
  for (const id of before.passed) if (!now.has(id)) console.log(`  - ${id}`);
}

/** Set inside the private network namespace this script re-runs itself in. */
const NETNS_ENV = 'SWITCHYARD_CLIENT_SUITE_NETNS';

/** Whether `unshare -n` works here (root or user namespaces): then every run gets its own port 54321. */
function canIsolate(): boolean {
  return spawnSync('unshare', ['-n', 'true'], { stdio: 'ignore' }).status === 0;
}

/**
 * Runs this script again in a new network namespace with only a loopback interface, so that concurrent runs (other
 * worktrees) each have their own port 54321 instead of queueing for it. Dependencies are installed before: the
 * namespace has no route to the registry.
 */
function runIsolated(): Promise<number> {
  const self = [process.execPath, ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)];
  const child = spawn('unshare', ['-n', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', ...self], {
    stdio: 'inherit',
    env: { ...process.env, [NETNS_ENV]: '1' },
  });
  return new Promise((done) => child.once('exit', (code) => done(code ?? 1)));
}

async function main(): Promise<void> {
  const opts = parseOptions();
  if (!existsSync(opts.repo)) throw new Error(`no electric repository at ${opts.repo} (set ELECTRIC_REPO)`);
  mkdirSync(opts.cacheDir, { recursive: true });
  const lock = join(opts.cacheDir, 'run.lock');
  if (process.env[NETNS_ENV] !== '1') {
    const releaseInstall = await acquireLock(lock);
    try {
      installDeps(opts.cacheDir);
    } finally {
      releaseInstall();
    }
    if (canIsolate()) {
      process.exitCode = await runIsolated();
      return;
    }
    console.log('[client-suite] no network namespaces here (unshare -n): runs share port 54321 and queue');
  }
  // Read before old run directories (where an earlier summary.json may live) are removed.
  const before = opts.compare === undefined ? undefined : (JSON.parse(readFileSync(opts.compare, 'utf8')) as Summary);
  const release = process.env[NETNS_ENV] === '1' ? () => undefined : await acquireLock(lock);
  const cleanups: (() => Promise<void>)[] = [];
  try {
    pruneRuns(opts.cacheDir);
    const runDir = mkdtempSync(join(opts.cacheDir, 'run-'));
    const pkgDir = extractSuites(opts, runDir);
    const sources = describeSources(opts);
    console.log(`[client-suite] ${sources}; run directory ${runDir}`);
    const { pg: postgres, url } = await startSuitePostgres();
    cleanups.push(() => postgres.stop());
    const serviceLog = join(runDir, 'service.log');
    const service = await startService(opts, url, join(runDir, 'data'), serviceLog);
    cleanups.push(() => stopChild(service.child));
    console.log(`[client-suite] switchyard serve at ${service.url} (log ${serviceLog}); running vitest…`);
    const result = await runVitest(opts, pkgDir, service.url, runDir);
    if (!existsSync(result.jsonFile))
      throw new Error(`vitest wrote no results (exit ${result.code}); see ${result.logFile}`);
    const summary = summarize(result.jsonFile, sources);
    // Summaries outlive run directories (other runs prune those), so --compare can use any earlier one.
    mkdirSync(join(opts.cacheDir, 'summaries'), { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const summaryFile = join(opts.cacheDir, 'summaries', `${stamp}-${process.pid}.json`);
    writeFileSync(summaryFile, JSON.stringify(summary, null, 2));
    writeFileSync(join(runDir, 'failures.txt'), failureReport(result.jsonFile));
    report(summary, before, opts.compare);
    console.log(
      `\n[client-suite] vitest output ${result.logFile}; full failure messages ${join(runDir, 'failures.txt')}`,
    );
    console.log(`[client-suite] summary ${summaryFile} (for --compare)`);
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((err: unknown) => console.error(err));
    release();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
