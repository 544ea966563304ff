// Starts, restarts, crashes and stops a throwaway Postgres 15 cluster for tests and benchmarks, never leaving orphans.
import { spawn, type ChildProcess } from 'node:child_process';
import {
  chownSync,
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statfsSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPgBinaries, pgBinariesAt, pgRunAs, type PgBinaries, type RunAs } from './pg-binaries.js';
import { initCluster } from './pg-init.js';

export interface StartPostgresOptions {
  /** Keep fsync and full_page_writes on (OS-crash durability). Default off; kill9() loses nothing acknowledged either way. */
  readonly fsync?: boolean;
  /** Fixed TCP port; default a free port on 127.0.0.1. */
  readonly port?: number;
  /** Extra server settings, passed as `-c name=value`. */
  readonly settings?: Readonly<Record<string, string>>;
  /** Directory with initdb/postgres; default found by findPgBinaries(). */
  readonly bindir?: string;
  /**
   * Parent directory of the cluster (and of the initdb template cache). Default: SWITCHYARD_PG_DIR, else /dev/shm
   * when it is a tmpfs with at least 2 GiB free, else the OS temp dir. Use a disk directory for large benchmarks.
   */
  readonly dir?: string;
  /** Copy a cached initdb result instead of running initdb (default true). */
  readonly template?: boolean;
  /** Milliseconds to wait for the server to accept connections. */
  readonly startTimeoutMs?: number;
}

export interface PostgresInstance {
  /** Superuser URL of the `postgres` database (trust auth, no password). */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly logFile: string;
  readonly binaries: PgBinaries;
  /** Fast shutdown, then removes every file of the cluster. Idempotent. */
  stop(): Promise<void>;
  /** Clean restart when running; after kill9() it starts the server again, which runs crash recovery. */
  restart(): Promise<void>;
  /** SIGKILL the postmaster and every backend (a simulated machine crash, minus the page cache). */
  kill9(): Promise<void>;
  isRunning(): boolean;
}

const HOST = '127.0.0.1';

/**
 * The server runs under a tiny shell that holds the read end of a pipe from this process: when this process dies
 * for any reason (even SIGKILL) the pipe closes, the shell fast-stops Postgres and removes the cluster's directory.
 */
const WATCHDOG = `
exec 3<&0
"$@" </dev/null 3<&- &
pg=$!
( read -r _ <&3; kill -INT "$pg" 2>/dev/null ) &
rd=$!
exec 3<&-
wait "$pg"; code=$?
if kill -0 "$rd" 2>/dev/null; then kill "$rd" 2>/dev/null; else rm -rf "$SY_PG_ROOT"; fi
exit $code
`;

/**
 * A RAM-backed directory makes the data directory copy and every fsync-free write cheap: on a busy 2-core machine
 * copying the 40 MB template took 0.6–1.1 s on ext4. The server's memory use is the same either way.
 */
function defaultDir(): string {
  const env = process.env['SWITCHYARD_PG_DIR'];
  if (env !== undefined && env !== '') return env;
  try {
    const fs = statfsSync('/dev/shm');
    const TMPFS_MAGIC = 0x01021994;
    if (fs.type === TMPFS_MAGIC && fs.bavail * fs.bsize >= 2 * 1024 ** 3) return '/dev/shm';
  } catch {
    // No /dev/shm here.
  }
  return tmpdir();
}

const live = new Set<() => void>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Only synchronous work is possible here; a running server is handled by its watchdog when our pipe closes.
  process.on('exit', () => {
    for (const cleanup of live) cleanup();
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, HOST, () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr !== null ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

function serverFlags(port: number, sockDir: string, opts: StartPostgresOptions): string[] {
  const durable = opts.fsync === true ? 'on' : 'off';
  const settings: Record<string, string> = {
    listen_addresses: HOST,
    port: String(port),
    unix_socket_directories: sockDir,
    wal_level: 'logical',
    max_wal_senders: '20',
    max_replication_slots: '20',
    max_connections: '200',
    fsync: durable,
    full_page_writes: durable,
    // Kept on even without fsync: a commit then reaches the OS before it is acknowledged, so kill9() (a process
    // crash, the page cache survives) never loses acknowledged commits.
    synchronous_commit: 'on',
    logging_collector: 'off',
    ...opts.settings,
  };
  return Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]);
}

