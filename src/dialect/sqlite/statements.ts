/**
 * Every SQLite statement, prepared once: on the writer's connection (inside write transactions)
 * or on the reader's, which sees only what has committed.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { SqliteSync } from '../../config';
import { LOAD_AUTH } from '../auth-rows';

type Db = BetterSqlite3.Database;
type Statement = BetterSqlite3.Statement;

const ROW_COLUMNS = 'revision, sub, key, create_revision, prev_revision, version, lease, value, deleted';
/**
 * The same columns as read: a lease id may need all 64 bits, so it comes as text unless it is 0 and
 * every other integer as a plain number (no bigint per column per row).
 */
const READ_COLUMNS =
  'revision, sub, key, create_revision, prev_revision, version, CASE WHEN lease = 0 THEN 0 ELSE CAST(lease AS TEXT) END, value, deleted';
/** A statement of log rows, read as arrays of columns (rows.ts's RawLogColumns). */
const logRowsOf = (db: Db, sql: string): Statement => db.prepare(sql).raw(true).safeIntegers(false);

const META_BY_NAMES = 'SELECT name, value FROM meta WHERE name IN (SELECT value FROM json_each(?))';
const ROWS_AFTER = `SELECT ${READ_COLUMNS} FROM log WHERE revision > ? AND revision <= ? ORDER BY revision, sub`;
const LOAD_ROWS = `SELECT ${READ_COLUMNS} FROM log WHERE (revision, sub) > (?, ?) ORDER BY revision, sub LIMIT ?`;
const LOAD_LEASES = 'SELECT id, ttl, expires_at FROM lease';
const UPSERT_META = 'ON CONFLICT (name) DO UPDATE SET value = excluded.value';
const AUTH_TABLES = { user: 'auth_user', role: 'auth_role' } as const;
const upsertAuth = (table: string) =>
  `INSERT INTO ${table} (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`;
const deleteAuth = (table: string) => `DELETE FROM ${table} WHERE name = ?`;

/** kine's table, only ever read (kine stores names as text; CAST keeps their bytes). */
export const KINE_SQL = {
  exists: "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'kine'",
  rows: `SELECT id, CAST(name AS BLOB) AS name, created, deleted, create_revision, prev_revision, lease, value
         FROM kine WHERE id > ? ORDER BY id LIMIT ?`,
} as const;

/** Settings of the writer's connection, as pragma arguments. */
export const PRAGMAS = {
  journalMode: 'journal_mode = WAL',
  synchronous: (mode: SqliteSync) => `synchronous = ${mode}`,
  checkpoint: 'wal_checkpoint(TRUNCATE)',
  autoCheckpoint: (pages: number) => `wal_autocheckpoint = ${pages}`,
} as const;

export const VACUUM = 'VACUUM';

/** The transaction statements of the writer's connection. */
export function prepareTransaction(writer: Db) {
  return {
    begin: writer.prepare('BEGIN IMMEDIATE'),
    commit: writer.prepare('COMMIT'),
    rollback: writer.prepare('ROLLBACK'),
  };
}

export type TransactionStatements = ReturnType<typeof prepareTransaction>;

export function prepareStatements(writer: Db, reader: Db) {
  return {
    writer: {
      lockMeta: writer.prepare(META_BY_NAMES),
      dataVersion: writer.prepare('PRAGMA data_version').pluck(),
      rowsAfter: logRowsOf(writer, ROWS_AFTER),
      loadLeases: writer.prepare(LOAD_LEASES),
      upsertLease: writer.prepare(
        'INSERT INTO lease (id, ttl, expires_at) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET ttl = excluded.ttl, expires_at = excluded.expires_at',
      ),
      deleteLease: writer.prepare('DELETE FROM lease WHERE id = ?'),
      clearRows: writer.prepare('DELETE FROM log'),
      clearLeases: writer.prepare('DELETE FROM lease'),
      loadAuth: writer.prepare(LOAD_AUTH),
      upsertUser: writer.prepare(upsertAuth(AUTH_TABLES.user)),
      upsertRole: writer.prepare(upsertAuth(AUTH_TABLES.role)),
      deleteUser: writer.prepare(deleteAuth(AUTH_TABLES.user)),
      deleteRole: writer.prepare(deleteAuth(AUTH_TABLES.role)),
      setOneMeta: writer.prepare(`INSERT INTO meta (name, value) VALUES (?, ?) ${UPSERT_META}`),
      initMeta: writer.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING'),
      deleteMeta: writer.prepare('DELETE FROM meta WHERE name = ?'),
      // The predecessor is found through the primary key: (revision = prev_revision) holds few rows.
      compactPredecessors: writer.prepare(
        `DELETE FROM log WHERE rowid IN (SELECT p.rowid FROM log n JOIN log p ON p.revision = n.prev_revision AND p.key = n.key
         WHERE n.revision > ? AND n.revision <= ? AND n.prev_revision > 0)`,
      ),
      compactTombstones: writer.prepare('DELETE FROM log WHERE revision > ? AND revision <= ? AND deleted = 1'),
      insertRows: new PreparedPerCount(writer, (n) => `INSERT INTO log (${ROW_COLUMNS}) VALUES ${many(n, '(?, ?, ?, ?, ?, ?, ?, ?, ?)')}`),
      setMeta: new PreparedPerCount(writer, (n) => `INSERT INTO meta (name, value) VALUES ${many(n, '(?, ?)')} ${UPSERT_META}`),
    },
    reader: {
      meta: reader.prepare(META_BY_NAMES),
      oneMeta: reader.prepare('SELECT value FROM meta WHERE name = ?').pluck(),
      rowsAfter: logRowsOf(reader, ROWS_AFTER),
      loadRows: logRowsOf(reader, LOAD_ROWS),
      loadLeases: reader.prepare(LOAD_LEASES),
      loadAuth: reader.prepare(LOAD_AUTH),
      ping: reader.prepare('SELECT 1'),
      revisionAfterRows: reader.prepare('SELECT revision FROM log WHERE revision > ? ORDER BY revision, sub LIMIT 1 OFFSET ?').pluck(),
      pageCount: reader.prepare('PRAGMA page_count').pluck(),
      freelistCount: reader.prepare('PRAGMA freelist_count').pluck(),
      pageSize: reader.prepare('PRAGMA page_size').pluck(),
    },
  };
}

export type Statements = ReturnType<typeof prepareStatements>;

/**
 * A consistent reader's statements, on a read-only connection of its own. In WAL mode a read
 * transaction's snapshot is fixed by its first read and holds until it ends; writers go on.
 */
export function prepareConsistentReader(db: Db) {
  return {
    begin: db.prepare('BEGIN'),
    /** The first read, which fixes the snapshot. */
    start: db.prepare('SELECT count(*) FROM meta').pluck(),
    end: db.prepare('COMMIT'),
    meta: db.prepare(META_BY_NAMES),
    loadRows: logRowsOf(db, LOAD_ROWS),
    loadLeases: db.prepare(LOAD_LEASES),
  };
}

/** A statement whose text depends on a row count, prepared once per count. */
class PreparedPerCount {
  private readonly byCount = new Map<number, Statement>();

  constructor(
    private readonly db: Db,
    private readonly sql: (count: number) => string,
  ) {}

  forCount(count: number): Statement {
    let s = this.byCount.get(count);
    if (!s) {
      s = this.db.prepare(this.sql(count));
      this.byCount.set(count, s);
    }
    return s;
  }
}

const many = (n: number, one: string): string => Array(n).fill(one).join(', ');
