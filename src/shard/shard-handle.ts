// One shard: a long-lived worker thread, its in-flight requests, and restart-and-rebuild when the worker dies.
//
// Requests to a worker are applied in the order they are posted. When the worker dies, a new one is rebuilt to the
// state the dead one had *acknowledged* (the registry's shapes of this shard, minus adds still in flight, plus
// removes still in flight), then every in-flight request is posted again in its original order. Shape ops are
// always replayed (they are state); a route batch is retried up to `maxRetries` times and then rejected with
// ShardFailureError, so a caller never sees a partial answer.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { InitMessage, Reply, Request, ShapeOp } from './protocol.js';
import { errorFromJson, ShardFailureError } from './protocol.js';

export type Body = Request extends infer R ? (R extends { seq: number } ? Omit<R, 'seq'> : never) : never;

interface Pending {
  readonly body: Body;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: Error) => void;
  attempts: number;
  /** For shape ops: the add form of each removed shape, so a rebuild can restore the acknowledged state. */
  readonly removed?: readonly ShapeOp[];
}

export interface ShardHooks {
  /** The init message of a fresh worker. */
  init(): InitMessage;
  /** Add ops for every shape the registry places on this shard now. */
  registryShapes(shard: number): ShapeOp[];
  /** Called after a restart, for stats and logs. */
  onRestart?(shard: number, reason: string): void;
}

const MAX_CONSECUTIVE_RESTARTS = 5;

/**
 * The worker script beside this module: worker.js in dist/; under tsx or vitest the module is worker.ts, which a
 * bare worker cannot load, so a small bootstrap registers tsx's ESM hooks in the worker first.
 */
function spawnWorker(): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./worker.js', here));
  const req = createRequire(here);
  const tsx = pathToFileURL(req.resolve('tsx/package.json').replace(/package\.json$/, 'dist/esm/api/index.mjs')).href;
  const entry = new URL('./worker.ts', here).href;
  const code = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); }).catch((e) => { console.error(e); process.exit(1); });`;
  return new Worker(code, { eval: true });
}

export class ShardHandle {
  private worker: Worker;
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  private closing = false;
  private dead: Error | null = null;
  private consecutiveRestarts = 0;
  restarts = 0;

  constructor(
    readonly index: number,
    private readonly hooks: ShardHooks,
    private readonly maxRetries: number,
  ) {
    this.worker = this.start();
    this.worker.postMessage(hooks.init());
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /** Posts a request; resolves with the worker's result. */
  request(body: Body, removed?: readonly ShapeOp[]): Promise<unknown> {
    if (this.dead !== null) return Promise.reject(this.dead);
    if (this.closing) return Promise.reject(new ShardFailureError(`shard ${this.index} is closed`));
    return new Promise((resolve, reject) => {
      const seq = ++this.seq;
      this.pending.set(seq, { body, resolve, reject, attempts: 0, ...(removed ? { removed } : {}) });
      this.worker.postMessage({ ...body, seq });
    });
  }

  /** Test hook: the worker exits after receiving `afterRoutes` more route batches (0: now). */
  crash(afterRoutes = 0): Promise<unknown> {
    return this.request({ t: 'crash', afterRoutes });
  }

  /** Terminates the worker abruptly (as a crash would); the shard restarts. */
  async kill(): Promise<void> {
    await this.worker.terminate();
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.worker.terminate();
    for (const p of this.pending.values())
      p.reject(new ShardFailureError(`shard ${this.index} closed with requests in flight`));
    this.pending.clear();
  }

  private start(): Worker {
    const w = spawnWorker();
    w.on('message', (r: Reply) => this.onReply(r));
    let lastError = '';
    w.on('error', (err) => {
      // an uncaught exception in the worker: the exit event that follows restarts it
      lastError = `: ${err instanceof Error ? err.message : String(err)}`;
    });
    w.on('exit', (code) => {
      if (w === this.worker && !this.closing) this.restart(`exit code ${code}${lastError}`);
    });
    return w;
  }

  private onReply(r: Reply): void {
    const p = this.pending.get(r.seq);
    if (p === undefined) return;
    this.pending.delete(r.seq);
    this.consecutiveRestarts = 0;
    if (r.ok) p.resolve(r.result);
    else p.reject(errorFromJson(r.error));
  }

  private restart(reason: string): void {
    this.restarts++;
    this.consecutiveRestarts++;
    if (this.consecutiveRestarts > MAX_CONSECUTIVE_RESTARTS) {
      this.dead = new ShardFailureError(
        `shard ${this.index} died ${this.consecutiveRestarts} times in a row (${reason}); giving up`,
      );
      for (const p of this.pending.values()) p.reject(this.dead);
      this.pending.clear();
      return;
    }
    // The acknowledged state: registry now, undoing the shape ops still in flight.
    const inFlightAdds = new Set<number>();
    const restore: ShapeOp[] = [];
    for (const p of this.pending.values()) {
      if (p.body.t !== 'ops') continue;
      for (const op of p.body.ops) if (op[0] === 1) inFlightAdds.add(op[1]);
    }
    for (const p of this.pending.values())
      for (const op of p.removed ?? []) if (!inFlightAdds.has(op[1])) restore.push(op);
    const base = this.hooks.registryShapes(this.index).filter((op) => !inFlightAdds.has(op[1]));
    this.worker = this.start();
    this.worker.postMessage(this.hooks.init());
    const rebuildSeq = ++this.seq;
    this.worker.postMessage({ t: 'ops', seq: rebuildSeq, ops: [...base, ...restore] });
    for (const [seq, p] of [...this.pending]) {
      if (p.body.t === 'crash') {
        this.pending.delete(seq);
        p.resolve(null);
        continue;
      }
      if (p.body.t === 'route' || p.body.t === 'stats') {
        p.attempts++;
        if (p.attempts > this.maxRetries) {
          this.pending.delete(seq);
          p.reject(
            new ShardFailureError(
              `shard ${this.index} failed during a batch (${reason}) and the retry budget is spent`,
            ),
          );
          continue;
        }
      }
      this.worker.postMessage({ ...p.body, seq });
    }
    this.hooks.onRestart?.(this.index, reason);
  }
}
