// SwitchyardService: Postgres replication → router → durable shape logs, exposed as the ShapeService contract.
import {
  DEFAULT_SHAPE_ROW_BUDGET_MS,
  setDefaultCompileBudgetMs,
  setRowOperationLimitMs,
  setShapeRowBudgetMs,
} from '../values/work-budget.js';
import { ErrorCode, WhereError } from '../errors/index.js';
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { MetaStore } from '../log/meta-store.js';
import { BEFORE_ALL, SNAPSHOT_END, compareOffsets, type LogOffset } from '../log/offset.js';
import { ShapeLogStore, type LogPrefetch } from '../log/shape-log-store.js';
import { PINNED_SERVER_OPTIONS, ReplicationClient, type ReplicationEvent } from '../replication/replication-client.js';
import type { RelationInfo, Transaction } from '../replication/transaction-types.js';
import type { ShardedRouter } from '../shard/sharded-router.js';
import { columnTypes, loadTable, loadTablesByOid, type TableInfo } from './catalog.js';
import { ChangeProcessor, preparedHandles, type Prepared } from './change-processor.js';
import { CoalescedReads, coalesced } from './coalesced-commit.js';
import { CommitPipeline } from './commit-pipeline.js';
import type { LiveShape } from './live-shape.js';
import { PredicateCache } from './predicate-cache.js';
import { Publication, type PublishedTable } from './publication.js';
import {
  SHAPE_RECORD_PREFIX,
  ShapeRegistry,
  definitionKey,
  issuedNoLaterThan,
  recordOf,
  type ShapeRecord,
  type StoredShape,
} from './registry.js';
import { affectedByRelation, perLayout, relationChange } from './relation-check.js';
import { SchemaWatch, isConnectionLoss } from './schema-watch.js';
import { Admission } from './admission.js';
import { AsyncLock, createShape } from './shape-creator.js';
import { SharedSnapshots } from './shared-snapshot.js';
import { snapshotPool } from './snapshot.js';
import { runSubset } from './subset.js';
import { TableCache } from './table-cache.js';
import { TableCounts, sumCounts } from './table-counts.js';
import { TooExpensiveClauses } from './too-expensive.js';
import { whereRejection } from './validate.js';
import { TableRouters } from './table-routers.js';
import { Subqueries } from './subqueries.js';
import { NotResumable, hasSubqueries, resumeSubqueryShape } from './subquery-resume.js';
import { DEFAULT_SLICE_MS, TimeSlicer } from './time-slicer.js';
import type {
  LogChunk,
  ShapeDefinition,
  ShapeInfo,
  ShapeService,
  SubsetRequest,
  SubsetSink,
  WaitResult,
} from './types.js';

import type { ServiceEvent, ServiceMetrics, SwitchyardServiceOptions } from './service-types.js';

export type { ServiceEvent, ServiceMetrics, SwitchyardServiceOptions };

/** Connections reading snapshot rows (shape creations and subsets), unless `snapshotConnections` says otherwise. */
export const DEFAULT_SNAPSHOT_CONNECTIONS = 16;
/**
 * Connections holding exported snapshots open until their batch imported them: a batch is taken while the previous
 * one's readers start, so two keep the lock busy without waiting.
 */
const SNAPSHOT_EXPORTERS = 2;
/** A clean stop compacts the registry when this much was appended since its last compaction (~7,000 shapes). */
const CLOSE_COMPACT_BYTES = 1 << 20;

/** Transactions routed ahead of the append in progress at most (their logs are read meanwhile). */
const APPEND_WINDOW = 64;
/** Changes of routed transactions waiting to be appended at most (beyond one transaction): bounds their memory. */
const APPEND_WINDOW_CHANGES = 20_000;

export class SwitchyardService implements ShapeService {
  private readonly registry: ShapeRegistry;
  private readonly routers: TableRouters;
  private readonly processor: ChangeProcessor;
  private readonly subqueries: Subqueries;
  private readonly subqueryPool: pg.Pool;
  private readonly pipeline: CommitPipeline;
  private readonly slicer: TimeSlicer;
  /** Slices the appends, which run beside the next transaction's routing (same stats as `slicer`). */
  private readonly appendSlicer: TimeSlicer;
  /** The last transaction's append (resolves, never rejects); the next append starts after it. */
  private appending: Promise<void> = Promise.resolve();
  /** Appends queued behind each other, oldest first, with their transactions' change counts (see `onTransaction`). */
  private readonly queued: { readonly done: Promise<void>; readonly changes: number }[] = [];
  private queuedChanges = 0;
  private appendFailure: Error | undefined;
  /** Bumped when an append failure is reported: appends queued before it are skipped (the slot replays them). */
  private appendEpoch = 0;
  private readonly lock = new AsyncLock();
  private readonly pool: pg.Pool;
  private readonly exporters: pg.Pool;
  private readonly snapshots: SharedSnapshots;
  private readonly replication: ReplicationClient;
  private readonly creating = new Map<string, Promise<ShapeInfo>>();
  private readonly admission: Admission;
  /** Clauses whose shape was invalidated for running out of the shape row budget: refused from then on. */
  private readonly tooExpensive = new TooExpensiveClauses();
  private readonly tooExpensiveByTable = new TableCounts();
  private readonly commitMeta: () => Promise<void>;
  private readonly catalogReads = new CoalescedReads<TableInfo | undefined>();
  private readonly tables = new TableCache();
  private readonly publication: Publication;
  private readonly schemaWatch: SchemaWatch;
  private schemaTimer: NodeJS.Timeout | null = null;
  private schemaChecking = false;
  private admin: pg.Client | null = null;
  private adminConnecting: Promise<pg.Client> | null = null;
  private state: 'starting' | 'active' | 'waiting' = 'starting';
  /** Every stored shape was read back into the registry (what a compaction at close requires). */
  private resumed = false;
  private lagBytes = 0;
  private closed = false;
  /** The background removal of logs without a shape (started once the service is active; awaited by close). */
  private orphanSweep: Promise<void> = Promise.resolve();

