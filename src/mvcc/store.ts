/**
 * The etcd store, protocol-neutral: KV, leases, compaction and watches over the revision index,
 * with every write a job of the log's writer and every linearizable read behind the log's fence.
 * This file wires the parts and is the rpc layer's one entry point.
 */
import type { Logger } from 'pino';
import type { Log } from '../log/log';
import type { AlarmKind, AlarmMember, Batch, LogIdentity } from '../log/types';
import { AuthAdmin } from './auth/auth-admin';
import { hashKVAt, hashOf, writeSnapshot, type BackendIdentity, type HashKVResult, type HashResult, type SnapshotFile } from './backup';
import { AuthGuard } from './auth/auth-guard';
import { AuthState } from './auth/auth-state';
import { AutoCompactor, type AutoCompactionPolicy } from './auto-compactor';
import { NO_CREDENTIALS, type Credentials } from './auth/types';
import { Compaction } from './compaction';
import { LeaseTable } from './lease-table';
import { Lessor } from './lessor';
import { LogApplier } from './log-applier';
import { ReadView } from './read-view';
import { RevisionIndex, type Change } from './revision-index';
import { COST_LEASE_GRANT, costPut, costTxn, SpaceGuard } from './space-guard';
import { txnWrites } from './txn';
import type {
  CompactionRequest,
  CompactionResponse,
  DbSize,
  DeleteRangeRequest,
  DeleteRangeResponse,
  LeaseGrantResponse,
  LeaseKeepAliveResponse,
  LeaseLeasesResponse,
  LeaseRevokeResponse,
  LeaseTimeToLiveResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  TxnRequest,
  TxnResponse,
  WatchSink,
  WatchStream,
} from './types';
import { waitDeleted } from './watch/wait-delete';
import { WatchHub } from './watch/watch-hub';
import { WriteTxn } from './write-txn';

export interface StoreOptions {
  watchProgressNotifyIntervalMs: number;
  /** How often leases are checked for expiry. */
  leaseCheckIntervalMs?: number;
  /** etcd's auto compaction; none when absent. */
  autoCompaction?: AutoCompactionPolicy;
}

/** Auto compaction attempts by outcome (read by the metrics endpoint). */
export interface AutoCompactionCounts {
  compacted: number;
  skipped: number;
  failed: number;
}

/** Who may make a request that is not about keys: any named user, or only the root role. */
export type Clearance = 'user' | 'admin';

export class Store {
  readonly index = new RevisionIndex();
  private readonly leases = new LeaseTable();
  private readonly authState = new AuthState();
  /** The one place permissions are decided; the rpc layer asks it about watches. */
  readonly guard = new AuthGuard(this.authState, this.leases);
  private readonly authAdmin = new AuthAdmin(this.authState, this.guard);
  private readonly hub: WatchHub;
  private readonly lessor: Lessor;
  private readonly compaction: Compaction;
  private readonly applier: LogApplier;
  private readonly logger: Logger;
  private readonly autoCompactor: AutoCompactor | undefined;
  private readonly space: SpaceGuard;
  readonly autoCompactions: AutoCompactionCounts = { compacted: 0, skipped: 0, failed: 0 };
  identity: LogIdentity = { clusterId: 0n, memberId: 0n };
  /** What simple tokens are signed with, shared by every instance on the database. */
  authTokenSecret: Buffer = Buffer.alloc(0);

  /** `baseLog` is the process logger; each component gets its own child. */
  constructor(
    private readonly log: Log,
    baseLog: Logger,
    private readonly opts: StoreOptions,
  ) {
    this.logger = baseLog.child({ component: 'store' });
    this.hub = new WatchHub(this.index, baseLog.child({ component: 'watch' }), opts.watchProgressNotifyIntervalMs);
    this.lessor = new Lessor(this.leases, this.index, log, (b) => this.writeIn(b), baseLog.child({ component: 'lessor' }));
    this.compaction = new Compaction(this.index, this.hub, log, this.logger);
    this.space = new SpaceGuard(log.alarms, () => this.identity.memberId);
    this.applier = new LogApplier(
      this.index,
      this.leases,
      this.authState,
      this.hub,
      (rev) => this.compaction.applyRemote(rev),
      this.applyChanges,
    );
    if (opts.autoCompaction) {
      // The server's own compactor acts as etcd's does: no user, no permission check.
      this.autoCompactor = new AutoCompactor(opts.autoCompaction, {
        revision: () => this.index.revision,
        compactRevision: () => this.index.compactRevision,
        compact: (revision) => this.compaction.compact({ revision, physical: false }),
        onResult: (r) => this.autoCompactions[r]++,
        log: baseLog.child({ component: 'auto-compactor' }),
      });
    }
  }

