/**
 * The etcd store, protocol-neutral: KV, leases, compaction and watches over the revision index,
 * with every write a job of the log's writer and every linearizable read behind the log's fence.
 * This file wires the parts and is the rpc layer's one entry point.
 */
import type { Logger } from 'pino';
import type { Log, WriterLeaseCalls } from '../log/log';
import type { Batch, LogIdentity } from '../log/types';
import { AuthAdmin } from './auth/auth-admin';
import { AuthGuard } from './auth/auth-guard';
import { AuthState } from './auth/auth-state';
import { AutoCompactor, type AutoCompactionPolicy } from './auto-compactor';
import { NO_CREDENTIALS, type Credentials } from './auth/types';
import { Compaction } from './compaction';
import { LeaseTable } from './lease-table';
import { Lessor } from './lessor';
import { LogApplier } from './log-applier';
import { StoreMaintenance } from './maintenance';
import { ReadView } from './read-view';
import { RevisionIndex, type Change } from './revision-index';
import { LeaseCalls } from './lease-calls';
import { SpaceGuard } from './space-guard';
import { txnWrites } from './txn';
import type {
  CompactionRequest,
  CompactionResponse,
  DeleteRangeRequest,
  DeleteRangeResponse,
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
import { KvWrites } from './kv-writes';
import type { RoutedWrite, RoutedWrites, WriteOp, WriteRoute } from './write-route';

/** The writer lease's calls, as the rpc layer's election sees them (it sits on mvcc, not on the log). */
export type { WriterLeaseCalls };

interface StoreOptions {
  watchProgressNotifyIntervalMs: number;
  /** How often leases are checked for expiry. */
  leaseCheckIntervalMs?: number;
  /** etcd's auto compaction; none when absent. */
  autoCompaction?: AutoCompactionPolicy;
}

/** Auto compaction attempts by outcome (read by the metrics endpoint). */
interface AutoCompactionCounts {
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
  private readonly writes: KvWrites;
  /** Defragment, snapshots, hashes, alarms and the readings /health and /metrics take. */
  readonly maintenance: StoreMaintenance;
  /** etcd's Lease service on the lessor, with its permission and space checks. */
  readonly lease: LeaseCalls;
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
    this.writes = new KvWrites({
      space: this.space,
      guard: this.guard,
      write: (fn, deadline) => this.write(fn, deadline),
      revision: () => this.index.revision,
      linearize: () => this.log.linearize(),
    });
    this.maintenance = new StoreMaintenance(log, this.hub);
    this.lease = new LeaseCalls(this.lessor, this.guard, this.space);
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

  /** The database engine (galera, mysql, postgres…). */
  get engine(): string {
    return this.log.engine;
  }

  /** The writer lease, where the database can elect one instance to write for the others. */
  get writerLease(): WriterLeaseCalls | undefined {
    return this.log.writerLease;
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

  /** `deadline` (Date.now() clock): when the caller stops waiting; etcd's request timeout when absent. */
  put(req: PutRequest, who: Credentials = NO_CREDENTIALS, deadline?: number): Promise<PutResponse> {
    return this.writes.put(req, who, deadline);
  }

  deleteRange(req: DeleteRangeRequest, who: Credentials = NO_CREDENTIALS, deadline?: number): Promise<DeleteRangeResponse> {
    return this.writes.deleteRange(req, who, deadline);
  }

  async txn(req: TxnRequest, who: Credentials = NO_CREDENTIALS, deadline?: number): Promise<TxnResponse> {
    if (txnWrites(req)) return this.writes.txn(req, who, deadline);
    await this.log.linearize();
    this.guard.checkTxn(who, req);
    return new ReadView(this.index, this.index.revision).txn(req);
  }

  /** A write another instance forwarded here (this instance is the elected writer): committed here. */
  commitHere(w: RoutedWrite): Promise<RoutedWrites[WriteOp]['res']> {
    return this.writes.commitHere(w);
  }

  /** Where client writes commit (an elected writer, or here); none: always here. */
  set route(route: WriteRoute | undefined) {
    this.writes.route = route;
  }

  compact(req: CompactionRequest, who: Credentials = NO_CREDENTIALS): Promise<CompactionResponse> {
    const refused = this.space.refusedIfCorrupt();
    if (refused) return refused;
    return this.compaction.compact(req, () => this.guard.requireAdmin(who));
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

  private write<T>(fn: (w: WriteTxn) => T, deadline?: number): Promise<T> {
    return this.log.submit((b) => {
      const w = this.writeIn(b);
      const out = fn(w);
      w.finish();
      return out;
    }, deadline);
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