  private constructor(
    private readonly opts: SwitchyardServiceOptions,
    private readonly store: ShapeLogStore,
    private readonly meta: MetaStore,
    slot: string,
    publication: string,
  ) {
    this.registry = new ShapeRegistry(meta, store);
    this.commitMeta = coalesced(() => meta.commit());
    this.admission = new Admission(opts.admission);
    this.routers = new TableRouters({
      mode: opts.routerMode ?? 'indexed',
      shards: opts.router?.shards ?? 0,
      sharded: {
        ...(opts.router?.maxRetries !== undefined ? { maxRetries: opts.router.maxRetries } : {}),
        onRestart: (shard, reason) =>
          this.emit({
            event: 'error',
            message: `router shard ${shard} restarted (${reason}); rebuilt from its shapes`,
          }),
      },
      onDropped: (ids) => ids.forEach((h) => this.invalidateWith(h, 'router rebuild failed')),
      onError: (message) => this.emit({ event: 'error', message }),
      // Shapes added as `owned` keep their definition here, not in the router's table.
      defOf: (id) => {
        const d = this.registry.get(id)?.definition;
        return d === undefined ? undefined : { where: d.where?.trim() === '' ? undefined : d.where, params: d.params };
      },
    });
    this.slicer = new TimeSlicer(opts.processSliceMs ?? DEFAULT_SLICE_MS);
    this.appendSlicer = new TimeSlicer(this.slicer.sliceMs, this.slicer.stats);
    this.pool = snapshotPool(opts.databaseUrl, opts.snapshotConnections ?? DEFAULT_SNAPSHOT_CONNECTIONS);
    // Exporting transactions wait for their importers, so they never share a pool with them.
    this.exporters = snapshotPool(opts.databaseUrl, SNAPSHOT_EXPORTERS);
    this.snapshots = new SharedSnapshots(this.exporters, this.lock);
    // Sets are loaded and moves read under the processing lock: their own connections, so creations holding the
    // snapshot pool's connections while they wait for the lock can never starve them.
    this.subqueryPool = snapshotPool(opts.databaseUrl, 2);
    this.subqueries = new Subqueries(
      this.routers,
      this.subqueryPool,
      (message) => this.emit({ event: 'error', message }),
      opts.moveDelayMs ?? 0,
    );
    this.processor = new ChangeProcessor(
      this.routers,
      (h) => this.registry.get(h),
      new PredicateCache(this.routers),
      this.subqueries,
    );
    this.replication = new ReplicationClient({
      connection: opts.databaseUrl,
      slot,
      publication,
      onTransaction: (tx) => this.onTransaction(tx),
      onRelation: (rel) => this.onRelation(rel),
      onEvent: (e) => this.onReplicationEvent(e),
      // An append fails after its transaction was delivered (appends are queued behind routing).
      deferredFailures: true,
      ...(opts.replicationServerOptions !== undefined ? { extraServerOptions: opts.replicationServerOptions } : {}),
    });
    this.publication = new Publication({
      sync: (tables) => this.replication.setTables(tables),
      wanted: () => this.wantedTables(),
      onMissing: (oids) => this.invalidateTables(oids, 'table dropped or renamed'),
    });
    this.schemaWatch = new SchemaWatch({
      load: async (oids) => loadTablesByOid(await this.adminClient(), oids),
      shapesOf: (t) => this.shapesOfTable(t),
      layouts: () => this.registry.allLayouts(),
      invalidate: (shape, reason) => this.invalidateShape(shape, reason),
      identityLost: (oid) => this.publication.forget(oid),
    });
    this.pipeline = new CommitPipeline(
      store,
      (lsn) => this.replication.acknowledge(lsn),
      (err) => this.emit({ event: 'error', message: `shape logs could not be made durable: ${String(err)}` }),
      {
        ...(opts.earlyVisibility !== undefined ? { earlyVisibility: opts.earlyVisibility } : {}),
        ...(opts.commitDelayMs !== undefined ? { delayMs: opts.commitDelayMs } : {}),
        durableOnly: (s) => this.subqueries.shapes.has(s.handle),
      },
    );
  }