  /** Opens the log, loads the index, the leases and the compaction point, and starts expiring leases. */
  async open(): Promise<void> {
    const started = Date.now();
    const { identity, authTokenSecret, rows } = await this.log.open(this.applier);
    this.identity = identity;
    this.authTokenSecret = authTokenSecret;
    this.lessor.start(this.opts.leaseCheckIntervalMs ?? 250);
    this.autoCompactor?.start();
    this.logger.info(
      {
        revision: this.index.revision,
        compactRevision: this.index.compactRevision,
        keys: this.index.keyCount,
        rows,
        ms: Date.now() - started,
      },
      'store loaded',
    );
  }

  /** Stops timers and watches, lets queued writes commit, and closes the log. */
  async close(): Promise<void> {
    await this.autoCompactor?.stop();
    this.lessor.stop();
    this.hub.stop();
    await this.log.close();
  }

  get revision(): number {
    return this.index.revision;
  }

  /**
   * Every request takes the caller's credentials; the permission check runs where etcd makes it:
   * inside the write job (under the fence) for writes, after the fence for linearizable reads, on
   * local state for serializable ones.
   */
  async range(req: RangeRequest, who: Credentials = NO_CREDENTIALS): Promise<RangeResponse> {
    if (!req.serializable) await this.log.linearize();
    this.guard.checkRange(who, req.key, req.range_end);
    return new ReadView(this.index, this.index.revision).range(req);
  }

  put(req: PutRequest, who: Credentials = NO_CREDENTIALS): Promise<PutResponse> {
    const refused = this.space.check(costPut(req));
    if (refused) return refused;
    return this.write((w) => {
      this.guard.checkPut(who, req);
      return w.put(req);
    });
  }

  deleteRange(req: DeleteRangeRequest, who: Credentials = NO_CREDENTIALS): Promise<DeleteRangeResponse> {
    const refused = this.space.refusedIfCorrupt();
    if (refused) return refused;
    return this.write((w) => {
      this.guard.checkDeleteRange(who, req);
      return w.deleteRange(req);
    });
  }

  async txn(req: TxnRequest, who: Credentials = NO_CREDENTIALS): Promise<TxnResponse> {
    if (txnWrites(req)) {
      const refused = this.space.check(costTxn(req));
      if (refused) return refused;
      return this.write((w) => {
        this.guard.checkTxn(who, req);
        return w.txn(req);
      });
    }
    await this.log.linearize();
    this.guard.checkTxn(who, req);
    return new ReadView(this.index, this.index.revision).txn(req);
  }

  compact(req: CompactionRequest, who: Credentials = NO_CREDENTIALS): Promise<CompactionResponse> {
    const refused = this.space.refusedIfCorrupt();
    if (refused) return refused;
    return this.compaction.compact(req, () => this.guard.requireAdmin(who));
  }

  leaseGrant(id: bigint, ttl: number, who: Credentials = NO_CREDENTIALS): Promise<LeaseGrantResponse> {
    const refused = this.space.check(COST_LEASE_GRANT);
    if (refused) return refused;
    return this.lessor.grant(id, ttl, () => this.guard.requireUser(who));
  }

  leaseRevoke(id: bigint, who: Credentials = NO_CREDENTIALS): Promise<LeaseRevokeResponse> {
    const refused = this.space.refusedIfCorrupt();
    if (refused) return refused;
    return this.lessor.revoke(id, () => this.guard.checkLeaseKeys(who, id, 'write'));
  }

  leaseKeepAlive(id: bigint, who: Credentials = NO_CREDENTIALS): Promise<LeaseKeepAliveResponse> {
    return this.lessor.keepAlive(id, () => this.guard.checkLeaseKeys(who, id, 'write'));
  }

  /** Only a request for the keys needs to be able to read them. */
  leaseTimeToLive(id: bigint, withKeys: boolean, who: Credentials = NO_CREDENTIALS): Promise<LeaseTimeToLiveResponse> {
    return this.lessor.timeToLive(id, withKeys, () =>
      withKeys ? this.guard.checkLeaseKeys(who, id, 'read') : this.guard.requireUser(who),
    );
  }

  leaseLeases(who: Credentials = NO_CREDENTIALS): Promise<LeaseLeasesResponse> {
    return this.lessor.leases(() => this.guard.checkAllLeaseKeys(who));
  }

  /** For requests that are not about keys (Status, Defragment, MemberList…): after the fence, as a linearizable read. */
  async authorize(who: Credentials, clearance: Clearance): Promise<void> {
    await this.log.linearize();
    if (clearance === 'admin') this.guard.requireAdmin(who);
    else this.guard.requireUser(who);
  }

