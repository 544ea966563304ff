// Child process of the service tests: runs the real `switchyard serve` (startServer) and prints its JSON log lines.
import { startServer } from '../../src/cli/serve.js';
import { jsonLogger } from '../../src/http/logger.js';

const [databaseUrl, dataDir, port, longPollMs] = process.argv.slice(2) as [string, string, string, string | undefined];

// The parent holds our stdin: when it goes away (even by SIGKILL) we go too, so no test leaves a server behind.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();

const log = jsonLogger('info');
process.on('unhandledRejection', (err) => log.log('error', 'unhandled_rejection', { error: err }));
try {
  const server = await startServer(
    {
      port: Number(port),
      host: '127.0.0.1',
      databaseUrl,
      dataDir,
      longPollTimeoutMs: Number(longPollMs ?? 1000),
      chunkBytes: 64 * 1024,
      enableDelete: false,
      demo: false,
      commitDelayMs: Number(process.env['SWITCHYARD_TEST_COMMIT_DELAY_MS'] ?? 0),
      moveDelayMs: Number(process.env['SWITCHYARD_TEST_MOVE_DELAY_MS'] ?? 0),
    },
    log,
  );
  process.once('SIGTERM', () => {
    server.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
} catch (err) {
  log.log('error', 'startup_failed', { error: err });
  process.exit(1);
}
