/**
 * The one interface to a SQL database. Everything above this layer is written once; each database
 * implements it in its own folder (sqlite/, and postgres/ and mysql/ with the next issue). A dialect
 * knows SQL text, types, placeholders, errors and transactions — never etcd semantics.
 */

/** One row of the append-only log: one change of one key at revision (revision, sub). */
export interface LogRow {
  revision: number;
  sub: number;
  key: Buffer;
  createRevision: number;
  /** The key's previous mod revision (0 for a create); compaction follows it. */
  prevRevision: number;
  version: number;
  lease: bigint;
  value: Buffer;
  deleted: boolean;
}

export interface LeaseRow {
  id: bigint;
  ttl: number;
  /** Expiry in milliseconds since the epoch, by the database's clock. */
  expiresAt: number;
}

/** The meta rows every instance follows: changed only by a transaction that holds the fence. */
export interface Marks {
  /** The last committed revision (the fence counter). */
  revision: number;
  compactRevision: number;
  /** Changes whenever any lease row changes; an instance that sees a new stamp reloads leases. */
  leaseStamp: string;
}
export const MARK_NAMES = { revision: 'revision', compactRevision: 'compact_revision', leaseStamp: 'lease_stamp' } as const;

/** What the fence lock returns: the marks, and the database clock read in the same statement. */
export interface FenceState extends Marks {
  /** The database clock, in milliseconds since the epoch. */
  nowMs: number;
}

/** Reads of the log that also work outside a write transaction. */
export interface LogSource {
  /** Rows in (after, upTo], ordered by (revision, sub). */
  rowsAfter(after: number, upTo: number): Promise<LogRow[]>;
  loadLeases(): Promise<LeaseRow[]>;
}

/** Operations inside one write transaction, which holds the fence (the revision counter row). */
export interface WriteTx extends LogSource {
  /** Locks the fence row (so writers of every instance take turns) and reads the marks. */
  lockFence(): Promise<FenceState>;
  insertRows(rows: LogRow[]): Promise<void>;
  upsertLeases(leases: LeaseRow[]): Promise<void>;
  deleteLeases(ids: bigint[]): Promise<void>;
  /** Inserts or updates meta rows, in one statement. */
  setMeta(entries: Record<string, string>): Promise<void>;
}

export interface DbSize {
  /** Bytes the database occupies. */
  size: number;
  /** Bytes holding live data. */
  inUse: number;
}

/**
 * Thrown by `write` when the connection failed during COMMIT: the transaction may or may not have
 * committed. The writer resolves it by reading back before answering anyone.
 */
export class CommitUnknownError extends Error {
  override name = 'CommitUnknownError';
  constructor(override readonly cause: unknown) {
    super(`commit outcome unknown: ${(cause as Error)?.message ?? String(cause)}`);
  }
}

export interface Dialect extends LogSource {
  readonly name: string;
  /** Other instances' commits are announced (PostgreSQL LISTEN/NOTIFY); otherwise strata polls. */
  readonly notifies: boolean;
  /** Connects, creates the database if missing, and creates or upgrades the schema idempotently. */
  open(): Promise<void>;
  close(): Promise<void>;
  /** Runs fn in one transaction; commits if fn resolves, rolls back if it throws. */
  write<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T>;
  /** The marks, read outside any write transaction (primary-key reads of meta). */
  readMarks(): Promise<Marks>;
  /** Up to `limit` rows after (revision, sub), ordered by (revision, sub). */
  loadRows(afterRevision: number, afterSub: number, limit: number): Promise<LogRow[]>;
  getMeta(name: string): Promise<string | undefined>;
  deleteMeta(name: string): Promise<void>;
  /**
   * Deletes, in one short transaction, the rows made obsolete by revisions in (after, upTo]:
   * each such row's predecessor (its key at prev_revision) and every tombstone; records `upTo` as
   * meta `progressKey` in the same transaction. Returns the number of rows deleted.
   */
  compactWindow(after: number, upTo: number, progressKey: string): Promise<number>;
  /** Sets meta rows that do not exist yet; existing ones are left as they are. */
  initMeta(defaults: Record<string, string>): Promise<void>;
  dbSize(): Promise<DbSize>;
  /** Returns unused space to the file system (etcd's Defragment). */
  defragment(): Promise<void>;
  /** A failure worth retrying the whole transaction for: deadlock, serialization, lost connection. */
  isTransient(e: unknown): boolean;
  /** Calls `onChange` whenever another instance may have committed; resolves once listening. */
  listen?(onChange: () => void): Promise<void>;
}