  /** Opens the data directory, resumes its shapes, and starts streaming from the slot. */
  static async start(opts: SwitchyardServiceOptions): Promise<SwitchyardService> {
    if (opts.compileBudgetMs !== undefined) setDefaultCompileBudgetMs(opts.compileBudgetMs);
    if (opts.rowOperationLimitMs !== undefined) setRowOperationLimitMs(opts.rowOperationLimitMs);
    setShapeRowBudgetMs(opts.shapeRowBudgetMs ?? DEFAULT_SHAPE_ROW_BUDGET_MS);
    const dir = resolve(opts.dataDir);
    const meta = await MetaStore.open(join(dir, 'meta'), { externalPrefix: SHAPE_RECORD_PREFIX });
    const store = await ShapeLogStore.open(join(dir, 'logs'), opts.log ?? {});
    const remembered = meta.get('service:slot');
    const slot =
      opts.slot ??
      (typeof remembered === 'string'
        ? remembered
        : `switchyard_${createHash('sha256').update(dir).digest('hex').slice(0, 10)}`);
    const publication = opts.publication ?? slot;
    meta.set('service:slot', slot);
    const service = new SwitchyardService(opts, store, meta, slot, publication);
    try {
      await service.resume();
      await meta.commit();
      await service.publication.sync();
      await service.replication.start();
      service.state = 'active';
      service.startSchemaChecks();
      // Handles issued from here on are later than this: their logs are never taken for orphans (a creation makes
      // its log directory before it registers the shape, while the scan below may be listing the directory).
      const issuedBefore = service.registry.lastHandleTs;
      // Journal records a crash left for logs not read yet are applied in the background (a log read meanwhile gets
      // its own first), then logs without a shape are removed.
      service.orphanSweep = service.store
        .finishReplay()
        .catch(service.reportFailure('replaying the journal'))
        .then(() => service.removeOrphanLogs(issuedBefore));
    } catch (err) {
      await service.close().catch(() => undefined);
      throw err;
    }
    return service;
  }

  // --- ShapeService ---------------------------------------------------------------------------------------------

  /**
   * An existing shape is handed out only after its table was checked against the catalog (one query shared by the
   * requests arriving meanwhile): a table dropped and recreated, renamed or altered since leaves no trace in the WAL
   * until its next write, and a new client must not be given the old table's rows.
   */
  async getOrCreate(def: ShapeDefinition): Promise<ShapeInfo> {
    const key = definitionKey(def);
    const existing = this.registry.findByKey(key);
    if (existing !== undefined && existing.state === 'ready') {
      await this.checkTables([existing]);
      if (existing.state === 'ready') return existing.info;
    }
    return this.create(def, key);
  }

  private create(def: ShapeDefinition, key: string): Promise<ShapeInfo> {
    const existing = this.registry.findByKey(key);
    if (existing !== undefined && existing.state === 'ready') return Promise.resolve(existing.info);
    const pending = this.creating.get(key);
    if (pending !== undefined) return pending;
    const refused = this.tooExpensive.refusal(def);
    if (refused !== undefined)
      return Promise.reject(whereRejection(new WhereError(ErrorCode.TooExpensive, refused), def.where ?? '', 'where'));
    const release = this.admission.begin(
      `${def.schema}.${def.table}`,
      def.where,
      this.registry.size,
      this.registry.tableCount(def.schema, def.table),
    );
    const started = performance.now();
    const p = createShape(
      {
        admin: () => this.adminClient(),
        catalogReads: this.catalogReads,
        tables: this.tables,
        pool: this.pool,
        snapshots: this.snapshots,
        store: this.store,
        commitMeta: this.commitMeta,
        registry: this.registry,
        routers: this.routers,
        lock: this.lock,
        publish: (t) => this.publication.ensure(t),
        invalidateIds: (ids, reason) => ids.forEach((h) => this.invalidateWith(h, reason)),
        discard: (s) => this.discard(s),
        snapshotBatch: this.opts.snapshotBatch ?? 2000,
        admission: this.admission,
        subqueries: this.subqueries,
      },
      def,
      key,
    ).then(({ shape, rows, evaluationErrors }) => {
      // Snapshot rows left out because the clause raised on them count with the live ones.
      this.processor.countEvaluationErrors(def.schema, def.table, evaluationErrors);
      this.emit({
        event: 'shape_created',
        handle: shape.handle,
        table: `${def.schema}.${def.table}`,
        rows,
        ms: Math.round(performance.now() - started),
      });
      return shape.info;
    });
    this.creating.set(key, p);
    const clear = (succeeded: boolean): void => {
      release(succeeded);
      if (this.creating.get(key) === p) this.creating.delete(key);
    };
    p.then(
      () => clear(true),
      () => clear(false),
    );
    return p;
  }

