/**
 * Group commit in one round trip. While memory is exactly where this writer's last batch left it
 * (no pass of the follower since), a batch is evaluated against memory before any lock is taken,
 * and the dialect sends the fence check, the rows, the lease changes, the meta rows and the commit
 * as one request: the database applies it only if the marks still hold the values this writer
 * last saw. Marks never repeat (the revision and compaction only grow, a lease stamp is unique per
 * writer and batch, the auth revision grows with every auth change), so equal marks prove nobody
 * committed since, and the evaluation saw the latest committed state — the same state the
 * transaction under the fence would have shown it. Otherwise nothing is written, the evaluation is
 * undone, and the writer takes the long way: lock, catch up, evaluate, store, commit.
 */
import type { Dialect, MetaValues, Shortcut } from '../dialect/dialect';
import type { Follower } from './follower';
import { batchByteCap } from '../dialect/rules';
import { BatchState, runJobs, type Job } from './batch';
import { MARKS, META } from './meta';

/** A batch evaluated against the marks in `fence`, and the meta rows its transaction writes. */
export interface Evaluated {
  state: BatchState;
  fence: MetaValues;
  meta: Record<string, string>;
}

type MetaOf = (state: BatchState, fenceRevision: number, stamp: string) => Record<string, string>;

export class FencedCommits {
  /** The marks as this writer's last batch left them, and the follower's pass count then. */
  private known: { marks: MetaValues; passes: number } | undefined;

  constructor(
    private readonly dialect: Dialect,
    private readonly follower: Follower,
    private readonly metaOf: MetaOf,
  ) {}

  /**
   * Evaluates the batch against memory, before any lock, when memory is known to be where this
   * writer's last batch left it; undefined (nothing left of the attempt) when it is not, or when
   * a job needs what only the fence gives.
   */
  prepare(batch: ReadonlyArray<{ job: Job<unknown> }>, stamp: string): Shortcut<Evaluated> | undefined {
    const known = this.known;
    if (!this.dialect.capabilities.fencedWrites || !known || known.passes !== this.follower.passes) return undefined;
    const revision = Number(known.marks.get(META.revision));
    const state = new BatchState(revision, undefined);
    // The engine's transaction cap, as under the fence: jobs past it wait for the next batch.
    runJobs(state, batch, batchByteCap(this.dialect.capabilities));
    // The database clock (lease grants, renewals, expiry) and auth changes are judged under the fence.
    if (state.clockRead || state.authOps.length > 0) {
      state.undoAll();
      return undefined;
    }
    const ev: Evaluated = { state, fence: known.marks, meta: this.metaOf(state, revision, stamp) };
    const { upserts, deletes } = state.leaseChanges();
    return { changes: { expect: known.marks, rows: state.rows, leaseUpserts: upserts, leaseDeletes: deletes, meta: ev.meta }, result: ev };
  }

  /** The shortcut was not taken: its evaluation is undone, and the marks are read under the fence again. */
  declined(shortcut: Shortcut<Evaluated>): void {
    shortcut.result.state.undoAll();
    this.known = undefined;
  }

  /** A batch committed (either way): memory now stands at its fence overlaid with what it wrote. */
  committed(ev: Evaluated): void {
    const marks = new Map<string, string>();
    for (const name of MARKS) {
      const value = ev.meta[name] ?? ev.fence.get(name);
      if (value === undefined) {
        this.known = undefined;
        return;
      }
      marks.set(name, value);
    }
    this.known = { marks, passes: this.follower.passes };
  }
}
