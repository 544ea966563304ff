// Creates a cluster's data directory: initdb once per binary/settings combination, then copies of a cached template.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PgBinaries, RunAs } from './pg-binaries.js';

const HBA = [
  'local all all trust',
  'host all all 127.0.0.1/32 trust',
  'host all all ::1/128 trust',
  'local replication all trust',
  'host replication all 127.0.0.1/32 trust',
  'host replication all ::1/128 trust',
  '',
].join('\n');

/** Bumped whenever what initCluster writes into a fresh data directory changes, so stale templates are ignored. */
const TEMPLATE_VERSION = 1;

function run(cmd: string, args: readonly string[], runAs: RunAs | undefined, cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const ids = runAs ? { uid: runAs.uid, gid: runAs.gid } : {};
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], ...ids });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited with ${code}: ${out}`))));
  });
}

async function initdb(bins: PgBinaries, runAs: RunAs | undefined, cwd: string, dataDir: string): Promise<void> {
  // Code point order and ASCII-only case mapping (where-language.md §3.4) come from LC_COLLATE/LC_CTYPE = C;
  // the other categories use C.UTF-8 where the OS has it. -N: no fsync of the new files (throwaway cluster).
  const args = ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '-N', '--lc-collate=C', '--lc-ctype=C'];
  try {
    await run(bins.initdb, [...args, '--locale=C.UTF-8'], runAs, cwd);
  } catch (err) {
    if (!/locale/i.test(String(err))) throw err;
    rmSync(dataDir, { recursive: true, force: true });
    await run(bins.initdb, [...args, '--locale=C'], runAs, cwd);
  }
  const hbaFile = join(dataDir, 'pg_hba.conf');
  writeFileSync(hbaFile, HBA);
  if (runAs) chownSync(hbaFile, runAs.uid, runAs.gid);
}

/**
 * Fills `dataDir` (inside `root`, owned by the server's user); the template lives in `cacheDir`. initdb costs 0.8–2 s on a busy 2-core machine; `cp -a`
 * of its 40 MB result about 0.2 s, so the first initdb is kept as a template (written to a staging directory and
 * renamed into place, so concurrent runs never see a half-written one).
 */
export async function initCluster(
  bins: PgBinaries,
  runAs: RunAs | undefined,
  root: string,
  dataDir: string,
  useTemplate: boolean,
  cacheDir: string,
): Promise<void> {
  if (!useTemplate) return initdb(bins, runAs, root, dataDir);
  const key = createHash('sha1')
    .update(`${TEMPLATE_VERSION}|${bins.initdb}|${bins.version}|${runAs?.uid ?? process.getuid?.()}`)
    .digest('hex')
    .slice(0, 12);
  const template = join(cacheDir, `switchyard-pg-template-${key}`);
  if (existsSync(join(template, 'complete')) && existsSync(join(template, 'data', 'PG_VERSION'))) {
    try {
      await run('cp', ['-a', join(template, 'data'), dataDir], undefined, root);
      return;
    } catch {
      // A temp cleaner may have pruned the template: fall through to a real initdb.
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  await initdb(bins, runAs, root, dataDir);
  const staging = mkdtempSync(`${template}-staging-`);
  try {
    await run('cp', ['-a', dataDir, join(staging, 'data')], undefined, root);
    writeFileSync(join(staging, 'complete'), `${bins.version}\n`);
    renameSync(staging, template);
  } catch {
    // Another run won the race (or the cache is unwritable): ours is simply not kept.
    rmSync(staging, { recursive: true, force: true });
  }
}
