/**
 * The one interface to a SQL database. Everything above this layer is written once; each database
 * implements it in its own folder (sqlite/, postgres/, mysql/), each with the same file set. A
 * dialect stores rows of five tables (log, meta, lease, auth_user, auth_role) and knows SQL text,
 * types, placeholders, errors and transactions — never what a meta row means: the log layer names
 * the rows it reads.
 */
import type { HostHealth } from './hosts';
import type { EngineRules } from './rules';

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

/** One key permission of a role: etcd's authpb.Permission (type 0 READ, 1 WRITE, 2 READWRITE). */
export interface AuthPermissionRow {
  permType: number;
  key: Buffer;
  /** Empty: the single key; "\0": every key from `key` on; else the end of [key, rangeEnd). */
  rangeEnd: Buffer;
}

/** A user of etcd's auth store: its bcrypt hash ('' for none) and its roles, sorted. */
export interface AuthUserRow {
  name: string;
  password: string;
  noPassword: boolean;
  roles: string[];
}

/** A role of etcd's auth store: its permissions, sorted by key. */
export interface AuthRoleRow {
  name: string;
  permissions: AuthPermissionRow[];
}

/** Every user and role, as the auth tables hold them. */
export interface AuthRows {
  users: AuthUserRow[];
  roles: AuthRoleRow[];
}

/** What one write transaction changes in the auth tables: rows to upsert, names to delete. */
export interface AuthChanges {
  users: AuthUserRow[];
  deletedUsers: string[];
  roles: AuthRoleRow[];
  deletedRoles: string[];
}

/** Meta rows by name, as read; a name without a row is absent. */
export type MetaValues = ReadonlyMap<string, string>;

/** What locking the fence rows returns: their values, and the database clock read in the same statement. */
export interface LockedMeta {
  values: MetaValues;
  /** The database clock, in milliseconds since the epoch. */
  nowMs: number;
}

/** Reads of the log that also work outside a write transaction. */
export interface LogSource {
  /** Rows in (after, upTo], ordered by (revision, sub). */
  rowsAfter(after: number, upTo: number): Promise<LogRow[]>;
  loadLeases(): Promise<LeaseRow[]>;
  loadAuth(): Promise<AuthRows>;
}

/** Reads inside one read-only transaction: every call sees the same committed state. */
export interface ConsistentRead {
  readMeta(names: readonly string[]): Promise<MetaValues>;
  /** Up to `limit` rows after (revision, sub), ordered by (revision, sub). */
  loadRows(afterRevision: number, afterSub: number, limit: number): Promise<LogRow[]>;
  loadLeases(): Promise<LeaseRow[]>;
}

/** Operations inside one write transaction. */
export interface WriteTx extends LogSource {
  /**
   * Locks the named meta rows (the fence: writers of every instance take turns on them), in name
   * order so lockers never deadlock, and reads them with the database clock.
   */
  lockMeta(names: readonly string[]): Promise<LockedMeta>;
  insertRows(rows: LogRow[]): Promise<void>;
  /** Deletes every log row and lease (an import that replaces the store). */
  clearLog(): Promise<void>;
  upsertLeases(leases: LeaseRow[]): Promise<void>;
  deleteLeases(ids: bigint[]): Promise<void>;
  /** Applies users and roles written or deleted (each name at most once per list). */
  writeAuth(changes: AuthChanges): Promise<void>;
  /** Inserts or updates meta rows, in one statement. */
  setMeta(entries: Record<string, string>): Promise<void>;
}

/**
 * One write transaction's changes, sent to the database in one request: applied only if the fence
 * rows still hold `expect` (nothing committed since the writer last saw them); else nothing is.
 */
export interface FencedWrite {
  /** The fence rows (in lock order) and the values they must still hold. */
  expect: MetaValues;
  rows: LogRow[];
  leaseUpserts: LeaseRow[];
  leaseDeletes: bigint[];
  meta: Record<string, string>;
}

/** A write transaction's shortcut: its changes, and what `write` resolves to when they committed in one request. */
export interface Shortcut<T> {
  changes: FencedWrite;
  result: T;
}

export interface DbSize {
  /** Bytes the database occupies. */
  size: number;
  /** Bytes holding live data. */
  inUse: number;
}

/**
 * What a database can do beyond the interface's common ground: the rules of the engine behind the
 * endpoint (rules.ts). `notifications`: commits by other instances are announced through `listen`;
 * without it the log is polled.
 */
export type Capabilities = EngineRules;

export interface OpenOptions {
  /** Meta rows whose changes are announced to listening instances, where the database can. */
  announce: readonly string[];
  /** false: connect only, create no table (reading another program's tables, e.g. kine's). */
  schema?: boolean;
}

