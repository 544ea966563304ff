// GET/HEAD and DELETE `/v1/shape`: snapshot, catch-up, live long-poll, must-refetch and invalidation (protocol §4–§6, §10.1).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BEFORE_ALL, SNAPSHOT_END, compareOffsets, formatOffset, type LogOffset } from '../log/offset.js';
import {
  ShapeCreationError,
  ShapeRequestError,
  type LogChunk,
  type ShapeDefinition,
  type ShapeInfo,
  type ShapeService,
} from '../shapes/types.js';
import type { Logger } from './logger.js';
import { parseShapeDelete, parseShapeGet, type ShapeRequest } from './params.js';
import { pumpSse, sseHeaders } from './sse.js';
import {
  CACHE_INITIAL,
  CACHE_LIVE,
  MUST_REFETCH_BODY,
  computeCursor,
  computeEtag,
  etagMatches,
  mustRefetchCache,
  nonLiveCache,
  sendError,
  sendJson,
  sendValidationError,
  streamJsonArray,
  upToDateMessage,
} from './responses.js';

export interface ShapeHandlerConfig {
  readonly service: ShapeService;
  /** How long a live request is held without data (ms); must stay below the client's 45 s abort. */
  readonly longPollTimeoutMs: number;
  /** How long an SSE stream stays open before the server ends it (ms). */
  readonly sseTimeoutMs: number;
  /** A keep-alive comment after this long without output on an SSE stream (ms). */
  readonly sseKeepAliveMs: number;
  /** About how many bytes of log one response carries. */
  readonly chunkBytes: number;
  readonly enableDelete: boolean;
  /** `cache-control` of non-live responses at offsets other than -1. */
  readonly nonLiveCacheControl: string;
  readonly log: Logger;
  /** Counts held long polls and open SSE streams (metrics). */
  readonly onLongPoll?: (delta: 1 | -1) => void;
}

export function defaultNonLiveCache(): string {
  return nonLiveCache(60, 300);
}

const schemaText = new WeakMap<ShapeInfo, string>();

/** The `electric-schema` header, serialised once per shape. */
export function schemaHeader(info: ShapeInfo): string {
  let s = schemaText.get(info);
  if (s === undefined) {
    s = JSON.stringify(info.schema);
    schemaText.set(info, s);
  }
  return s;
}

/** Aborts when the client goes away before the response is complete, so long-poll waiters are freed at once. */
function disconnectSignal(res: ServerResponse): { signal: AbortSignal; dispose: () => void } {
  const ac = new AbortController();
  const onClose = (): void => {
    if (!res.writableEnded) ac.abort();
  };
  res.on('close', onClose);
  return { signal: ac.signal, dispose: () => res.off('close', onClose) };
}

/** 409 with the definition's current handle (created if needed), §6.1. */
export async function sendMustRefetch(
  cfg: ShapeHandlerConfig,
  res: ServerResponse,
  def: ShapeDefinition,
  head: boolean,
): Promise<void> {
  const info = await cfg.service.getOrCreate(def);
  sendJson(
    res,
    409,
    MUST_REFETCH_BODY,
    { 'electric-handle': info.handle, 'cache-control': mustRefetchCache(true) },
    head,
  );
}

interface Reply {
  readonly info: ShapeInfo;
  readonly req: ShapeRequest;
  readonly messages: readonly string[];
  readonly endOffset: LogOffset;
  readonly upToDate: boolean;
  readonly hasData: boolean;
  readonly cacheControl: string;
}

async function sendLog(
  cfg: ShapeHandlerConfig,
  httpReq: IncomingMessage,
  res: ServerResponse,
  r: Reply,
  head: boolean,
): Promise<void> {
  const offsetText = formatOffset(r.endOffset);
  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': r.cacheControl,
    'electric-handle': r.info.handle,
    'electric-offset': offsetText,
    'electric-has-data': r.hasData ? 'true' : 'false',
  };
  if (r.req.live) headers['electric-cursor'] = computeCursor(cfg.longPollTimeoutMs, r.req.cursor);
  else headers['electric-schema'] = schemaHeader(r.info);
  if (r.upToDate) headers['electric-up-to-date'] = '';
  // A live reply without changes gets a unique ETag: a CDN must not revalidate one empty live reply against the next.
  const etag = computeEtag(r.info.handle, r.req.offsetText, offsetText, r.req.live && r.messages.length === 0);
  headers['etag'] = etag;
  if (etagMatches(httpReq.headers['if-none-match'], etag)) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  res.writeHead(200, headers);
  if (head) {
    res.end();
    return;
  }
  await streamJsonArray(res, r.messages, r.upToDate ? upToDateMessage(cfg.service.lastSeenLsn()) : undefined);
}

/**
 * Reads the next chunk after `after`. A read that returns nothing although the log is not at its end (a snapshot
 * still being taken) is retried as data arrives, so a non-live reply always advances or is up to date (§4.5.4).
 */