  get(handle: string): ShapeInfo | undefined {
    const s = this.registry.get(handle);
    return s !== undefined && s.state === 'ready' ? s.info : undefined;
  }

  find(def: ShapeDefinition): ShapeInfo | undefined {
    const s = this.registry.findByKey(definitionKey(def));
    return s !== undefined && s.state === 'ready' ? s.info : undefined;
  }

  async read(handle: string, after: LogOffset, maxBytes: number): Promise<LogChunk> {
    const s = this.readyShape(handle);
    if (s === undefined) return { messages: [], endOffset: after, reachedEnd: true };
    const visible = s.visibleEnd();
    const res = s.log.read(after, { maxBytes });
    const items = res.items.filter((i) => i.offset.tx < 1n || compareOffsets(i.offset, visible) <= 0);
    // A read may end inside a transaction (the client continues from its last offset, so memory stays bounded by
    // maxBytes however large the transaction), but never right after op 0 of one that goes on: `<lsn>_0` is also
    // where an SSE client resumes once it has the whole transaction (shape-protocol.md §7), so that offset must
    // always mean "all of it".
    const last = items[items.length - 1];
    if (last !== undefined && last.offset.tx >= 1n && last.offset.op === 0 && items.length === res.items.length) {
      const next = s.log.read(last.offset, { maxBytes: 1 }).items[0];
      if (next !== undefined && next.offset.tx === last.offset.tx && compareOffsets(next.offset, visible) <= 0)
        items.push(next);
    }
    let endOffset: LogOffset;
    if (items.length > 0) endOffset = items[items.length - 1]!.offset;
    else if (res.items.length > 0 || compareOffsets(after, SNAPSHOT_END) < 0)
      endOffset = compareOffsets(res.endOffset, visible) > 0 ? visible : res.endOffset;
    else endOffset = after;
    if (items.length === 0 && compareOffsets(endOffset, after) < 0) endOffset = after;
    return {
      messages: items.map((i) => i.json.toString('utf8')),
      endOffset,
      reachedEnd: compareOffsets(endOffset, visible) >= 0,
    };
  }

  lastOffset(handle: string): LogOffset {
    return this.readyShape(handle)?.visibleEnd() ?? BEFORE_ALL;
  }

  waitForData(handle: string, after: LogOffset, timeoutMs: number, signal?: AbortSignal): Promise<WaitResult> {
    const s = this.registry.get(handle);
    if (s === undefined || s.state === 'invalidated') return Promise.resolve('invalidated');
    return s.wait(after, timeoutMs, signal);
  }

  querySubset(handle: string, subset: SubsetRequest, sink: SubsetSink): Promise<'done' | 'gone'> {
    const s = this.readyShape(handle);
    if (s === undefined) return Promise.resolve('gone');
    const deps = {
      admin: () => this.adminClient(),
      pool: this.pool,
      batchSize: this.opts.snapshotBatch ?? 2000,
      onEvaluationError: (schema: string, table: string) => this.processor.countEvaluationErrors(schema, table, 1),
    };
    return runSubset(deps, s, subset, sink);
  }

  invalidate(handle: string): boolean {
    const s = this.registry.get(handle);
    if (s === undefined || s.state === 'invalidated') return false;
    this.invalidateShape(s, 'deleted by request');
    return true;
  }

  lastSeenLsn(): bigint {
    return this.pipeline.visibleLsn;
  }

  status(): 'active' | 'starting' | 'waiting' {
    return this.state;
  }

  // --- observability ---------------------------------------------------------------------------------------------

  metrics(): ServiceMetrics {
    const r = this.routers.stats();
    let waiters = 0;
    for (const s of this.registry.all()) waiters += s.waiterCount;
    const st = this.store.stats();
    return {
      ...this.processor.counters,
      shapes: this.registry.size,
      lanes: r.lanes,
      logBytes: st.journalBytes,
      loadedLogs: st.loadedLogs,
      fsyncs: st.fsyncs,
      groupCommits: this.pipeline.syncs,
      replicationLagBytes: this.lagBytes,
      acknowledgedLsn: this.replication.acknowledgedLsn,
      durableLsn: this.pipeline.durableLsn,
      visibleLsn: this.pipeline.visibleLsn,
      waiters,
      admissionRejected: { ...this.admission.counters },
      evaluationErrorsByTable: this.processor.evaluationErrorsByTable.list(),
      failOpenByTable: r.failOpenByTable,
      evaluationWorkByTable: sumCounts(r.evaluationWorkByTable, this.processor.evaluationWorkByTable.list()),
      slowEvaluationsByTable: sumCounts(r.slowEvaluationsByTable, this.processor.slowEvaluationsByTable.list()),
      tooExpensiveByTable: this.tooExpensiveByTable.list(),
      processing: { ...this.slicer.stats },
      subqueries: this.subqueries.counters(),
      snapshotBatches: { ...this.snapshots.stats },
      visibilityLatency: this.pipeline.visibility.stats(),
    };
  }