/** Pids of processes whose working directory is the data directory: the postmaster and all its children. */
function clusterPids(dataDir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/cwd`) === dataDir) pids.push(Number(entry));
    } catch {
      // Gone, a zombie, or not ours to inspect.
    }
  }
  return pids;
}

function postmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a postmaster other than `stalePid` (left behind by a crash) reports itself ready. */
function isReady(dataDir: string, stalePid: number | undefined): boolean {
  try {
    // Line 8 of postmaster.pid is the postmaster status; pg_ctl waits for "ready" the same way.
    const lines = readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n');
    return Number(lines[0]) !== stalePid && lines[7]?.trim() === 'ready';
  } catch {
    return false;
  }
}

function logTail(logFile: string): string {
  try {
    return readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '(no log)';
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

class Cluster implements PostgresInstance {
  readonly url: string;
  readonly host = HOST;
  private child: ChildProcess | undefined;
  private stopped = false;
  /** At process exit: a live server is left to its watchdog; the files of a dead one are removed here. */
  private readonly cleanup = (): void => {
    if (clusterPids(this.dataDir).length === 0) rmSync(this.root, { recursive: true, force: true });
  };

  constructor(
    readonly binaries: PgBinaries,
    private readonly runAs: RunAs | undefined,
    private readonly root: string,
    readonly dataDir: string,
    private readonly sockDir: string,
    readonly logFile: string,
    readonly port: number,
    private readonly opts: StartPostgresOptions,
  ) {
    this.url = `postgres://postgres@${HOST}:${port}/postgres`;
    live.add(this.cleanup);
  }

  /** Drops the exit-time cleanup of a cluster object that never started (its directory is reused by a retry). */
  forget(): void {
    live.delete(this.cleanup);
  }

  isRunning(): boolean {
    return this.child !== undefined;
  }

  /** Spawns the server and waits until it accepts connections; rejects with the log tail if it dies first. */
  async spawnServer(): Promise<void> {
    const stalePid = postmasterPid(this.dataDir);
    const logFd = openSync(this.logFile, 'a');
    const args = [this.binaries.postgres, '-D', this.dataDir, ...serverFlags(this.port, this.sockDir, this.opts)];
    const child = spawn('/bin/sh', ['-c', WATCHDOG, 'switchyard-pg-watchdog', ...args], {
      cwd: this.root,
      detached: true,
      stdio: ['pipe', 'ignore', logFd],
      env: { ...process.env, SY_PG_ROOT: this.root },
      ...(this.runAs ? { uid: this.runAs.uid, gid: this.runAs.gid } : {}),
    });
    closeSync(logFd);
    child.unref();
    (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    let dead = false;
    child.on('exit', () => {
      dead = true;
      if (this.child === child) this.child = undefined;
    });
    this.child = child;
    const deadline = Date.now() + (this.opts.startTimeoutMs ?? 30_000);
    while (!isReady(this.dataDir, stalePid)) {
      if (dead) throw new Error(`postgres exited during startup:\n${logTail(this.logFile)}`);
      if (Date.now() > deadline) {
        await this.kill9();
        throw new Error(`postgres did not become ready in time:\n${logTail(this.logFile)}`);
      }
      await sleep(10);
    }
  }

  /** Fast shutdown (SIGINT), escalating to SIGQUIT and SIGKILL if the server hangs; keeps the data directory. */
  private async shutdown(): Promise<void> {
    if (this.child === undefined) return;
    const pid = postmasterPid(this.dataDir);
    for (const [signal, waitMs] of [
      ['SIGINT', 15_000],
      ['SIGQUIT', 5_000],
    ] as const) {
      if (pid !== undefined) {
        try {
          process.kill(pid, signal);
        } catch {
          // Already gone.
        }
      }
      if (await this.waitExit(waitMs)) return;
    }
    await this.kill9();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.shutdown();
    live.delete(this.cleanup);
    rmSync(this.root, { recursive: true, force: true });
  }

  async restart(): Promise<void> {
    if (this.stopped) throw new Error('cannot restart a stopped cluster');
    await this.shutdown();
    await this.spawnServer();
  }

  async kill9(): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const pm = postmasterPid(this.dataDir);
      // The postmaster first, so it cannot fork replacements for the children we kill next.
      const pids = clusterPids(this.dataDir).sort((a, b) => (a === pm ? -1 : b === pm ? 1 : 0));
      if (pids.length === 0) break;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      if (Date.now() > deadline) throw new Error(`could not kill postgres processes ${pids.join(', ')}`);
      await sleep(5);
    }
    if (!(await this.waitExit(10_000))) throw new Error('the postgres watchdog did not exit');
  }

  /** Polls with a timer because the child is unref'd: awaiting its exit event alone would not keep Node alive. */
  private async waitExit(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (this.child !== undefined) {
      if (Date.now() > deadline) return false;
      await sleep(5);
    }
    return true;
  }
}

/** Creates a fresh cluster in a new temporary directory and starts it (about 1 s: initdb dominates). */
export async function startPostgres(opts: StartPostgresOptions = {}): Promise<PostgresInstance> {
  installExitHook();
  const binaries = opts.bindir === undefined ? await findPgBinaries() : pgBinariesAt(opts.bindir);
  const runAs = pgRunAs();
  const dir = opts.dir ?? defaultDir();
  const root = mkdtempSync(join(dir, 'switchyard-pg-'));
  const dataDir = join(root, 'data');
  const sockDir = join(root, 'sock');
  mkdirSync(sockDir);
  if (runAs) {
    chownSync(root, runAs.uid, runAs.gid);
    chownSync(sockDir, runAs.uid, runAs.gid);
  }
  try {
    await initCluster(binaries, runAs, root, dataDir, opts.template !== false, dir);
  } catch (err) {
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
  const logFile = join(root, 'postgres.log');
  for (let attempt = 1; ; attempt++) {
    const port = opts.port ?? (await freePort());
    const cluster = new Cluster(binaries, runAs, root, dataDir, sockDir, logFile, port, opts);
    try {
      await cluster.spawnServer();
      return cluster;
    } catch (err) {
      // Another process may take the free port between our probe and the server's bind: try another one.
      const portTaken = /could not bind|address already in use/i.test(String(err));
      if (portTaken && opts.port === undefined && attempt < 5) {
        cluster.forget();
        continue;
      }
      await cluster.stop();
      throw err;
    }
  }
}
