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

/** The schema's statements; a change of one of the `announce` meta rows notifies listeners. */
export function schema(announce: readonly string[]): string[] {
  const names = announce.map((n) => `'${n.replace(/'/g, "''")}'`).join(', ');
  return [
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
    `CREATE OR REPLACE FUNCTION strata_notify() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       PERFORM pg_notify('${NOTIFY_CHANNEL}', '');
       RETURN NULL;
     END $$`,
    `DO $$ BEGIN
       IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'meta_notify' AND tgrelid = 'meta'::regclass) THEN
         CREATE TRIGGER meta_notify AFTER INSERT OR UPDATE ON meta FOR EACH ROW
           WHEN (NEW.name IN (${names}))
           EXECUTE FUNCTION strata_notify();
       END IF;
     END $$`,
  ];
}
