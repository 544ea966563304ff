// Benchmark: 1M small change messages appended over 10k shape logs, group-committed (syncAll) every 10 ms.
// Usage: npx tsx bench/log-append.ts [messages=1000000] [logs=10000] [intervalMs=10] [journal|per-file] [dir]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { ShapeLogStore, makeOffset } from '../src/log/index.js';
import type { ShapeLog } from '../src/log/index.js';

const total = Number(process.argv[2] ?? 1_000_000);
const logCount = Number(process.argv[3] ?? 10_000);
const intervalMs = Number(process.argv[4] ?? 10);
const durability = process.argv[5] === 'per-file' ? 'per-file' : 'journal';
const dir = process.argv[6] ?? mkdtempSync(join(tmpdir(), 'sy-bench-log-'));

const checkpointMethod = process.env.CHECKPOINT === 'per-file' ? 'per-file' : 'syncfs';
const checkpointBytes = Number(process.env.CHECKPOINT_MB ?? 256) * 1024 * 1024;
const maxPendingBytes = Number(process.env.MAX_PENDING_MB ?? 128) * 1024 * 1024;
const store = await ShapeLogStore.open(dir, { durability, checkpointMethod, checkpointBytes, maxPendingBytes });
const logs: ShapeLog[] = [];
for (let i = 0; i < logCount; i++) {
  const log = store.createLog(`shape-${i}`);
  log.finishSnapshot();
  logs.push(log);
}
await store.syncAll();
const baseFsyncs = store.stats().fsyncs;

// A deterministic generator, so runs are comparable.
let seed = 42;
const rand = (): number => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 4294967296;
};

let lsn = 1_000_000n;
let sent = 0;
let syncs = 0;
let syncWaitMs = 0;
let syncCallMs = 0;
let maxSyncMs = 0;
let inflight: Promise<void> | undefined;
const t0 = performance.now();
while (sent < total) {
  const tickEnd = performance.now() + intervalMs;
  while (sent < total && performance.now() < tickEnd) {
    for (let k = 0; k < 64 && sent < total; k++) {
      // One transaction with one row change reaching one shape (the common case).
      lsn += 1n;
      const id = sent;
      logs[Math.floor(rand() * logCount)]!.append([
        {
          offset: makeOffset(lsn, 0),
          message: {
            key: `"public"."items"/"${id}"`,
            value: { id: String(id), title: 'hello', done: 'f' },
            headers: {
              operation: 'insert',
              relation: ['public', 'items'],
              lsn: lsn.toString(),
              op_position: 0,
              txids: [id],
              last: true,
            },
          },
        },
      ]);
      sent++;
    }
  }
  if (inflight !== undefined) {
    // Backpressure: never more than one batch waiting on the disk.
    const w = performance.now();
    await inflight;
    syncWaitMs += performance.now() - w;
  }
  const started = performance.now();
  const p = store.syncAll();
  syncCallMs += performance.now() - started;
  inflight = p.then(() => {
    maxSyncMs = Math.max(maxSyncMs, performance.now() - started);
  });
  syncs++;
  await yieldLoop();
}
await inflight;
const seconds = (performance.now() - t0) / 1000;
const st = store.stats();
const fsyncs = st.fsyncs - baseFsyncs;
const heapMb = process.memoryUsage().heapUsed / 1024 / 1024;
console.log(
  JSON.stringify({
    bench: 'log-append',
    durability,
    checkpointMethod,
    checkpointMb: checkpointBytes / 1048576,
    maxPendingMb: maxPendingBytes / 1048576,
    messages: total,
    logs: logCount,
    intervalMs,
    seconds: Number(seconds.toFixed(2)),
    messagesPerSec: Math.round(total / seconds),
    fsyncsPerSec: Math.round(fsyncs / seconds),
    syncAllCalls: syncs,
    fsyncsPerSyncAll: Number((fsyncs / syncs).toFixed(1)),
    maxSyncMs: Number(maxSyncMs.toFixed(1)),
    appendThreadBlockedOnSyncMs: Math.round(syncWaitMs),
    syncAllCallMs: Math.round(syncCallMs),
    openFiles: st.openFiles,
    fileOpens: st.fileOpens,
    heapUsedMb: Number(heapMb.toFixed(1)),
    checkpoints: st.checkpoints,
    journalMb: Number((st.journalBytes / 1048576).toFixed(1)),
  }),
);
const c0 = performance.now();
await store.close();
console.log(JSON.stringify({ closeWithFinalCheckpointMs: Math.round(performance.now() - c0) }));
if (process.argv[6] === undefined) rmSync(dir, { recursive: true, force: true });
