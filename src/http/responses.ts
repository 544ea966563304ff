// Response headers (CORS, cache, ETag, cursor) and body writers for the shape protocol (§1.2, §2.3, §4, §6).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorDetail } from '../shapes/types.js';

/** The headers a browser must be allowed to read, else the client throws MissingHeadersError (§1.2). */
export const EXPOSED_HEADERS =
  'electric-cursor,electric-handle,electric-has-data,electric-offset,electric-schema,electric-up-to-date,electric-internal-known-error,retry-after,switchyard-error-details';

/** Per-parameter error code, position and caret of a 400 (JSON), beside Electric's body (§2.3). */
export const ERROR_DETAILS_HEADER = 'switchyard-error-details';

export const CACHE_INITIAL = 'public, max-age=604800, s-maxage=3600, stale-while-revalidate=2629746';
export const CACHE_LIVE = 'public, max-age=5, stale-while-revalidate=5';
export const CACHE_NO_STORE = 'no-store';

/** `cache-control` of non-live responses at offsets other than `-1` (configurable, §6.2). */
export function nonLiveCache(maxAge: number, staleWhileRevalidate: number): string {
  return `public, max-age=${maxAge}, stale-while-revalidate=${staleWhileRevalidate}`;
}

/** `cache-control` of a 409: short without a handle so a CDN does not pin a handle-less answer. */
export function mustRefetchCache(hasHandle: boolean): string {
  return `public, max-age=${hasHandle ? 60 : 1}, must-revalidate`;
}

export const MUST_REFETCH_BODY = '[{"headers":{"control":"must-refetch"}}]';

export function upToDateMessage(globalLastSeenLsn: bigint): string {
  return `{"headers":{"control":"up-to-date","global_last_seen_lsn":"${globalLastSeenLsn.toString()}"}}`;
}

/** CORS headers for every response (§1.2). */
export function corsHeaders(req: IncomingMessage, shapePath: boolean): Record<string, string> {
  const origin = req.headers.origin;
  return {
    'access-control-allow-origin': typeof origin === 'string' && origin !== '' ? origin : '*',
    'access-control-allow-methods': shapePath ? 'GET, POST, HEAD, DELETE, OPTIONS' : 'GET, HEAD',
    'access-control-expose-headers': EXPOSED_HEADERS,
  };
}

/** Extra headers of an OPTIONS preflight: requested headers are echoed so `Authorization`, `if-none-match` work. */
export function preflightHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = { 'access-control-max-age': '86400', connection: 'keep-alive' };
  const requested = req.headers['access-control-request-headers'];
  if (typeof requested === 'string' && requested.trim() !== '') out['access-control-allow-headers'] = requested;
  return out;
}

/** 2024-10-09T00:00:00Z, the cursor epoch of the reference server (§6.3). */
const CURSOR_EPOCH_MS = Date.UTC(2024, 9, 9);

/**
 * The `electric-cursor` of a live response: seconds since the epoch rounded up to a multiple of the long-poll
 * timeout, bumped past the client's cursor when it would not change, so CDN request collapsing never serves the
 * previous poll's answer to the next one.
 */
export function computeCursor(
  longPollTimeoutMs: number,
  clientCursor: string | undefined,
  nowMs = Date.now(),
  random = Math.random,
): string {
  const timeoutS = Math.floor(longPollTimeoutMs / 1000);
  let cursor = 0;
  if (timeoutS >= 1) {
    const elapsed = (nowMs - CURSOR_EPOCH_MS) / 1000;
    cursor = Math.ceil(elapsed / timeoutS) * timeoutS;
  }
  const prev = clientCursor !== undefined && /^[0-9]{1,15}$/.test(clientCursor) ? Number(clientCursor) : undefined;
  if (prev !== undefined && cursor <= prev) cursor = prev + 1 + Math.floor(random() * 3600);
  return String(cursor);
}

let lastMonotonic = 0n;

/** A strictly increasing token: live replies without changes must never revalidate against each other. */
function monotonicToken(): string {
  let t = process.hrtime.bigint();
  if (t <= lastMonotonic) t = lastMonotonic + 1n;
  lastMonotonic = t;
  return t.toString();
}

/** `"<handle>:<requested offset>:<response offset>"`, with a unique suffix when the response carries no changes. */
export function computeEtag(handle: string, requestedOffset: string, responseOffset: string, unique: boolean): string {
  return unique
    ? `"${handle}:${requestedOffset}:${responseOffset}:${monotonicToken()}"`
    : `"${handle}:${requestedOffset}:${responseOffset}"`;
}

/** Whether `If-None-Match` (any comma-separated entry, quotes and weak prefix stripped) names this ETag. */
export function etagMatches(ifNoneMatch: string | string[] | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  const want = stripQuotes(etag);
  const text = Array.isArray(ifNoneMatch) ? ifNoneMatch.join(',') : ifNoneMatch;
  for (const part of text.split(',')) {
    if (stripQuotes(part.trim().replace(/^W\//, '')) === want) return true;
  }
  return false;
}

function stripQuotes(s: string): string {
  return s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s;
}

/** Writes a complete JSON response (small bodies only: errors, health). */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
  head = false,
): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
  });
  res.end(head ? undefined : text);
}

/** An error reply (§2.3): never cached, neither by browsers nor by CDNs. */
export function sendError(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
  head = false,
): void {
  sendJson(
    res,
    status,
    body,
    { ...headers, 'cache-control': CACHE_NO_STORE, 'surrogate-control': CACHE_NO_STORE },
    head,
  );
}

export function sendValidationError(
  res: ServerResponse,
  errors: Readonly<Record<string, readonly string[]>>,
  head = false,
  details?: Readonly<Record<string, ErrorDetail>>,
): void {
  // The body is exactly Electric's shape (the official client's tests compare it strictly), so our error codes,
  // positions and carets travel in a header: JSON with every non-ASCII character escaped, as header values must be.
  const extra: Record<string, string> = details === undefined ? {} : { [ERROR_DETAILS_HEADER]: asciiJson(details) };
  sendError(res, 400, { message: 'Invalid request', errors }, extra, head);
}

/** JSON text with characters outside printable ASCII written as `\uXXXX` escapes (still valid JSON). */
export function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Writes `text`, waiting for `drain` under backpressure; false when the connection has gone away. */
export async function writeDrained(res: ServerResponse, text: string): Promise<boolean> {
  if (res.destroyed) return false;
  if (!res.write(text)) {
    await new Promise<void>((resolve) => {
      const done = (): void => {
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
    });
  }
  return !res.destroyed;
}

/** About 64 KiB per socket write: few syscalls without one giant string per response. */
export const WRITE_BATCH_BYTES = 64 * 1024;

/**
 * Streams `[m1,m2,…,extra]` with chunked transfer encoding, waiting for `drain` under backpressure. Resolves false
 * when the connection went away mid-body.
 */
export async function streamJsonArray(
  res: ServerResponse,
  messages: readonly string[],
  trailing: string | undefined,
): Promise<boolean> {
  let buf = '[';
  let first = true;
  const flush = async (): Promise<boolean> => {
    const text = buf;
    buf = '';
    return writeDrained(res, text);
  };
  for (const m of messages) {
    if (!first) buf += ',';
    first = false;
    buf += m;
    if (buf.length >= WRITE_BATCH_BYTES && !(await flush())) return false;
  }
  if (trailing !== undefined) {
    if (!first) buf += ',';
    buf += trailing;
  }
  buf += ']';
  if (res.destroyed) return false;
  res.end(buf);
  return true;
}