/** One row of kine's table (k3s's datastore), as kine's schema has it: its id is the revision. */
export interface KineRow {
  id: number;
  name: Buffer;
  created: boolean;
  deleted: boolean;
  /** 0 on a create: the row's own id. */
  createRevision: number;
  prevRevision: number;
  /** kine's lease column: a TTL in seconds (kine's lease ids are their TTLs). */
  lease: number;
  value: Buffer;
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

/** Who holds the writer lease, as the database's clock judges it (see `Dialect.claimWriter`). */
export interface WriterLease {
  /** The holder's instance id; '' when nobody ever held it. */
  owner: string;
  /** The holder's advertised gRPC address. */
  address: string;
  /** Milliseconds left by the database clock; 0 or less: expired. */
  remainingMs: number;
}

export interface Dialect extends LogSource {
  readonly name: string;
  readonly capabilities: Capabilities;
  /** Connects, creates the database if missing, and creates or upgrades the schema idempotently. */
  open(options: OpenOptions): Promise<void>;
  close(): Promise<void>;
  /**
   * Runs fn in one transaction; commits if fn resolves, rolls back if it throws. With a shortcut
   * (where `capabilities.fencedWrites`), first sends its changes in one request — lock the fence
   * rows, compare them with `expect`, store, commit — and resolves to `shortcut.result` if they
   * matched; fn runs only if they did not (nothing was written) or the changes were too large for
   * one request. A connection lost once that request was sent is a CommitUnknownError.
   */
  write<T>(fn: (tx: WriteTx) => Promise<T>, shortcut?: Shortcut<T>): Promise<T>;
  /**
   * The shortcut of `write` alone, where `capabilities.fencedWrites`: true when the changes
   * committed in one request, false when nothing was written (the fence rows did not hold
   * `expect`, or the changes are too large for one request). Sent while another such request is
   * in flight, it waits in the database for that one's fence lock, so the two commit in order. A
   * connection lost once the request was sent is a CommitUnknownError.
   */
  commitFenced?(changes: FencedWrite): Promise<boolean>;
  /**
   * The named meta rows as committed, read outside any write transaction. A dialect may answer
   * from a cache only where it can prove nothing was committed since (SQLite's data_version).
   */
  readMeta(names: readonly string[]): Promise<MetaValues>;
  /** One meta row, always read from the database (no cache): a lost COMMIT is resolved with it. */
  getMeta(name: string): Promise<string | undefined>;
  deleteMeta(name: string): Promise<void>;
  /** Sets meta rows that do not exist yet; existing ones are left as they are. */
  initMeta(defaults: Record<string, string>): Promise<void>;
  /** Up to `limit` rows after (revision, sub), ordered by (revision, sub). */
  loadRows(afterRevision: number, afterSub: number, limit: number): Promise<LogRow[]>;
  /** Whether the database holds kine's table (`kine`). */
  hasKineTable(): Promise<boolean>;
  /** Up to `limit` rows of kine's table with ids above `afterId`, by id; the table is only read. */
  loadKineRows(afterId: number, limit: number): Promise<KineRow[]>;
  /**
   * Runs fn in one read-only transaction on a connection of its own that sees a single committed
   * state however long it runs, without holding writers back (a backup or a hash of the log).
   */
  readConsistent<T>(fn: (r: ConsistentRead) => Promise<T>): Promise<T>;
  /**
   * Deletes, in one short transaction, the rows made obsolete by revisions in (after, upTo]:
   * each such row's predecessor (its key at prev_revision) and every tombstone; records `upTo` as
   * meta `progressKey` in the same transaction. Returns the number of rows deleted.
   */
  compactWindow(after: number, upTo: number, progressKey: string): Promise<number>;
  /**
   * The revision of the log row that follows the first `rows` rows after revision `after` (in
   * (revision, sub) order), or undefined if no more than `rows` rows follow: how far a compaction
   * window may reach and still hold at most `rows` rows.
   */
  revisionAfterRows(after: number, rows: number): Promise<number | undefined>;
  /**
   * After a compaction deleted rows: makes their space reusable where the database would
   * otherwise wait for a background job that may be off or late (PostgreSQL: a plain VACUUM of
   * strata's tables, which blocks no reads or writes). SQLite and InnoDB reuse freed pages
   * themselves: nothing to do there.
   */
  reclaim(): Promise<void>;
  dbSize(): Promise<DbSize>;
  /**
   * The bytes the space quota counts (etcd's backend size): the SQLite file (page_count ×
   * page_size), strata's tables with their indexes and TOAST (PostgreSQL), data + index length
   * (MySQL).
   */
  quotaBytes(): Promise<number>;
  /** The database cannot be reached (connection refused, lost, server shutting down). */
  isUnreachable(e: unknown): boolean;
  /** Connections of the pool in use and idle, where the database has a pool. */
  poolStats?(): { inUse: number; idle: number };
  /** Each host of the endpoint: answering or not, and the one new connections go to. */
  hostHealth?(): HostHealth[];
  /**
   * Takes the writer lease for `owner` (advertising `address`) for `ttlMs` by the database clock
   * when it is free, expired or `owner`'s already, and returns the holder afterwards. Only on the
   * dialects where one instance may write for the others (MySQL, MariaDB, Galera).
   */
  claimWriter?(owner: string, address: string, ttlMs: number): Promise<WriterLease>;
  /** Ends `owner`'s writer lease now, if it holds it. */
  releaseWriter?(owner: string): Promise<void>;
  /** The database or its disk is full (SQLITE_FULL, PostgreSQL 53100, MySQL 1114 / errno 28). */
  isDiskFull(e: unknown): boolean;
  /** Returns unused space to the file system (etcd's Defragment). */
  defragment(): Promise<void>;
  /** One cheap round trip; rejects when the database cannot be reached. */
  ping(): Promise<void>;
  /** A failure worth retrying the whole transaction for: deadlock, serialization, lost connection. */
  isTransient(e: unknown): boolean;
  /**
   * Calls `onChange` whenever another instance may have committed; resolves once listening. Only
   * called when `capabilities.notifications` is set.
   */
  listen(onChange: () => void): Promise<void>;
}

/** `listen` of a database that cannot announce commits. */
export function cannotListen(dialect: string): () => Promise<void> {
  return () => Promise.reject(new Error(`${dialect} cannot announce commits; the log is polled`));
}
