/**
 * Following the shared log: brings memory up to the marks another instance left, from a LogSource
 * (the writer's transaction under the fence, or plain reads for the tailer and linearizable reads).
 *
 * Every change to memory — a local write batch or a pass of this follower — runs through
 * `exclusive`, one at a time. A pass therefore never sees a batch's uncommitted changes, and a
 * lease snapshot can never overwrite a newer local change.
 */
import type { LogSource } from '../dialect/dialect';
import { sameAuthMarks, type AuthMarks, type Marks } from './meta';
import type { LogFollower, LogRow } from './types';

/** Rows are fetched in windows of revisions, so a long lag never means one huge read. */
const WINDOW = 1000;

export class Follower {
  /** The lease stamp the in-memory lease table matches. */
  leaseStamp: string | undefined;
  /** The auth marks the in-memory users and roles match. */
  authMarks: AuthMarks | undefined;
  /** Counts the passes that changed memory: the writer knows memory is where its last batch left it while this holds still. */
  passes = 0;
  /** Exclusive sections queued and not started yet: the writer ends a run of pipelined batches for them. */
  waiting = 0;
  private tail: Promise<unknown> = Promise.resolve();
  /** Told whenever another instance's commit is about to reach memory (it ends the solo lease). */
  foreign: () => void = () => undefined;

  constructor(
    private readonly memory: LogFollower,
    /**
     * Rebuilds memory from the database at `marks` (or later ones) and sets `leaseStamp` to the
     * marks it loaded: rows this instance never applied may have been deleted by another
     * instance's compaction, so they cannot be followed one by one.
     */
    private readonly reload: (marks: Marks) => Promise<void>,
  ) {}

  /** Runs fn after every earlier exclusive section has finished. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    this.waiting++;
    const start = (): Promise<T> => {
      this.waiting--;
      return fn();
    };
    const run = this.tail.then(start, start);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** True when memory is behind `marks`. */
  behind(marks: Marks): boolean {
    return (
      marks.revision > this.memory.appliedRevision() ||
      marks.compactRevision > this.memory.compactRevision() ||
      marks.leaseStamp !== this.leaseStamp ||
      !sameAuthMarks(this.authMarks, marks.auth)
    );
  }

  /**
   * Applies what changed up to `marks`. Call inside `exclusive`. `recheck` reads the marks again
   * after the rows were fetched — needed outside the fence, where a compaction can commit (and
   * delete rows) between reading the marks and reading the rows.
   */
  async advance(source: LogSource, marks: Marks, recheck?: () => Promise<Marks>): Promise<void> {
    this.passes++;
    this.foreign();
    const applied = this.memory.appliedRevision();
    // Compacted past what we applied: the rows in between may be gone.
    if (marks.compactRevision > applied) return this.reload(marks);
    const leases = marks.leaseStamp !== this.leaseStamp ? await source.loadLeases() : undefined;
    const auth = sameAuthMarks(this.authMarks, marks.auth) ? undefined : await source.loadAuth();
    const windows: Array<{ rows: LogRow[]; upTo: number }> = [];
    for (let from = applied; from < marks.revision;) {
      const upTo = Math.min(marks.revision, from + WINDOW);
      windows.push({ rows: await source.rowsAfter(from, upTo), upTo });
      from = upTo;
    }
    if (recheck) {
      const now = await recheck();
      if (now.compactRevision > applied) return this.reload(now);
    }
    // Leases first: a remote row may attach a key to a lease granted since the last sync.
    if (leases) {
      this.memory.syncLeases(leases);
      this.leaseStamp = marks.leaseStamp;
    }
    // Before the rows: a write another instance made is judged by the auth state it committed under.
    if (auth) {
      this.memory.syncAuth({ ...auth, marks: marks.auth });
      this.authMarks = marks.auth;
    }
    for (const w of windows) this.memory.applyRemote(w.rows, w.upTo);
    if (marks.compactRevision > this.memory.compactRevision()) this.memory.compactRemote(marks.compactRevision);
  }
}
