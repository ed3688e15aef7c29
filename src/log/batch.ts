/**
 * One evaluation of a write batch: the jobs' rows, lease changes, meta rows, undo and commit
 * callbacks, and each job's outcome. A job that throws is undone alone; the rest of the batch
 * stands. A batch that does not commit is undone whole and, if retried, evaluated afresh.
 */
import type { AuthChanges } from '../dialect/dialect';
import type { AuthMarks, AuthRoleRow, AuthUserRow, Batch, LeaseRow, LogRow } from './types';

export type Job<T> = (batch: Batch) => T;

/** Roughly what a row costs beyond its key and value (columns, index entries). */
const ROW_OVERHEAD = 64;

function bytesOf(rows: readonly LogRow[]): number {
  let bytes = 0;
  for (const r of rows) bytes += r.key.length + r.value.length + ROW_OVERHEAD;
  return bytes;
}

export class BatchState implements Batch {
  readonly rows: LogRow[] = [];
  /** Lease changes in order: a row to upsert, or an id to delete. */
  readonly leaseOps: Array<LeaseRow | bigint> = [];
  /** The compaction mark a job moved, if any. */
  compactedTo: number | undefined;
  /** Auth table changes in order: a row to upsert, or a name to delete. */
  readonly authOps: Array<{ user: AuthUserRow } | { role: AuthRoleRow } | { deletedUser: string } | { deletedRole: string }> = [];
  /** The auth marks a job moved, if any. */
  authMarks: AuthMarks | undefined;
  readonly outcomes: Array<{ ok: boolean; value: unknown }> = [];
  leaseStamp: string | undefined;
  private rev: number;
  /** rowBytes after the jobs `runWithin` kept, counted as they came. */
  private keptBytes = 0;
  private readonly undos: Array<() => void> = [];
  private readonly commits: Array<() => void> = [];

  /** A job read the clock while the batch had none (evaluated ahead of the fence): it must be run again under it. */
  clockRead = false;

  /** `now` undefined: the database clock is not known yet (a batch evaluated before taking the fence). */
  constructor(
    committed: number,
    private readonly now: number | undefined,
  ) {
    this.rev = committed;
  }

  get nowMs(): number {
    if (this.now !== undefined) return this.now;
    this.clockRead = true;
    // Never committed: the writer re-runs the batch under the fence, with the database clock.
    return Date.now();
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

  putAuthUser(user: AuthUserRow): void {
    this.authOps.push({ user });
  }

  deleteAuthUser(name: string): void {
    this.authOps.push({ deletedUser: name });
  }

  putAuthRole(role: AuthRoleRow): void {
    this.authOps.push({ role });
  }

  deleteAuthRole(name: string): void {
    this.authOps.push({ deletedRole: name });
  }

  markAuth(marks: AuthMarks): void {
    this.authMarks = marks;
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
    const mark = this.mark();
    try {
      this.outcomes.push({ ok: true, value: job(this) });
    } catch (e) {
      this.restore(mark);
      this.outcomes.push({ ok: false, value: e });
    }
  }

  /**
   * Runs one job unless its rows would take the batch's key and value bytes past `maxBytes`;
   * then it leaves no trace and false says so (the first job always runs: it alone is the batch).
   */
  runWithin(job: Job<unknown>, maxBytes: number): boolean {
    const mark = this.mark();
    this.run(job);
    const bytes = this.keptBytes + bytesOf(this.rows.slice(mark.rows));
    if (mark.outcomes > 0 && bytes > maxBytes) {
      this.restore(mark);
      this.outcomes.length = mark.outcomes;
      return false;
    }
    this.keptBytes = bytes;
    return true;
  }

  /** Key and value bytes of the rows so far, with a per-row overhead. */
  get rowBytes(): number {
    return bytesOf(this.rows);
  }

  private mark() {
    return {
      rev: this.rev,
      rows: this.rows.length,
      leases: this.leaseOps.length,
      auth: this.authOps.length,
      undo: this.undos.length,
      commits: this.commits.length,
      outcomes: this.outcomes.length,
      compactedTo: this.compactedTo,
      authMarks: this.authMarks,
    };
  }

  private restore(mark: ReturnType<BatchState['mark']>): void {
    this.undoTo(mark.undo);
    this.rows.length = mark.rows;
    this.leaseOps.length = mark.leases;
    this.authOps.length = mark.auth;
    this.authMarks = mark.authMarks;
    this.commits.length = mark.commits;
    this.rev = mark.rev;
    this.compactedTo = mark.compactedTo;
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

  /** Each user's and role's last change (one statement may not touch a row twice). */
  authChanges(): AuthChanges {
    const users = new Map<string, AuthUserRow | null>();
    const roles = new Map<string, AuthRoleRow | null>();
    for (const op of this.authOps) {
      if ('user' in op) users.set(op.user.name, op.user);
      else if ('role' in op) roles.set(op.role.name, op.role);
      else if ('deletedUser' in op) users.set(op.deletedUser, null);
      else roles.set(op.deletedRole, null);
    }
    const out: AuthChanges = { users: [], deletedUsers: [], roles: [], deletedRoles: [] };
    for (const [name, u] of users) {
      if (u) out.users.push(u);
      else out.deletedUsers.push(name);
    }
    for (const [name, r] of roles) {
      if (r) out.roles.push(r);
      else out.deletedRoles.push(name);
    }
    return out;
  }

  private undoTo(mark: number): void {
    for (let i = this.undos.length - 1; i >= mark; i--) this.undos[i]();
    this.undos.length = mark;
  }
}

/**
 * Runs the jobs in order while their rows' keys and values stay within `capBytes` (the engine's
 * transaction cap): a job that would pass it, and the jobs after it, wait for the next batch. The
 * first job always runs: alone it is the batch.
 */
export function runJobs(state: BatchState, batch: ReadonlyArray<{ job: Job<unknown> }>, capBytes: number): void {
  for (const p of batch) if (!state.runWithin(p.job, capBytes)) break;
}
