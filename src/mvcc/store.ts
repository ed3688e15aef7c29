/**
 * The etcd store, protocol-neutral: KV, leases, compaction and watches over the revision index,
 * with every write going through the log writer and every linearizable read through the fence.
 */
import type { Logger } from 'pino';
import { randomBytes } from 'node:crypto';
import type { Dialect, LogRow, Marks } from '../dialect/dialect';
import { Errors } from '../errors';
import { Compactor } from '../log/compactor';
import { Fence } from '../log/fence';
import { Follower } from '../log/follower';
import { Tailer } from '../log/tailer';
import { openLog, type StoreIdentity } from '../log/schema';
import { Writer, type BatchContext } from '../log/writer';
import { Mutation, txnWrites } from './apply';
import { RevisionIndex, type Version } from './index';
import { effectiveTTL, LeaseTable, type Lease } from './leases';
import type {
  CompactionRequest,
  DeleteRangeRequest,
  DeleteRangeResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  TxnRequest,
  TxnResponse,
  CompactionResponse,
  DbSize,
  LeaseGrantResponse,
  LeaseKeepAliveResponse,
  LeaseLeasesResponse,
  LeaseRevokeResponse,
  LeaseTimeToLiveResponse,
  WatchSink,
  WatchStream,
} from './types';
import { WatchHub } from './watch-hub';

export interface StoreOptions {
  watchProgressNotifyIntervalMs: number;
  /** How often leases are checked for expiry. */
  leaseCheckIntervalMs?: number;
  /** How often the log is polled for other instances' writes (databases without notifications). */
  pollIntervalMs?: number;
}


const LOAD_CHUNK = 10_000;

export class Store {
  readonly index = new RevisionIndex();
  readonly leases = new LeaseTable();
  readonly hub: WatchHub;
  private readonly writer: Writer;
  private readonly fence: Fence;
  private readonly follower: Follower;
  private readonly tailer: Tailer;
  private readonly compactor: Compactor;
  private expiryTimer: NodeJS.Timeout | undefined;
  private readonly expiring = new Set<bigint>();
  identity: StoreIdentity = { clusterId: 0n, memberId: 0n };

  private readonly log: Logger;

  /** `baseLog` is the process logger; each component gets its own child. */
  constructor(
    readonly dialect: Dialect,
    baseLog: Logger,
    private readonly opts: StoreOptions,
  ) {
    const log = baseLog.child({ component: 'store' });
    this.log = log;
    this.hub = new WatchHub(this.index, baseLog.child({ component: 'watch' }), opts.watchProgressNotifyIntervalMs);
    this.follower = new Follower({
      appliedRevision: () => this.index.revision,
      compactRevision: () => this.index.compactRevision,
      applyRemote: (rows, upTo) => this.applyRemote(rows, upTo),
      syncLeases: (rows) => this.leases.sync(rows),
      compactRemote: (rev) => this.compactRemote(rev),
      reload: (marks) => this.reload(marks),
    });
    const instanceId = randomBytes(6).toString('hex');
    this.writer = new Writer(
      dialect,
      this.follower,
      { committed: (rows, upTo) => this.committed(rows, upTo) },
      baseLog.child({ component: 'writer' }),
      instanceId,
    );
    this.fence = new Fence(dialect);
    this.tailer = new Tailer(dialect, this.follower, baseLog.child({ component: 'tailer' }), opts.pollIntervalMs ?? 20);
    this.compactor = new Compactor(dialect, baseLog.child({ component: 'compactor' }));
  }

  /** Opens the database and loads the index, the leases and the compaction point. */
  async open(): Promise<void> {
    const started = Date.now();
    this.identity = await openLog(this.dialect);
    const { marks, rows } = await this.loadState(await this.dialect.readMarks());
    const compactRev = marks.compactRevision;
    await this.compactor.init();
    void this.compactor.compactTo(compactRev).catch((e: Error) => this.log.error({ err: e }, 'compaction failed'));
    await this.tailer.start();
    this.expiryTimer = setInterval(() => this.expireLeases(), this.opts.leaseCheckIntervalMs ?? 250);
    this.expiryTimer.unref();
    this.log.info(
      { revision: this.index.revision, compactRevision: compactRev, keys: this.index.keyCount, rows, ms: Date.now() - started },
      'store loaded',
    );
  }

