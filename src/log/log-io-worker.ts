// Log file I/O in worker threads: reading cold logs' files and writing evicted logs' bytes, many logs per message.
import { Worker } from 'node:worker_threads';

/** A log directory as read by a worker: its listing, each segment's [path, size, tailPos, tail], each index file. */
export interface DirBytes {
  readonly names: string[];
  readonly segments: [path: string, size: number, tailPos: number, tail: Uint8Array][];
  readonly indexes: [path: string, bytes: Uint8Array | null][];
}

/** One write a worker makes: [path, create, pos, bytes]. */
export type WorkerWrite = [path: string, create: boolean, pos: number, bufs: Uint8Array[]];

type Job = { kind: 'read'; dir: string } | { kind: 'write'; writes: WorkerWrite[] };
type Reply = { ok: true; value: DirBytes | null | undefined } | { ok: false; error: string; code?: string };

/**
 * Why workers and not the libuv pool: every pool operation costs the main thread a completion callback and a promise
 * (~10–20 µs under load), so reading a log as ~10 small operations cost it more than the synchronous syscalls did
 * (measured: main-thread time per row 1.6–2.2× the synchronous load's). A worker makes the same synchronous syscalls
 * off the main thread and answers a whole batch of logs in one message. Plain JavaScript, evaluated: it needs
 * nothing but node:fs, so it loads the same way under tsx, vitest and dist/.
 */
const WORKER_SOURCE = String.raw`
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const { join } = require('node:path');
const TAIL_CAP = ${1024 * 1024};
const SEG = /^[a-z]+-[0-9]{20}-[0-9]{10}\.seg$/;
// Reading a file written since it was last read updates its access time (relatime), a metadata change that waits for
// the filesystem journal's commit: tens of ms every few seconds under write load. The owner (us) may skip it.
let READ_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NOATIME || 0);
function openRead(path) {
  try { return fs.openSync(path, READ_FLAGS); }
  catch (e) { if (e.code !== 'EPERM' || READ_FLAGS === fs.constants.O_RDONLY) throw e; READ_FLAGS = fs.constants.O_RDONLY; return fs.openSync(path, READ_FLAGS); }
}
function readAll(path) {
  let fd;
  try { fd = openRead(path); } catch (e) { if (e.code === 'ENOENT') return null; throw e; }
  try {
    const len = fs.fstatSync(fd).size;
    const buf = Buffer.allocUnsafe(len);
    let got = 0;
    while (got < len) { const r = fs.readSync(fd, buf, got, len - got, got); if (r === 0) break; got += r; }
    return buf.subarray(0, got);
  } finally { fs.closeSync(fd); }
}
function readDir(dir) {
  let names;
  try { names = fs.readdirSync(dir); } catch (e) { if (e.code === 'ENOENT') return null; throw e; }
  const listed = new Set(names);
  const segments = [];
  const indexes = [];
  for (const name of names) {
    if (!SEG.test(name)) continue;
    const idxName = name.slice(0, -4) + '.idx';
    let idx = null;
    if (listed.has(idxName)) { idx = readAll(join(dir, idxName)); indexes.push([join(dir, idxName), idx]); }
    const path = join(dir, name);
    let fd;
    try { fd = openRead(path); } catch (e) { if (e.code === 'ENOENT') continue; throw e; }
    try {
      const size = fs.fstatSync(fd).size;
      // The last entry with increasing positions inside the file: where recovery starts (it re-checks the entries and
      // reads anything outside the tail itself).
      let tailPos = 0;
      if (idx !== null)
        for (let at = 0; at + 20 <= idx.length; at += 20) {
          const p = Number(idx.readBigUInt64BE(at + 12));
          if (p <= tailPos || p >= size) break;
          tailPos = p;
        }
      const want = Math.min(size - tailPos, TAIL_CAP);
      const tail = Buffer.allocUnsafe(want);
      let got = 0;
      while (got < want) { const r = fs.readSync(fd, tail, got, want - got, tailPos + got); if (r === 0) break; got += r; }
      segments.push([path, size, tailPos, tail.subarray(0, got)]);
    } finally { fs.closeSync(fd); }
  }
  return { names, segments, indexes };
}
function write(writes) {
  for (const [path, create, pos, bufs] of writes) {
    const fd = fs.openSync(path, create ? fs.constants.O_RDWR | fs.constants.O_CREAT : 'r+');
    try {
      let at = pos;
      for (const b of bufs) {
        let done = 0;
        while (done < b.length) { done += fs.writeSync(fd, b, done, b.length - done, at + done); }
        at += b.length;
      }
    } finally { fs.closeSync(fd); }
  }
}
parentPort.on('message', ({ id, jobs }) => {
  const replies = jobs.map((j) => {
    try { return { ok: true, value: j.kind === 'read' ? readDir(j.dir) : write(j.writes) }; }
    catch (e) { return { ok: false, error: String(e && e.message || e), code: e && e.code }; }
  });
  parentPort.postMessage({ id, replies });
});
`;

