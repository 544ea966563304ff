// `switchyard serve`: the sync service (replication → router → shape logs → HTTP), with an embedded Postgres when no URL is given.
import { DEFAULT_COMPILE_BUDGET_MS, DEFAULT_SHAPE_ROW_BUDGET_MS } from '../values/work-budget.js';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { jsonLogger, type Logger } from '../http/logger.js';
import {
  DEFAULT_CHUNK_BYTES,
  DEFAULT_LONG_POLL_TIMEOUT_MS,
  createSwitchyardHttp,
  type SwitchyardHttp,
} from '../http/server.js';
import { DEFAULT_SSE_TIMEOUT_MS } from '../http/sse.js';
import { DEFAULT_ADMISSION, type AdmissionLimits } from '../shapes/admission.js';
import { SwitchyardService } from '../shapes/service.js';
import { DEFAULT_SLICE_MS } from '../shapes/time-slicer.js';
import { seedDemo } from './demo-seed.js';
import { probePort, startEmbeddedPostgres } from './embedded-pg.js';
import { createMetricsRegistry } from './service-metrics.js';

export interface ServeOptions {
  readonly port: number;
  readonly host?: string;
  readonly databaseUrl?: string;
  readonly dataDir: string;
  readonly secret?: string;
  readonly longPollTimeoutMs: number;
  /** How long an SSE stream stays open (default 60 s). */
  readonly sseTimeoutMs?: number;
  readonly chunkBytes: number;
  readonly enableDelete: boolean;
  /** Seed the demo table `items` and print a URL to curl. */
  readonly demo: boolean;
  /** Router worker threads per table: 0 routes in-process, n ≥ 1 uses the sharded router (issue 5). */
  readonly shards?: number;
  /** Admission limits (0: none): concurrent creations, shapes in total and per table, where bytes and nodes. */
  readonly admission?: AdmissionLimits;
  /** Compile budget of a shape's where clause in nominal ms (default 50); see SwitchyardServiceOptions. */
  readonly compileBudgetMs?: number;
  /** Shape row budget in nominal ms (default 50): past it a shape is invalidated; see SwitchyardServiceOptions. */
  readonly shapeRowBudgetMs?: number;
  /** Time slice of transaction processing in ms (default 10; Infinity never yields); see SwitchyardServiceOptions. */
  readonly processSliceMs?: number;
  /** Readers see only fsynced changes (`--durable-reads`; for benchmarking and diagnosis). */
  readonly durableReads?: boolean;
  /** Test hook (env SWITCHYARD_TEST_COMMIT_DELAY_MS): wait before each group fsync; see SwitchyardServiceOptions. */
  readonly commitDelayMs?: number;
  /** Test hook (env SWITCHYARD_TEST_MOVE_DELAY_MS): wait inside each subquery move-in; see SwitchyardServiceOptions. */
  readonly moveDelayMs?: number;
  readonly version?: string;
}

export interface RunningServer {
  readonly url: string;
  /** The embedded Postgres's superuser URL, password included; absent with --database-url. */
  readonly embeddedDatabaseUrl?: string;
  readonly service: SwitchyardService;
  readonly http: SwitchyardHttp;
  stop(): Promise<void>;
}

/** Raw option values as commander hands them over, merged with the environment. */
export interface ServeFlags {
  port?: string;
  host?: string;
  databaseUrl?: string;
  dataDir?: string;
  secret?: string;
  longPollTimeout?: string;
  sseTimeout?: string;
  chunkBytes?: string;
  enableDelete?: boolean;
  demo?: boolean;
  shards?: string;
  compileBudget?: string;
  shapeRowBudget?: string;
  sliceMs?: string;
  durableReads?: boolean;
  maxConcurrentCreations?: string;
  maxShapes?: string;
  maxShapesPerTable?: string;
  maxWhereBytes?: string;
  maxWhereNodes?: string;
  maxCreationLatency?: string;
}

