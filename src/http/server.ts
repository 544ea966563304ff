// The HTTP server: routing, CORS on every response, the optional secret, metrics, health, and a crash-proof wrapper.
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Registry } from 'prom-client';
import type { ShapeService } from '../shapes/types.js';
import { makeHttpMetrics, routeOf, type HttpMetrics } from './http-metrics.js';
import { silentLogger, type Logger } from './logger.js';
import { corsHeaders, preflightHeaders, sendError, sendJson } from './responses.js';
import { defaultNonLiveCache, handleShapeDelete, handleShapeGet, type ShapeHandlerConfig } from './shape-handler.js';
import { DEFAULT_SSE_KEEP_ALIVE_MS, DEFAULT_SSE_TIMEOUT_MS } from './sse.js';
import { handleShapePost, handleSubsetGet } from './subset-handler.js';
import { hasSubsetParams } from './subset-params.js';
import { packageVersion } from './version.js';

export const DEFAULT_LONG_POLL_TIMEOUT_MS = 20_000;
export const DEFAULT_CHUNK_BYTES = 10 * 1024 * 1024;

export interface HttpServerOptions {
  readonly service: ShapeService;
  /** Default 20 s; must stay below the client's 45 s abort. */
  readonly longPollTimeoutMs?: number;
  /** About how many bytes of log one response carries (default 10 MiB). */
  readonly chunkBytes?: number;
  /** How long an SSE stream stays open before the server ends it (default 60 s), so caches and proxies cycle. */
  readonly sseTimeoutMs?: number;
  /** A `: keep-alive` comment after this long without output on an SSE stream (default 21 s). */
  readonly sseKeepAliveMs?: number;
  /** When set, `/v1/shape` requires it as `secret`/`api_secret` or `Authorization: Bearer` (§1.1). */
  readonly secret?: string;
  /** Enables `DELETE /v1/shape` (default off: 405). */
  readonly enableDelete?: boolean;
  /** `cache-control` of non-live responses at offsets other than -1 (default `public, max-age=60, stale-while-revalidate=300`). */
  readonly nonLiveCacheControl?: string;
  /** Served on `GET /metrics`; HTTP metrics are registered on it. */
  readonly registry?: Registry;
  readonly log?: Logger;
  /** Reported in `electric-server` (default: the version in package.json). */
  readonly version?: string;
}

