/**
 * What each database engine strata can be pointed at does differently, as one table. Three
 * dialects (SQLite, PostgreSQL, MySQL) speak the SQL; the engine behind an endpoint's scheme
 * decides how it locks, which failures are worth a retry, whether commits can be announced, whether
 * advisory locks serialise anything, and how big one transaction may be. The dialects read these
 * rules; nothing else decides those questions. docs/compatibility.md says which engines were run.
 */

export type Engine = 'sqlite' | 'postgres' | 'mysql' | 'mariadb' | 'galera' | 'cockroachdb' | 'yugabytedb' | 'tidb';

/**
 * How `SELECT … FOR UPDATE` on the fence behaves: one server (the lock is the lock), a cluster that
 * locks on every node (the fence is correct, a commit is distributed), or a cluster whose locks
 * are node-local and whose commits are certified (the first committer wins; the others fail with a
 * retryable error, and a read-only transaction is never certified).
 */
export type LockingModel = 'single-server' | 'cluster-wide' | 'node-local-certification';

/** Advisory locks: held by the one server, by the whole cluster, only by the node asked, or none (accepted as no-ops or refused). */
export type AdvisoryLocks = 'server' | 'cluster' | 'node-local' | 'none';

export interface EngineRules {
  readonly engine: Engine;
  readonly locking: LockingModel;
  /**
   * Statements every pooled connection runs once so that reads see every commit acknowledged
   * anywhere in the cluster; none where the engine reads causally by itself.
   */
  readonly causalReads: readonly string[];
  /**
   * Error codes meaning "this transaction lost a conflict; run it again": SQLSTATEs for the
   * PostgreSQL family, MySQL error numbers (as text) for the MySQL family. Lost connections are
   * retried on every engine and are not listed.
   */
  readonly retryCodes: readonly string[];
  /**
   * Codes a COMMIT may answer when the engine cannot tell whether it landed: the writer reads its
   * stamp back, as after a connection lost during COMMIT.
   */
  readonly ambiguousCommitCodes: readonly string[];
  /** Commits by other instances are announced (LISTEN/NOTIFY); without it the log is polled. */
  readonly notifications: boolean;
  readonly advisoryLocks: AdvisoryLocks;
  /**
   * The largest transaction the engine accepts, in bytes, or undefined for none worth planning
   * around. Write batches stay well under it (see `batchByteCap`).
   */
  readonly maxTxnBytes: number | undefined;
  /**
   * A write batch may be committed in one request (fence check, changes and COMMIT together; see
   * log/fenced-commit.ts): PostgreSQL's `strata_commit` function, MySQL's multi-statement request.
   * Only where it was run and its locking is one server's; elsewhere batches take the transaction.
   */
  readonly fencedWrites: boolean;
  /**
   * Statements a compaction window's transaction runs after BEGIN. PostgreSQL's JIT compiles any
   * plan estimated costly (every window's, on a log without statistics) in tens of milliseconds,
   * for statements that run in one; the adaptive window then shrank to one revision.
   */
  readonly compactionSetup: readonly string[];
  /**
   * The engine runs inside this process and its calls are synchronous (better-sqlite3): while a
   * statement runs, no request is served, so long work leaves the event loop free between steps.
   */
  readonly blocksEventLoop: boolean;
}

/** PostgreSQL's serialization failure, deadlock, too many connections. */
const PG_RETRY = ['40001', '40P01', '53300'];
/** Lock wait timeout, deadlock, too many connections. */
const MYSQL_RETRY = ['1205', '1213', '1040'];

const MiB = 1 << 20;

const MYSQL: EngineRules = {
  engine: 'mysql',
  locking: 'single-server',
  causalReads: [],
  retryCodes: MYSQL_RETRY,
  ambiguousCommitCodes: [],
  notifications: false,
  advisoryLocks: 'server',
  maxTxnBytes: undefined,
  fencedWrites: true,
  compactionSetup: [],
  blocksEventLoop: false,
};

