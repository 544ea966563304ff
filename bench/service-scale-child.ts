// Child process of the service-scale bench: the real `switchyard serve` (startServer) with an IPC channel on which
// the bench asks for its memory after a full GC, so RSS and heap are the service process's own.
import { startServer } from '../src/cli/serve.js';
import { jsonLogger } from '../src/http/logger.js';

const [databaseUrl, dataDir, port] = process.argv.slice(2) as [string, string, string];

/** What the bench asks over IPC. */
export type ChildRequest = { readonly cmd: 'mem' } | { readonly cmd: 'stop' };

/** Memory of this process after two full collections (bytes). */
export interface ChildMemory {
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly arrayBuffers: number;
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

process.on('message', (m: ChildRequest) => {
  if (m.cmd === 'mem') {
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