/** The admission flags; each falls back to the service default (0 turns a limit off). */
function admissionFlags(flags: ServeFlags): AdmissionLimits {
  const d = DEFAULT_ADMISSION;
  return {
    maxConcurrentCreations: nonNegativeInt(
      '--max-concurrent-creations',
      flags.maxConcurrentCreations,
      d.maxConcurrentCreations,
    ),
    maxShapes: nonNegativeInt('--max-shapes', flags.maxShapes, d.maxShapes),
    maxShapesPerTable: nonNegativeInt('--max-shapes-per-table', flags.maxShapesPerTable, d.maxShapesPerTable),
    maxWhereBytes: nonNegativeInt('--max-where-bytes', flags.maxWhereBytes, d.maxWhereBytes),
    maxWhereNodes: nonNegativeInt('--max-where-nodes', flags.maxWhereNodes, d.maxWhereNodes),
    maxCreationLatencyMs: nonNegativeInt('--max-creation-latency', flags.maxCreationLatency, d.maxCreationLatencyMs),
  };
}

function nonNegativeInt(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined || text === '') return fallback;
  if (!/^[0-9]+$/.test(text)) throw new Error(`${name} must be a non-negative integer, got "${text}"`);
  return Number(text);
}

function positiveInt(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined || text === '') return fallback;
  if (!/^[0-9]+$/.test(text) || Number(text) <= 0) throw new Error(`${name} must be a positive integer, got "${text}"`);
  return Number(text);
}

/** Flags override the environment (PORT, DATABASE_URL, SWITCHYARD_DATA_DIR, SWITCHYARD_SECRET, SWITCHYARD_SHARDS), which overrides defaults. */
export function resolveServeOptions(flags: ServeFlags, env: NodeJS.ProcessEnv = process.env): ServeOptions {
  const databaseUrl = flags.databaseUrl ?? env['DATABASE_URL'];
  const secret = flags.secret ?? env['SWITCHYARD_SECRET'];
  const longPollTimeoutMs = positiveInt('--long-poll-timeout', flags.longPollTimeout, DEFAULT_LONG_POLL_TIMEOUT_MS);
  // The client aborts a live request after 45 s; a longer hold would turn every idle poll into an error.
  if (longPollTimeoutMs >= 45_000)
    throw new Error('--long-poll-timeout must stay below 45000 ms (the client aborts live requests at 45 s)');
  return {
    port: positiveInt('--port', flags.port ?? env['PORT'], 3000),
    ...(flags.host !== undefined ? { host: flags.host } : {}),
    ...(databaseUrl !== undefined && databaseUrl !== '' ? { databaseUrl } : {}),
    dataDir: flags.dataDir ?? env['SWITCHYARD_DATA_DIR'] ?? './.switchyard',
    ...(secret !== undefined && secret !== '' ? { secret } : {}),
    longPollTimeoutMs,
    sseTimeoutMs: positiveInt('--sse-timeout', flags.sseTimeout, DEFAULT_SSE_TIMEOUT_MS),
    chunkBytes: positiveInt('--chunk-bytes', flags.chunkBytes, DEFAULT_CHUNK_BYTES),
    enableDelete: flags.enableDelete === true,
    demo: flags.demo === true,
    shards: nonNegativeInt('--shards', flags.shards ?? env['SWITCHYARD_SHARDS'], 0),
    admission: admissionFlags(flags),
    processSliceMs: positiveInt('--slice-ms', flags.sliceMs, DEFAULT_SLICE_MS),
    durableReads: flags.durableReads === true,
    commitDelayMs: nonNegativeInt('SWITCHYARD_TEST_COMMIT_DELAY_MS', env['SWITCHYARD_TEST_COMMIT_DELAY_MS'], 0),
    moveDelayMs: nonNegativeInt('SWITCHYARD_TEST_MOVE_DELAY_MS', env['SWITCHYARD_TEST_MOVE_DELAY_MS'], 0),
    compileBudgetMs: positiveInt(
      '--compile-budget',
      flags.compileBudget ?? env['SWITCHYARD_COMPILE_BUDGET_MS'],
      DEFAULT_COMPILE_BUDGET_MS,
    ),
    shapeRowBudgetMs: positiveInt(
      '--shape-row-budget',
      flags.shapeRowBudget ?? env['SWITCHYARD_SHAPE_ROW_BUDGET_MS'],
      DEFAULT_SHAPE_ROW_BUDGET_MS,
    ),
  };
}