/** Read jobs per message: enough to amortise the message, small enough that a batch's logs arrive soon. */
const READ_BATCH = 32;
/**
 * Write-outs wait this long to be sent together (up to WRITE_BATCH per message): nothing waits for one soon (a
 * checkpoint does, a log loaded again writes its bytes itself), and each message costs the main thread a structured
 * clone and a wake-up; under live traffic every group commit evicts a log or two, one message each when sent at once.
 */
const WRITE_DELAY_MS = 10;
const WRITE_BATCH = 256;

interface Slot {
  readonly w: Worker;
  busy: number;
}

interface Pending {
  readonly job: Job;
  resolve(v: Reply): void;
}

/**
 * A small pool of worker threads (started on first use; referenced only while they hold jobs, so an idle pool never
 * keeps the process alive). Jobs
 * submitted in one event-loop turn (or within `delayMs`) are sent together, `batch` per message, to the least busy
 * worker.
 */
class LogIoWorkers {
  constructor(
    private readonly size: number,
    private readonly batch: number,
    private readonly delayMs = 0,
  ) {}

  private workers: Slot[] = [];
  private readonly waiting = new Map<number, { part: Pending[]; slot: Slot }>();
  private queue: Pending[] = [];
  private scheduled = false;
  private nextId = 0;

  submit(job: Job): Promise<Reply> {
    return new Promise((resolve) => {
      this.queue.push({ job, resolve });
      if (!this.scheduled) {
        this.scheduled = true;
        if (this.delayMs > 0) setTimeout(() => this.send(), this.delayMs);
        else setImmediate(() => this.send());
      }
    });
  }

  private send(): void {
    this.scheduled = false;
    const queue = this.queue;
    this.queue = [];
    for (let i = 0; i < queue.length; i += this.batch) {
      const part = queue.slice(i, i + this.batch);
      const slot = this.pick();
      const id = this.nextId++;
      this.waiting.set(id, { part, slot });
      // Referenced while it holds jobs, so their promises keep the process alive; idle, it never does.
      if (slot.busy++ === 0) slot.w.ref();
      slot.w.postMessage({ id, jobs: part.map((p) => p.job) });
    }
  }

  private pick(): Slot {
    if (this.workers.length < this.size) {
      const w = new Worker(WORKER_SOURCE, { eval: true });
      const slot: Slot = { w, busy: 0 };
      w.on('message', ({ id, replies }: { id: number; replies: Reply[] }) => {
        if (--slot.busy === 0) slot.w.unref();
        const { part } = this.waiting.get(id)!;
        this.waiting.delete(id);
        part.forEach((p, i) => p.resolve(replies[i]!));
      });
      w.on('error', (e) => this.lose(slot, e));
      w.on('exit', () => this.lose(slot, new Error('log I/O worker exited')));
      // Idle until `send` refs it (after the listeners: adding a 'message' listener refs the worker again).
      w.unref();
      this.workers.push(slot);
      return slot;
    }
    return this.workers.reduce((a, b) => (b.busy < a.busy ? b : a));
  }

  /** A dead worker fails the jobs it held (a read is then made on use; a write fails its store). */
  private lose(slot: Slot, e: unknown): void {
    this.workers = this.workers.filter((s) => s !== slot);
    for (const [id, { part, slot: held }] of this.waiting) {
      if (held !== slot) continue;
      this.waiting.delete(id);
      for (const p of part) p.resolve({ ok: false, error: String(e) });
    }
  }
}

/**
 * Reads and writes have workers of their own: an evicted log's write can wait hundreds of ms on the filesystem's
 * journal commit (extending a file is a metadata change), and a read of a cold log queued behind it would hold up the
 * transaction appending to that log — and every transaction after it.
 */
const readers = new LogIoWorkers(2, READ_BATCH);
const writers = new LogIoWorkers(2, WRITE_BATCH, WRITE_DELAY_MS);

function unwrap<T>(r: Reply): T {
  if (r.ok) return r.value as T;
  throw Object.assign(new Error(r.error), r.code !== undefined ? { code: r.code } : {});
}

/** A log directory's files read by a worker; null when the directory does not exist. */
export async function readDirInWorker(dir: string): Promise<DirBytes | null> {
  return unwrap<DirBytes | null>(await readers.submit({ kind: 'read', dir }));
}

/** Writes made by a worker, one after the other. */
export async function writeInWorker(writes: WorkerWrite[]): Promise<void> {
  unwrap<undefined>(await writers.submit({ kind: 'write', writes }));
}