  /** The ShardedRouter routing a table when `router.shards` ≥ 1 (diagnostics; tests inject worker crashes through it). */
  shardedRouterOf(schema: string, table: string): ShardedRouter | undefined {
    return this.routers.shardedRouterOf(schema, table);
  }

  /** Stops replication, makes everything durable, and closes connections and files. Shapes stay on disk. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.schemaTimer !== null) clearInterval(this.schemaTimer);
    await this.replication.close().catch(this.reportFailure('closing replication'));
    await this.orphanSweep;
    await this.appending;
    await this.pipeline.drain();
    await this.routers.close();
    for (const s of this.registry.all()) s.invalidateWaiters();
    // Each step still runs when an earlier one failed; a failed commit or store close is reported (the registry and
    // logs are then recovered from disk on the next start), never silently dropped.
    await this.meta.commit().catch(this.reportFailure('meta commit'));
    // The next start then reads the shapes created since the last compaction as snapshot chunks, not one record
    // each. Only once every stored shape was resumed: a compaction writes the registry's shapes, not what was read.
    if (this.resumed)
      await this.meta.compactIfGrown(CLOSE_COMPACT_BYTES).catch(this.reportFailure('compacting the meta store'));
    await this.meta.close().catch(this.reportFailure('closing the meta store'));
    await this.store.close().catch(this.reportFailure('closing the log store'));
    await this.pool.end().catch(this.reportFailure('closing the snapshot pool'));
    await this.subqueryPool.end().catch(this.reportFailure('closing the subquery pool'));
    await this.exporters.end().catch(this.reportFailure('closing the snapshot exporters'));
    await this.admin?.end().catch(this.reportFailure('closing the admin connection'));
  }

  // --- replication ---------------------------------------------------------------------------------------------

  /**
   * Routes the transaction under the processing lock and queues its append behind the previous ones, without waiting
   * for it: the replication client delivers the next transaction meanwhile, so later transactions are routed (on shard
   * workers, with `--shards`) while earlier ones are appended and synced, and the logs each will append to are read by
   * worker threads while it waits its turn (`ShapeLogStore.prefetch`: a backlog after a restart, or live changes to
   * idle shapes, touch logs not in memory; read one transaction ahead only, the reads' latency capped single-row
   * transactions at a few hundred per second). Up to `APPEND_WINDOW` transactions (and `APPEND_WINDOW_CHANGES`
   * changes) wait; appends stay in WAL order. A failed append fails the next delivery and every append queued behind
   * it is skipped, so the replication client replays from the slot (nothing after the failed transaction was appended
   * or acknowledged).
   */
  private async onTransaction(tx: Transaction): Promise<void> {
    this.throwAppendFailure();
    const prepared = await this.lock.run(async () => {
      try {
        return await this.processor.prepare(tx, this.slicer);
      } catch (err) {
        // Nothing of the transaction was appended and its LSN is not acknowledged: the replication client replays it
        // from the slot (with backoff) until it routes. A change is never dropped (docs/architecture.md).
        this.emit({
          event: 'error',
          message: `routing the transaction committed at ${tx.commitLsn} failed; it is not acknowledged and will be replayed: ${String(err)}`,
        });
        throw err;
      }
    });
    const logs = this.store.prefetch(preparedHandles(prepared));
    const epoch = this.appendEpoch;
    const done = this.appending.then(() => this.appendPrepared(prepared, logs, epoch));
    this.appending = done;
    const changes = tx.changes.length + 1;
    this.queued.push({ done, changes });
    this.queuedChanges += changes;
    void done.then(() => {
      this.queued.shift();
      this.queuedChanges -= changes;
    });
    while (this.queued.length > APPEND_WINDOW || (this.queued.length > 1 && this.queuedChanges > APPEND_WINDOW_CHANGES))
      await this.queued[0]!.done;
    this.throwAppendFailure();
    await this.pipeline.throttle();
  }

  /** Reports a failed append to the replication client once; the appends queued behind it are skipped. */
  private throwAppendFailure(): void {
    const failed = this.appendFailure;
    if (failed === undefined) return;
    this.appendFailure = undefined;
    this.appendEpoch++;
    throw failed;
  }

