/**
 * The writer loop: every queued write of a moment goes into one SQL transaction (group commit).
 * The transaction first locks the fence rows; if another instance committed meanwhile, its rows are
 * applied before anything is evaluated, so every compare sees the latest committed state. Jobs are
 * evaluated in order, each change-making job taking the next revision; then one multi-row INSERT,
 * one fence update, one COMMIT, and only then is any caller answered. Where the dialect can, a batch
 * whose writer is known to be up to date goes in one round trip instead (fenced-commit.ts), and the
 * jobs that arrive while that request is in flight are sent behind it (flight.ts).
 */
import type { Logger } from 'pino';
import { CommitUnknownError, type Dialect } from '../dialect/dialect';
import { EtcdError, Errors } from '../errors';
import type { Follower } from './follower';
import type { LogObserver } from './types';
import { writerStampName } from './meta';
import type { BatchState, Job } from './batch';
import { FencedCommits, type Evaluated } from './fenced-commit';
import { Behind, settleUnknown, takeBackBehind, type Flight, type FlightHost, type Pending } from './flight';
import { Readback } from './readback';
import { BatchSql } from './batch-sql';
import { JobQueue, pendingJob } from './job-queue';
import { failJobs } from './batch-failure';
import { retryDelayMs, sleep } from './backoff';
import type { SoloLease, SoloTurn } from './solo';

/** What the writer tells the space quota: bytes committed, and a full disk. */
interface SpaceEvents {
  wrote(bytes: number): void;
  diskFull(): void;
}

/** Past the end of another instance's solo lease by the database clock, before a batch runs again. */
const SOLO_SLACK_MS = 5;

/** The shortcut was refused while a batch was sent behind it: that one is taken back first, then this one runs again. */
const TAKE_BACK = new Error('a batch sent behind this one is taken back first');

export class BatchWriter {
  private readonly queue = new JobQueue();
  private running = false;
  private stopped = false;
  private idle: Array<() => void> = [];
  /** This process's own meta row: every batch stamps it, so a lost COMMIT can be read back. */
  private readonly stampName: string;
  private seq = 0;
  private readonly fenced: FencedCommits;
  private readonly sql: BatchSql;
  private readonly host: FlightHost;
  /** performance.now() before which no batch starts: another instance's solo lease stands until then. */
  private resumeAt = 0;

  constructor(
    private readonly dialect: Dialect,
    private readonly follower: Follower,
    private readonly log: Logger,
    instanceId: string,
    private readonly solo: SoloLease,
    private readonly space?: SpaceEvents,
    private readonly observer?: LogObserver,
    /** Whether a batch may be sent while the one ahead is in flight. */
    private readonly pipelined = false,
  ) {
    this.stampName = writerStampName(instanceId);
    this.sql = new BatchSql(dialect, follower, this.stampName, solo);
    this.fenced = new FencedCommits(
      dialect,
      follower,
      (state, fenceRevision, stamp) => this.sql.metaOf(state, fenceRevision, stamp),
      this.stampName,
      solo,
    );
    this.host = {
      dialect,
      readback: new Readback(dialect, this.stampName, log),
      log,
      observer,
      finish: (pending, ev) => {
        this.fenced.committed(ev);
        this.finish(pending, ev.state);
      },
      fail: (pending, failure) => this.fail(pending, failure),
      requeue: (pending) => this.queue.putBack(pending),
      forget: () => this.fenced.forget(),
    };
  }

  /**
   * Queues a job; it runs inside the next batch and its result is delivered after COMMIT.
   * `deadline`: when its caller stops waiting (Date.now() clock), if it said.
   */
  submit<T>(job: Job<T>, deadline?: number): Promise<T> {
    if (this.stopped) return Promise.reject(Errors.stopped());
    return new Promise<T>((resolve, reject) => {
      this.queue.push(pendingJob(job, deadline, resolve as (v: unknown) => void, reject));
      if (!this.running) {
        this.running = true;
        setImmediate(() => void this.loop());
      }
    });
  }

  /** Whether a batch is queued or in flight (its commit may have landed before memory has it). */
  get busy(): boolean {
    return this.running;
  }