/** Without the password: URLs end up in logs. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

/**
 * Fails fast, before any Postgres is set up, when the HTTP port is taken. The final listen can still lose a race to
 * another process; that failure stops everything started and is reported the same way.
 */
async function ensurePortFree(port: number, host: string): Promise<void> {
  try {
    await probePort(port, host);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new Error(`port ${port} on ${host} is already in use: stop what holds it, or choose another with --port`);
    }
    throw err;
  }
}

function listen(http: SwitchyardHttp, port: number, host: string): Promise<void> {
  return new Promise<void>((res, rej) => {
    http.server.once('error', rej);
    http.server.listen(port, host, () => {
      http.server.off('error', rej);
      res();
    });
  });
}

async function startService(
  opts: ServeOptions,
  dataDir: string,
  databaseUrl: string,
  log: Logger,
): Promise<SwitchyardService> {
  if (opts.demo) {
    await seedDemo(databaseUrl);
    log.log('info', 'demo_seeded', { table: 'public.items' });
  }
  log.log('info', 'service_starting', { database: redact(databaseUrl), dataDir, shards: opts.shards ?? 0 });
  return SwitchyardService.start({
    databaseUrl,
    dataDir: resolve(dataDir, 'service'),
    // Snapshot chunks are cut when written; change reads are cut by the HTTP layer with the same target.
    log: { snapshotChunkBytes: opts.chunkBytes },
    router: { shards: opts.shards ?? 0 },
    ...(opts.admission !== undefined ? { admission: opts.admission } : {}),
    ...(opts.compileBudgetMs !== undefined ? { compileBudgetMs: opts.compileBudgetMs } : {}),
    ...(opts.shapeRowBudgetMs !== undefined ? { shapeRowBudgetMs: opts.shapeRowBudgetMs } : {}),
    ...(opts.processSliceMs !== undefined ? { processSliceMs: opts.processSliceMs } : {}),
    ...(opts.durableReads === true ? { earlyVisibility: false } : {}),
    ...(opts.commitDelayMs !== undefined && opts.commitDelayMs > 0 ? { commitDelayMs: opts.commitDelayMs } : {}),
    ...(opts.moveDelayMs !== undefined && opts.moveDelayMs > 0 ? { moveDelayMs: opts.moveDelayMs } : {}),
    onEvent: (e) => {
      if (e.event === 'replication') log.log('info', 'replication', { ...e.detail });
      else if (e.event === 'error') log.log('error', 'service_error', { message: e.message });
      else if (e.event === 'warning') log.log('warn', 'service_warning', { message: e.message });
      else log.log('info', e.event, { ...e });
    },
  });
}

