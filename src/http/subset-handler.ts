// Subset snapshots over HTTP (§9): GET with `subset__*` parameters, POST with a JSON body; one snapshot per request.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { compareOffsets, formatOffset, type LogOffset } from '../log/offset.js';
import { ShapeRequestError, type SubsetMetadata, type SubsetSink } from '../shapes/types.js';
import { parseBool, parseShapeGet, type FieldErrors } from './params.js';
import { sendError, sendValidationError, writeDrained } from './responses.js';
import {
  handleShapeGet,
  schemaHeader,
  sendMustRefetch,
  sendUnavailable,
  type ShapeHandlerConfig,
} from './shape-handler.js';
import { hasSubsetParams, parseSubset, subsetFromBody, subsetFromQuery, type RawSubset } from './subset-params.js';

/** A POST body larger than this is refused with 413 (clauses are limited to 64 KiB; params can add to that). */
export const MAX_SUBSET_BODY_BYTES = 1024 * 1024;

class ClientGone extends Error {}

/**
 * Streams `{"metadata":…,"data":[…]}`. Headers go out with the metadata, after the query has produced its first
 * batch (or finished empty), so a clause that fails on the data is still a 400.
 */
function responseSink(
  res: ServerResponse,
  headers: Record<string, string>,
): SubsetSink & { readonly started: () => boolean } {
  let started = false;
  let first = true;
  return {
    started: () => started,
    async start(meta: SubsetMetadata): Promise<void> {
      started = true;
      res.writeHead(200, headers);
      if (!(await writeDrained(res, `{"metadata":${JSON.stringify(meta)},"data":[`))) throw new ClientGone();
    },
    async rows(messages: readonly string[]): Promise<void> {
      if (messages.length === 0) return;
      const text = (first ? '' : ',') + messages.join(',');
      first = false;
      if (!(await writeDrained(res, text))) throw new ClientGone();
    },
  };
}

/**
 * Answers a subset request: validates the shape parameters and the subset, resolves the shape (creating it for
 * offset -1/now, 409 when the handle is stale), then runs the subset under a fresh snapshot.
 *
 * `electric-offset` tells `requestSnapshot` where the stream continues. For a client with a position it is that same
 * position: the log after it holds every change the subset does not include, and changes it does include are dropped
 * by the client's snapshot tracker (their xids are visible to the snapshot). For a fresh client it is the log end read
 * before the snapshot was taken, for the same reason.
 */
async function handleSubset(
  cfg: ShapeHandlerConfig,
  res: ServerResponse,
  query: URLSearchParams,
  raw: RawSubset,
  errors: FieldErrors,
): Promise<void> {
  const parsed = parseShapeGet(query);
  const subset = parseSubset(raw, errors);
  if (!parsed.ok) Object.assign(errors, parsed.errors);
  if (parseBool(query.has('live_sse') ? query.get('live_sse') : query.get('experimental_live_sse'))) {
    (errors['live_sse'] ??= []).push('subset snapshots are a stable view of the data: live_sse is not applicable');
  }
  if (Object.keys(errors).length > 0 || !parsed.ok) return sendValidationError(res, errors);
  const { service } = cfg;
  if (service.querySubset === undefined) {
    return sendValidationError(res, { subset: ['subset snapshots are not supported by this service'] });
  }
  const req = parsed.request;
  const def = req.definition!;
  try {
    let handle: string;
    let offset: LogOffset;
    if (req.offset === 'now' || req.offset!.tx < 0n) {
      handle = (await service.getOrCreate(def)).handle;
      offset = service.lastOffset(handle);
    } else {
      handle = req.handle!;
      if (service.get(handle) === undefined || service.find(def)?.handle !== handle) {
        return await sendMustRefetch(cfg, res, def, false);
      }
      offset = req.offset!;
      if (compareOffsets(offset, service.lastOffset(handle)) > 0) {
        return sendValidationError(res, { offset: ['out of bounds for this shape'] });
      }
    }
    const info = service.get(handle);
    if (info === undefined) return await sendMustRefetch(cfg, res, def, false);
    const sink = responseSink(res, {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-cache',
      'electric-snapshot': 'true',
      'electric-handle': handle,
      'electric-offset': formatOffset(offset),
      'electric-schema': schemaHeader(info),
    });
    const result = await service.querySubset(handle, subset, sink);
    if (result === 'gone') return await sendMustRefetch(cfg, res, def, false);
    res.end(']}');
  } catch (err) {
    if (err instanceof ClientGone || res.headersSent) {
      res.destroy();
      if (err instanceof ClientGone) return;
      throw err;
    }
    if (err instanceof ShapeRequestError) return sendValidationError(res, err.errors, false, err.details);
    if (sendUnavailable(cfg, res, err)) return;
    throw err;
  }
}

/** GET `/v1/shape` with `subset__*` parameters. */
export function handleSubsetGet(cfg: ShapeHandlerConfig, res: ServerResponse, query: URLSearchParams): Promise<void> {
  const errors: FieldErrors = {};
  const raw = subsetFromQuery(query, errors);
  return handleSubset(cfg, res, query, raw, errors);
}

/** Reads the request body up to `limit` bytes; undefined when it is larger. */
async function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * POST `/v1/shape`: the shape parameters in the query (or the body), the subset in a JSON body — top-level keys or a
 * nested `subset` object. A body without subset keys makes it an ordinary shape request.
 */
export async function handleShapePost(
  cfg: ShapeHandlerConfig,
  httpReq: IncomingMessage,
  res: ServerResponse,
  query: URLSearchParams,
): Promise<void> {
  const text = await readBody(httpReq, MAX_SUBSET_BODY_BYTES);
  if (text === undefined) {
    res.setHeader('connection', 'close');
    return sendError(res, 413, {
      message: 'Request body too large',
      errors: { body: [`the body exceeds ${MAX_SUBSET_BODY_BYTES} bytes`] },
    });
  }
  let body: unknown = {};
  if (text.trim() !== '') {
    try {
      body = JSON.parse(text) as unknown;
    } catch (err) {
      return sendValidationError(res, { body: [`invalid JSON: ${(err as Error).message}`] });
    }
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return sendValidationError(res, { body: ['the request body must be a JSON object'] });
  }
  const errors: FieldErrors = {};
  const fromBody = subsetFromBody(body as Record<string, unknown>, errors);
  const merged = new URLSearchParams(query);
  for (const [k, v] of Object.entries(fromBody.others)) merged.set(k, v);
  if (Object.keys(fromBody.subset).length === 0 && !hasSubsetParams(merged) && Object.keys(errors).length === 0) {
    return handleShapeGet(cfg, httpReq, res, merged, false);
  }
  const raw = { ...subsetFromQuery(merged, errors), ...fromBody.subset };
  return handleSubset(cfg, res, merged, raw, errors);
}
