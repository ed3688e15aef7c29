/**
 * PostgreSQL tables. Keys and values are BYTEA, which compares bytewise (etcd's order) with no
 * collation involved. Every statement is idempotent; an upgrade adds statements, never drops data.
 * A trigger announces every change of the marks (revision, compaction, leases) on the channel
 * `strata_log`, so other instances' tailers wake at once; the payload is constant so PostgreSQL
 * folds a transaction's notifications into one.
 */
export const NOTIFY_CHANNEL = 'strata_log';

/** Serialises schema creation between instances starting at the same moment. */
export const SCHEMA_LOCK_ID = 0x5374726174610001n;

/**
 * A group commit in one statement (autocommit, so one round trip): the fence rows locked, then
 * compared with what the writer expects — each statement of a function sees what committed before
 * it, so the comparison sees the values the lock was granted on — and only if they match,
 * everything written. Returns whether it wrote.
 */
const COMMIT_FUNCTION = `CREATE OR REPLACE FUNCTION strata_commit(
   fence_names text[], fence_values text[],
   revisions bigint[], subs int[], keys bytea[], create_revisions bigint[], prev_revisions bigint[],
   versions bigint[], leases bigint[], vals bytea[], deleteds boolean[],
   lease_ids bigint[], lease_ttls bigint[], lease_expiries bigint[], deleted_leases bigint[],
   meta_names text[], meta_values text[]) RETURNS boolean LANGUAGE plpgsql AS $$
 BEGIN
   PERFORM 1 FROM meta WHERE name = ANY(fence_names) ORDER BY name FOR UPDATE;
   IF EXISTS (SELECT 1 FROM unnest(fence_names, fence_values) AS e(name, value) LEFT JOIN meta m ON m.name = e.name
              WHERE m.value IS DISTINCT FROM e.value) THEN
     RETURN false;
   END IF;
   INSERT INTO log (revision, sub, key, create_revision, prev_revision, version, lease, value, deleted)
     SELECT * FROM unnest(revisions, subs, keys, create_revisions, prev_revisions, versions, leases, vals, deleteds);
   IF cardinality(lease_ids) > 0 THEN
     INSERT INTO lease (id, ttl, expires_at) SELECT * FROM unnest(lease_ids, lease_ttls, lease_expiries)
       ON CONFLICT (id) DO UPDATE SET ttl = excluded.ttl, expires_at = excluded.expires_at;
   END IF;
   IF cardinality(deleted_leases) > 0 THEN
     DELETE FROM lease WHERE id = ANY(deleted_leases);
   END IF;
   INSERT INTO meta (name, value) SELECT * FROM unnest(meta_names, meta_values)
     ON CONFLICT (name) DO UPDATE SET value = excluded.value;
   RETURN true;
 END $$`;

/**
 * The schema's statements; with `notify`, a change of one of the `announce` meta rows notifies
 * listeners (engines without NOTIFY get the tables only); with `fenced`, the one-request commit
 * function is made.
 */
export function schema(announce: readonly string[], notify: boolean, fenced: boolean): string[] {
  const quoted = announce.map((n) => n.replace(/'/g, "''"));
  const names = quoted.map((n) => `'${n}'`).join(', ');
  // The trigger's definition names every mark, in this order ('_' in a LIKE matches itself too).
  const namesAll = `'%${quoted.join('%')}%'`;
  const tables = [
    `CREATE TABLE IF NOT EXISTS log (
      revision        BIGINT  NOT NULL,
      sub             INTEGER NOT NULL,
      key             BYTEA   NOT NULL,
      create_revision BIGINT  NOT NULL,
      prev_revision   BIGINT  NOT NULL,
      version         BIGINT  NOT NULL,
      lease           BIGINT  NOT NULL,
      value           BYTEA   NOT NULL,
      deleted         BOOLEAN NOT NULL,
      PRIMARY KEY (revision, sub)
    )`,
    // Nothing reads by key (the index is in memory; compaction joins on the primary key).
    'DROP INDEX IF EXISTS log_key_revision',
    'CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)',
    'CREATE TABLE IF NOT EXISTS lease (id BIGINT PRIMARY KEY, ttl BIGINT NOT NULL, expires_at BIGINT NOT NULL)',
    // Schema 3: etcd's users and roles (dialect/auth-rows.ts says what a value holds).
    'CREATE TABLE IF NOT EXISTS auth_user (name BYTEA PRIMARY KEY, value BYTEA NOT NULL)',
    'CREATE TABLE IF NOT EXISTS auth_role (name BYTEA PRIMARY KEY, value BYTEA NOT NULL)',
  ];
  if (fenced) tables.push(COMMIT_FUNCTION);
  if (!notify) return tables;
  return [
    ...tables,
    `CREATE OR REPLACE FUNCTION strata_notify() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       PERFORM pg_notify('${NOTIFY_CHANNEL}', '');
       RETURN NULL;
     END $$`,
    // A trigger made by an older schema announces fewer marks: it is replaced, once.
    `DO $$ BEGIN
       IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'meta_notify' AND tgrelid = 'meta'::regclass
                      AND pg_get_triggerdef(oid) LIKE ${namesAll}) THEN
         DROP TRIGGER IF EXISTS meta_notify ON meta;
         CREATE TRIGGER meta_notify AFTER INSERT OR UPDATE ON meta FOR EACH ROW
           WHEN (NEW.name IN (${names}))
           EXECUTE FUNCTION strata_notify();
       END IF;
     END $$`,
  ];
}