  /**
   * Appends one prepared transaction and hands it to the commit pipeline; never rejects (see `onTransaction`). Skipped
   * after a failure of an earlier append (pending or reported since it was queued).
   */
  private async appendPrepared(prepared: Prepared, logs: LogPrefetch, epoch: number): Promise<void> {
    const tx = prepared.tx;
    try {
      if (this.appendFailure !== undefined || epoch !== this.appendEpoch) return;
      await logs.ready;
      const { touched, truncated, failedMoves, tooExpensive } = await this.processor.append(
        prepared,
        this.appendSlicer,
      );
      for (const s of truncated) this.invalidateShape(s, 'table truncated');
      for (const [s, why] of tooExpensive) this.invalidateTooExpensive(s, why);
      for (const s of failedMoves)
        this.invalidateShape(
          s,
          'subquery rows could not be kept exact (a move failed or a transaction raced a restart)',
        );
      this.pipeline.committed(tx, touched);
    } catch (err) {
      // Its entries may be in some logs only: until the slot replays it, no log's tail may be taken as whole.
      this.store.taint();
      this.appendFailure = err instanceof Error ? err : new Error(String(err));
      this.emit({
        event: 'error',
        message: `appending the transaction committed at ${tx.commitLsn} failed; it is not acknowledged and will be replayed: ${String(err)}`,
      });
    } finally {
      logs.release();
    }
  }

  /**
   * A Relation message precedes the first change of a table in each session and after every change of its
   * definition. What it shows (rename, columns, replica identity) invalidates shapes on its OID at once; then the
   * catalog is asked about every table it could concern (a new primary key or a drop shows only there). If the
   * catalog cannot be read, Electric's rule decides alone.
   */
  private onRelation(rel: RelationInfo): Promise<void> {
    return this.lock.run(async () => {
      for (const s of this.subqueries.affectedByRelation(rel)) this.invalidateShape(s, 'a subquery table changed');
      const hit: LiveShape[] = [];
      for (const s of this.registry.all()) {
        const named = s.schema === rel.schema && s.table === rel.table;
        if (s.state !== 'invalidated' && (s.tableOid === rel.oid || named)) hit.push(s);
      }
      if (hit.length === 0) return;
      if (rel.replicaIdentity !== 'full') this.publication.forget(rel.oid);
      const change = perLayout((s) => relationChange(s, rel));
      for (const s of hit) {
        const reason = change(s);
        if (reason !== undefined) this.invalidateShape(s, reason);
      }
      try {
        await this.schemaWatch.verify(tablesOf(hit.filter((s) => s.state === 'ready')));
      } catch (err) {
        this.emit({ event: 'error', message: `could not check the catalog after a relation change: ${String(err)}` });
        for (const s of hit)
          if (s.state !== 'invalidated' && affectedByRelation(s, rel)) this.invalidateShape(s, 'relation changed');
      }
    });
  }

  /** Checks the shapes' tables against the catalog; a failure is reported and the shapes are served as they are. */
  private checkTables(shapes: readonly LiveShape[]): Promise<void> {
    return this.verifyTables(tablesOf(shapes));
  }

  private async verifyTables(tables: Iterable<PublishedTable>): Promise<void> {
    try {
      await this.schemaWatch.verify(tables);
    } catch (err) {
      // The database restarting is not an operator's error: replication reconnects and the next check runs.
      const event = isConnectionLoss(err) ? 'warning' : 'error';
      this.emit({ event, message: `could not check the catalog for schema changes: ${String(err)}` });
    }
  }

  /** The periodic check: every ready shape's table, then tables no shape wants leave the publication. */
  private async checkSchema(): Promise<void> {
    // While replication is down the catalog is likely unreachable too; the check after reconnecting covers the gap.
    if (this.schemaChecking || this.closed || this.state !== 'active') return;
    this.schemaChecking = true;
    try {
      // The ready shapes' tables, without an array of every shape.
      const tables = new Map<number, PublishedTable>();
      for (const s of this.registry.all())
        if (s.state === 'ready' && !tables.has(s.tableOid))
          tables.set(s.tableOid, { oid: s.tableOid, schema: s.schema, table: s.table });
      await this.verifyTables(tables.values());
      if (this.publication.hasUnwanted()) await this.publication.sync();
    } catch (err) {
      const event = isConnectionLoss(err) ? 'warning' : 'error';
      this.emit({ event, message: `could not reconcile the publication: ${String(err)}` });
    } finally {
      this.schemaChecking = false;
    }
  }

  private onReplicationEvent(e: ReplicationEvent): void {
    if (e.type === 'lag') this.lagBytes = Number(e.lagBytes);
    else if (e.type === 'connected') this.state = 'active';
    else if (e.type === 'disconnected' && !this.closed) this.state = 'waiting';
    if (e.type !== 'lag') this.emit({ event: 'replication', detail: e });
  }

  // --- shapes ------------------------------------------------------------------------------------------------------

  private readyShape(handle: string): LiveShape | undefined {
    const s = this.registry.get(handle);
    return s !== undefined && s.state === 'ready' ? s : undefined;
  }

