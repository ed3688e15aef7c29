/**
 * Group commit in one round trip. While memory is exactly where this writer's last batch left it
 * (no pass of the follower since), a batch is evaluated against memory before any lock is taken,
 * and the dialect sends the fence check, the rows, the lease changes, the meta rows and the commit
 * as one request: the database applies it only if the marks still hold the values this writer
 * last saw. Marks never repeat (the revision and compaction only grow, a lease stamp is unique per
 * writer and batch, the auth revision grows with every auth change; the solo lease may return to
 * '' but changes no data), so equal marks prove nobody committed a change since, and the
 * evaluation saw the latest committed state — the same state the transaction under the fence would
 * have shown it. Otherwise nothing is written, the evaluation is
 * undone, and the writer takes the long way: lock, catch up, evaluate, store, commit.
 *
 * A batch may also be evaluated behind one still in flight (pipelining): against memory with that
 * batch's changes in it, expecting the fence rows as that batch leaves them — its marks and this
 * writer's stamp row, which only that batch writes, so the expectation holds only if it committed.
 */
import type { Dialect, MetaValues, Shortcut } from '../dialect/dialect';
import type { Follower } from './follower';
import { batchByteCap } from '../dialect/rules';
import { BatchState, runJobs, type Job } from './batch';
import { MARKS, META } from './meta';
import type { SoloLease, SoloTurn } from './solo';

/** A batch evaluated against the marks in `fence`, and the meta rows its transaction writes. */
export interface Evaluated {
  state: BatchState;
  fence: MetaValues;
  meta: Record<string, string>;
  /** What the batch did about the solo lease (under the fence only). */
  solo?: SoloTurn;
}

type MetaOf = (state: BatchState, fenceRevision: number, stamp: string) => Record<string, string>;

export class FencedCommits {
  /** The marks as this writer's last batch left them, and the follower's pass count then. */
  private known: { marks: MetaValues; passes: number } | undefined;

  constructor(
    private readonly dialect: Dialect,
    private readonly follower: Follower,
    private readonly metaOf: MetaOf,
    /** This writer's stamp row: a batch sent behind another expects the stamp that one writes. */
    private readonly stampName: string,
    private readonly solo: SoloLease,
  ) {}

  /**
   * Evaluates the batch against memory, before any lock, when memory is known to be where this
   * writer's last batch left it — or, with `behind`, where that batch in flight leaves it once it
   * commits; undefined (nothing left of the attempt) when it is not, or when a job needs what only
   * the fence gives.
   */
  prepare(batch: ReadonlyArray<{ job: Job<unknown> }>, stamp: string, behind?: Evaluated): Shortcut<Evaluated> | undefined {
    const expect = this.expectation(behind);
    if (!this.dialect.capabilities.fencedWrites || !expect) return undefined;
    // Another instance's solo lease: only the fence can tell whether it still stands.
    if (!this.solo.mayShortcut(expect.get(META.soloLease))) return undefined;
    const revision = Number(expect.get(META.revision));
    const state = new BatchState(revision, undefined);
    // The engine's transaction cap, as under the fence: jobs past it wait for the next batch.
    runJobs(state, batch, batchByteCap(this.dialect.capabilities));
    // The database clock (lease grants, renewals, expiry) and auth changes are judged under the fence.
    if (state.clockRead || state.authOps.length > 0) {
      state.undoAll();
      return undefined;
    }
    const ev: Evaluated = { state, fence: expect, meta: this.metaOf(state, revision, stamp) };
    const { upserts, deletes } = state.leaseChanges();
    return { changes: { expect, rows: state.rows, leaseUpserts: upserts, leaseDeletes: deletes, meta: ev.meta }, result: ev };
  }

  /** The shortcut was not taken: its evaluation is undone, and the marks are read under the fence again. */
  declined(shortcut: Shortcut<Evaluated>): void {
    shortcut.result.state.undoAll();
    this.known = undefined;
  }

  /** A batch committed (either way): memory now stands at its fence overlaid with what it wrote. */
  committed(ev: Evaluated): void {
    const marks = this.after(ev, false);
    this.known = marks && { marks, passes: this.follower.passes };
  }

  /** A batch did not commit, or nobody can tell: the marks are read under the fence again. */
  forget(): void {
    this.known = undefined;
  }

  /** The fence rows a batch expects: as this writer's last batch left them, or as `behind` will. */
  private expectation(behind: Evaluated | undefined): MetaValues | undefined {
    if (behind) return this.after(behind, true);
    const known = this.known;
    return known && known.passes === this.follower.passes ? known.marks : undefined;
  }

  /**
   * The fence rows as `ev` leaves them once committed, in lock (name) order; with `stamped`, this
   * writer's stamp row too (its name sorts after every mark's), which proves it was `ev` that
   * committed and not another instance reaching the same revision. Undefined if a mark is missing.
   */
  private after(ev: Evaluated, stamped: boolean): MetaValues | undefined {
    const rows = new Map<string, string>();
    for (const name of stamped ? [...MARKS, this.stampName] : MARKS) {
      const value = ev.meta[name] ?? ev.fence.get(name);
      if (value !== undefined) rows.set(name, value);
      else if (name !== this.stampName) return undefined;
    }
    return rows;
  }
}
