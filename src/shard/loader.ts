// Loads shapes from a JSON-lines file ({id, table, where?, params?} per line) into a Router or a ShardedRouter.
//
// Reads in large chunks and splits lines by hand (readline costs more than the parse), so the load rate is the
// router's add rate plus one JSON.parse per line. A bad line or a rejected shape is counted and reported, not fatal.
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import type { RouterLike, ShapeDef } from '../router/index.js';
import type { ShardedRouter } from './sharded-router.js';
import { parseShapeBytes, parseShapeLine, type Line } from './shape-lines.js';

export interface LoadProgress {
  readonly loaded: number;
  readonly failed: number;
  readonly bytes: number;
  readonly totalBytes: number;
  readonly elapsedMs: number;
}

export interface LoadResult {
  readonly loaded: number;
  readonly failed: number;
  /** The first few failures (line number, message). */
  readonly failures: readonly { readonly line: number; readonly message: string }[];
  readonly elapsedMs: number;
  readonly shapesPerSec: number;
}

export interface LoadOptions {
  readonly onProgress?: (p: LoadProgress) => void;
  /** Shapes handed to a ShardedRouter per addShapes call. */
  readonly chunk?: number;
}

const MAX_FAILURES = 20;

function isSharded(t: RouterLike | ShardedRouter): t is ShardedRouter {
  return typeof (t as ShardedRouter).addShapes === 'function';
}

/** Loads every line of `path` into `target`. */
export async function loadShapes(
  path: string,
  target: RouterLike | ShardedRouter,
  options: LoadOptions = {},
): Promise<LoadResult> {
  const totalBytes = statSync(path).size;
  const t0 = performance.now();
  const failures: { line: number; message: string }[] = [];
  let loaded = 0;
  let failed = 0;
  let bytes = 0;
  let lineNo = 0;
  const chunkSize = options.chunk ?? 65_536;
  let pending: Line[] = [];
  /** Line number of each pending shape (a sharded router reports rejections after the lines are read). */
  let pendingLines: number[] = [];
  const fail = (message: string, line = lineNo): void => {
    failed++;
    if (failures.length < MAX_FAILURES) failures.push({ line, message });
  };
  const flushSharded = async (): Promise<void> => {
    if (pending.length === 0 || !isSharded(target)) return;
    const batch = pending;
    const lines = pendingLines;
    pending = [];
    pendingLines = [];
    const r = await target.addShapes(batch);
    loaded += r.added;
    if (r.errors.length === 0) return;
    // An id on several lines: the later ones are the duplicates that fail, so the last line is reported.
    const lineOf = new Map<string, number>();
    for (let i = 0; i < batch.length; i++) lineOf.set((batch[i] as Line).id, lines[i] as number);
    for (const e of r.errors) fail(`${e.id}: ${e.error.message}`, lineOf.get(e.id) ?? lineNo);
  };
  const take = (buf: Buffer, start: number, end: number): void => {
    lineNo++;
    if (end === start) return;
    let line: Line;
    try {
      line = parseShapeBytes(buf, start, end) ?? parseShapeLine(buf.toString('utf8', start, end));
    } catch (err) {
      fail(err instanceof Error ? err.message : String(err));
      return;
    }
    if (isSharded(target)) {
      pending.push(line);
      pendingLines.push(lineNo);
    } else {
      try {
        target.addShape(line.id, line.def);
        loaded++;
      } catch (err) {
        fail(err instanceof Error ? err.message : String(err));
      }
    }
  };
  // Lines are cut from raw bytes (no decoding of the whole file): the fast reader makes fresh strings for each field,
  // so no shape keeps a multi-megabyte chunk alive through a sliced string.
  const stream = createReadStream(path, { highWaterMark: 4 << 20 });
  let carry: Buffer | null = null;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    let start = 0;
    let nl = chunk.indexOf(10);
    if (nl >= 0 && carry !== null) {
      const joined: Buffer = Buffer.concat([carry, chunk.subarray(0, nl)]);
      take(joined, 0, joined.length);
      carry = null;
      start = nl + 1;
      nl = chunk.indexOf(10, start);
    }
    while (nl >= 0) {
      take(chunk, start, nl);
      start = nl + 1;
      nl = chunk.indexOf(10, start);
    }
    if (start < chunk.length)
      carry = carry === null ? Buffer.from(chunk.subarray(start)) : Buffer.concat([carry, chunk.subarray(start)]);
    if (pending.length >= chunkSize) await flushSharded();
    options.onProgress?.({
      loaded: loaded + pending.length,
      failed,
      bytes,
      totalBytes,
      elapsedMs: performance.now() - t0,
    });
  }
  if (carry !== null) take(carry, 0, carry.length);
  await flushSharded();
  const elapsedMs = performance.now() - t0;
  options.onProgress?.({ loaded, failed, bytes, totalBytes, elapsedMs });
  return { loaded, failed, failures, elapsedMs, shapesPerSec: loaded / (elapsedMs / 1000) };
}

/** Writes shapes as JSON lines (the loader's format). */
export async function writeShapesFile(
  path: string,
  shapes: Iterable<{ readonly id: string; readonly def: ShapeDef }>,
): Promise<void> {
  const out = createWriteStream(path);
  let buf: string[] = [];
  const drain = (): Promise<void> => new Promise((resolve) => out.once('drain', () => resolve()));
  for (const { id, def } of shapes) {
    buf.push(
      JSON.stringify({
        id,
        table: def.table,
        ...(def.where !== undefined ? { where: def.where } : {}),
        ...(def.params !== undefined ? { params: def.params } : {}),
      }),
    );
    if (buf.length >= 10_000) {
      if (!out.write(buf.join('\n') + '\n')) await drain();
      buf = [];
    }
  }
  if (buf.length > 0) out.write(buf.join('\n') + '\n');
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}
