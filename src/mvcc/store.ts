/**
 * The etcd store, protocol-neutral: KV, leases, compaction and watches over the revision index,
 * with every write a job of the log's writer and every linearizable read behind the log's fence.
 * This file wires the parts and is the rpc layer's one entry point.
 */
import type { Logger } from 'pino';
import type { Log } from '../log/log';
import type { Batch, LogIdentity } from '../log/types';
import { Compaction } from './compaction';
import { LeaseTable } from './lease-table';
import { Lessor } from './lessor';
import { LogApplier } from './log-applier';
import { ReadView } from './read-view';
import { RevisionIndex, type Change } from './revision-index';
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
import { WatchHub } from './watch/watch-hub';
import { WriteTxn } from './write-txn';

export interface StoreOptions {
  watchProgressNotifyIntervalMs: number;
  /** How often leases are checked for expiry. */
  leaseCheckIntervalMs?: number;
}

export class Store {
  readonly index = new RevisionIndex();
  private readonly leases = new LeaseTable();
  private readonly hub: WatchHub;
  private readonly lessor: Lessor;
  private readonly compaction: Compaction;
  private readonly applier: LogApplier;
  private readonly logger: Logger;
  identity: LogIdentity = { clusterId: 0n, memberId: 0n };

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
    this.applier = new LogApplier(this.index, this.leases, this.hub, (rev) => this.compaction.applyRemote(rev), this.applyChanges);
  }

  /** Opens the log, loads the index, the leases and the compaction point, and starts expiring leases. */
  async open(): Promise<void> {
    const started = Date.now();
    const { identity, rows } = await this.log.open(this.applier);
    this.identity = identity;
    this.lessor.start(this.opts.leaseCheckIntervalMs ?? 250);
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
    this.lessor.stop();
    this.hub.stop();
    await this.log.close();
  }

  get revision(): number {
    return this.index.revision;
  }

  async range(req: RangeRequest): Promise<RangeResponse> {
    if (!req.serializable) await this.log.linearize();
    return new ReadView(this.index, this.index.revision).range(req);
  }

  put(req: PutRequest): Promise<PutResponse> {
    return this.write((w) => w.put(req));
  }

  deleteRange(req: DeleteRangeRequest): Promise<DeleteRangeResponse> {
    return this.write((w) => w.deleteRange(req));
  }

  async txn(req: TxnRequest): Promise<TxnResponse> {
    if (txnWrites(req)) return this.write((w) => w.txn(req));
    await this.log.linearize();
    return new ReadView(this.index, this.index.revision).txn(req);
  }

  compact(req: CompactionRequest): Promise<CompactionResponse> {
    return this.compaction.compact(req);
  }

  leaseGrant(id: bigint, ttl: number): Promise<LeaseGrantResponse> {
    return this.lessor.grant(id, ttl);
  }

  leaseRevoke(id: bigint): Promise<LeaseRevokeResponse> {
    return this.lessor.revoke(id);
  }

  leaseKeepAlive(id: bigint): Promise<LeaseKeepAliveResponse> {
    return this.lessor.keepAlive(id);
  }

  leaseTimeToLive(id: bigint, withKeys: boolean): Promise<LeaseTimeToLiveResponse> {
    return this.lessor.timeToLive(id, withKeys);
  }

  leaseLeases(): Promise<LeaseLeasesResponse> {
    return this.lessor.leases();
  }

  openWatch(sink: WatchSink): WatchStream {
    return this.hub.open(sink);
  }

  /** Gives free space back to the file system; writes wait meanwhile, as during etcd's defrag. */
  defragment(): Promise<void> {
    return this.log.defragment();
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
