/**
 * Every MySQL / MariaDB statement (only SQL both accept). Statements go through the binary
 * protocol (prepared per connection, values sent raw); a multi-row statement's text depends on its
 * row count, so those are functions of the count, called with power-of-two counts only.
 */
import { LOAD_AUTH } from '../auth-rows';

const ROW_COLUMNS = 'revision, sub, `key`, create_revision, prev_revision, version, lease, value, deleted';

const many = (n: number, one: string): string => Array(n).fill(one).join(', ');
const inList = (n: number): string => `(${many(n, '?')})`;

export const SQL = {
  begin: 'START TRANSACTION',
  rollback: 'ROLLBACK',
  /** kine's table, only ever read. */
  kineExists: "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'kine'",
  kineRows: (limit: number) =>
    `SELECT id, CAST(name AS BINARY) AS name, created, deleted, create_revision, prev_revision, lease, value
     FROM kine WHERE id > ? ORDER BY id LIMIT ${Math.trunc(limit)}`,
  // Not TRUNCATE: it would commit the transaction there and then.
  clearRows: 'DELETE FROM log',
  clearLeases: 'DELETE FROM lease',
  /**
   * A consistent snapshot needs REPEATABLE READ (under the pool's READ COMMITTED each statement
   * would see its own); this sets it for the next transaction only.
   */
  repeatableReadOnce: 'SET TRANSACTION ISOLATION LEVEL REPEATABLE READ',
  beginConsistent: 'START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY',
  // Each statement sees what committed before it; no gap locks between writers and the compactor.
  readCommitted: 'SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED',
  wsrepOn: "SHOW VARIABLES LIKE 'wsrep_on'",
  /** The largest write set Galera replicates: a batch above it fails whole. */
  maxWriteSet: 'SELECT @@wsrep_max_ws_size AS bytes',
  /** Serialises schema creation between instances starting at the same moment. */
  schemaLock: 'SELECT GET_LOCK(?, 60) AS ok',
  schemaUnlock: 'SELECT RELEASE_LOCK(?)',
  maxAllowedPacket: 'SELECT @@max_allowed_packet AS bytes',
  version: 'SELECT VERSION() AS version',
  rowsAfter: `SELECT ${ROW_COLUMNS} FROM log WHERE revision > ? AND revision <= ? ORDER BY revision, sub`,
  loadLeases: 'SELECT id, ttl, expires_at FROM lease',
  loadAuth: LOAD_AUTH,
  getMeta: 'SELECT value FROM meta WHERE name = ?',
  deleteMeta: 'DELETE FROM meta WHERE name = ?',
  compactPredecessors: `DELETE l FROM log l JOIN log n ON l.\`key\` = n.\`key\` AND l.revision = n.prev_revision
                        WHERE n.revision > ? AND n.revision <= ? AND n.prev_revision > 0`,
  compactTombstones: 'DELETE FROM log WHERE revision > ? AND revision <= ? AND deleted = 1',
  /** LIMIT as a literal, as in loadRows. */
  revisionAfterRows: (rows: number) => `SELECT revision FROM log WHERE revision > ? ORDER BY revision, sub LIMIT ${Math.trunc(rows)}, 1`,
  dbSize: `SELECT COALESCE(SUM(data_length + index_length + data_free), 0) AS size,
                  COALESCE(SUM(data_length + index_length), 0) AS in_use
           FROM information_schema.tables WHERE table_schema = DATABASE()`,
  quotaBytes: `SELECT COALESCE(SUM(data_length + index_length), 0) AS size
               FROM information_schema.tables WHERE table_schema = DATABASE()`,
  // InnoDB rebuilds the tables online; writers are not blocked for the duration.
  defragment: 'OPTIMIZE TABLE log, lease, meta, auth_user, auth_role',
  ping: 'SELECT 1',
  /** What target_session_attrs=read-write checks: a replica runs read_only. */
  readOnly: 'SELECT @@global.read_only AS ro',
  /** The endpoint parser allows only letters, digits, '_', '$' and '-' in a database name. */
  createDatabase: (database: string) => `CREATE DATABASE IF NOT EXISTS \`${database}\``,
  /**
   * Spelled out rather than (revision, sub) > (?, ?), which MariaDB does not turn into a range
   * scan; LIMIT as a literal, since MySQL 8 rejects a bound LIMIT in some prepared-statement paths.
   */
  loadRows: (limit: number) =>
    `SELECT ${ROW_COLUMNS} FROM log WHERE revision > ? OR (revision = ? AND sub > ?) ORDER BY revision, sub LIMIT ${Math.trunc(limit)}`,
} as const;

