// A shard on the calling thread (ShardedRouterOptions.localShard): the worker's ShardState answered in place, so that
// the dispatcher routes its own part of a split batch while the workers route theirs instead of idling.
import type { Change } from '../router/index.js';
import { ErrorCode, RouterError } from '../errors/index.js';
import type { InitMessage, RouteResult } from './protocol.js';
import type { Body } from './shard-handle.js';
import { ShardState } from './shard-state.js';

export class LocalShard {
  /** A local shard never dies, so never restarts (ShardHandle's counter, for stats). */
  readonly restarts = 0;
  readonly inFlight = 0;
  private readonly state: ShardState;

  constructor(
    readonly index: number,
    init: InitMessage,
  ) {
    this.state = new ShardState(init);
  }

  /** ShardHandle.request answered at once (shape ops and stats; a route goes through routeNow). */
  request(body: Body): Promise<unknown> {
    if (body.t === 'crash') return Promise.reject(notWorker(this.index));
    try {
      return Promise.resolve(this.state.handle({ ...body, seq: 0 }).result);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Routes changes[from, to) now, on this thread, reading the caller's change objects in place. */
  routeNow(changes: readonly Change[], tables: Int32Array, from: number, to: number): RouteResult {
    return this.state.handle({ t: 'route', seq: 0, mask: null, transport: 'clone', changes, tables, from, to })
      .result as RouteResult;
  }

  crash(): Promise<unknown> {
    return Promise.reject(notWorker(this.index));
  }

  kill(): Promise<void> {
    return Promise.reject(notWorker(this.index));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

function notWorker(shard: number): Error {
  return new RouterError(ErrorCode.NotSupported, `shard ${shard} runs on the calling thread: it has no worker to stop`);
}
