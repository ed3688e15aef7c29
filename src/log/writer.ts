/**
 * The writer loop: every queued write of a moment goes into one SQL transaction (group commit).
 * The transaction first locks the fence row; if another instance committed meanwhile, its rows are
 * applied before anything is evaluated, so every compare sees the latest committed state. Jobs are
 * evaluated in order, each change-making job taking the next revision; then one multi-row INSERT,
 * one fence update, one COMMIT, and only then is any caller answered.
 */
import type { Logger } from 'pino';
import { CommitUnknownError, MARK_NAMES, type Dialect, type LeaseRow, type LogRow, type WriteTx } from '../dialect/dialect';
import { EtcdError, Errors } from '../errors';
import type { Follower } from './follower';

export interface BatchContext {
  /** The last revision taken: the committed one plus those given to earlier jobs of this batch. */
  revision: number;
  /** The database clock at the start of the batch. */
  readonly nowMs: number;
  stage(row: LogRow): void;
  upsertLease(lease: LeaseRow): void;
  deleteLease(id: bigint): void;
  setMeta(name: string, value: string): void;
  /** Registers an in-memory change to revert if the job fails or the batch does not commit. */
  onUndo(fn: () => void): void;
}

export interface WriterHooks {
  /** This batch committed: the store is now at `upTo`, and `rows` are its changes. */
  committed(rows: LogRow[], upTo: number): void;
}

type Job<T> = (ctx: BatchContext) => T;
interface Pending {
  job: Job<unknown>;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

/** What one evaluation of a batch produced, to be written in its transaction. */
interface Evaluated {
  rows: LogRow[];
  /** Lease changes in order: a row to upsert, or an id to delete. */
  leaseOps: Array<LeaseRow | bigint>;
  meta: Record<string, string>;
  undo: Array<() => void>;
  outcomes: Array<{ ok: boolean; value: unknown }>;
  revision: number;
  leaseStamp: string | undefined;
}

const MAX_BATCH = 1024;
/** Waits between attempts of a batch that failed for a transient reason (deadlock, lost connection). */
const RETRY_DELAYS_MS = [0, 20, 100, 250, 500, 1000, 2000];
/** How long a commit with an unknown outcome is read back for before the batch fails. */
const READBACK_DEADLINE_MS = 30_000;

export class Writer {
  private queue: Pending[] = [];
  private running = false;
  private stopped = false;
  private idle: Array<() => void> = [];
  /** This process's own meta row: every batch stamps it, so a lost COMMIT can be read back. */
  private readonly stampName: string;
  private seq = 0;

  constructor(
    private readonly dialect: Dialect,
    private readonly follower: Follower,
    private readonly hooks: WriterHooks,
    private readonly log: Logger,
    instanceId: string,
  ) {
    this.stampName = `writer.${instanceId}`;
  }

  /** Queues a job; it runs inside the next batch and its result is delivered after COMMIT. */
  submit<T>(job: Job<T>): Promise<T> {
    if (this.stopped) return Promise.reject(Errors.stopped());
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ job, resolve: resolve as (v: unknown) => void, reject });
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

  private async commit(batch: Pending[]): Promise<void> {
    const stamp = String(++this.seq);
    for (let attempt = 0; ; attempt++) {
      let ev: Evaluated | undefined;
      let failure: unknown;
      try {
        await this.dialect.write(async (tx) => {
          ev = await this.evaluate(tx, batch, stamp);
          await this.store(tx, ev);
        });
      } catch (e) {
        failure = e;
        if (e instanceof CommitUnknownError && ev) failure = await this.resolveUnknown(ev, stamp, e);
      }
      if (failure === undefined && ev) return this.finish(batch, ev);
      if (ev) for (let i = ev.undo.length - 1; i >= 0; i--) ev.undo[i]();
      const transient = failure instanceof CommitUnknownError || this.dialect.isTransient(failure);
      if (transient && attempt + 1 < RETRY_DELAYS_MS.length && !(failure instanceof EtcdError)) {
        this.log.warn({ err: failure, attempt: attempt + 1, jobs: batch.length }, 'write batch failed; retrying');
        await sleep(RETRY_DELAYS_MS[attempt + 1]);
        continue;
      }
      const err =
        failure instanceof EtcdError ? failure : Errors.internal(`storage error: ${(failure as Error)?.message ?? String(failure)}`);
      this.log.error({ err: failure, jobs: batch.length }, 'write batch failed; rolled back');
      for (const p of batch) p.reject(err);
      return;
    }
  }

