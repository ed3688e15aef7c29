/**
 * Every PostgreSQL statement. Those of the write path and of following the log are named
 * (server-side prepared, parsed once per connection); the rest run rarely and go as plain text.
 * Multi-row writes bind one array per column and `unnest` them: one statement text for any count.
 */
import type { QueryArrayConfig, QueryConfig } from 'pg';
import { LOAD_AUTH } from '../auth-rows';
import { NOTIFY_CHANNEL } from './schema';

const ROW_COLUMNS = 'revision, sub, key, create_revision, prev_revision, version, lease, value, deleted';

const PREPARED = {
  meta: `SELECT name, value FROM meta WHERE name = ANY($1::text[])`,
  lockMeta: `SELECT name, value, (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now
             FROM meta WHERE name = ANY($1::text[]) ORDER BY name FOR UPDATE`,
  rowsAfter: `SELECT ${ROW_COLUMNS} FROM log WHERE revision > $1 AND revision <= $2 ORDER BY revision, sub`,
  loadRows: `SELECT ${ROW_COLUMNS} FROM log WHERE (revision, sub) > ($1, $2) ORDER BY revision, sub LIMIT $3`,
  insertRows: `INSERT INTO log (${ROW_COLUMNS}) SELECT * FROM unnest($1::bigint[], $2::int[], $3::bytea[], $4::bigint[],
               $5::bigint[], $6::bigint[], $7::bigint[], $8::bytea[], $9::boolean[])`,
  setMeta: `INSERT INTO meta (name, value) SELECT * FROM unnest($1::text[], $2::text[])
            ON CONFLICT (name) DO UPDATE SET value = excluded.value`,
  upsertLeases: `INSERT INTO lease (id, ttl, expires_at) SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[])
                 ON CONFLICT (id) DO UPDATE SET ttl = excluded.ttl, expires_at = excluded.expires_at`,
  deleteLeases: `DELETE FROM lease WHERE id = ANY($1::bigint[])`,
  loadLeases: `SELECT id, ttl, expires_at FROM lease`,
  loadAuth: LOAD_AUTH,
  commit: `SELECT strata_commit($1::text[], $2::text[], $3::bigint[], $4::int[], $5::bytea[], $6::bigint[], $7::bigint[],
           $8::bigint[], $9::bigint[], $10::bytea[], $11::boolean[], $12::bigint[], $13::bigint[], $14::bigint[], $15::bigint[],
           $16::text[], $17::text[]) AS ok`,
  /**
   * Each predecessor is looked up from its successor in the window, then deleted by primary key.
   * Written as a plain join, the planner sorted or hashed the whole log for every window when it
   * had no statistics (a bulk load not yet analysed) or used the generic plan; OFFSET 0 keeps the
   * lookup from being flattened into such a join, so both steps are primary-key probes.
   */
  compactPredecessors: `DELETE FROM log l USING (
                          SELECT p.revision, p.sub FROM log n CROSS JOIN LATERAL (
                            SELECT revision, sub FROM log WHERE revision = n.prev_revision AND key = n.key OFFSET 0) p
                          WHERE n.revision > $1 AND n.revision <= $2 AND n.prev_revision > 0) t
                        WHERE l.revision = t.revision AND l.sub = t.sub`,
  compactTombstones: `DELETE FROM log WHERE revision > $1 AND revision <= $2 AND deleted`,
  revisionAfterRows: `SELECT revision FROM log WHERE revision > $1 ORDER BY revision, sub LIMIT 1 OFFSET $2`,
} as const;

/** A server-side prepared statement with its values, named after its key in PREPARED. */
export function prepared(name: keyof typeof PREPARED, values: unknown[]): QueryConfig {
  return { name: `strata_${name}`, text: PREPARED[name], values };
}

/** The same for a statement of log rows, which come as arrays of columns (rows.ts's RawLogColumns). */
export function preparedLogRows(name: 'rowsAfter' | 'loadRows', values: unknown[]): QueryArrayConfig {
  return { ...prepared(name, values), rowMode: 'array' };
}

/** Rarely run: auth changes. */
const AUTH_TABLE = { user: 'auth_user', role: 'auth_role' } as const;
export const AUTH_SQL = {
  upsert: (kind: keyof typeof AUTH_TABLE) =>
    `INSERT INTO ${AUTH_TABLE[kind]} (name, value) SELECT * FROM unnest($1::bytea[], $2::bytea[])
     ON CONFLICT (name) DO UPDATE SET value = excluded.value`,
  delete: (kind: keyof typeof AUTH_TABLE) => `DELETE FROM ${AUTH_TABLE[kind]} WHERE name = ANY($1::bytea[])`,
} as const;

export const SQL = {
  begin: 'BEGIN',
  /** kine's table, only ever read; its names are text, read as their UTF-8 bytes. */
  kineExists: "SELECT to_regclass('kine') IS NOT NULL AS found",
  kineRows: `SELECT id, convert_to(name, 'UTF8') AS name, created, deleted, create_revision, prev_revision, lease, value
             FROM kine WHERE id > $1 ORDER BY id LIMIT $2`,
  clearLog: 'TRUNCATE log, lease',
  /** One snapshot for the whole transaction, taken at its first statement; writers are not blocked. */
  beginConsistent: 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
  /** Serialises schema creation between instances starting at the same moment; released at COMMIT. */
  schemaLock: 'SELECT pg_advisory_xact_lock($1)',
  listen: `LISTEN ${NOTIFY_CHANNEL}`,
  getMeta: 'SELECT value FROM meta WHERE name = $1',
  deleteMeta: 'DELETE FROM meta WHERE name = $1',
  initMeta: 'INSERT INTO meta (name, value) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT (name) DO NOTHING',
  dbSize: `SELECT pg_database_size(current_database()) AS size,
                  pg_total_relation_size('log') + pg_total_relation_size('meta') + pg_total_relation_size('lease')
                  + pg_total_relation_size('auth_user') + pg_total_relation_size('auth_role') AS in_use`,
  quotaBytes: `SELECT pg_total_relation_size('log') + pg_total_relation_size('meta') + pg_total_relation_size('lease')
                  + pg_total_relation_size('auth_user') + pg_total_relation_size('auth_role') AS size`,
  // Plain VACUUM makes dead space reusable without locking writers out; VACUUM FULL would.
  defragment: 'VACUUM log, lease, meta',
  // Compaction deletes from log; meta's marks are rewritten by every batch.
  reclaim: 'VACUUM log, meta',
  ping: 'SELECT 1',
  /** What target_session_attrs checks, as libpq does. */
  readOnly: 'SHOW transaction_read_only',
  inRecovery: 'SELECT pg_is_in_recovery() AS recovery',
  /** The endpoint parser allows only letters, digits, '_', '$' and '-' in a database name. */
  createDatabase: (database: string) => `CREATE DATABASE "${database}"`,
} as const;