/** Statements for `n` rows or names. */
export const SQL_FOR_COUNT = {
  meta: (n: number) => `SELECT name, value FROM meta WHERE name IN ${inList(n)}`,
  lockMeta: (n: number) => `SELECT name, value, CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED) AS now
                            FROM meta WHERE name IN ${inList(n)} ORDER BY name FOR UPDATE`,
  insertRows: (n: number) => `INSERT INTO log (${ROW_COLUMNS}) VALUES ${many(n, '(?, ?, ?, ?, ?, ?, ?, ?, ?)')}`,
  setMeta: (n: number) => `INSERT INTO meta (name, value) VALUES ${many(n, '(?, ?)')} ON DUPLICATE KEY UPDATE value = VALUES(value)`,
  initMeta: (n: number) => `INSERT IGNORE INTO meta (name, value) VALUES ${many(n, '(?, ?)')}`,
  upsertLeases: (n: number) =>
    `INSERT INTO lease (id, ttl, expires_at) VALUES ${many(n, '(?, ?, ?)')}
     ON DUPLICATE KEY UPDATE ttl = VALUES(ttl), expires_at = VALUES(expires_at)`,
  deleteLeases: (n: number) => `DELETE FROM lease WHERE id IN ${inList(n)}`,
  upsertAuth: (table: 'auth_user' | 'auth_role', n: number) =>
    `INSERT INTO ${table} (name, value) VALUES ${many(n, '(?, ?)')} ON DUPLICATE KEY UPDATE value = VALUES(value)`,
  deleteAuth: (table: 'auth_user' | 'auth_role', n: number) => `DELETE FROM ${table} WHERE name IN ${inList(n)}`,
};

/** What one fenced commit holds: the fence rows compared, log rows, lease upserts and deletes, meta rows. */
export interface FencedCounts {
  marks: number;
  rows: number;
  upserts: number;
  deletes: number;
  meta: number;
}

/** The error the fenced commit's guard raises when the fence rows moved ("Subquery returns more than 1 row"). */
export const FENCE_MOVED_ERRNO = 1242;

/**
 * A write transaction in one multi-statement request (the text protocol; mysql2 escapes the
 * values): the fence rows locked and compared, in the same statement, with what the writer
 * expects (`name=value` joined by ',' in name order); a guard that fails with FENCE_MOVED_ERRNO
 * unless they matched — the server runs nothing of a request after a failed statement, so the
 * changes that follow are never applied on a moved fence, and the caller rolls back; the changes,
 * as the transaction would write them; COMMIT. (Not one conditional INSERT … SELECT from a
 * derived table of all rows: MariaDB truncates values past 64 KiB in one, without a warning.)
 */
export function fencedCommit(n: FencedCounts): string {
  const parts = [
    'START TRANSACTION',
    `SELECT CAST(GROUP_CONCAT(name, '=', value ORDER BY name SEPARATOR ',') AS BINARY) = CAST(? AS BINARY) INTO @strata_fenced
     FROM meta WHERE name IN ${inList(n.marks)} FOR UPDATE`,
    'SELECT (SELECT 1 UNION ALL SELECT 1 FROM DUAL WHERE NOT (@strata_fenced <=> 1)) INTO @strata_guard',
  ];
  if (n.rows > 0) parts.push(SQL_FOR_COUNT.insertRows(n.rows));
  if (n.upserts > 0) parts.push(SQL_FOR_COUNT.upsertLeases(n.upserts));
  if (n.deletes > 0) parts.push(SQL_FOR_COUNT.deleteLeases(n.deletes));
  if (n.meta > 0) parts.push(SQL_FOR_COUNT.setMeta(n.meta));
  parts.push('COMMIT');
  return parts.join(';\n');
}
