/**
 * Following the shared log: brings the in-memory state up to the marks another instance left, from
 * a LogSource (the writer's transaction under the fence, or plain reads for the tailer).
 *
 * Every change to in-memory state — a local write batch or a catch-up pass — runs through
 * `exclusive`, one at a time. A catch-up pass therefore never sees a batch's uncommitted changes,
 * and a lease snapshot can never overwrite a newer local change.
 */
import type { LeaseRow, LogRow, LogSource, Marks } from '../dialect/dialect';

export interface FollowerHooks {
  appliedRevision(): number;
  compactRevision(): number;
  /** Rows another instance committed, up to revision `upTo` (leases already synced). */
  applyRemote(rows: LogRow[], upTo: number): void;
  /** The lease table as the database has it now. */
  syncLeases(leases: LeaseRow[]): void;
  /** Another instance compacted the log at `rev`. */
  compactRemote(rev: number): void;
  /**
   * Rebuilds memory from the database up to `marks` (or later ones) and sets `leaseStamp` to the
   * marks it loaded: rows this instance never applied may have been deleted by another instance's
   * compaction, so they cannot be caught up one by one.
   */
  reload(marks: Marks): Promise<void>;
}

/** Rows are fetched in windows of revisions, so a long lag never means one huge read. */
const WINDOW = 1000;

export class Follower {
  /** The lease stamp the in-memory lease table matches. */
  leaseStamp: string | undefined;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly hooks: FollowerHooks) {}

  /** Runs fn after every earlier exclusive section has finished. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** True when memory is behind `marks`. */
  behind(marks: Marks): boolean {
    return (
      marks.revision > this.hooks.appliedRevision() ||
      marks.compactRevision > this.hooks.compactRevision() ||
      marks.leaseStamp !== this.leaseStamp
    );
  }

  /**
   * Applies what changed up to `marks`. Call inside `exclusive`. `recheck` reads the marks again
   * after the rows were fetched — needed outside the fence, where a compaction can commit (and
   * delete rows) between reading the marks and reading the rows.
   */
  async catchUp(source: LogSource, marks: Marks, recheck?: () => Promise<Marks>): Promise<void> {
    const applied = this.hooks.appliedRevision();
    // Compacted past what we applied: the rows in between may be gone.
    if (marks.compactRevision > applied) return this.hooks.reload(marks);
    const leases = marks.leaseStamp !== this.leaseStamp ? await source.loadLeases() : undefined;
    const windows: Array<{ rows: LogRow[]; upTo: number }> = [];
    for (let from = applied; from < marks.revision; ) {
      const upTo = Math.min(marks.revision, from + WINDOW);
      windows.push({ rows: await source.rowsAfter(from, upTo), upTo });
      from = upTo;
    }
    if (recheck) {
      const now = await recheck();
      if (now.compactRevision > applied) return this.hooks.reload(now);
    }
    // Leases first: a remote row may attach a key to a lease granted since the last sync.
    if (leases) {
      this.hooks.syncLeases(leases);
      this.leaseStamp = marks.leaseStamp;
    }
    for (const w of windows) this.hooks.applyRemote(w.rows, w.upTo);
    if (marks.compactRevision > this.hooks.compactRevision()) this.hooks.compactRemote(marks.compactRevision);
  }


}