  /**
   * Replaces memory (index, leases) with the database's state at `marks`: at start, and when this
   * instance fell behind a compaction that may have deleted rows it never applied. Rows committed
   * after the marks are left to the tailer. A compaction committed during the load may delete rows
   * under it (a tombstone after its key's put was read), so the load repeats until none did.
   */
  private async loadState(first: Marks): Promise<{ marks: Marks; rows: number }> {
    for (let marks = first; ; ) {
      const entries: Array<[string, Version]> = [];
      let after = { rev: 0, sub: -1 };
      for (;;) {
        const rows = await this.dialect.loadRows(after.rev, after.sub, LOAD_CHUNK);
        for (const r of rows) if (r.revision <= marks.revision) entries.push([r.key.toString('latin1'), rowVersion(r)]);
        if (rows.length < LOAD_CHUNK || rows[rows.length - 1].revision > marks.revision) break;
        const last = rows[rows.length - 1];
        after = { rev: last.revision, sub: last.sub };
      }
      const leases = await this.dialect.loadLeases();
      const now = await this.dialect.readMarks();
      if (now.compactRevision !== marks.compactRevision) {
        marks = now;
        continue;
      }
      this.index.reset();
      this.index.load(entries);
      this.index.revision = marks.revision;
      this.index.compact(marks.compactRevision);
      this.index.recountLive();
      this.leases.reset(leases);
      this.follower.leaseStamp = marks.leaseStamp;
      this.index.forEachHistory({ start: '', end: null }, (h) => {
        const v = h.at(this.index.revision);
        if (v && v.lease !== 0n) this.leases.attachLoaded(v.lease, h.k);
      });
      return { marks, rows: entries.length };
    }
  }

  /** Fell behind a compaction: reload, then watchers behind it are cancelled and the rest catch up. */
  private async reload(marks: Marks): Promise<void> {
    const started = Date.now();
    const from = this.index.revision;
    const loaded = await this.loadState(marks);
    this.hub.reloaded();
    this.log.warn(
      { from, revision: loaded.marks.revision, compactRevision: loaded.marks.compactRevision, rows: loaded.rows, ms: Date.now() - started },
      'fell behind a compaction by another instance; reloaded from the database',
    );
  }

  /** Stops timers and watches, lets queued writes commit, and closes the database. */
  async close(): Promise<void> {
    if (this.expiryTimer) clearInterval(this.expiryTimer);
    await this.tailer.stop();
    this.hub.stop();
    await this.writer.stop();
    await this.compactor.stop();
    await this.dialect.close();
  }

  get revision(): number {
    return this.index.revision;
  }

  private committed(rows: LogRow[], upTo: number): void {
    const prev = this.index.revision;
    this.index.commitTo(rows, upTo);
    this.hub.notify(rows, prev);
  }

  private applyRemote(rows: LogRow[], upTo: number): void {
    if (upTo <= this.index.revision) return;
    const fresh = rows.filter((r) => r.revision > this.index.revision);
    for (const r of fresh) {
      const k = r.key.toString('latin1');
      const before = this.index.get(k)?.at(this.index.revision);
      this.index.append(k, rowVersion(r));
      this.leases.move(null, k, before?.lease ?? 0n, r.deleted ? 0n : r.lease);
    }
    this.committed(fresh, upTo);
  }

  private compactRemote(rev: number): void {
    this.index.compact(rev);
    this.hub.compacted();
    this.log.info({ revision: rev }, 'compaction by another instance applied');
  }

  /** Waits until memory holds everything committed before the call (etcd's linearizable read). */
  private async linearize(): Promise<void> {
    await this.tailer.catchUpTo(await this.fence.committed());
  }

  async range(req: RangeRequest): Promise<RangeResponse> {
    if (!req.serializable) await this.linearize();
    return new Mutation(this.index, this.leases, null).range(req);
  }

  put(req: PutRequest): Promise<PutResponse> {
    return this.writer.submit((ctx) => this.mutate(ctx, (m) => m.put(req)));
  }

  deleteRange(req: DeleteRangeRequest): Promise<DeleteRangeResponse> {
    return this.writer.submit((ctx) => this.mutate(ctx, (m) => m.deleteRange(req)));
  }

  async txn(req: TxnRequest): Promise<TxnResponse> {
    if (txnWrites(req)) return this.writer.submit((ctx) => this.mutate(ctx, (m) => m.txn(req)));
    await this.linearize();
    return new Mutation(this.index, this.leases, null).txn(req);
  }

  private mutate<T>(ctx: BatchContext, fn: (m: Mutation) => T): T {
    const m = new Mutation(this.index, this.leases, ctx);
    const out = fn(m);
    m.finish();
    return out;
  }