async function readAdvancing(
  cfg: ShapeHandlerConfig,
  handle: string,
  after: LogOffset,
  signal: AbortSignal,
): Promise<LogChunk | 'invalidated' | 'aborted'> {
  const deadline = Date.now() + cfg.longPollTimeoutMs;
  for (;;) {
    const chunk = await cfg.service.read(handle, after, cfg.chunkBytes);
    const advanced = compareOffsets(chunk.endOffset, after) > 0;
    if (chunk.messages.length > 0 || chunk.reachedEnd || advanced) return chunk;
    const left = deadline - Date.now();
    if (left <= 0) return chunk;
    const w = await cfg.service.waitForData(handle, after, left, signal);
    if (w === 'invalidated' || w === 'aborted') return w;
  }
}

/** Waits up to half the long-poll timeout for the log to reach `offset` (§4.5.7); false when it does not. */
async function waitForOffset(
  cfg: ShapeHandlerConfig,
  handle: string,
  offset: LogOffset,
  signal: AbortSignal,
): Promise<boolean | 'invalidated' | 'aborted'> {
  const deadline = Date.now() + cfg.longPollTimeoutMs / 2;
  for (;;) {
    const last = cfg.service.lastOffset(handle);
    if (compareOffsets(offset, last) <= 0) return true;
    const left = deadline - Date.now();
    if (left <= 0) return false;
    const w = await cfg.service.waitForData(handle, last, left, signal);
    if (w === 'invalidated' || w === 'aborted') return w;
  }
}

/**
 * A shape that cannot be created or read now (database unreachable, snapshot failed, an admission limit): answers
 * 503/429 with `retry-after`, which the client retries as it does Electric's "Stack not ready". False for other errors.
 */
export function sendUnavailable(cfg: ShapeHandlerConfig, res: ServerResponse, err: unknown, head = false): boolean {
  if (!(err instanceof ShapeCreationError)) return false;
  cfg.log.log('warn', 'shape_unavailable', { error: err });
  sendError(
    res,
    err.httpStatus,
    { message: `Shape unavailable: ${err.message}`, code: err.code },
    { 'retry-after': String(err.retryAfterSeconds) },
    head,
  );
  return true;
}

/**
 * Where reading resumes for a requested offset. `<lsn>_0` means "after all of transaction lsn": an SSE client resumes
 * there after receiving the whole transaction (it builds the offset from the up-to-date's `global_last_seen_lsn`, §7),
 * and no response ever ends right after op 0 of a transaction that continues (ShapeService.read), so a client that
 * got `<lsn>_0` as `electric-offset` has all of lsn too. Reading from `<lsn>_inf` sends nothing twice.
 */
export function resumeAfter(offset: LogOffset): LogOffset {
  return offset.tx >= 1n && offset.op === 0 ? { tx: offset.tx, op: Infinity } : offset;
}

/** An SSE stream (§7): headers now, then the log as events until the stream's time is up. */
async function serveSse(
  cfg: ShapeHandlerConfig,
  res: ServerResponse,
  req: ShapeRequest,
  handle: string,
  from: LogOffset,
  signal: AbortSignal,
  head: boolean,
): Promise<void> {
  const cursor = { longPollTimeoutMs: cfg.longPollTimeoutMs, clientCursor: req.cursor };
  res.writeHead(200, sseHeaders(handle, req.offsetText, cursor, cfg.sseTimeoutMs));
  if (head) {
    res.end();
    return;
  }
  // The client treats the stream as open (and times its connection) from the headers on.
  res.flushHeaders();
  cfg.onLongPoll?.(1);
  try {
    await pumpSse(res, {
      service: cfg.service,
      handle,
      from,
      chunkBytes: cfg.chunkBytes,
      timeoutMs: cfg.sseTimeoutMs,
      keepAliveMs: cfg.sseKeepAliveMs,
      signal,
    });
  } finally {
    cfg.onLongPoll?.(-1);
  }
}