export const ENGINE_RULES: Readonly<Record<Engine, EngineRules>> = {
  sqlite: {
    engine: 'sqlite',
    locking: 'single-server',
    causalReads: [],
    retryCodes: [],
    ambiguousCommitCodes: [],
    notifications: false,
    advisoryLocks: 'none',
    maxTxnBytes: undefined,
    fencedWrites: false,
    compactionSetup: [],
    blocksEventLoop: true,
  },
  postgres: {
    engine: 'postgres',
    locking: 'single-server',
    causalReads: [],
    retryCodes: PG_RETRY,
    ambiguousCommitCodes: [],
    notifications: true,
    advisoryLocks: 'server',
    maxTxnBytes: undefined,
    fencedWrites: true,
    compactionSetup: ['SET LOCAL jit = off'],
    blocksEventLoop: false,
  },
  mysql: MYSQL,
  mariadb: { ...MYSQL, engine: 'mariadb' },
  galera: {
    engine: 'galera',
    locking: 'node-local-certification',
    // Bit 1: reads (SELECT, and so the fence's FOR UPDATE) wait until the node has applied every
    // write set committed cluster-wide before them; otherwise they see the node's lagging copy.
    causalReads: ['SET SESSION wsrep_sync_wait = 1'],
    // Certification failure surfaces as a deadlock (1213); 1047: a (re)joining node not ready yet,
    // retried only when its message says WSREP (mysql/errors.ts); 1062: the fence's lock is the
    // node's own, so another node's batch, applied here after our fence read, can hold the revision
    // our INSERT takes — a lost race like a certification failure, before any COMMIT.
    retryCodes: [...MYSQL_RETRY, '1047', '1062'],
    ambiguousCommitCodes: [],
    notifications: false,
    advisoryLocks: 'node-local',
    // wsrep_max_ws_size's default and ceiling (2 GiB); the dialect lowers it to the server's value.
    maxTxnBytes: 2048 * MiB - 1,
    fencedWrites: false,
    compactionSetup: [],
    blocksEventLoop: false,
  },
  cockroachdb: {
    engine: 'cockroachdb',
    locking: 'cluster-wide',
    causalReads: [],
    // 40001: "restart transaction".
    retryCodes: PG_RETRY,
    // 40003 statement_completion_unknown: the COMMIT's result is ambiguous.
    ambiguousCommitCodes: ['40003'],
    notifications: false,
    // pg_advisory_* are accepted and lock nothing.
    advisoryLocks: 'none',
    // kv.raft.command.max_size: a transaction's writes beyond it fail.
    maxTxnBytes: 64 * MiB,
    fencedWrites: false,
    compactionSetup: [],
    blocksEventLoop: false,
  },
  yugabytedb: {
    engine: 'yugabytedb',
    locking: 'cluster-wide',
    causalReads: [],
    retryCodes: PG_RETRY,
    ambiguousCommitCodes: [],
    notifications: false,
    // Advisory locks are a preview behind a flag in recent releases; not relied on.
    advisoryLocks: 'none',
    // No documented hard cap; the RPC message limit (rpc_max_message_size, 255 MiB) bounds a batch.
    maxTxnBytes: 255 * MiB,
    fencedWrites: false,
    compactionSetup: [],
    blocksEventLoop: false,
  },
  tidb: {
    engine: 'tidb',
    locking: 'cluster-wide',
    causalReads: [],
    // 9007 write conflict, 8022 transaction retry needed, 8028 schema changed meanwhile.
    retryCodes: [...MYSQL_RETRY, '9007', '8022', '8028'],
    ambiguousCommitCodes: [],
    notifications: false,
    advisoryLocks: 'cluster',
    // txn-total-size-limit's default.
    maxTxnBytes: 100 * 1000 * 1000,
    fencedWrites: false,
    compactionSetup: [],
    blocksEventLoop: false,
  },
};

/**
 * The bytes of keys and values one write batch may carry on this engine: a quarter of its
 * transaction cap, leaving room for index entries, the row encoding and the other tables' rows.
 */
export function batchByteCap(rules: EngineRules): number {
  return rules.maxTxnBytes === undefined ? Infinity : Math.floor(rules.maxTxnBytes / 4);
}
