// Follows a shape with the real @electric-sql/client and checks what it receives: no duplicate, lost or reordered change.
import { ShapeStream, isChangeMessage, isControlMessage, type Message, type Row } from '@electric-sql/client';

export interface TrackedShape {
  readonly name: string;
  /** Rows as the client holds them, by message key. */
  readonly rows: Map<string, Row>;
  /** Protocol violations seen so far (an insert of a present key, an update of a missing one, an offset going back…). */
  readonly violations: string[];
  /** Handles seen, in order (a crash must not change them). */
  readonly handles: string[];
  readonly stats: { responses: number; changes: number; refetches: number; upToDates: number; errors: number };
  stop(): void;
}

/** `<lsn>_<op>` (or -1) as a comparable pair. */
function offsetKey(text: string): [bigint, bigint] {
  if (text === '-1') return [-1n, 0n];
  const m = /^(\d+)_(\d+|inf)$/.exec(text);
  if (m === null) throw new Error(`bad offset ${text}`);
  return [BigInt(m[1]!), m[2] === 'inf' ? 1n << 40n : BigInt(m[2]!)];
}

function cmp(a: [bigint, bigint], b: [bigint, bigint]): number {
  return a[0] !== b[0] ? (a[0] < b[0] ? -1 : 1) : a[1] === b[1] ? 0 : a[1] < b[1] ? -1 : 1;
}

export interface TrackOptions {
  readonly url: string;
  readonly params: Record<string, unknown>;
  readonly name?: string;
}

/**
 * Subscribes a ShapeStream (fast retry backoff so a restarted server is found again quickly) and applies every message
 * strictly: per handle, response offsets never go back and advance whenever a response carries changes, and change
 * messages' (lsn, op_position) strictly increase.
 */
export function trackShape(opts: TrackOptions): TrackedShape {
  const rows = new Map<string, Row>();
  const violations: string[] = [];
  const handles: string[] = [];
  const stats = { responses: 0, changes: 0, refetches: 0, upToDates: 0, errors: 0 };
  const name = opts.name ?? JSON.stringify(opts.params);
  const lastResponseOffset = new Map<string, [bigint, bigint]>();
  let lastChange: [bigint, bigint] | undefined;
  const violate = (what: string): void => {
    if (violations.length < 50) violations.push(`${name}: ${what}`);
  };
  const fetchClient = async (input: Parameters<typeof fetch>[0], init?: RequestInit): Promise<Response> => {
    const res = await fetch(input, init);
    if (res.status !== 200) return res;
    const reqUrl = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const handle = res.headers.get('electric-handle');
    const offset = res.headers.get('electric-offset');
    if (handle === null || offset === null) return res;
    stats.responses++;
    if (!handles.includes(handle)) handles.push(handle);
    const body = await res.clone().text();
    const carried = body.includes('"operation"');
    const reqOffset = reqUrl.searchParams.get('offset') ?? '-1';
    const got = offsetKey(offset);
    if (reqUrl.searchParams.get('handle') === handle && reqOffset !== 'now') {
      const from = offsetKey(reqOffset);
      if (cmp(got, from) < 0 || (carried && reqOffset !== '-1' && cmp(got, from) === 0))
        violate(`response offset ${offset} for request offset ${reqOffset}`);
    }
    const prev = lastResponseOffset.get(handle);
    if (prev !== undefined && cmp(got, prev) < 0 && reqOffset !== '-1')
      violate(`response offset went back to ${offset}`);
    lastResponseOffset.set(handle, got);
    return res;
  };
  const ac = new AbortController();
  const stream = new ShapeStream<Row>({
    url: opts.url,
    params: opts.params as never,
    signal: ac.signal,
    fetchClient,
    backoffOptions: { initialDelay: 50, maxDelay: 400, multiplier: 1.5 },
    onError: () => {
      stats.errors++;
      // Keep syncing: a network error during a crash is expected; returning an object resumes the stream.
      return {};
    },
  });
  stream.subscribe((messages: Message<Row>[]) => {
    for (const m of messages) {
      if (isControlMessage(m)) {
        if (m.headers.control === 'must-refetch') {
          stats.refetches++;
          rows.clear();
          lastChange = undefined;
        } else if (m.headers.control === 'up-to-date') stats.upToDates++;
        continue;
      }
      if (!isChangeMessage(m)) continue;
      stats.changes++;
      const h = m.headers as Record<string, unknown>;
      if (typeof h['lsn'] === 'string') {
        const at: [bigint, bigint] = [BigInt(h['lsn']), BigInt(Number(h['op_position']))];
        if (lastChange !== undefined && cmp(at, lastChange) <= 0)
          violate(`change ${String(h['lsn'])}/${String(h['op_position'])} after ${lastChange.join('/')}`);
        lastChange = at;
      }
      const op = m.headers.operation;
      if (op === 'insert') {
        if (rows.has(m.key)) violate(`insert of present key ${m.key}`);
        rows.set(m.key, { ...m.value });
      } else if (op === 'update') {
        const old = rows.get(m.key);
        if (old === undefined) violate(`update of missing key ${m.key}`);
        rows.set(m.key, { ...(old ?? {}), ...m.value });
      } else if (op === 'delete') {
        if (!rows.delete(m.key)) violate(`delete of missing key ${m.key}`);
      }
    }
  });
  return {
    name,
    rows,
    violations,
    handles,
    stats,
    stop() {
      stream.unsubscribeAll();
      ac.abort();
    },
  };
}

/** Rows of the form the client parses them to, keyed like the protocol (single-column primary key). */
export function keyed(
  rows: readonly Record<string, unknown>[],
  table: string,
  pk = 'id',
  schema = 'public',
): Map<string, Row> {
  const out = new Map<string, Row>();
  for (const r of rows) out.set(`"${schema}"."${table}"/"${String(r[pk])}"`, r as Row);
  return out;
}

/** A sorted, printable form for equality assertions with readable diffs. */
export function sortedEntries(m: ReadonlyMap<string, Row>): [string, Row][] {
  return [...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** Whether two row maps hold the same keys with the same values (JSON-equal). */
export function sameRows(a: ReadonlyMap<string, unknown>, b: ReadonlyMap<string, unknown>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of b) if (JSON.stringify(a.get(k)) !== JSON.stringify(v)) return false;
  return true;
}

export const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));

/** Polls `pred` every 50 ms until it holds, or throws naming `what` after `ms`. */
export async function waitUntil(pred: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(50);
  }
}