  /** An auth change: a write job whose checks see the auth state under the fence. */
  authWrite<T>(fn: (admin: AuthAdmin, b: Batch) => T): Promise<T> {
    return this.log.submit((b) => fn(this.authAdmin, b));
  }

  /** An auth read (and Authenticate's look-up), after the fence. */
  async authRead<T>(fn: (admin: AuthAdmin) => T): Promise<T> {
    await this.log.linearize();
    return fn(this.authAdmin);
  }

  /** Whether auth is on here now (local state: for what etcd also decides locally, e.g. the gateway's certificate check). */
  get authEnabled(): boolean {
    return this.authState.enabled;
  }

  openWatch(sink: WatchSink): WatchStream {
    return this.hub.open(sink);
  }

  /**
   * Resolves when `key` is deleted at `fromRev` or later (Lock's and Election's wait); the caller
   * must be allowed to read the key, as a watch of it would require.
   */
  waitDeleted(key: Buffer, fromRev: number, who: Credentials, signal: AbortSignal): Promise<void> {
    this.guard.checkRange(who, key, Buffer.alloc(0));
    return waitDeleted(this.hub, key, fromRev, signal);
  }

  /** Gives free space back to the file system; writes wait meanwhile, as during etcd's defrag. */
  defragment(): Promise<void> {
    return this.log.defragment();
  }

  /**
   * The store at its last committed revision as etcd's backend db, in a scratch file the caller
   * streams and removes. Read from one consistent read of the log: writes go on meanwhile.
   */
  snapshot(id: BackendIdentity): Promise<SnapshotFile> {
    return this.log.readView((view) => writeSnapshot(view, id));
  }

  /** etcd's HashKV at `revision` (0: the current one), from one consistent read of the log. */
  hashKV(revision: number): Promise<HashKVResult> {
    return this.log.readView((view) => hashKVAt(view, revision));
  }

  /** A hash of the whole store (not etcd's: see snapshot/store-hash.ts). */
  hash(): Promise<HashResult> {
    return this.log.readView((view) => hashOf(view));
  }

  /** etcd's Alarm: GET lists (one type, or all for none); ACTIVATE and DEACTIVATE answer the alarm changed. */
  async alarm(
    action: 'get' | 'activate' | 'deactivate',
    member: AlarmMember | { memberId: bigint; alarm?: AlarmKind },
  ): Promise<AlarmMember[]> {
    const alarms = this.log.alarms;
    if (action === 'get') return alarms.get(member.alarm);
    if (!member.alarm) return [];
    const m = { memberId: member.memberId, alarm: member.alarm };
    const changed = action === 'activate' ? await alarms.activate(m) : await alarms.deactivate(m);
    return changed ? [changed] : [];
  }

  /** The alarms raised now (local view, refreshed from the database every second). */
  activeAlarms(): AlarmMember[] {
    return this.log.alarms.get();
  }

  /** Readings for metrics: watches, the database pool, and database outages that ended. */
  opsStats(): { watch: { streams: number; watchers: number }; pool: { inUse: number; idle: number } | undefined; recoveries: number } {
    return { watch: this.hub.counts(), pool: this.log.poolStats(), recoveries: this.log.outage.recoveries };
  }

  /** Committed revisions not yet applied here (watch lag), read from the database. */
  watchLag(): Promise<number> {
    return this.log.lag();
  }

  /** The space quota (0 or less: none) and the size it is measured against. */
  quota(): { quotaBytes: number; sizeBytes: number } {
    return { quotaBytes: this.log.alarms.quotaBytes, sizeBytes: this.log.alarms.sizeBytes };
  }

  dbSize(): Promise<DbSize> {
    return this.log.size();
  }

  /** One cheap database round trip (GET /health); rejects when the database is unreachable. */
  ping(): Promise<void> {
    return this.log.ping();
  }

  private write<T>(fn: (w: WriteTxn) => T): Promise<T> {
    return this.log.submit((b) => {
      const w = this.writeIn(b);
      const out = fn(w);
      w.finish();
      return out;
    });
  }

  private writeIn(b: Batch): WriteTxn {
    return new WriteTxn(this.index, this.leases, b, this.applyChanges);
  }

  /** Committed changes (local or another instance's) become visible and reach the watchers. */
  private readonly applyChanges = (changes: Change[], upTo: number): void => {
    const prev = this.index.revision;
    this.index.commitTo(changes, upTo);
    this.hub.notify(changes, prev);
  };
}
