/**
 * The revision log over SQL: the one thing mvcc is given, and the only holder of the dialect.
 * Writes go through the group-commit writer, linearizable reads through the fence, what other
 * instances commit reaches memory through the follower, and obsolete rows leave through the
 * compactor.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Dialect, WriterLease } from '../dialect/dialect';
import { Alarms } from './alarms';
import type { Job } from './batch';
import { EtcdError, Errors } from '../errors';
import { Compactor } from './compactor';
import { Fence } from './fence';
import { Follower } from './follower';
import { loadSnapshot } from './loader';
import { readLogView, type LogView } from './log-view';
import type { Marks } from './meta';
import { openSchema } from './schema';
import { Tailer } from './tailer';
import { observeDialect } from './observed-dialect';
import { Outage } from './outage';
import type { DbSize, LogFollower, LogIdentity, LogObserver } from './types';
import { BatchWriter } from './writer';
import { SOLO_QUIET_MS, SOLO_TTL_MS, SoloLease, soloReadsOn, startupWatchMs } from './solo';

interface LogOptions {
  /** How often the log is polled for other instances' writes (databases without notifications). */
  pollIntervalMs: number;
  /** etcd's --quota-backend-bytes, resolved (0 or less: no quota). */
  quotaBytes?: number;
  /** How often the database is measured and the shared alarm list re-read. */
  alarmRefreshMs?: number;
  /** Told of every SQL call, commit and retry (metrics). */
  observer?: LogObserver;
  /** SQL calls slower than this are logged (0: never). */
  slowSqlMs?: number;
  /** The next write batch is sent while the one ahead is in flight, where the dialect can (flight.ts). */
  pipelinedCommits?: boolean;
  /** --solo-reads (undefined: on where it can take effect), and its quiet period and lease length. */
  solo?: { on?: boolean; quietMs?: number; ttlMs?: number; writerElection?: boolean };
}

export type { WriterLease } from '../dialect/dialect';

/** Taking, renewing and ending the writer lease (Dialect.claimWriter). */
export interface WriterLeaseCalls {
  claim(owner: string, address: string, ttlMs: number): Promise<WriterLease>;
  release(owner: string): Promise<void>;
}

/** A start on a kine database with no strata data: final, never a reason to retry the connection. */
class KineDatabaseError extends Error {
  override name = 'KineDatabaseError';
}

export class Log {
  private readonly fence: Fence;
  private readonly compactor: Compactor;
  private follower!: Follower;
  private writer!: BatchWriter;
  private solo!: SoloLease;
  private tailer!: Tailer;
  private memory!: LogFollower;
  /** etcd's alarms and the space quota, shared by every instance on the database. */
  readonly alarms: Alarms;
  private memberId = 0n;
  private readonly dialect: Dialect;
  /** Whether the database is unreachable now, with one log line per outage. */
  readonly outage: Outage;

  constructor(
    dialect: Dialect,
    private readonly baseLog: Logger,
    private readonly opts: LogOptions,
  ) {
    const sqlLog = baseLog.child({ component: 'sql' });
    this.outage = new Outage(sqlLog, (e) => dialect.isUnreachable(e));
    this.dialect = observeDialect(dialect, { observer: opts.observer, slowSqlMs: opts.slowSqlMs ?? 0, log: sqlLog, outage: this.outage });
    this.fence = new Fence(this.dialect, (marks, sentAt) => this.solo?.observe(marks.solo, sentAt));
    this.compactor = new Compactor(this.dialect, baseLog.child({ component: 'compactor' }));
    this.alarms = new Alarms(
      this.dialect,
      { quotaBytes: opts.quotaBytes ?? 0, refreshMs: opts.alarmRefreshMs ?? 1000 },
      baseLog.child({ component: 'alarms' }),
    );
  }

  /**
   * Opens the database, hands memory the state it holds, resumes unfinished physical compaction
   * and starts following other instances. Returns the cluster identity and how many rows loaded.
   */
  async open(memory: LogFollower): Promise<{ identity: LogIdentity; authTokenSecret: Buffer; rows: number }> {
    this.memory = memory;
    this.follower = new Follower(memory, (marks) => this.reload(marks));
    const { identity, authTokenSecret } = await openSchema(this.dialect);
    const instanceId = randomBytes(6).toString('hex');
    this.solo = new SoloLease(
      instanceId,
      {
        enabled: soloReadsOn(this.dialect.capabilities.engine, this.opts.solo ?? {}),
        ttlMs: this.opts.solo?.ttlMs ?? SOLO_TTL_MS,
        quietMs: this.opts.solo?.quietMs ?? SOLO_QUIET_MS,
        startupWatchMs: startupWatchMs(this.opts.pollIntervalMs),
      },
      this.baseLog.child({ component: 'solo' }),
      // Reading the clock sends the batch through the fence, where the lease is taken or renewed.
      () => this.writer.submit((b) => void b.nowMs),
    );
    this.follower.foreign = () => this.solo.sawForeign('another instance committed');
    this.writer = new BatchWriter(
      this.dialect,
      this.follower,
      this.baseLog.child({ component: 'writer' }),
      instanceId,
      this.solo,
      {
        wrote: (bytes) => this.alarms.wrote(bytes),
        diskFull: () => void this.alarms.activate({ memberId: this.memberId, alarm: 'NOSPACE' }),
      },
      this.opts.observer,
      this.opts.pipelinedCommits ?? false,
    );
    this.tailer = new Tailer(
      this.dialect,
      this.fence,
      this.follower,
      this.baseLog.child({ component: 'tailer' }),
      this.opts.pollIntervalMs,
      () => this.solo.holding,
    );
    this.memberId = identity.memberId;
    const marks = await this.fence.read();
    // A k3s/kine database: serving an empty keyspace beside its data would re-bootstrap the cluster.
    if (marks.revision <= 1 && (await this.dialect.hasKineTable())) {
      throw new KineDatabaseError(
        "it holds kine's table (a k3s/kine datastore) and no strata data yet; convert it first with `strata import --from-kine <this endpoint>` (kine's table is only read), then start strata",
      );
    }
    await this.alarms.start();
    const rows = await this.restore(marks, 'open');
    await this.compactor.init();
    void this.compactRows(this.memory.compactRevision());
    await this.tailer.start();
    this.solo.start();
    return { identity, authTokenSecret, rows };
  }

