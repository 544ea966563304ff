// An in-memory ShapeService for testing the HTTP layer without Postgres: scripted snapshots and transactions.
import { BEFORE_ALL, SNAPSHOT_END, compareOffsets, type LogOffset } from '../../src/log/offset.js';
import {
  ShapeRequestError,
  type LogChunk,
  type SchemaColumn,
  type ShapeDefinition,
  type ShapeInfo,
  type ShapeService,
  type WaitResult,
} from '../../src/shapes/types.js';

interface Entry {
  readonly offset: LogOffset;
  readonly json: string;
}

interface FakeShape {
  readonly info: ShapeInfo;
  readonly snapshotChunks: string[][];
  readonly txs: Entry[][];
  invalidated: boolean;
  readonly waiters: Set<() => void>;
}

export interface FakeTable {
  readonly schema: Readonly<Record<string, SchemaColumn>>;
  /** Snapshot rows as insert messages (JSON text), split into chunks of this many rows. */
  rows: string[];
}

function defKey(d: ShapeDefinition): string {
  return JSON.stringify([d.schema, d.table, d.where ?? null, d.params ?? null, d.columns ?? null, d.replica, d.log]);
}

export class FakeShapeService implements ShapeService {
  readonly tables = new Map<string, FakeTable>();
  private readonly byHandle = new Map<string, FakeShape>();
  private readonly byDef = new Map<string, FakeShape>();
  private seq = 0;
  lsn = 100n;
  state: 'active' | 'starting' | 'waiting' = 'active';
  rowsPerChunk = 1000;
  /** Number of getOrCreate calls (tests count shape creations). */
  created = 0;

  addTable(name: string, schema: Record<string, SchemaColumn>, rows: string[]): void {
    this.tables.set(name, { schema, rows });
  }

  async getOrCreate(def: ShapeDefinition): Promise<ShapeInfo> {
    const existing = this.byDef.get(defKey(def));
    if (existing !== undefined && !existing.invalidated) return existing.info;
    const table = this.tables.get(`${def.schema}.${def.table}`);
    if (table === undefined)
      throw new ShapeRequestError({ table: [`table "${def.schema}"."${def.table}" does not exist`] });
    if (def.where === 'bad') throw new ShapeRequestError({ where: ['syntax error at or near "bad"'] });
    this.created++;
    const handle = `h${++this.seq}-${Date.now()}`;
    const rows = def.log === 'changes_only' ? [] : table.rows;
    const chunks: string[][] = [];
    for (let i = 0; i < rows.length; i += this.rowsPerChunk) chunks.push(rows.slice(i, i + this.rowsPerChunk));
    if (chunks.length === 0) chunks.push([]);
    const shape: FakeShape = {
      info: { handle, definition: def, schema: table.schema },
      snapshotChunks: chunks,
      txs: [],
      invalidated: false,
      waiters: new Set(),
    };
    this.byHandle.set(handle, shape);
    this.byDef.set(defKey(def), shape);
    return shape.info;
  }

  get(handle: string): ShapeInfo | undefined {
    const s = this.byHandle.get(handle);
    return s === undefined || s.invalidated ? undefined : s.info;
  }

  find(def: ShapeDefinition): ShapeInfo | undefined {
    const s = this.byDef.get(defKey(def));
    return s === undefined || s.invalidated ? undefined : s.info;
  }

  private shape(handle: string): FakeShape {
    const s = this.byHandle.get(handle);
    if (s === undefined) throw new Error(`unknown handle ${handle}`);
    return s;
  }

  async read(handle: string, after: LogOffset, maxBytes: number): Promise<LogChunk> {
    const s = this.shape(handle);
    const last = this.lastOffset(handle);
    if (after.tx < 0n || (after.tx === 0n && after.op !== Infinity && after.op + 1 < s.snapshotChunks.length)) {
      const i = after.tx < 0n ? 0 : after.op + 1;
      const end = { tx: 0n, op: i };
      return { messages: s.snapshotChunks[i]!, endOffset: end, reachedEnd: false };
    }
    const messages: string[] = [];
    let end = compareOffsets(after, SNAPSHOT_END) < 0 ? SNAPSHOT_END : after;
    let bytes = 0;
    for (const tx of s.txs) {
      if (compareOffsets(tx[tx.length - 1]!.offset, after) <= 0) continue;
      if (messages.length > 0 && bytes >= maxBytes) break;
      for (const e of tx) {
        if (compareOffsets(e.offset, after) <= 0) continue;
        messages.push(e.json);
        bytes += e.json.length;
        end = e.offset;
      }
    }
    return { messages, endOffset: end, reachedEnd: compareOffsets(end, last) >= 0 };
  }

  lastOffset(handle: string): LogOffset {
    const s = this.shape(handle);
    const tx = s.txs[s.txs.length - 1];
    return tx === undefined ? SNAPSHOT_END : tx[tx.length - 1]!.offset;
  }

  waitForData(handle: string, after: LogOffset, timeoutMs: number, signal?: AbortSignal): Promise<WaitResult> {
    const s = this.byHandle.get(handle);
    if (s === undefined || s.invalidated) return Promise.resolve('invalidated');
    if (compareOffsets(this.lastOffset(handle), after) > 0) return Promise.resolve('data');
    if (signal?.aborted) return Promise.resolve('aborted');
    return new Promise((resolve) => {
      const finish = (r: WaitResult): void => {
        clearTimeout(timer);
        s.waiters.delete(wake);
        signal?.removeEventListener('abort', onAbort);
        resolve(r);
      };
      const wake = (): void => finish(s.invalidated ? 'invalidated' : 'data');
      const onAbort = (): void => finish('aborted');
      const timer = setTimeout(() => finish('timeout'), timeoutMs);
      s.waiters.add(wake);
      signal?.addEventListener('abort', onAbort);
    });
  }

  /** Live waiters (tests check that closed sockets free theirs). */
  waiterCount(): number {
    let n = 0;
    for (const s of this.byHandle.values()) n += s.waiters.size;
    return n;
  }

  invalidate(handle: string): boolean {
    const s = this.byHandle.get(handle);
    if (s === undefined || s.invalidated) return false;
    s.invalidated = true;
    for (const w of [...s.waiters]) w();
    return true;
  }

  lastSeenLsn(): bigint {
    return this.lsn;
  }

  status(): 'active' | 'starting' | 'waiting' {
    return this.state;
  }

  /** Appends one transaction of change messages (built by `change`) to a shape's log and wakes its waiters. */
  commit(
    handle: string,
    changes: readonly {
      key: string;
      operation: 'insert' | 'update' | 'delete';
      value: Record<string, string | null>;
    }[],
  ): bigint {
    const s = this.shape(handle);
    const lsn = ++this.lsn;
    const entries = changes.map((c, i) => {
      const headers: Record<string, unknown> = {
        operation: c.operation,
        relation: [s.info.definition.schema, s.info.definition.table],
        lsn: lsn.toString(),
        op_position: i * 2,
        txids: [Number(lsn)],
      };
      if (i === changes.length - 1) headers['last'] = true;
      return { offset: { tx: lsn, op: i * 2 }, json: JSON.stringify({ key: c.key, value: c.value, headers }) };
    });
    s.txs.push(entries);
    for (const w of [...s.waiters]) w();
    return lsn;
  }
}

export function insertMessage(schema: string, table: string, pk: string, value: Record<string, string | null>): string {
  return JSON.stringify({
    key: `"${schema}"."${table}"/"${pk}"`,
    value,
    headers: { operation: 'insert', relation: [schema, table] },
  });
}

export { BEFORE_ALL };
