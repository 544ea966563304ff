// Child process of the service-scale bench: the real `switchyard serve` (startServer) with an IPC channel on which
// the bench asks for its memory after a full GC, so RSS and heap are the service process's own.
import { startServer } from '../src/cli/serve.js';
import { jsonLogger } from '../src/http/logger.js';
import { ShapeCreationError } from '../src/shapes/types.js';
import { BENCH_WHERE } from './bench-shapes.js';

const [databaseUrl, dataDir, port] = process.argv.slice(2) as [string, string, string];

/** What the bench asks over IPC. */
export type ChildRequest =
  | { readonly cmd: 'mem' }
  | { readonly cmd: 'sample' }
  | { readonly cmd: 'stop' }
  | { readonly cmd: 'create'; readonly from: number; readonly to: number; readonly concurrency: number };

/** Memory of this process after two full collections (bytes). */
export interface ChildMemory {
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly arrayBuffers: number;
}

/** Memory as it is (no collection forced) and service metrics, sampled while a soak runs. */
export interface ChildSample extends ChildMemory {
  readonly replicationLagBytes: number;
  readonly loadedLogs: number;
  readonly shapes: number;
  /** Shared creation snapshots: snapshots taken, creations served by them, the largest batch. */
  readonly snapshotBatches: { readonly batches: number; readonly claims: number; readonly largestBatch: number };
}

const gc = (globalThis as { gc?: () => void }).gc;
// The log lines go to the parent as in production (one line per created shape included), which reads and drops them.
const log = jsonLogger('info');
const server = await startServer(
  {
    port: Number(port),
    host: '127.0.0.1',
    databaseUrl,
    dataDir,
    longPollTimeoutMs: 20_000,
    chunkBytes: 1 << 20,
    enableDelete: false,
    demo: false,
    // The bench's 32 clients stay within the default limit; nothing else is limited.
    admission: { maxConcurrentCreations: 64, maxShapes: 0, maxShapesPerTable: 0, maxWhereBytes: 0, maxWhereNodes: 0 },
  },
  log,
);

/**
 * Creates shapes `from`…`to - 1` through the service's own `getOrCreate` (the code path of `GET /v1/shape`, HTTP
 * parsing and response writing aside), `concurrency` at once: builds a large registry faster than HTTP clients can,
 * for the memory and restart measures. Replies with the count created.
 */
async function createInProcess(from: number, to: number, concurrency: number): Promise<number> {
  let next = from;
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < to; i = next++) {
        for (;;) {
          try {
            await server.service.getOrCreate({
              schema: 'public',
              table: 'items',
              where: BENCH_WHERE,
              params: { '1': String(i) },
              replica: 'default',
              log: 'full',
            });
            break;
          } catch (err) {
            // Admission's "too many at once" is retried, as the HTTP clients retry a 429/503.
            if (!(err instanceof ShapeCreationError)) throw err;
            await new Promise((r) => setTimeout(r, 20));
          }
        }
        done++;
      }
    }),
  );
  return done;
}

process.on('message', (m: ChildRequest) => {
  if (m.cmd === 'create') {
    void createInProcess(m.from, m.to, m.concurrency).then(
      (created) => process.send?.({ created }),
      // With its cause: a store's "failed earlier" says nothing of what failed.
      (err: unknown) =>
        process.send?.({ failed: `${String(err)}; cause: ${String((err as { cause?: unknown }).cause)}` }),
    );
  } else if (m.cmd === 'sample') {
    const u = process.memoryUsage();
    const metrics = server.service.metrics();
    const sample: ChildSample = {
      rss: u.rss,
      heapUsed: u.heapUsed,
      external: u.external,
      arrayBuffers: u.arrayBuffers,
      replicationLagBytes: metrics.replicationLagBytes,
      loadedLogs: metrics.loadedLogs,
      shapes: metrics.shapes,
      snapshotBatches: metrics.snapshotBatches,
    };
    process.send?.({ sample });
  } else if (m.cmd === 'mem') {
    gc?.();
    gc?.();
    const u = process.memoryUsage();
    const reply: ChildMemory = { rss: u.rss, heapUsed: u.heapUsed, external: u.external, arrayBuffers: u.arrayBuffers };
    process.send?.({ mem: reply });
  } else {
    void server.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  }
});
// The bench holds the IPC channel: when it goes away (even by SIGKILL) so does this process.
process.on('disconnect', () => process.exit(0));
process.send?.({ listening: true });