  /**
   * Queues a write job; it runs in the next batch and its result is delivered after COMMIT.
   * Transient failures are retried until `deadline` (Date.now() clock), etcd's request timeout
   * from now when absent.
   */
  submit<T>(job: Job<T>, deadline?: number): Promise<T> {
    return this.writer.submit(job, deadline);
  }

  /** The engine behind the endpoint (its rules' name: galera, mysql, postgres…). */
  get engine(): string {
    return this.dialect.capabilities.engine;
  }

  /**
   * The writer lease (one instance commits for the others), where the database can elect one:
   * take or renew it for `owner`, or end it.
   */
  get writerLease(): WriterLeaseCalls | undefined {
    const { claimWriter, releaseWriter } = this.dialect;
    if (!claimWriter || !releaseWriter) return undefined;
    return {
      claim: (owner, address, ttlMs) => claimWriter.call(this.dialect, owner, address, ttlMs),
      release: (owner) => releaseWriter.call(this.dialect, owner),
    };
  }

  /**
   * Waits until memory holds everything committed before the call (etcd's linearizable read): at
   * once while this instance holds the solo lease (nobody else can commit) and no batch of its own
   * is in flight (one may have committed before memory has it); else through the fence.
   */
  async linearize(): Promise<void> {
    if (this.solo.serves(!this.writer.busy)) return;
    try {
      await this.tailer.syncTo(await this.fence.committed());
    } catch (e) {
      throw this.storageError(e);
    }
  }

  /**
   * A database failure as a client sees it: Unavailable either way, so clients retry; an
   * unreachable database is etcd's "request timed out" (what a member without a leader answers).
   */
  private storageError(e: unknown): EtcdError {
    if (e instanceof EtcdError) return e;
    if (this.dialect.isUnreachable(e)) return Errors.timeout();
    return Errors.internal(`storage error: ${(e as Error)?.message ?? String(e)}`);
  }

  /**
   * Deletes the rows compaction at `revision` made unreachable; resolves when they are gone. A
   * failure is logged here (the next compaction or restart resumes), and rejects the promise too.
   */
  compactRows(revision: number): Promise<void> {
    const done = this.compactor.compactTo(revision);
    done.catch((e: Error) => this.baseLog.error({ err: e, component: 'compactor' }, 'compaction failed'));
    return done;
  }

  /** Gives free space back to the file system once queued writes have committed. */
  async defragment(): Promise<void> {
    await this.writer.submit(() => undefined);
    await this.dialect.defragment();
  }

  /** Runs fn on the whole log at one committed revision (a consistent read; writes go on). */
  readView<T>(fn: (view: LogView) => Promise<T>): Promise<T> {
    return readLogView(this.dialect, fn);
  }

  size(): Promise<DbSize> {
    return this.dialect.dbSize().catch((e: unknown) => Promise.reject(this.storageError(e)));
  }

  /**
   * How many committed revisions this instance has not applied yet (what its watches trail the
   * database by): one fence read.
   */
  async lag(): Promise<number> {
    const marks = await this.fence.committed();
    return Math.max(0, marks.revision - this.memory.appliedRevision());
  }

  /** Whether this instance holds the solo lease now (linearizable reads without SQL). */
  get soloLeaseHeld(): boolean {
    return this.solo?.holding ?? false;
  }

  /** The pool's connections in use and idle, where the database has a pool. */
  poolStats(): { inUse: number; idle: number } | undefined {
    return this.dialect.poolStats?.();
  }

  /** Each host of the endpoint (host:port): answering, and whether new connections go to it. */
  hostHealth(): Array<{ host: string; up: boolean; active: boolean }> {
    return this.dialect.hostHealth?.() ?? [];
  }

  ping(): Promise<void> {
    return this.dialect.ping();
  }

  /** Stops following, lets queued writes commit, and closes the database. */
  async close(): Promise<void> {
    await this.alarms.stop();
    this.solo?.stop();
    await this.tailer?.stop();
    await this.writer?.stop();
    await this.compactor.stop();
    await this.dialect.close();
  }

  private async restore(marks: Marks, reason: 'open' | 'reload'): Promise<number> {
    const loaded = await loadSnapshot(
      this.dialect,
      () => this.fence.read(),
      marks,
      () => this.memory.rebuild(),
      this.baseLog.child({ component: 'loader' }),
    );
    loaded.build.finish(loaded.snapshot, reason);
    this.follower.leaseStamp = loaded.marks.leaseStamp;
    this.follower.authMarks = loaded.marks.auth;
    return loaded.rows;
  }

  /** Fell behind a compaction by another instance: memory is rebuilt from the database. */
  private async reload(marks: Marks): Promise<void> {
    const started = Date.now();
    const from = this.memory.appliedRevision();
    const rows = await this.restore(marks, 'reload');
    this.baseLog.warn(
      {
        component: 'log',
        from,
        revision: this.memory.appliedRevision(),
        compactRevision: this.memory.compactRevision(),
        rows,
        ms: Date.now() - started,
      },
      'fell behind a compaction by another instance; reloaded from the database',
    );
  }
}
