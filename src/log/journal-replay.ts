// Journal records left by a crash, indexed by shape handle and applied to each log when it is first loaded.
import { closeSync, openSync } from 'node:fs';
import { readJournalRecord, scanJournal, type JournalRecord } from './journal.js';

/**
 * Opening every log a journal names (a directory listing, each segment's tail checked) costs ~0.1–1 ms per log: a
 * crash after creating tens of thousands of shapes made the next start take tens of seconds. So the start only scans
 * the journal — one read per file — and remembers where each handle's records are; a log gets its records when it is
 * first loaded, and the store applies the rest in the background. The journal files stay until a checkpoint taken
 * after the last record was applied has fsynced the logs: a crash meanwhile replays them again (replay is idempotent
 * by stream position).
 */
export class PendingReplay {
  /** Per handle, its records' locations as flat triples (file, at, length), in journal order. */
  private readonly byHandle: Map<string, number[]>;
  private readonly fds: number[];
  /** Highest sequence of the scanned files: files up to it must be kept while records are pending. */
  readonly lastSeq: number;
  readonly records: number;
  readonly cutBytes: number;

  private constructor(
    files: readonly { seq: number; path: string }[],
    records: number,
    cutBytes: number,
    byHandle: Map<string, number[]>,
  ) {
    this.byHandle = byHandle;
    this.lastSeq = files.length > 0 ? files[files.length - 1]!.seq : 0;
    this.records = records;
    this.cutBytes = cutBytes;
    this.fds = byHandle.size > 0 ? files.map((f) => openSync(f.path, 'r')) : [];
  }

  /** Scans the journal of `dir` (cutting a torn tail); the result holds no record bytes, only their locations. */
  static scan(dir: string): PendingReplay {
    const byHandle = new Map<string, number[]>();
    const r = scanJournal(dir, (rec, ref) => {
      let refs = byHandle.get(rec.handle);
      if (refs === undefined) byHandle.set(rec.handle, (refs = []));
      refs.push(ref.file, ref.at, ref.length);
    });
    return new PendingReplay(r.files, r.records, r.cutBytes, byHandle);
  }

  /** Handles with records not yet applied. */
  get size(): number {
    return this.byHandle.size;
  }

  has(handle: string): boolean {
    return this.byHandle.has(handle);
  }

  /** A snapshot of the handles still pending (the background applier walks it). */
  handles(): string[] {
    return [...this.byHandle.keys()];
  }

  /** The handle's records in journal order, read back from the files; forgets them. */
  take(handle: string): JournalRecord[] | undefined {
    const refs = this.byHandle.get(handle);
    if (refs === undefined) return undefined;
    this.byHandle.delete(handle);
    const out: JournalRecord[] = [];
    for (let i = 0; i < refs.length; i += 3)
      out.push(readJournalRecord(this.fds[refs[i]!]!, { file: refs[i]!, at: refs[i + 1]!, length: refs[i + 2]! }));
    if (this.byHandle.size === 0) this.close();
    return out;
  }

  /** Forgets a handle's records (its log was deleted). */
  drop(handle: string): void {
    if (this.byHandle.delete(handle) && this.byHandle.size === 0) this.close();
  }

  close(): void {
    for (const fd of this.fds.splice(0)) closeSync(fd);
  }
}