export interface SwitchyardHttp {
  readonly server: Server;
  /** The request listener (also usable with another server). */
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
  /** Stops accepting connections, waits up to `graceMs` for in-flight responses, then cuts the rest (long polls). */
  close(graceMs?: number): Promise<void>;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Constant-time check of the secret from the query (`secret`, legacy `api_secret`) or `Authorization: Bearer`. */
export function isAuthorized(
  secret: string | undefined,
  query: URLSearchParams,
  authorization: string | undefined,
): boolean {
  if (secret === undefined || secret === '') return true;
  const want = digest(secret);
  const candidates: string[] = [];
  const q = query.get('secret') ?? query.get('api_secret');
  if (q !== null) candidates.push(q);
  const m = authorization === undefined ? null : /^Bearer\s+(.+)$/i.exec(authorization.trim());
  if (m !== null) candidates.push(m[1]!);
  return candidates.some((c) => timingSafeEqual(digest(c), want));
}

function handlerConfig(opts: HttpServerOptions, log: Logger, metrics: HttpMetrics | undefined): ShapeHandlerConfig {
  return {
    service: opts.service,
    longPollTimeoutMs: opts.longPollTimeoutMs ?? DEFAULT_LONG_POLL_TIMEOUT_MS,
    sseTimeoutMs: opts.sseTimeoutMs ?? DEFAULT_SSE_TIMEOUT_MS,
    sseKeepAliveMs: opts.sseKeepAliveMs ?? DEFAULT_SSE_KEEP_ALIVE_MS,
    chunkBytes: opts.chunkBytes ?? DEFAULT_CHUNK_BYTES,
    enableDelete: opts.enableDelete ?? false,
    nonLiveCacheControl: opts.nonLiveCacheControl ?? defaultNonLiveCache(),
    log,
    ...(metrics === undefined ? {} : { onLongPoll: (d: 1 | -1) => metrics.longPolls.inc(d) }),
  };
}

/** `/v1/shape`: the secret, then GET/HEAD/POST (503 while the service starts; subset snapshots) and DELETE. */
function routeShape(
  opts: HttpServerOptions,
  cfg: ShapeHandlerConfig,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> | void {
  const method = req.method ?? 'GET';
  const head = method === 'HEAD';
  const auth = req.headers.authorization;
  if (!isAuthorized(opts.secret, url.searchParams, typeof auth === 'string' ? auth : undefined)) {
    return sendError(res, 401, { message: 'Unauthorized - Invalid API secret' }, {}, head);
  }
  if (method === 'GET' || head || method === 'POST') {
    if (opts.service.status() === 'starting') {
      return sendError(res, 503, { message: 'Stack not ready' }, { 'retry-after': '5' }, head);
    }
    if (method === 'POST') return handleShapePost(cfg, req, res, url.searchParams);
    if (hasSubsetParams(url.searchParams)) return handleSubsetGet(cfg, res, url.searchParams);
    return handleShapeGet(cfg, req, res, url.searchParams, head);
  }
  if (method === 'DELETE') return handleShapeDelete(cfg, res, url.searchParams);
  return sendError(res, 405, { message: `${method} not allowed` });
}

/** Health, liveness, metrics and 404 for everything else. */
async function routeOther(opts: HttpServerOptions, res: ServerResponse, path: string, method: string): Promise<void> {
  const head = method === 'HEAD';
  if (method !== 'GET' && !head) return sendText(res, 404, 'Not found', head);
  if (path === '/v1/health') {
    const status = opts.service.status();
    const headers = { 'cache-control': 'no-cache, no-store, must-revalidate' };
    return sendJson(res, status === 'active' ? 200 : 202, { status }, headers, head);
  }
  if (path === '/') {
    res.writeHead(200, { 'content-length': '0' });
    res.end();
    return;
  }
  if (path === '/metrics' && opts.registry !== undefined) {
    const text = await opts.registry.metrics();
    res.writeHead(200, { 'content-type': opts.registry.contentType, 'cache-control': 'no-store' });
    res.end(head ? undefined : text);
    return;
  }
  return sendText(res, 404, 'Not found', head);
}

/** CORS and `electric-server` on every response, OPTIONS preflights, then the route. */
function makeRouter(opts: HttpServerOptions, cfg: ShapeHandlerConfig) {
  const serverHeader = `Switchyard/${opts.version ?? packageVersion()}`;
  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const method = req.method ?? 'GET';
    const isShape = url.pathname === '/v1/shape';
    for (const [k, v] of Object.entries(corsHeaders(req, isShape))) res.setHeader(k, v);
    res.setHeader('electric-server', serverHeader);
    if (method === 'OPTIONS') {
      res.writeHead(204, preflightHeaders(req));
      res.end();
      return;
    }
    if (isShape) return routeShape(opts, cfg, req, res, url);
    return routeOther(opts, res, url.pathname, method);
  };
}

/**
 * The request listener: parses the URL, counts the request, and runs the route inside a guard so that a client's
 * input never takes the process down (a failure is a 500 JSON reply, or a cut connection once the body started).
 */
function guardedHandler(
  route: (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>,
  log: Logger,
  metrics: HttpMetrics | undefined,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const started = performance.now();
    let routeName = 'other';
    res.on('finish', () => {
      if (metrics === undefined) return;
      metrics.requests.inc({ route: routeName, status: String(res.statusCode) });
      metrics.duration.observe({ route: routeName }, (performance.now() - started) / 1000);
    });
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      sendText(res, 400, 'Bad request', false);
      return;
    }
    routeName = routeOf(url.pathname);
    route(req, res, url).then(
      () => {
        if (res.statusCode >= 500)
          log.log('warn', 'http_request', { method: req.method, path: url.pathname, status: res.statusCode });
      },
      (err: unknown) => {
        log.log('error', 'http_handler_failed', { method: req.method, url: req.url, error: err });
        if (res.headersSent) return void res.destroy();
        const headers = { 'cache-control': 'no-store', 'surrogate-control': 'no-store' };
        sendJson(res, 500, { error: 'Internal server error' }, headers);
      },
    );
  };
}

/**
 * A request head beyond the limit never reaches the handler; Node would answer a bare 431. The only parameter that
 * gets that long is a where clause, so say so, with the CORS headers a browser needs to read it.
 */
function onClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code !== 'HPE_HEADER_OVERFLOW' || !socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify({
    message: 'Invalid request',
    errors: { where: [`the request is too large (over 256 KiB); where clauses are limited to 65536 bytes`] },
  });
  socket.end(
    `HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncache-control: no-store\r\naccess-control-allow-origin: *\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

function nodeServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Server {
  // Where clauses travel in the URL: allow well past the 64 KiB clause limit so oversized ones get a 400 naming
  // `where` rather than Node's bare 431.
  const server = createServer({ maxHeaderSize: 256 * 1024 }, handler);
  server.on('clientError', onClientError);
  // Long polls are held up to the timeout; keep-alive sockets beyond that serve the next poll.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 0;
  return server;
}

/** Stops accepting connections, waits up to `graceMs` for in-flight responses, then cuts the rest. */
function closeServer(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/** Builds the request handler and a `node:http` server around it (not yet listening). */
export function createSwitchyardHttp(opts: HttpServerOptions): SwitchyardHttp {
  const log = opts.log ?? silentLogger;
  const metrics = opts.registry === undefined ? undefined : makeHttpMetrics(opts.registry);
  const cfg = handlerConfig(opts, log, metrics);
  const handler = guardedHandler(makeRouter(opts, cfg), log, metrics);
  const server = nodeServer(handler);
  return { server, handler, close: (graceMs = 1000) => closeServer(server, graceMs) };
}

function sendText(res: ServerResponse, status: number, text: string, head: boolean): void {
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
  });
  res.end(head ? undefined : text);
}