  /** Brings back every stored shape whose snapshot completed; the others are dropped (clients get 409 and refetch). */
  private async resume(): Promise<void> {
    const tables = new Map<string, TableInfo | undefined>();
    let count = 0;
    let dropped = 0;
    const stored = [...this.registry.stored()];
    for (const { definition: d } of stored) {
      const tk = `${d.schema}\u0000${d.table}`;
      if (!tables.has(tk)) tables.set(tk, await loadTable(await this.adminClient(), d.schema, d.table));
    }
    const drop = (st: StoredShape): void => {
      this.registry.dropStored(st.handle);
      this.store.deleteLog(st.handle);
      dropped++;
    };
    /** Subquery shapes, resumed after the others: their sets and rows are read again (under a new snapshot). */
    const resuming: [LiveShape, ShapeRecord, TableInfo][] = [];
    /**
     * The others, per table: added to its router in bulk (no promise per shape). A shape is registered first: the
     * table's router reads its definition from the registry if it is rebuilt.
     */
    const byTable = new Map<
      string,
      { schema: string; table: string; shapes: LiveShape[]; adds: Parameters<TableRouters['addMany']>[2][number][] }
    >();
    const rewrite = new Set<LiveShape>();
    for (const st of stored) {
      const d = st.definition;
      const tk = `${d.schema}\u0000${d.table}`;
      const table = tables.get(tk);
      if (!this.snapshotStored(st) || table === undefined || table.oid !== st.layout.tableOid) {
        drop(st);
        continue;
      }
      if (hasSubqueries(d)) {
        const shape = this.registry.registerStored(st);
        shape.persisted = false;
        shape.visibility = undefined;
        resuming.push([shape, recordOf(shape), table]);
        continue;
      }
      let group = byTable.get(tk);
      if (group === undefined) {
        await this.routers.ensureTable(d.schema, d.table, columnTypes(table));
        byTable.set(tk, (group = { schema: d.schema, table: d.table, shapes: [], adds: [] }));
      }
      const shape = this.registry.registerStored(st);
      if (!st.done) rewrite.add(shape);
      group.shapes.push(shape);
      group.adds.push({ id: st.handle, where: d.where?.trim() === '' ? undefined : d.where, params: d.params });
    }
    for (const group of byTable.values()) {
      const refused = new Set(await this.routers.addMany(group.schema, group.table, group.adds));
      for (const shape of group.shapes) {
        if (refused.has(shape.handle)) {
          this.registry.remove(shape);
          this.store.deleteLog(shape.handle);
          dropped++;
          continue;
        }
        shape.state = 'ready';
        // Its log is read on first use (a read, an append, a wait), not here.
        shape.resumeCold(this.store.cleanStart);
        // A record from before completions were recorded: rewritten, so the next start need not check its log.
        if (rewrite.has(shape)) this.registry.persist(shape);
        count++;
      }
    }
    const resumed = await this.resumeSubqueryShapes(resuming);
    count += resumed;
    dropped += resuming.length - resumed;
    this.resumed = true;
    this.emit({ event: 'shape_resumed', count, dropped });
  }

  /**
   * Subquery shapes: sets loaded again and each shape's log brought level with its rows under a new snapshot
   * (shapes/subquery-resume.ts), made durable before anyone reads them. One that cannot be is dropped (409). Returns
   * how many were resumed.
   */
  private async resumeSubqueryShapes(resuming: readonly [LiveShape, ShapeRecord, TableInfo][]): Promise<number> {
    const deps = {
      admin: () => this.adminClient(),
      routers: this.routers,
      subqueries: this.subqueries,
      pool: this.pool,
    };
    const ends: [LiveShape, LogOffset | undefined][] = [];
    let appended = 0;
    for (const [shape, record, table] of resuming) {
      try {
        const r = await resumeSubqueryShape(deps, shape, record, table);
        appended += r.appended;
        ends.push([shape, r.end]);
      } catch (err) {
        if (!(err instanceof NotResumable)) throw err;
        this.registry.remove(shape);
        this.registry.dropStored(shape.handle);
        this.store.deleteLog(shape.handle);
        this.emit({ event: 'warning', message: `subquery shape ${shape.handle} dropped at restart: ${err.message}` });
      }
    }
    if (appended > 0) await this.store.syncAll();
    for (const [shape, end] of ends) {
      shape.appendedEnd = end;
      shape.readableEnd = end;
      shape.persisted = true;
      shape.state = 'ready';
    }
    return ends.length;
  }

  /**
   * Whether a stored shape's snapshot is complete on disk: recorded with the record once durable (its log directory
   * was made durable before, so it is not looked up: a restart touches no log file); records written before that was
   * recorded have their log checked (which loads it).
   */
  private snapshotStored(st: StoredShape): boolean {
    if (st.done) return true;
    return this.store.getLog(st.handle)?.snapshotState() === 'complete';
  }

