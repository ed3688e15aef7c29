/**
 * The writer loop: every queued write of a moment goes into one SQL transaction (group commit).
 * The transaction first locks the fence row; if another instance committed meanwhile, its rows are
 * applied before anything is evaluated, so every compare sees the latest committed state. Jobs are
 * evaluated in order, each change-making job taking the next revision; then one multi-row INSERT,
 * one fence update, one COMMIT, and only then is any caller answered.
 */
import type { Logger } from 'pino';
import type { Dialect, LeaseRow, LogRow } from '../dialect/dialect';
import { EtcdError, Errors } from '../errors';

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
  /** Rows another instance committed, up to revision `upTo`: apply them before evaluating. */
  applyRemote(rows: LogRow[], upTo: number): void;
  /** This batch committed: the store is now at `upTo`, and `rows` are its changes. */
  committed(rows: LogRow[], upTo: number): void;
  /** The revision the in-memory state has applied. */
  appliedRevision(): number;
}

type Job<T> = (ctx: BatchContext) => T;
interface Pending {
  job: Job<unknown>;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

const MAX_BATCH = 1024;

export class Writer {
  private queue: Pending[] = [];
  private running = false;
  private stopped = false;
  private idle: Array<() => void> = [];

  constructor(
    private readonly dialect: Dialect,
    private readonly hooks: WriterHooks,
    private readonly log: Logger,
  ) {}

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
    if (!this.running) return;
    await new Promise<void>((r) => this.idle.push(r));
  }

  private async loop(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      await this.commit(batch);
    }
    this.running = false;
    const idle = this.idle;
    this.idle = [];
    for (const r of idle) r();
  }

  private async commit(batch: Pending[]): Promise<void> {
    const rows: LogRow[] = [];
    const leaseUpserts: LeaseRow[] = [];
    const leaseDeletes: bigint[] = [];
    const meta = new Map<string, string>();
    const undo: Array<() => void> = [];
    const outcomes: Array<{ ok: boolean; value: unknown }> = [];
    let revision = 0;
    try {
      await this.dialect.write(async (tx) => {
        const committed = await tx.lockFence();
        const applied = this.hooks.appliedRevision();
        if (committed > applied) this.hooks.applyRemote(await tx.rowsAfter(applied, committed), committed);
        const ctx: BatchContext = {
          revision: committed,
          nowMs: await tx.nowMs(),
          stage: (r) => void rows.push(r),
          upsertLease: (l) => void leaseUpserts.push(l),
          deleteLease: (id) => void leaseDeletes.push(id),
          setMeta: (name, value) => void meta.set(name, value),
          onUndo: (fn) => void undo.push(fn),
        };
        for (const p of batch) {
          const mark = { rev: ctx.revision, rows: rows.length, up: leaseUpserts.length, del: leaseDeletes.length, undo: undo.length };
          try {
            outcomes.push({ ok: true, value: p.job(ctx) });
          } catch (e) {
            // The job's own partial changes go; earlier jobs of the batch stand.
            for (let i = undo.length - 1; i >= mark.undo; i--) undo[i]();
            undo.length = mark.undo;
            rows.length = mark.rows;
            leaseUpserts.length = mark.up;
            leaseDeletes.length = mark.del;
            ctx.revision = mark.rev;
            outcomes.push({ ok: false, value: e });
          }
        }
        revision = ctx.revision;
        if (rows.length > 0) await tx.insertRows(rows);
        for (const l of leaseUpserts) await tx.upsertLease(l);
        if (leaseDeletes.length > 0) await tx.deleteLeases(leaseDeletes);
        for (const [name, value] of meta) await tx.setMeta(name, value);
        if (revision !== committed) await tx.setFence(revision);
      });
    } catch (e) {
      for (let i = undo.length - 1; i >= 0; i--) undo[i]();
      const err = e instanceof EtcdError ? e : Errors.internal(`storage error: ${(e as Error).message}`);
      this.log.error({ err: e, jobs: batch.length }, 'write batch failed; rolled back');
      for (const p of batch) p.reject(err);
      return;
    }
    this.hooks.committed(rows, revision);
    batch.forEach((p, i) => {
      const o = outcomes[i];
      if (o.ok) p.resolve(o.value);
      else p.reject(o.value);
    });
  }
}
