/**
 * A write batch's SQL under the fence: the marks locked and caught up with, the jobs run against
 * the latest state, and what the batch writes — its rows, lease and auth changes, and the meta
 * rows it moved with this process's stamp.
 */
import type { Dialect, WriteTx } from '../dialect/dialect';
import { batchByteCap } from '../dialect/rules';
import { BatchState, runJobs, type Job } from './batch';
import type { Evaluated } from './fenced-commit';
import type { Follower } from './follower';
import { MARKS, marksFrom, META } from './meta';
import type { SoloLease } from './solo';

export class BatchSql {
  constructor(
    private readonly dialect: Dialect,
    private readonly follower: Follower,
    /** This process's own meta row: every batch stamps it, so a lost COMMIT can be read back. */
    private readonly stampName: string,
    private readonly solo: SoloLease,
  ) {}

  /**
   * Catches up under the fence, then runs every job in order against the latest state — unless
   * another instance's solo lease stands: then the batch only revokes it, and runs again once the
   * lease has ended (`solo.waitMs`).
   */
  async evaluate(tx: WriteTx, batch: ReadonlyArray<{ job: Job<unknown> }>, stamp: string): Promise<Evaluated> {
    const startedAt = performance.now();
    const locked = await tx.lockMeta(MARKS);
    const fence = marksFrom(locked.values);
    // Another instance committed meanwhile: its changes come first, so every compare sees them.
    if (this.follower.behind(fence)) await this.follower.advance(tx, fence);
    const solo = this.solo.underFence(fence.solo, locked.nowMs, startedAt, !this.follower.behind(fence));
    const state = new BatchState(fence.revision, locked.nowMs);
    if (solo.kind === 'commit') runJobs(state, batch, batchByteCap(this.dialect.capabilities));
    const meta = this.metaOf(state, fence.revision, stamp);
    if (solo.write !== undefined) Object.assign(meta, { [META.soloLease]: solo.write, [this.stampName]: stamp });
    return { state, fence: locked.values, meta, solo };
  }

  /** The meta rows a batch writes: the marks it moved, and this process's stamp if it wrote anything. */
  metaOf(state: BatchState, fenceRevision: number, stamp: string): Record<string, string> {
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

  async store(tx: WriteTx, { state, meta }: Evaluated): Promise<void> {
    if (state.rows.length > 0) await tx.insertRows(state.rows);
    const { upserts, deletes } = state.leaseChanges();
    if (upserts.length > 0) await tx.upsertLeases(upserts);
    if (deletes.length > 0) await tx.deleteLeases(deletes);
    if (state.authOps.length > 0) await tx.writeAuth(state.authChanges());
    if (meta[this.stampName] !== undefined) await tx.setMeta(meta);
  }
}
