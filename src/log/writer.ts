/**
 * The writer loop: every queued write of a moment goes into one SQL transaction (group commit).
 * The transaction first locks the fence rows; if another instance committed meanwhile, its rows are
 * applied before anything is evaluated, so every compare sees the latest committed state. Jobs are
 * evaluated in order, each change-making job taking the next revision; then one multi-row INSERT,
 * one fence update, one COMMIT, and only then is any caller answered. Where the dialect can, a batch
 * whose writer is known to be up to date goes in one round trip instead (fenced-commit.ts).
 */
import type { Logger } from 'pino';
import { CommitUnknownError, type Dialect, type WriteTx } from '../dialect/dialect';
import { EtcdError, Errors } from '../errors';
import type { Follower } from './follower';
import type { LogObserver } from './types';
import { MARKS, marksFrom, META, writerStampName } from './meta';
import { BatchState, runJobs, type Job } from './batch';
import { FencedCommits, type Evaluated } from './fenced-commit';
import { batchByteCap } from '../dialect/rules';
import { retryDelayMs, sleep } from './backoff';

interface Pending {
  job: Job<unknown>;
  /**
   * Until when (Date.now() clock) a batch that lost a conflict (certification, serialization,
   * deadlock) is retried for this job: the caller's own deadline, or etcd's request timeout after
   * the job arrived when the caller set none.
   */
  deadline: number;
  /**
   * Until when a database that cannot be reached is retried for this job: etcd's request timeout
   * after it arrived (an outage answers "request timed out" as etcd's does), or the caller's
   * deadline if sooner.
   */
  outageDeadline: number;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

/** What the writer tells the space quota: bytes committed, and a full disk. */
interface SpaceEvents {
  wrote(bytes: number): void;
  diskFull(): void;
}

const MAX_BATCH = 1024;
/**
 * How long a write whose caller set no deadline is retried through transient failures (lost
 * certification, deadlock, lost connection) before it fails with etcd's "request timed out":
 * etcd's own request timeout (5 s + two election timeouts of 1 s).
 */
const REQUEST_TIMEOUT_MS = 7_000;
/** How long a commit with an unknown outcome is read back for before the batch fails. */
const READBACK_DEADLINE_MS = 30_000;

export class BatchWriter {
  private queue: Pending[] = [];
  private running = false;
  private stopped = false;
  private idle: Array<() => void> = [];
  /** This process's own meta row: every batch stamps it, so a lost COMMIT can be read back. */
  private readonly stampName: string;
  private seq = 0;
  private readonly fenced: FencedCommits;

  constructor(
    private readonly dialect: Dialect,
    private readonly follower: Follower,
    private readonly log: Logger,
    instanceId: string,
    private readonly space?: SpaceEvents,
    private readonly observer?: LogObserver,
  ) {
    this.stampName = writerStampName(instanceId);
    this.fenced = new FencedCommits(dialect, follower, (state, fenceRevision, stamp) => this.metaOf(state, fenceRevision, stamp));
  }

  /** Queues a job; it runs inside the next batch and its result is delivered after COMMIT. */
  submit<T>(job: Job<T>, deadline?: number): Promise<T> {
    if (this.stopped) return Promise.reject(Errors.stopped());
    return new Promise<T>((resolve, reject) => {
      const timeout = Date.now() + REQUEST_TIMEOUT_MS;
      this.queue.push({
        job,
        deadline: deadline ?? timeout,
        outageDeadline: Math.min(deadline ?? timeout, timeout),
        resolve: resolve as (v: unknown) => void,
        reject,
      });
      if (!this.running) {
        this.running = true;
        setImmediate(() => void this.loop());
      }
    });
  }

  /** Stops taking jobs and resolves once everything queued has been committed. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.running) await new Promise<void>((r) => this.idle.push(r));
    await this.dialect.deleteMeta(this.stampName).catch(() => undefined);
  }

  private async loop(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      await this.follower.exclusive(() => this.commit(batch));
    }
    this.running = false;
    const idle = this.idle;
    this.idle = [];
    for (const r of idle) r();
  }

  private async commit(pending: Pending[]): Promise<void> {
    const stamp = String(++this.seq);
    let batch = pending;
    for (let attempt = 0; ; attempt++) {
      let ev: Evaluated | undefined;
      let failure: unknown;
      try {
        const started = performance.now();
        const shortcut = this.fenced.prepare(batch, stamp);
        ev = shortcut?.result;
        ev = await this.dialect.write(async (tx) => {
          if (shortcut) this.fenced.declined(shortcut);
          ev = undefined;
          ev = await this.evaluate(tx, batch, stamp);
          await this.store(tx, ev);
          return ev;
        }, shortcut);
        this.observer?.commit((performance.now() - started) / 1000, ev?.state.outcomes.length ?? batch.length);
      } catch (e) {
        failure = e;
        if (e instanceof CommitUnknownError && ev) failure = await this.resolveUnknown(ev, stamp, e);
      }
      if (failure === undefined && ev) {
        this.fenced.committed(ev);
        return this.finish(batch, ev.state);
      }
      ev?.state.undoAll();
      if (this.dialect.isDiskFull(failure)) {
        this.log.error({ error: (failure as Error).message, jobs: batch.length }, 'database or disk is full; NOSPACE alarm raised');
        this.space?.diskFull();
        for (const p of batch) p.reject(Errors.noSpace());
        return;
      }
      const transient = failure instanceof CommitUnknownError || this.dialect.isTransient(failure);
      if (transient && !(failure instanceof EtcdError)) {
        const delay = retryDelayMs(attempt);
        const retryAt = Date.now() + delay;
        const conflict = !(failure instanceof CommitUnknownError) && !this.dialect.isUnreachable(failure);
        const until = (p: Pending): number => (conflict ? p.deadline : p.outageDeadline);
        // Jobs queued behind this batch wait on the same failure: they give up by the same rule.
        const expired = [...batch, ...this.queue].filter((p) => until(p) <= retryAt);
        if (expired.length > 0) this.fail(expired, failure);
        batch = batch.filter((p) => until(p) > retryAt);
        this.queue = this.queue.filter((p) => until(p) > retryAt);
        if (batch.length === 0) return;
        // An outage is reported once by the log's outage tracker; each retry is debug detail, and
        // so is a lost certification until it repeats.
        const level = this.dialect.isUnreachable(failure) || attempt < 8 ? 'debug' : 'warn';
        this.log[level]({ error: (failure as Error)?.message, attempt: attempt + 1, jobs: batch.length }, 'write batch failed; retrying');
        this.observer?.retry();
        await sleep(delay);
        continue;
      }
      this.fail(batch, failure);
      return;
    }
  }

  /** Fails every job of `batch` with what a client is told about `failure`. */
  private fail(batch: Pending[], failure: unknown): void {
    const transient = failure instanceof CommitUnknownError || this.dialect.isTransient(failure);
    const err =
      failure instanceof EtcdError
        ? failure
        : this.dialect.isUnreachable(failure) || transient
          ? Errors.timeout()
          : Errors.internal(`storage error: ${(failure as Error)?.message ?? String(failure)}`);
    if (failure instanceof EtcdError || transient) {
      this.log.warn({ error: (failure as Error)?.message, jobs: batch.length }, 'write batch failed; rolled back');
    } else {
      this.log.error({ err: failure, jobs: batch.length }, 'write batch failed; rolled back');
    }
    for (const p of batch) p.reject(err);
  }