  /** Catches up under the fence, then runs every job in order against the latest state. */
  private async evaluate(tx: WriteTx, batch: Pending[], stamp: string): Promise<Evaluated> {
    const fence = await tx.lockFence();
    // Another instance committed meanwhile: its changes come first, so every compare sees them.
    if (this.follower.behind(fence)) await this.follower.catchUp(tx, fence);
    const ev: Evaluated = {
      rows: [],
      leaseOps: [],
      meta: {},
      undo: [],
      outcomes: [],
      revision: fence.revision,
      leaseStamp: undefined,
    };
    const ctx: BatchContext = {
      revision: fence.revision,
      nowMs: fence.nowMs,
      stage: (r) => void ev.rows.push(r),
      upsertLease: (l) => void ev.leaseOps.push(l),
      deleteLease: (id) => void ev.leaseOps.push(id),
      setMeta: (name, value) => void (ev.meta[name] = value),
      onUndo: (fn) => void ev.undo.push(fn),
    };
    for (const p of batch) {
      const mark = { rev: ctx.revision, rows: ev.rows.length, leases: ev.leaseOps.length, undo: ev.undo.length };
      try {
        ev.outcomes.push({ ok: true, value: p.job(ctx) });
      } catch (e) {
        // The job's own partial changes go; earlier jobs of the batch stand.
        for (let i = ev.undo.length - 1; i >= mark.undo; i--) ev.undo[i]();
        ev.undo.length = mark.undo;
        ev.rows.length = mark.rows;
        ev.leaseOps.length = mark.leases;
        ctx.revision = mark.rev;
        ev.outcomes.push({ ok: false, value: e });
      }
    }
    ev.revision = ctx.revision;
    if (ev.revision !== fence.revision) ev.meta[MARK_NAMES.revision] = String(ev.revision);
    if (ev.leaseOps.length > 0) {
      ev.leaseStamp = `${this.stampName}.${stamp}`;
      ev.meta[MARK_NAMES.leaseStamp] = ev.leaseStamp;
    }
    if (Object.keys(ev.meta).length > 0) ev.meta[this.stampName] = stamp;
    return ev;
  }

  private async store(tx: WriteTx, ev: Evaluated): Promise<void> {
    if (ev.rows.length > 0) await tx.insertRows(ev.rows);
    if (ev.leaseOps.length > 0) {
      // Each lease's last change wins: one statement may not touch a row twice.
      const last = new Map<bigint, LeaseRow | null>();
      for (const op of ev.leaseOps) typeof op === 'bigint' ? last.set(op, null) : last.set(op.id, op);
      const upserts = [...last.values()].filter((l): l is LeaseRow => l !== null);
      const deletes = [...last].filter(([, l]) => l === null).map(([id]) => id);
      if (upserts.length > 0) await tx.upsertLeases(upserts);
      if (deletes.length > 0) await tx.deleteLeases(deletes);
    }
    if (ev.meta[this.stampName] !== undefined) await tx.setMeta(ev.meta);
  }

  /**
   * The connection died during COMMIT: did our stamp land? Reads back until the deadline. Returns
   * undefined when it landed, the original error (a retry follows) when it did not, and etcd's
   * timeout when nobody can tell. Undoing in memory is right even then: had it landed, the next
   * catch-up applies the rows from the database like another instance's.
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

  private finish(batch: Pending[], ev: Evaluated): void {
    if (ev.leaseStamp) this.follower.leaseStamp = ev.leaseStamp;
    this.hooks.committed(ev.rows, ev.revision);
    batch.forEach((p, i) => {
      const o = ev.outcomes[i];
      if (o.ok) p.resolve(o.value);
      else p.reject(o.value);
    });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
