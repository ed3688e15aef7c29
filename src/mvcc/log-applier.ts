/**
 * Memory's side of following the log: other instances' rows, lease and auth snapshots and compactions, and
 * whole snapshots at open or after falling behind a compaction, applied to the index, the lease
 * table and the watchers exactly as local commits are.
 */
import type { AuthSnapshot, LeaseRow, LogFollower, LogRow, LogSnapshot, SnapshotBuild } from '../log/types';
import type { AuthState } from './auth/auth-state';
import type { LeaseTable } from './lease-table';
import { IndexLoad, livePrev, type Change, type RevisionIndex } from './revision-index';
import type { WatchHub } from './watch/watch-hub';

/** Makes changes (already appended to the index) committed up to `upTo` and tells the watchers. */
type ApplyChanges = (changes: Change[], upTo: number) => void;

export class LogApplier implements LogFollower {
  constructor(
    private readonly index: RevisionIndex,
    private readonly leases: LeaseTable,
    private readonly auth: AuthState,
    private readonly hub: WatchHub,
    /** Another instance compacted the log at `revision`. */
    private readonly compacted: (revision: number) => void,
    private readonly apply: ApplyChanges,
  ) {}

  appliedRevision(): number {
    return this.index.revision;
  }

  compactRevision(): number {
    return this.index.compactRevision;
  }

  applyRemote(rows: LogRow[], upTo: number): void {
    if (upTo <= this.index.revision) return;
    const changes: Change[] = [];
    for (const row of rows) {
      if (row.revision <= this.index.revision) continue;
      const k = row.key.toString('latin1');
      const c = this.index.append(k, row);
      this.leases.move(null, k, livePrev(c)?.lease ?? 0n, row.deleted ? 0n : row.lease);
      changes.push(c);
    }
    this.apply(changes, upTo);
  }

  syncLeases(leases: LeaseRow[]): void {
    this.leases.sync(leases);
  }

  syncAuth(auth: AuthSnapshot): void {
    this.auth.restore(auth);
  }

  compactRemote(revision: number): void {
    this.compacted(revision);
  }

  rebuild(): SnapshotBuild {
    const load = new IndexLoad();
    return { add: (rows) => load.add(rows), finish: (s, reason) => this.restore(load, s, reason) };
  }

  private restore(load: IndexLoad, s: LogSnapshot, reason: 'open' | 'reload'): void {
    const index = this.index;
    index.reset();
    index.install(load);
    index.revision = s.revision;
    index.compact(s.compactRevision);
    index.recountLive();
    this.leases.reset(s.leases);
    this.auth.restore(s.auth);
    index.forEachHistory({ start: '', end: null }, (h) => {
      const v = h.at(index.revision);
      if (v && v.lease !== 0n) this.leases.attachLoaded(v.lease, h.k);
    });
    // Watchers behind the rebuilt index replay from it, or learn that it was compacted away.
    if (reason === 'reload') this.hub.reloaded();
  }
}
