// A shard's worker thread: runs a ShardState (its routers) and answers the dispatcher's messages through it.
import { parentPort } from 'node:worker_threads';
import { errorToJson, type InitMessage, type Reply, type Request } from './protocol.js';
import { ShardState } from './shard-state.js';

const port = parentPort;
if (port === null) throw new Error('shard worker must run in a worker thread');

let state: ShardState | null = null;
/** Test hook: exit once this many route batches have been received (0: never). */
let crashAfter = 0;

function reply(r: Reply, transfer?: ArrayBuffer[]): void {
  (port as NonNullable<typeof port>).postMessage(r, transfer);
}

function handle(msg: InitMessage | Request): void {
  if (msg.t === 'init') {
    state = new ShardState(msg);
    return;
  }
  const st = state as ShardState;
  if (msg.t === 'crash') {
    if (msg.afterRoutes <= 0) process.exit(3);
    crashAfter = st.routes + msg.afterRoutes;
    reply({ seq: msg.seq, ok: true, result: null });
    return;
  }
  if (msg.t === 'route' && crashAfter > 0 && st.routes + 1 >= crashAfter) process.exit(3);
  const a = st.handle(msg);
  reply({ seq: msg.seq, ok: true, result: a.result }, a.transfer);
}

port.on('message', (msg: InitMessage | Request) => {
  try {
    handle(msg);
  } catch (err) {
    if (msg.t !== 'init') reply({ seq: msg.seq, ok: false, error: errorToJson(err) });
    else throw err;
  }
});