/** Starts Postgres (if embedded), the service and the HTTP server; resolves once requests are accepted. */
export async function startServer(opts: ServeOptions, log: Logger): Promise<RunningServer> {
  const host = opts.host ?? '0.0.0.0';
  await ensurePortFree(opts.port, host);
  const dataDir = resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const embedded = opts.databaseUrl === undefined ? await startEmbeddedPostgres(dataDir, log) : undefined;
  const databaseUrl = embedded?.url ?? opts.databaseUrl ?? '';
  let service: SwitchyardService;
  try {
    service = await startService(opts, dataDir, databaseUrl, log);
  } catch (err) {
    await embedded?.stop().catch(() => undefined);
    throw err;
  }
  const svc = service;
  const registry = createMetricsRegistry(() => svc.metrics());
  const http = createSwitchyardHttp({
    service,
    longPollTimeoutMs: opts.longPollTimeoutMs,
    ...(opts.sseTimeoutMs !== undefined ? { sseTimeoutMs: opts.sseTimeoutMs } : {}),
    chunkBytes: opts.chunkBytes,
    enableDelete: opts.enableDelete,
    registry,
    log,
    ...(opts.secret !== undefined ? { secret: opts.secret } : {}),
    ...(opts.version !== undefined ? { version: opts.version } : {}),
  });
  try {
    await listen(http, opts.port, host);
  } catch (err) {
    await service.close().catch(() => undefined);
    await embedded?.stop().catch(() => undefined);
    throw err;
  }
  const addr = http.server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : opts.port;
  const url = `http://localhost:${port}`;
  log.log('info', 'listening', {
    url,
    port,
    longPollTimeoutMs: opts.longPollTimeoutMs,
    chunkBytes: opts.chunkBytes,
    deleteEnabled: opts.enableDelete,
    auth: opts.secret !== undefined,
  });
  let stopping: Promise<void> | undefined;
  return {
    url,
    ...(embedded !== undefined ? { embeddedDatabaseUrl: embedded.url } : {}),
    service,
    http,
    stop(): Promise<void> {
      stopping ??= (async () => {
        await http.close(1000);
        await svc.close();
        await embedded?.stop();
        log.log('info', 'stopped', {});
      })();
      return stopping;
    },
  };
}

/** Single-quoted for a POSIX shell. */
function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * What `serve` prints on stderr once it accepts requests: a shape URL to curl (with --demo) and, for the embedded
 * Postgres, a ready-to-paste psql command (the JSON log masks the password; it lives in `<data dir>/pg-password`).
 */
export function startupBanner(running: Pick<RunningServer, 'url' | 'embeddedDatabaseUrl'>, opts: ServeOptions): string {
  const name = opts.version === undefined ? 'Switchyard' : `Switchyard ${opts.version}`;
  const lines = [`${name} is running at ${running.url}`];
  const secret = opts.secret === undefined ? '' : `&secret=${encodeURIComponent(opts.secret)}`;
  if (opts.demo) {
    lines.push(
      'Fetch the demo shape:',
      `  curl -i ${shellQuote(`${running.url}/v1/shape?table=items&offset=-1${secret}`)}`,
      `then follow electric-handle/electric-offset, or use @electric-sql/client's ShapeStream with url ${running.url}/v1/shape`,
    );
  }
  const db = running.embeddedDatabaseUrl;
  if (db !== undefined) {
    lines.push(
      `Embedded Postgres (password in ${join(opts.dataDir, 'pg-password')}; the port stays the same across restarts while it is free):`,
      `  psql ${shellQuote(db)}`,
    );
    if (opts.demo) {
      lines.push(
        'Write to the demo table and watch the change arrive:',
        `  psql ${shellQuote(db)} -c "insert into items (title) values ('hello')"`,
      );
    }
  }
  return `\n${lines.join('\n')}\n\n`;
}

/** The CLI action: runs until SIGINT/SIGTERM, then shuts down in order (HTTP, service, Postgres). */
export async function runServe(flags: ServeFlags, version: string): Promise<void> {
  const log = jsonLogger('info');
  const opts = { ...resolveServeOptions(flags), version };
  process.on('unhandledRejection', (err) => log.log('error', 'unhandled_rejection', { error: err }));
  let running: RunningServer;
  try {
    running = await startServer(opts, log);
  } catch (err) {
    log.log('error', 'startup_failed', { error: err });
    process.exitCode = 1;
    return;
  }
  process.stderr.write(startupBanner(running, opts));
  await new Promise<void>((res) => {
    let signals = 0;
    const onSignal = (signal: string): void => {
      signals++;
      if (signals > 1) {
        log.log('warn', 'forced_exit', { signal });
        process.exit(1);
      }
      log.log('info', 'shutting_down', { signal });
      running.stop().then(res, (err: unknown) => {
        log.log('error', 'shutdown_failed', { error: err });
        process.exitCode = 1;
        res();
      });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
