// Runs `switchyard serve` in a child process for tests: start on a fixed port, read its JSON log, SIGKILL it.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./service-child.ts', import.meta.url));

export interface LogLine {
  readonly level: string;
  readonly event: string;
  readonly [field: string]: unknown;
}

export interface ServiceProcess {
  readonly pid: number;
  /** Every JSON log line printed so far. */
  readonly lines: LogLine[];
  /** SIGKILL (a crash: nothing is flushed); resolves when the process is gone. */
  kill9(): Promise<void>;
  /** SIGTERM, escalating to SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  readonly exited: Promise<number | null>;
}

/** A free TCP port on 127.0.0.1 (the service restarts on the same port so clients find it again). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr !== null ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Starts the service and resolves once it logs `listening`; rejects with its output if it exits first. */
export async function startServiceProcess(
  databaseUrl: string,
  dataDir: string,
  port: number,
  longPollMs = 1000,
  /** Extra environment for the child (test hooks such as SWITCHYARD_TEST_COMMIT_DELAY_MS). */
  env: Readonly<Record<string, string>> = {},
): Promise<ServiceProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', CHILD, databaseUrl, dataDir, String(port), String(longPollMs)],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    },
  );
  const lines: LogLine[] = [];
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let out = '';
  let onListening: (() => void) | undefined;
  child.stdout!.on('data', (b: Buffer) => {
    out += b.toString('utf8');
    let nl: number;
    while ((nl = out.indexOf('\n')) >= 0) {
      const text = out.slice(0, nl);
      out = out.slice(nl + 1);
      try {
        const line = JSON.parse(text) as LogLine;
        lines.push(line);
        if (line.event === 'listening') onListening?.();
      } catch {
        stderr += text + '\n';
      }
    }
  });
  child.stderr!.on('data', (b: Buffer) => {
    stderr += b.toString('utf8');
  });
  await new Promise<void>((resolve, reject) => {
    onListening = resolve;
    void exited.then((code) =>
      reject(new Error(`service exited with ${code} before listening:\n${stderr}\n${JSON.stringify(lines.slice(-5))}`)),
    );
  });
  const kill = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return {
    pid: child.pid!,
    lines,
    exited,
    kill9: () => kill('SIGKILL'),
    async stop(graceMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    },
  };
}
