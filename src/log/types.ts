/**
 * What the log gives the layer above it (mvcc) and what it asks of it. mvcc sees rows, batches and
 * snapshots; never a dialect, a connection or a meta row.
 */
import type { AuthPermissionRow, AuthRoleRow, AuthRows, AuthUserRow, DbSize, LeaseRow, LogRow } from '../dialect/dialect';
import type { AuthMarks } from './meta';
export type { LogView } from './log-view';

export type { AuthMarks, AuthPermissionRow, AuthRoleRow, AuthRows, AuthUserRow, DbSize, LeaseRow, LogRow };

/**
 * What the log reports about its SQL, for metrics: every dialect call (kind = the call, e.g.
 * write, rows_after, get_meta), every write batch committed, every batch retried.
 */
export interface LogObserver {
  sql(kind: string, seconds: number, failed: boolean): void;
  /** A write batch committed: how long its transaction took and how many jobs it held. */
  commit(seconds: number, jobs: number): void;
  retry(): void;
}

/** etcd's alarm types (etcdserverpb.AlarmType) that strata raises or accepts. */
export type AlarmKind = 'NOSPACE' | 'CORRUPT';

/** One raised alarm: etcd's AlarmMember. */
export interface AlarmMember {
  memberId: bigint;
  alarm: AlarmKind;
}

/** Users, roles and the auth marks of one moment. */
export interface AuthSnapshot extends AuthRows {
  marks: AuthMarks;
}

/** The cluster identity, created with the log and never changed. */
export interface LogIdentity {
  clusterId: bigint;
  memberId: bigint;
}

/** The database's state at one revision besides its rows: what memory is rebuilt from. */
export interface LogSnapshot {
  revision: number;
  compactRevision: number;
  leases: LeaseRow[];
  auth: AuthSnapshot;
}

/**
 * Memory's next state, built beside the current one from a snapshot's rows (every row at or below
 * its revision), handed over chunk by chunk in (revision, sub) order as they are read, so no row is
 * held twice and a chunk's temporaries die young. Nothing changes until `finish`.
 */
export interface SnapshotBuild {
  add(rows: LogRow[]): void;
  /** Replaces memory by the build, at the snapshot's revision. */
  finish(snapshot: LogSnapshot, reason: 'open' | 'reload'): void;
}

/** Registers an in-memory change to revert if the job fails or its batch does not commit. */
export type OnUndo = (fn: () => void) => void;

/**
 * One write job's view of the batch it runs in (group commit: many jobs, one SQL transaction).
 * Jobs run one after another, synchronously, against the latest committed state.
 */
export interface Batch {
  /** The last revision taken: the committed one plus those given to earlier jobs of this batch. */
  readonly revision: number;
  /** The database clock at the start of the batch. */
  readonly nowMs: number;
  /**
   * Adds a row. A job's first row takes revision + 1, its later ones the same revision with the
   * next sub; any other numbering is refused.
   */
  append(row: LogRow): void;
  putLease(lease: LeaseRow): void;
  deleteLease(id: bigint): void;
  /** Moves etcd's compact revision (the compaction mark) in this batch. */
  markCompacted(revision: number): void;
  /** Writes a user or a role of the auth tables (the last write of a name in a batch wins). */
  putAuthUser(user: AuthUserRow): void;
  deleteAuthUser(name: string): void;
  putAuthRole(role: AuthRoleRow): void;
  deleteAuthRole(name: string): void;
  /** Moves the auth marks (etcd's auth revision, the enabled flag) in this batch. */
  markAuth(marks: AuthMarks): void;
  onUndo: OnUndo;
  /** Runs fn once the batch has committed, before any caller is answered (in registration order). */
  onCommit(fn: () => void): void;
}

/**
 * How memory follows the log: what other instances committed is handed over through these, inside
 * the log's one exclusive section (never during a batch).
 */
export interface LogFollower {
  /** The last revision memory has applied. */
  appliedRevision(): number;
  compactRevision(): number;
  /** Rows another instance committed, in order, up to revision `upTo` (leases already synced). */
  applyRemote(rows: LogRow[], upTo: number): void;
  /** The lease table as the database has it now. */
  syncLeases(leases: LeaseRow[]): void;
  /** Users, roles and the auth marks as the database has them now. */
  syncAuth(auth: AuthSnapshot): void;
  /** Another instance compacted the log at `revision`. */
  compactRemote(revision: number): void;
  /**
   * Memory is to be replaced by the database's state: at open, and when this instance fell behind
   * a compaction that may have deleted rows it never applied. A build that is never finished (the
   * load raced a compaction and starts again) is dropped.
   */
  rebuild(): SnapshotBuild;
}
