/**
 * The revision log over SQL: the one thing mvcc is given, and the only holder of the dialect.
 * Writes go through the group-commit writer, linearizable reads through the fence, what other
 * instances commit reaches memory through the follower, and obsolete rows leave through the
 * compactor.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Dialect } from '../dialect/dialect';
import type { Job } from './batch';
import { Compactor } from './compactor';
import { Fence } from './fence';
import { Follower } from './follower';
import { loadSnapshot } from './loader';
import { readLogView, type LogView } from './log-view';
import type { Marks } from './meta';
import { openSchema } from './schema';
import { Tailer } from './tailer';
import type { DbSize, LogFollower, LogIdentity } from './types';
import { BatchWriter } from './writer';

export interface LogOptions {
  /** How often the log is polled for other instances' writes (databases without notifications). */
  pollIntervalMs: number;
}

export class Log {
  private readonly fence: Fence;
  private readonly compactor: Compactor;
  private follower!: Follower;
  private writer!: BatchWriter;
  private tailer!: Tailer;
  private memory!: LogFollower;

  constructor(
    private readonly dialect: Dialect,
    private readonly baseLog: Logger,
    private readonly opts: LogOptions,
  ) {
    this.fence = new Fence(dialect);
    this.compactor = new Compactor(dialect, baseLog.child({ component: 'compactor' }));
  }

  /**
   * Opens the database, hands memory the state it holds, resumes unfinished physical compaction
   * and starts following other instances. Returns the cluster identity and how many rows loaded.
   */
  async open(memory: LogFollower): Promise<{ identity: LogIdentity; authTokenSecret: Buffer; rows: number }> {
    this.memory = memory;
    this.follower = new Follower(memory, (marks) => this.reload(marks));
    this.writer = new BatchWriter(this.dialect, this.follower, this.baseLog.child({ component: 'writer' }), randomBytes(6).toString('hex'));
    this.tailer = new Tailer(
      this.dialect,
      this.fence,
      this.follower,
      this.baseLog.child({ component: 'tailer' }),
      this.opts.pollIntervalMs,
    );
    const { identity, authTokenSecret } = await openSchema(this.dialect);
    const marks = await this.fence.read();
    // A k3s/kine database: serving an empty keyspace beside its data would re-bootstrap the cluster.
    if (marks.revision <= 1 && (await this.dialect.hasKineTable())) {
      throw new Error(
        "it holds kine's table (a k3s/kine datastore) and no strata data yet; convert it first with `strata import --from-kine <this endpoint>` (kine's table is only read), then start strata",
      );
    }
    const rows = await this.restore(marks, 'open');
    await this.compactor.init();
    void this.compactRows(this.memory.compactRevision());
    await this.tailer.start();
    return { identity, authTokenSecret, rows };
  }

  /** Queues a write job; it runs in the next batch and its result is delivered after COMMIT. */
  submit<T>(job: Job<T>): Promise<T> {
    return this.writer.submit(job);
  }

  /** Waits until memory holds everything committed before the call (etcd's linearizable read). */
  async linearize(): Promise<void> {
    await this.tailer.syncTo(await this.fence.committed());
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
    return this.dialect.dbSize();
  }

  ping(): Promise<void> {
    return this.dialect.ping();
  }

  /** Stops following, lets queued writes commit, and closes the database. */
  async close(): Promise<void> {
    await this.tailer?.stop();
    await this.writer?.stop();
    await this.compactor.stop();
    await this.dialect.close();
  }

  private async restore(marks: Marks, reason: 'open' | 'reload'): Promise<number> {
    const loaded = await loadSnapshot(this.dialect, () => this.fence.read(), marks);
    this.memory.restore(loaded.snapshot, reason);
    this.follower.leaseStamp = loaded.marks.leaseStamp;
    this.follower.authMarks = loaded.marks.auth;
    return loaded.snapshot.rows.length;
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