  /**
   * Deletes logs without a shape (creations that never committed, shapes dropped at resume), listing the directory in
   * the background after start. Only handles issued before the start are candidates: a creation makes its log
   * directory a few awaits before it registers the shape (deleting it then failed the store with ENOENT). An orphan
   * whose handle's clock value was never committed before a crash is newer than `issuedBefore`: the next start
   * removes it.
   */
  private async removeOrphanLogs(issuedBefore: bigint): Promise<void> {
    let removed = 0;
    try {
      for await (const h of this.store.scanLogs()) {
        if (this.closed) return;
        if (!issuedNoLaterThan(h, issuedBefore)) continue;
        if (this.registry.get(h) === undefined && this.store.deleteLog(h)) removed++;
      }
    } catch (err) {
      this.emit({ event: 'error', message: `removing logs without a shape failed: ${String(err)}` });
    }
    if (removed > 0) this.emit({ event: 'orphan_logs_removed', count: removed });
  }

  /** The tables of every shape not invalidated: what the publication must hold. */
  private *wantedTables(): Iterable<PublishedTable> {
    for (const s of this.registry.all())
      if (s.state !== 'invalidated') yield { oid: s.tableOid, schema: s.schema, table: s.table };
    yield* this.subqueries.published();
  }

  private startSchemaChecks(): void {
    const ms = this.opts.schemaCheckIntervalMs ?? 5000;
    if (ms <= 0) return;
    this.schemaTimer = setInterval(() => void this.checkSchema(), ms);
    this.schemaTimer.unref();
  }

  /** Shapes registered under the table's name (its router's shapes: the ready ones and those being snapshotted). */
  private *shapesOfTable(t: PublishedTable): Iterable<LiveShape> {
    for (const id of this.routers.shapesOf(t.schema, t.table)) {
      const s = this.registry.get(id);
      if (s !== undefined) yield s;
    }
  }

  /** Invalidates every shape on one of these tables (by OID). */
  private invalidateTables(oids: ReadonlySet<number>, reason: string): void {
    for (const s of [...this.registry.all()]) if (oids.has(s.tableOid)) this.invalidateShape(s, reason);
  }

  private invalidateWith(handle: string, reason: string): void {
    const s = this.registry.get(handle);
    if (s !== undefined) this.invalidateShape(s, reason);
  }

  /** Removes the shape from routing and storage; its handle is never served again and waiters get 'invalidated'. */
  private invalidateShape(s: LiveShape, reason: string): void {
    if (s.state === 'invalidated') return;
    const wasCreating = s.state === 'creating';
    s.state = 'invalidated';
    this.routers.remove(s.handle, s.schema, s.table);
    this.subqueries.detach(s.handle);
    this.registry.remove(s);
    // A shape mid-snapshot keeps its log until its creator sees the invalidation and discards it.
    if (!wasCreating) this.store.deleteLog(s.handle);
    s.invalidateWaiters();
    this.meta.commit().catch(this.reportFailure('meta commit'));
    this.emit({ event: 'shape_invalidated', handle: s.handle, table: `${s.schema}.${s.table}`, reason });
  }

  /**
   * Invalidates a shape whose clause ran out of the shape row budget on a row, and refuses its clause from now on:
   * re-created, it would be as costly on the next such row.
   */
  private invalidateTooExpensive(s: LiveShape, why: string): void {
    if (s.state === 'invalidated') return;
    this.tooExpensive.add(s.definition, why);
    this.tooExpensiveByTable.add(s.schema, s.table);
    this.invalidateShape(s, `too_expensive: ${why}`);
  }

  /** Drops a shape whose creation failed. */
  private discard(s: LiveShape): void {
    s.state = 'invalidated';
    this.routers.remove(s.handle, s.schema, s.table);
    this.subqueries.detach(s.handle);
    this.registry.remove(s);
    this.store.deleteLog(s.handle);
    s.invalidateWaiters();
    this.meta.commit().catch(this.reportFailure('meta commit'));
  }

  /** A rejection handler for a step nobody can retry here: the failure becomes an `error` event. */
  private reportFailure(what: string): (err: unknown) => void {
    return (err) => this.emit({ event: 'error', message: `${what} failed: ${String(err)}` });
  }

  private emit(e: ServiceEvent): void {
    try {
      this.opts.onEvent?.(e);
    } catch {
      // observers must not break the service
    }
  }

  private async adminClient(): Promise<pg.Client> {
    if (this.admin !== null) return this.admin;
    this.adminConnecting ??= (async () => {
      const c = new pg.Client({ connectionString: this.opts.databaseUrl, options: PINNED_SERVER_OPTIONS });
      c.on('error', () => {
        if (this.admin === c) this.admin = null;
      });
      c.on('end', () => {
        if (this.admin === c) this.admin = null;
      });
      await c.connect();
      this.admin = c;
      return c;
    })().finally(() => {
      this.adminConnecting = null;
    });
    return this.adminConnecting;
  }
}

/** The distinct tables (by OID) of these shapes. */
function tablesOf(shapes: Iterable<LiveShape>): PublishedTable[] {
  const byOid = new Map<number, PublishedTable>();
  for (const s of shapes) byOid.set(s.tableOid, { oid: s.tableOid, schema: s.schema, table: s.table });
  return [...byOid.values()];
}