  /** Catches up under the fence, then runs every job in order against the latest state. */
  private async evaluate(tx: WriteTx, batch: Pending[], stamp: string): Promise<Evaluated> {
    const locked = await tx.lockMeta(MARKS);
    const fence = marksFrom(locked.values);
    // Another instance committed meanwhile: its changes come first, so every compare sees them.
    if (this.follower.behind(fence)) await this.follower.advance(tx, fence);
    const state = new BatchState(fence.revision, locked.nowMs);
    runJobs(state, batch, batchByteCap(this.dialect.capabilities));
    return { state, fence: locked.values, meta: this.metaOf(state, fence.revision, stamp) };
  }

  /** The meta rows a batch writes: the marks it moved, and this process's stamp if it wrote anything. */
  private metaOf(state: BatchState, fenceRevision: number, stamp: string): Record<string, string> {
    const meta: Record<string, string> = {};
    if (state.revision !== fenceRevision) meta[META.revision] = String(state.revision);
    if (state.compactedTo !== undefined) meta[META.compactRevision] = String(state.compactedTo);
    if (state.leaseOps.length > 0) {
      state.leaseStamp = `${this.stampName}.${stamp}`;
      meta[META.leaseStamp] = state.leaseStamp;
    }
    if (state.authMarks) {
      meta[META.authRevision] = String(state.authMarks.revision);
      meta[META.authEnabled] = String(state.authMarks.enabledAt);
    }
    if (Object.keys(meta).length > 0) meta[this.stampName] = stamp;
    return meta;
  }

  private async store(tx: WriteTx, { state, meta }: Evaluated): Promise<void> {
    if (state.rows.length > 0) await tx.insertRows(state.rows);
    const { upserts, deletes } = state.leaseChanges();
    if (upserts.length > 0) await tx.upsertLeases(upserts);
    if (deletes.length > 0) await tx.deleteLeases(deletes);
    if (state.authOps.length > 0) await tx.writeAuth(state.authChanges());
    if (meta[this.stampName] !== undefined) await tx.setMeta(meta);
  }

  /**
   * The connection died during COMMIT: did our stamp land? Reads back until the deadline. Returns
   * undefined when it landed, the original error (a retry follows) when it did not, and etcd's
   * timeout when nobody can tell. Undoing in memory is right even then: had it landed, the next
   * pass of the follower applies the rows from the database like another instance's.
   */
  private async resolveUnknown(ev: Evaluated, stamp: string, e: CommitUnknownError): Promise<unknown> {
    // Nothing was written (no stamp): the outcome does not matter.
    if (ev.meta[this.stampName] === undefined) return undefined;
    const deadline = Date.now() + READBACK_DEADLINE_MS;
    for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
      try {
        const landed = (await this.dialect.getMeta(this.stampName)) === stamp;
        this.log.warn({ stamp, landed }, 'commit outcome was unknown; read back');
        return landed ? undefined : e;
      } catch (readErr) {
        if (Date.now() > deadline) {
          this.log.error({ err: readErr }, 'commit outcome still unknown; failing the batch');
          return Errors.timeout();
        }
        await sleep(delay);
      }
    }
  }

  private finish(batch: Pending[], state: BatchState): void {
    if (this.space && state.rows.length > 0) {
      this.space.wrote(state.rowBytes);
    }
    if (state.leaseStamp) this.follower.leaseStamp = state.leaseStamp;
    if (state.authMarks) this.follower.authMarks = state.authMarks;
    state.committed();
    const ran = state.outcomes.length;
    batch.forEach((p, i) => {
      if (i >= ran) return;
      const o = state.outcomes[i];
      if (o.ok) p.resolve(o.value);
      else p.reject(o.value);
    });
    if (ran < batch.length) this.queue.unshift(...batch.slice(ran));
  }
}
