// SSE live mode (protocol §7): a shape's log after an offset as server-sent events, one message per event.
import type { ServerResponse } from 'node:http';
import { compareOffsets, type LogOffset } from '../log/offset.js';
import type { ShapeService } from '../shapes/types.js';
import { computeCursor, computeEtag, upToDateMessage, WRITE_BATCH_BYTES, writeDrained } from './responses.js';

/** Electric closes a stream after a minute so that caches and request collapsing cycle. */
export const DEFAULT_SSE_TIMEOUT_MS = 60_000;
/** Electric's keep-alive interval: proxies commonly drop a connection that has been silent for 30 s or more. */
export const DEFAULT_SSE_KEEP_ALIVE_MS = 21_000;

const KEEP_ALIVE_COMMENT = ': keep-alive\n\n';

export interface SseStream {
  readonly service: ShapeService;
  readonly handle: string;
  /** Everything after this offset is sent. */
  readonly from: LogOffset;
  /** About how many bytes of log one read takes (the same bound as a long-poll response). */
  readonly chunkBytes: number;
  readonly timeoutMs: number;
  readonly keepAliveMs: number;
  /** After this long without data an up-to-date goes out, as a long poll answers on its timeout. */
  readonly idleUpToDateMs: number;
  /** Aborts when the client goes away. */
  readonly signal: AbortSignal;
}

/**
 * Headers of an event stream. `electric-offset` is the requested offset, not the end of what will be sent: the client
 * resumes from it when the stream breaks before the first up-to-date, so it must not run ahead of delivered data.
 */
export function sseHeaders(
  handle: string,
  offsetText: string,
  cursor: { longPollTimeoutMs: number; clientCursor: string | undefined },
  timeoutMs: number,
): Record<string, string> {
  return {
    'content-type': 'text/event-stream',
    connection: 'keep-alive',
    // Just under the stream's lifetime, as Electric: a CDN collapses requests for the same offset into one stream.
    'cache-control': `public, max-age=${Math.max(1, Math.floor(timeoutMs / 1000) - 1)}`,
    // Asks nginx-style proxies not to buffer: a buffered stream looks to the client like a connection that closes at once.
    'x-accel-buffering': 'no',
    'electric-handle': handle,
    'electric-offset': offsetText,
    'electric-cursor': computeCursor(cursor.longPollTimeoutMs, cursor.clientCursor),
    etag: computeEtag(handle, offsetText, offsetText, true),
  };
}

/** `data: <message>\n\n` per message, written in batches under backpressure. */
async function writeEvents(res: ServerResponse, messages: readonly string[]): Promise<boolean> {
  let buf = '';
  for (const m of messages) {
    buf += `data: ${m}\n\n`;
    if (buf.length >= WRITE_BATCH_BYTES) {
      const ok = await writeDrained(res, buf);
      buf = '';
      if (!ok) return false;
    }
  }
  return buf === '' || writeDrained(res, buf);
}

/**
 * The up-to-date that ends a batch. Its `global_last_seen_lsn` is the transaction of the last message sent: the client
 * resumes at `<that lsn>_0`, which the shape handler reads as "after all of that transaction", so nothing is sent
 * twice or skipped.
 */
function writeUpToDate(res: ServerResponse, last: LogOffset): Promise<boolean> {
  // At `0_inf` nothing was sent yet: without an lsn the client keeps its offset (`0_0` would re-read the snapshot).
  const message = last.tx >= 1n ? upToDateMessage(last.tx) : '{"headers":{"control":"up-to-date"}}';
  return writeDrained(res, `data: ${message}\n\n`);
}

/** Whether `pos` ends a transaction (the next message in the log, if any, belongs to a later one). */
async function atTransactionEnd(s: SseStream, pos: LogOffset): Promise<boolean> {
  const next = await s.service.read(s.handle, pos, 1);
  return next.messages.length === 0 || next.endOffset.tx !== pos.tx;
}

/**
 * Sends the log after `s.from` as events, an up-to-date whenever the stream has caught up with the log (always at a
 * transaction boundary) and after each `idleUpToDateMs` without data, new changes as they become durable, and
 * keep-alive comments while idle. Ends the response when the shape is invalidated (the client's next request gets
 * the 409) or when the stream's time is up; a stream still catching up at that time ends at the next transaction
 * boundary with an up-to-date, so the client's next request continues from there instead of starting over. Memory is
 * bounded by one read of `chunkBytes`.
 */
export async function pumpSse(res: ServerResponse, s: SseStream): Promise<void> {
  const { service, handle, signal } = s;
  const deadline = Date.now() + s.timeoutMs;
  let pos = s.from;
  /** Events sent since the last up-to-date. */
  let pending = false;
  let lastWrite = Date.now();
  let lastUpToDate = Date.now();
  for (;;) {
    if (signal.aborted || res.destroyed) return;
    const chunk = await service.read(handle, pos, s.chunkBytes);
    if (service.get(handle) === undefined) break;
    if (chunk.messages.length > 0) {
      if (!(await writeEvents(res, chunk.messages))) return;
      pos = chunk.endOffset;
      pending = true;
      lastWrite = Date.now();
    }
    const caughtUp = chunk.reachedEnd || compareOffsets(pos, service.lastOffset(handle)) >= 0;
    if (pending && caughtUp) {
      if (!(await writeUpToDate(res, pos))) return;
      pending = false;
      lastUpToDate = Date.now();
    }
    if (Date.now() >= deadline) {
      if (!pending) break;
      if (await atTransactionEnd(s, pos)) {
        if (!(await writeUpToDate(res, pos))) return;
        break;
      }
      continue;
    }
    if (!caughtUp) continue;
    const now = Date.now();
    const nextUpToDate = s.idleUpToDateMs - (now - lastUpToDate);
    const wait = Math.max(0, Math.min(deadline - now, s.keepAliveMs - (now - lastWrite), nextUpToDate));
    const w = await service.waitForData(handle, pos, wait, signal);
    if (w === 'aborted') return;
    if (w === 'invalidated') break;
    if (w !== 'timeout' || Date.now() >= deadline) continue;
    if (Date.now() - lastUpToDate >= s.idleUpToDateMs) {
      // Idle for a long-poll timeout: the client hears it is still up to date, as a long poll would tell it.
      if (!(await writeUpToDate(res, pos))) return;
      lastWrite = lastUpToDate = Date.now();
    } else if (Date.now() - lastWrite >= s.keepAliveMs) {
      if (!(await writeDrained(res, KEEP_ALIVE_COMMENT))) return;
      lastWrite = Date.now();
    }
  }
  if (!res.destroyed) res.end();
}
