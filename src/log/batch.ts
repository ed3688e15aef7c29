/**
 * One evaluation of a write batch: the jobs' rows, lease changes, meta rows, undo and commit
 * callbacks, and each job's outcome. A job that throws is undone alone; the rest of the batch
 * stands. A batch that does not commit is undone whole and, if retried, evaluated afresh.
 */
import type { Batch, LeaseRow, LogRow } from './types';

export type Job<T> = (batch: Batch) => T;

export class BatchState implements Batch {
  readonly rows: LogRow[] = [];
  /** Lease changes in order: a row to upsert, or an id to delete. */
  readonly leaseOps: Array<LeaseRow | bigint> = [];
  /** The compaction mark a job moved, if any. */
  compactedTo: number | undefined;
  readonly outcomes: Array<{ ok: boolean; value: unknown }> = [];
  leaseStamp: string | undefined;
  private rev: number;
  private readonly undos: Array<() => void> = [];
  private readonly commits: Array<() => void> = [];

  constructor(
    committed: number,
    readonly nowMs: number,
  ) {
    this.rev = committed;
  }

  get revision(): number {
    return this.rev;
  }

  append(row: LogRow): void {
    const last = this.rows[this.rows.length - 1];
    const next = last && last.revision === this.rev ? row.revision === this.rev && row.sub === last.sub + 1 : false;
    if (!next && !(row.revision === this.rev + 1 && row.sub === 0)) {
      throw new Error(`log row (${row.revision}, ${row.sub}) out of order after revision ${this.rev}`);
    }
    this.rows.push(row);
    this.rev = row.revision;
  }

  putLease(lease: LeaseRow): void {
    this.leaseOps.push(lease);
  }

  deleteLease(id: bigint): void {
    this.leaseOps.push(id);
  }

  markCompacted(revision: number): void {
    this.compactedTo = revision;
  }

  /** A property, not a method: callers pass it on as a function. */
  readonly onUndo = (fn: () => void): void => {
    this.undos.push(fn);
  };

  onCommit(fn: () => void): void {
    this.commits.push(fn);
  }

  /** Runs one job; its outcome is recorded, and a job that throws leaves no trace. */
  run(job: Job<unknown>): void {
    const mark = {
      rev: this.rev,
      rows: this.rows.length,
      leases: this.leaseOps.length,
      undo: this.undos.length,
      commits: this.commits.length,
    };
    const compactedTo = this.compactedTo;
    try {
      this.outcomes.push({ ok: true, value: job(this) });
    } catch (e) {
      this.undoTo(mark.undo);
      this.rows.length = mark.rows;
      this.leaseOps.length = mark.leases;
      this.commits.length = mark.commits;
      this.rev = mark.rev;
      this.compactedTo = compactedTo;
      this.outcomes.push({ ok: false, value: e });
    }
  }

  undoAll(): void {
    this.undoTo(0);
  }

  /** The batch committed: memory follows, in the order the jobs changed it. */
  committed(): void {
    for (const fn of this.commits) fn();
  }

  /** Each lease's last change (one statement may not touch a row twice). */
  leaseChanges(): { upserts: LeaseRow[]; deletes: bigint[] } {
    const last = new Map<bigint, LeaseRow | null>();
    for (const op of this.leaseOps) {
      if (typeof op === 'bigint') last.set(op, null);
      else last.set(op.id, op);
    }
    const upserts: LeaseRow[] = [];
    const deletes: bigint[] = [];
    for (const [id, l] of last) {
      if (l) upserts.push(l);
      else deletes.push(id);
    }
    return { upserts, deletes };
  }

  private undoTo(mark: number): void {
    for (let i = this.undos.length - 1; i >= mark; i--) this.undos[i]();
    this.undos.length = mark;
  }
}