  async compact(req: CompactionRequest): Promise<CompactionResponse> {
    const rev = req.revision;
    const current = await this.writer.submit((ctx) => {
      if (rev > ctx.revision) throw Errors.futureRev();
      if (rev <= this.index.compactRevision) throw Errors.compacted();
      const before = this.index.compactRevision;
      // Reads below `rev` fail from now on; history is trimmed once this commits.
      this.index.compactRevision = rev;
      ctx.onUndo(() => (this.index.compactRevision = before));
      ctx.setMeta('compact_revision', String(rev));
      return ctx.revision;
    });
    this.index.compact(rev);
    this.hub.compacted();
    const physical = this.compactor.compactTo(rev);
    if (req.physical) await physical;
    else physical.catch((e: Error) => this.log.error({ err: e }, 'compaction failed'));
    return { header: { revision: current } };
  }

  async leaseGrant(id: bigint, ttl: number): Promise<LeaseGrantResponse> {
    const effective = effectiveTTL(ttl);
    return this.writer.submit((ctx) => {
      const lease = this.leases.grant(ctx, id, effective);
      return { header: { revision: ctx.revision }, ID: lease.id, TTL: lease.ttl };
    });
  }

  leaseRevoke(id: bigint): Promise<LeaseRevokeResponse> {
    return this.writer.submit((ctx) => {
      const lease = this.leases.get(id);
      if (!lease) throw Errors.leaseNotFound();
      return { header: { revision: this.revokeIn(ctx, lease) } };
    });
  }

  /** Renews a lease; TTL 0 answers an unknown or expired lease, as etcd does. */
  leaseKeepAlive(id: bigint): Promise<LeaseKeepAliveResponse> {
    return this.writer.submit((ctx) => ({ header: { revision: ctx.revision }, ID: id, TTL: this.leases.renew(ctx, id) }));
  }

  async leaseTimeToLive(id: bigint, withKeys: boolean): Promise<LeaseTimeToLiveResponse> {
    await this.linearize();
    const header = { revision: this.index.revision };
    const lease = this.leases.get(id);
    if (!lease) return { header, ID: id, TTL: -1, grantedTTL: 0, keys: [] };
    const remaining = Math.max(0, Math.trunc((lease.expiresAt - Date.now()) / 1000));
    const keys = withKeys ? [...lease.keys].sort().map((k) => Buffer.from(k, 'latin1')) : [];
    return { header, ID: id, TTL: remaining, grantedTTL: lease.ttl, keys };
  }

  async leaseLeases(): Promise<LeaseLeasesResponse> {
    await this.linearize();
    return { header: { revision: this.index.revision }, leases: [...this.leases.all()].map((l) => l.id) };
  }

  /** Deletes a lease's keys at one revision (in key order, as etcd does) and drops the lease. */
  private revokeIn(ctx: BatchContext, lease: Lease): number {
    const m = new Mutation(this.index, this.leases, ctx);
    for (const k of [...lease.keys].sort()) m.deleteKey(k);
    this.leases.remove(ctx, lease.id);
    return m.finish();
  }

  private expireLeases(): void {
    for (const id of this.leases.expiredBy(Date.now())) {
      if (this.expiring.has(id)) continue;
      this.expiring.add(id);
      this.writer
        .submit((ctx) => {
          const lease = this.leases.get(id);
          // Judged again by the database clock, under the fence.
          if (!lease || lease.expiresAt > ctx.nowMs) return false;
          this.revokeIn(ctx, lease);
          return true;
        })
        .then((expired) => expired && this.log.info({ lease: id.toString(16) }, 'lease expired'))
        .catch((e: Error) => this.log.warn({ err: e, lease: id.toString(16) }, 'lease expiry failed; will retry'))
        .finally(() => this.expiring.delete(id));
    }
  }

  openWatch(sink: WatchSink): WatchStream {
    return this.hub.open(sink);
  }

  /** Gives free space back to the file system; writes wait meanwhile, as during etcd's defrag. */
  defragment(): Promise<void> {
    return this.writer.submit(() => undefined).then(() => this.dialect.defragment());
  }

  dbSize(): Promise<DbSize> {
    return this.dialect.dbSize();
  }

  /** One cheap database round trip (GET /health); rejects when the database is unreachable. */
  async ping(): Promise<void> {
    await this.dialect.readMarks();
  }
}

function rowVersion(r: LogRow): Version {
  return {
    main: r.revision,
    sub: r.sub,
    createRevision: r.createRevision,
    version: r.version,
    lease: r.lease,
    value: r.value,
    deleted: r.deleted,
  };
}
