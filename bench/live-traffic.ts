// Live traffic against the service for the soak and the service suite: a writer committing single-row updates at a
// fixed rate (some to watched shapes, timed) and live HTTP clients that long-poll those shapes and report latencies.
import http from 'node:http';
import pg from 'pg';
import { BENCH_WHERE } from './bench-shapes.js';

/**
 * Single-row updates at a fixed rate (a schedule, not a closed loop: a slow commit does not lower the offered rate
 * until all connections are busy). Every tenth write goes to a watched shape, with a unique score the client reports
 * back; the others go to random shapes, so idle logs are loaded and evicted as the run goes.
 */
export class Writer {
  private readonly conns: pg.Client[] = [];
  private timer: NodeJS.Timeout | undefined;
  private issued = 0;
  private busy = 0;
  private seq = 1_000_000;
  private t0 = 0;
  committed = 0;
  private readonly idle: pg.Client[] = [];
  private done: Promise<void> = Promise.resolve();

  constructor(
    private readonly url: string,
    private readonly n: number,
    private readonly watched: number,
    private readonly rate: number,
    private readonly timed: Map<string, number>,
  ) {}

  async connect(): Promise<void> {
    for (let i = 0; i < 8; i++) {
      const c = new pg.Client({ connectionString: this.url });
      await c.connect();
      this.conns.push(c);
      this.idle.push(c);
    }
  }

  start(): void {
    this.t0 = performance.now();
    this.timer = setInterval(() => this.tick(), 5);
  }

  private tick(): void {
    const due = Math.floor(((performance.now() - this.t0) / 1000) * this.rate);
    while (this.issued < due && this.idle.length > 0) {
      const c = this.idle.pop()!;
      const k = this.issued++;
      const watchedWrite = this.watched > 0 && k % 10 === 0;
      const id = watchedWrite
        ? (k / 10) % this.watched
        : this.watched + Math.floor(Math.random() * (this.n - this.watched));
      const score = this.seq++;
      if (watchedWrite) this.timed.set(`${id}:${score}`, performance.now());
      this.busy++;
      const p = c.query('UPDATE items SET score = $2 WHERE id = $1', [id, score]).then(
        () => {
          this.committed++;
        },
        () => undefined,
      );
      this.done = Promise.all([this.done, p]).then(() => undefined);
      void p.finally(() => {
        this.busy--;
        this.idle.push(c);
      });
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.done;
    await Promise.all(this.conns.map((c) => c.end()));
  }
}

/** A live HTTP client of one shape (`user_id = i`): long-polls and reports each timed write's latency. */
export class Follower {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  private offset = '-1';
  private handle: string | undefined;
  private cursor: string | undefined;
  private live = false;
  private stopped = false;

  constructor(
    private readonly port: number,
    private readonly user: number,
    private readonly timed: Map<string, number>,
    private readonly latencies: number[],
  ) {}

  async untilLive(): Promise<void> {
    while (!this.live) await this.poll();
  }

  run(): void {
    void (async () => {
      while (!this.stopped) await this.poll().catch(() => sleep(100));
    })();
  }

  stop(): void {
    this.stopped = true;
    this.agent.destroy();
  }

  private async poll(): Promise<void> {
    const q = new URLSearchParams({ table: 'items', where: BENCH_WHERE, 'params[1]': String(this.user) });
    q.set('offset', this.offset);
    if (this.handle !== undefined) q.set('handle', this.handle);
    if (this.live) q.set('live', 'true');
    if (this.live && this.cursor !== undefined) q.set('cursor', this.cursor);
    const r = await get(this.port, `/v1/shape?${q}`, this.agent);
    const now = performance.now();
    if (r.status === 409) {
      this.offset = '-1';
      this.handle = undefined;
      this.live = false;
      return;
    }
    if (r.status !== 200 && r.status !== 204) throw new Error(`follower ${this.user}: HTTP ${r.status}`);
    this.handle = r.headers['electric-handle'] as string | undefined;
    this.offset = (r.headers['electric-offset'] as string | undefined) ?? this.offset;
    this.cursor = r.headers['electric-cursor'] as string | undefined;
    if (r.status === 204 || r.body === '') return;
    for (const m of JSON.parse(r.body) as { value?: { score?: string }; headers?: { control?: string } }[]) {
      if (m.headers?.control === 'up-to-date') this.live = true;
      const score = m.value?.score;
      if (score === undefined) continue;
      const key = `${this.user}:${score}`;
      const t = this.timed.get(key);
      if (t === undefined) continue;
      this.timed.delete(key);
      this.latencies.push(now - t);
    }
  }
}

function get(
  port: number,
  p: string,
  agent: http.Agent,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, agent }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (b: Buffer) => parts.push(b));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/** WAL bytes the service's slot holds beyond what it confirmed (Postgres's view). */
export async function slotLag(c: pg.Client): Promise<number> {
  const r = await c.query<{ lag: string | null }>(
    'SELECT max(pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn))::text AS lag FROM pg_replication_slots',
  );
  return Number(r.rows[0]?.lag ?? 0);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));