/** GET/HEAD `/v1/shape`. Throws only on service failures (answered 500 by the server). */
export async function handleShapeGet(
  cfg: ShapeHandlerConfig,
  httpReq: IncomingMessage,
  res: ServerResponse,
  query: URLSearchParams,
  head: boolean,
): Promise<void> {
  const parsed = parseShapeGet(query);
  if (!parsed.ok) return sendValidationError(res, parsed.errors, head);
  const req = parsed.request;
  const def = req.definition!;
  const { service } = cfg;
  const conn = disconnectSignal(res);
  try {
    if (req.offset === 'now' || (req.offset !== undefined && req.offset.tx < 0n)) {
      const info = await service.getOrCreate(def);
      if (req.offset === 'now') {
        const end = service.lastOffset(info.handle);
        return await sendLog(
          cfg,
          httpReq,
          res,
          {
            info,
            req,
            messages: [],
            endOffset: end,
            upToDate: true,
            hasData: false,
            cacheControl: cfg.nonLiveCacheControl,
          },
          head,
        );
      }
      const chunk = await readAdvancing(cfg, info.handle, BEFORE_ALL, conn.signal);
      if (chunk === 'aborted') return;
      if (chunk === 'invalidated') return await sendMustRefetch(cfg, res, def, head);
      // The first response is cached for a week, so it never claims up-to-date (§4.5.1).
      return await sendLog(
        cfg,
        httpReq,
        res,
        {
          info,
          req,
          messages: chunk.messages,
          endOffset: chunk.endOffset,
          upToDate: false,
          hasData: true,
          cacheControl: CACHE_INITIAL,
        },
        head,
      );
    }
    const offset = req.offset!;
    const handle = req.handle!;
    const info = service.get(handle);
    // A handle that is gone, or that belongs to another definition, is repaired by the refetch flow (§6.1).
    if (info === undefined || service.find(def)?.handle !== handle) return await sendMustRefetch(cfg, res, def, head);
    const reach = await waitForOffset(cfg, handle, offset, conn.signal);
    if (reach === 'aborted') return;
    if (reach === 'invalidated') return await sendMustRefetch(cfg, res, def, head);
    if (!reach) return sendValidationError(res, { offset: ['out of bounds for this shape'] }, head);
    const from = resumeAfter(offset);
    if (req.sse) {
      if (compareOffsets(offset, SNAPSHOT_END) < 0) {
        const msg = 'live_sse streams changes: the offset must be at or after the end of the initial snapshot (0_inf)';
        return sendValidationError(res, { offset: [msg] }, head);
      }
      return await serveSse(cfg, res, req, handle, from, conn.signal, head);
    }

    let chunk = await readAdvancing(cfg, handle, from, conn.signal);
    if (chunk === 'aborted') return;
    if (chunk === 'invalidated') return await sendMustRefetch(cfg, res, def, head);
    if (req.live && chunk.messages.length === 0) {
      cfg.onLongPoll?.(1);
      let w;
      try {
        w = await service.waitForData(handle, from, cfg.longPollTimeoutMs, conn.signal);
      } finally {
        cfg.onLongPoll?.(-1);
      }
      if (w === 'aborted') return;
      if (w === 'invalidated') return await sendMustRefetch(cfg, res, def, head);
      if (w === 'timeout') {
        return await sendLog(
          cfg,
          httpReq,
          res,
          { info, req, messages: [], endOffset: offset, upToDate: true, hasData: false, cacheControl: CACHE_LIVE },
          head,
        );
      }
      chunk = await service.read(handle, from, cfg.chunkBytes);
    }
    if (service.get(handle) === undefined) return await sendMustRefetch(cfg, res, def, head);
    // Without new messages the reply stays at the requested offset (never at the `<lsn>_inf` read position).
    const endOffset = compareOffsets(chunk.endOffset, from) > 0 ? chunk.endOffset : offset;
    const upToDate = chunk.reachedEnd || compareOffsets(endOffset, service.lastOffset(handle)) >= 0;
    const reply: Reply = {
      info,
      req,
      messages: chunk.messages,
      endOffset,
      upToDate,
      hasData: true,
      cacheControl: req.live ? CACHE_LIVE : cfg.nonLiveCacheControl,
    };
    await sendLog(cfg, httpReq, res, reply, head);
  } catch (err) {
    if (err instanceof ShapeRequestError) return sendValidationError(res, err.errors, head, err.details);
    if (!res.headersSent && sendUnavailable(cfg, res, err, head)) return;
    throw err;
  } finally {
    conn.dispose();
  }
}

/** DELETE `/v1/shape` (§10.1): invalidates by definition, by handle, or both when they agree. */
export async function handleShapeDelete(
  cfg: ShapeHandlerConfig,
  res: ServerResponse,
  query: URLSearchParams,
): Promise<void> {
  if (!cfg.enableDelete) return sendError(res, 405, { message: 'DELETE not allowed' });
  const parsed = parseShapeDelete(query);
  if (!parsed.ok) return sendValidationError(res, parsed.errors);
  const { definition, handle } = parsed.request;
  const { service } = cfg;
  let target: string | undefined;
  if (definition !== undefined) {
    target = service.find(definition)?.handle;
    if (handle !== undefined && target !== handle) {
      if (service.get(handle) !== undefined) {
        return sendValidationError(res, { handle: ['the handle does not match the shape definition'] });
      }
      target = undefined;
    }
  } else if (handle !== undefined && service.get(handle) !== undefined) {
    target = handle;
  }
  if (target === undefined || !service.invalidate(target)) {
    return sendError(res, 404, { message: 'No existing shape found' });
  }
  cfg.log.log('info', 'shape_deleted', { handle: target });
  res.writeHead(202, { 'cache-control': 'no-cache' });
  res.end();
}