  /** Stops taking jobs and resolves once everything queued has been committed. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.running) await new Promise<void>((r) => this.idle.push(r));
    await this.dialect.deleteMeta(this.stampName).catch(() => undefined);
  }

  private async loop(): Promise<void> {
    while (this.queue.length > 0) {
      const pause = this.resumeAt - performance.now();
      if (pause > 0) await sleep(pause);
      await this.follower.exclusive(() => this.drain());
    }
    this.running = false;
    const idle = this.idle;
    this.idle = [];
    for (const r of idle) r();
  }

  /**
   * Commits batches in order, each next one sent while the one ahead is in flight where it can
   * be (flight.ts), until one settles with nothing sent behind it. Memory changes only here, so
   * the run ends early when a pass of the follower waits to change it.
   */
  private async drain(): Promise<void> {
    let head: Flight | undefined = this.start();
    while (head) {
      await this.sendBehind(head);
      await head.done;
      head = head.next;
    }
  }

  /** A batch from the queue, through the fence or in one request (commit). */
  private start(): Flight {
    const f: Flight = {
      pending: this.queue.take(),
      stamp: String(++this.seq),
      open: undefined,
      next: undefined,
      done: Promise.resolve(),
    };
    f.done = this.commit(f);
    return f;
  }

  /** While `head` may commit, sends the jobs that arrive meanwhile behind it (a turn later, so those arriving together go as one). */
  private async sendBehind(head: Flight): Promise<void> {
    if (!this.pipelined || !this.dialect.commitFenced || !this.dialect.capabilities.fencedWrites) return;
    let settled = false;
    void head.done.finally(() => (settled = true)).catch(() => undefined);
    while (!settled) {
      if (this.queue.length === 0 || !head.open) {
        await Promise.race([head.done, this.queue.arrival()]).catch(() => undefined);
        continue;
      }
      await new Promise<void>((r) => setImmediate(r));
      const ahead = head.open;
      if (settled || !ahead || this.queue.length === 0) continue;
      if (this.follower.waiting > 0) return;
      const pending = this.queue.take();
      const stamp = String(++this.seq);
      const shortcut = this.fenced.prepare(pending, stamp, ahead);
      // A job needs what only the fence gives: it waits for the batch ahead.
      if (!shortcut) return this.queue.putBack(pending);
      head.next = new Behind(this.host, head, this.queue.keep(pending, shortcut.result.state.outcomes.length), stamp, shortcut);
      return;
    }
  }

  private async commit(f: Flight): Promise<void> {
    let batch = f.pending;
    for (let attempt = 0; ; attempt++) {
      let ev: Evaluated | undefined;
      let failure: unknown;
      try {
        const started = performance.now();
        const shortcut = this.fenced.prepare(batch, f.stamp);
        if (shortcut) {
          // Jobs past the transaction cap wait: a batch sent behind this one takes them.
          batch = f.pending = this.queue.keep(batch, shortcut.result.state.outcomes.length);
          f.open = shortcut.result;
        }
        ev = shortcut?.result;
        ev = await this.dialect.write(async (tx) => {
          if (shortcut) {
            f.open = undefined;
            // Not here, holding a connection: taking it back waits for its request, which may need one.
            if (f.next) throw TAKE_BACK;
            this.fenced.declined(shortcut);
          }
          ev = undefined;
          ev = await this.sql.evaluate(tx, batch, f.stamp);
          await this.sql.store(tx, ev);
          return ev;
        }, shortcut);
        this.observer?.commit((performance.now() - started) / 1000, ev?.state.outcomes.length ?? batch.length);
      } catch (e) {
        f.open = undefined;
        failure = await settleUnknown(this.host, f, ev, e);
      }
      if (failure === undefined && ev) {
        this.fenced.committed(ev);
        if (ev.solo) this.soloCommitted(ev.solo);
        return this.finish(batch, ev.state);
      }
      await takeBackBehind(this.host, f, failure);
      ev?.state.undoAll();
      if (failure === TAKE_BACK) {
        this.fenced.forget();
        continue;
      }
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
        const expired = [...batch.filter((p) => until(p) <= retryAt), ...this.queue.expire(until, retryAt)];
        if (expired.length > 0) this.fail(expired, failure);
        batch = batch.filter((p) => until(p) > retryAt);
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

  /** A batch under the fence committed: the lease it took or renewed holds; one that revoked another's waits it out. */
  private soloCommitted(turn: SoloTurn): void {
    this.solo.committed(turn);
    if (turn.kind === 'wait') this.resumeAt = performance.now() + turn.waitMs + SOLO_SLACK_MS;
  }

  /** Fails every job of `batch` with what a client is told about `failure`. */
  private fail(batch: Pending[], failure: unknown): void {
    failJobs(this.dialect, this.log, batch, failure);
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
    if (ran < batch.length) this.queue.putBack(batch.slice(ran));
  }
}
