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

/** Operations inside one write transaction, which holds the fence (the revision counter row). */
export interface WriteTx {
  /** Locks the fence row and returns the last committed revision. */
  lockFence(): Promise<number>;
  /** Rows in (after, upTo], ordered by (revision, sub): what other instances committed. */
  rowsAfter(after: number, upTo: number): Promise<LogRow[]>;
  insertRows(rows: LogRow[]): Promise<void>;
  setFence(revision: number): Promise<void>;
  /** The database clock, in milliseconds since the epoch. */
  nowMs(): Promise<number>;
  upsertLease(lease: LeaseRow): Promise<void>;
  deleteLeases(ids: bigint[]): Promise<void>;
  setMeta(name: string, value: string): Promise<void>;
}

export interface DbSize {
  /** Bytes the database occupies. */
  size: number;
  /** Bytes holding live data. */
  inUse: number;
}

export interface Dialect {
  readonly name: string;
  /** Connects and creates or upgrades the schema idempotently; never drops data. */
  open(): Promise<void>;
  close(): Promise<void>;
  /** Runs fn in one transaction that holds the fence; commits if fn resolves, rolls back if it throws. */
  write<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T>;
  /** The committed revision (a primary-key read of the fence row, outside any write transaction). */
  readFence(): Promise<number>;
  /** Up to `limit` rows after (revision, sub), ordered by (revision, sub). */
  loadRows(afterRevision: number, afterSub: number, limit: number): Promise<LogRow[]>;
  loadLeases(): Promise<LeaseRow[]>;
  getMeta(name: string): Promise<string | undefined>;
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
}
