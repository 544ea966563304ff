// fsync helpers for the log store: concurrent fdatasync of many files through the fd cache, directory fsync.
import { execFile } from 'node:child_process';
import { closeSync, fdatasync, fsync, openSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { FdCache } from './fd-cache.js';
import type { SegmentStream } from './segment-stream.js';

const fdatasyncAsync = promisify(fdatasync);

/** Whether a file-system error means "no such file": the one failure the log treats as an expected state. */
export function isNotFound(e: unknown): boolean {
  return (e as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}
const fsyncAsync = promisify(fsync);

/**
 * Flushes each stream's pending bytes and fdatasyncs the files it wrote, `concurrency` at a time (each fsync
 * occupies a libuv thread; leave some for the journal), then fsyncs the directories that gained files.
 * Returns the number of fsyncs done.
 */
export async function syncStreams(
  fds: FdCache,
  streams: Iterable<SegmentStream>,
  concurrency: number,
): Promise<number> {
  const list = [...streams];
  const dirs = new Set<string>();
  let count = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < list.length) {
      const s = list[next++]!;
      if (s.destroyed) continue;
      s.flush();
      const { files, created } = s.takeUnsynced();
      if (created) dirs.add(s.dir);
      for (const path of files) {
        let fd: number;
        try {
          fd = fds.pin(path);
        } catch (e) {
          // The log was deleted since it was written: nothing left to make durable.
          if (isNotFound(e)) continue;
          throw e;
        }
        try {
          await fdatasyncAsync(fd);
          count++;
        } finally {
          fds.unpin(path);
        }
      }
    }
  };
  const workers: Promise<void>[] = [];
  for (let i = 0; i < Math.min(concurrency, list.length); i++) workers.push(worker());
  await Promise.all(workers);
  return count + (await syncDirs([...dirs]));
}

/** fsyncs directories concurrently (a vanished one, i.e. a deleted log, is skipped); returns how many. */
export async function syncDirs(dirs: readonly string[]): Promise<number> {
  const done = await Promise.all(
    dirs.map(async (d) => {
      let fd: number;
      try {
        fd = openSync(d, 'r');
      } catch (e) {
        if (isNotFound(e)) return 0;
        throw e;
      }
      try {
        await fsyncAsync(fd);
        return 1;
      } finally {
        closeSync(fd);
      }
    }),
  );
  return done.reduce<number>((a, b) => a + b, 0);
}

/**
 * fdatasyncs every file of each directory, then the directory itself (`concurrency` directories at a time): for
 * logs evicted from memory, whose written files are no longer listed anywhere. A vanished directory (a deleted log)
 * or file is skipped. Returns the number of fsyncs done.
 */
export async function syncDirTrees(dirs: readonly string[], concurrency: number): Promise<number> {
  let count = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < dirs.length) {
      const dir = dirs[next++]!;
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch (e) {
        if (isNotFound(e)) continue;
        throw e;
      }
      for (const name of names) {
        let fd: number;
        try {
          fd = openSync(join(dir, name), 'r');
        } catch (e) {
          if (isNotFound(e)) continue;
          throw e;
        }
        try {
          await fdatasyncAsync(fd);
          count++;
        } finally {
          closeSync(fd);
        }
      }
      count += await syncDirs([dir]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, dirs.length) }, () => worker()));
  return count;
}

/**
 * Writes out the streams' pending bytes, yielding to the event loop every `batch` streams so a checkpoint over
 * thousands of logs does not stall replication for the whole time.
 */
export async function flushStreams(streams: Iterable<SegmentStream>, batch = 256): Promise<void> {
  let n = 0;
  for (const s of streams) {
    if (!s.destroyed) s.flush();
    if (++n % batch === 0) await yieldLoop();
  }
}

/**
 * syncfs(2) on the filesystem holding `path`, through coreutils `sync -f` (Node has no binding): one call makes
 * every file written so far durable, directory entries included, where per-file fsync costs one disk flush per
 * file (~1.6 ms each here: 10k logs would take 16 s). Linux ≥ 5.8 reports writeback errors through it. Resolves
 * false when the tool is unavailable or fails, so the caller falls back to per-file fsync.
 */
export function syncFilesystem(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('sync', ['-f', path], { timeout: 120_000 }, (err) => resolve(err === null));
  });
}
