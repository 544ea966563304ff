// Reads a `text/event-stream` response incrementally: data events (parsed JSON) and comments, with arrival times.

/** A protocol message as sent in one event. */
export interface SseMessage {
  readonly key?: string;
  readonly value?: Record<string, string | null>;
  readonly headers: Record<string, unknown>;
}

export interface SseEvent {
  /** The parsed `data:` payload, or undefined for a comment-only block. */
  readonly data?: SseMessage;
  /** The comment text of a `: …` line. */
  readonly comment?: string;
  /** Milliseconds since the reader started. */
  readonly at: number;
}

export interface SseReader {
  readonly res: Response;
  readonly events: SseEvent[];
  /** Resolves when the server ends the stream (or the reader is cancelled). */
  readonly ended: Promise<void>;
  /** Resolves once `pred` holds for the events received so far; rejects after `ms`. */
  until(pred: (events: readonly SseEvent[]) => boolean, ms?: number): Promise<void>;
  cancel(): Promise<void>;
}

/** Opens `url` and collects its events in the background. Throws when the response is not an event stream. */
export async function openSse(url: string, init?: RequestInit): Promise<SseReader> {
  const started = Date.now();
  const res = await fetch(url, { ...init, headers: { accept: 'text/event-stream', ...init?.headers } });
  if (res.status !== 200 || !(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    throw new Error(`not an event stream: ${res.status} ${res.headers.get('content-type')} ${await res.text()}`);
  }
  const events: SseEvent[] = [];
  const listeners = new Set<() => void>();
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const ended = (async () => {
    let buf = '';
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch {
        break;
      }
      if (chunk.done) break;
      buf += decoder.decode(chunk.value, { stream: true });
      let sep: number;
      while ((sep = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, sep);
        buf = buf.slice(sep + 2);
        events.push(parseBlock(block, Date.now() - started));
      }
      for (const l of listeners) l();
    }
    for (const l of listeners) l();
  })();
  return {
    res,
    events,
    ended,
    until(pred, ms = 10_000) {
      return new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (pred(events)) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`SSE condition not met within ${ms} ms; events: ${JSON.stringify(events).slice(0, 2000)}`));
        }, ms);
        listeners.add(check);
        check();
      });
    },
    async cancel() {
      await reader.cancel().catch(() => undefined);
      await ended;
    },
  };
}

function parseBlock(block: string, at: number): SseEvent {
  let data: string | undefined;
  let comment: string | undefined;
  for (const line of block.split('\n')) {
    if (line.startsWith('data:')) data = (data === undefined ? '' : data + '\n') + line.slice(5).trimStart();
    else if (line.startsWith(':')) comment = line.slice(1).trim();
    else throw new Error(`unexpected SSE line ${JSON.stringify(line)}`);
  }
  return data === undefined ? { comment: comment ?? '', at } : { data: JSON.parse(data) as SseMessage, at };
}

/** The change events' keys and the up-to-date markers, as a compact trace for assertions. */
export function trace(events: readonly SseEvent[]): string[] {
  return events.map((e) =>
    e.data === undefined
      ? `:${e.comment}`
      : e.data.headers['control'] !== undefined
        ? `${String(e.data.headers['control'])}@${String(e.data.headers['global_last_seen_lsn'])}`
        : `${String(e.data.headers['operation'])} ${e.data.key}`,
  );
}
