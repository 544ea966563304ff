// Spawns the `switchyard` command from source for tests and collects what it prints and how it exits.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./cli-child.ts', import.meta.url));

export interface CliProcess {
  readonly child: ChildProcess;
  /** Everything printed so far. */
  stdout(): string;
  stderr(): string;
  /** JSON log lines (stdout) parsed so far. */
  events(): { event: string; [field: string]: unknown }[];
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** Resolves once `predicate` holds for the output; rejects if the process exits first. */
  waitFor(predicate: () => boolean, what: string): Promise<void>;
}

export function runSwitchyard(args: readonly string[], env: NodeJS.ProcessEnv = {}): CliProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  const notify = (): void => listeners.forEach((l) => l());
  child.stdout.on('data', (b: Buffer) => {
    out += b.toString('utf8');
    notify();
  });
  child.stderr.on('data', (b: Buffer) => {
    err += b.toString('utf8');
    notify();
  });
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const events = (): { event: string }[] =>
    out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { event: string });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    events,
    exited,
    waitFor(predicate, what) {
      return new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (predicate()) {
            listeners.delete(check);
            resolve();
          }
        };
        listeners.add(check);
        check();
        void exited.then((code) => {
          if (!predicate()) reject(new Error(`exited with ${code} before ${what}:\n${out}\n${err}`));
        });
      });
    },
  };
}
