/**
 * SQLite tables. Keys and values are BLOBs, so ordering is bytewise (etcd's), never a collation.
 * Every statement is idempotent; an upgrade adds statements, it never drops user data.
 * `log` is a rowid table on purpose: WITHOUT ROWID keeps far less of a row in its B-tree page, so
 * 1 KiB values went to overflow pages and the file grew to ~4x the data.
 */
export const SCHEMA = `
CREATE TABLE IF NOT EXISTS log (
  revision        INTEGER NOT NULL,
  sub             INTEGER NOT NULL,
  key             BLOB    NOT NULL,
  create_revision INTEGER NOT NULL,
  prev_revision   INTEGER NOT NULL,
  version         INTEGER NOT NULL,
  lease           INTEGER NOT NULL,
  value           BLOB    NOT NULL,
  deleted         INTEGER NOT NULL,
  PRIMARY KEY (revision, sub)
);
-- Schema 1 had an index on (key, revision); nothing reads by key (the index lives in memory and
-- compaction finds predecessors through the primary key), and it cost a random page per write.
DROP INDEX IF EXISTS log_key_revision;
CREATE TABLE IF NOT EXISTS meta (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS lease (
  id         INTEGER PRIMARY KEY,
  ttl        INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
-- Schema 3: etcd's users and roles (dialect/auth-rows.ts says what a value holds).
CREATE TABLE IF NOT EXISTS auth_user (
  name  BLOB PRIMARY KEY,
  value BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS auth_role (
  name  BLOB PRIMARY KEY,
  value BLOB NOT NULL
) WITHOUT ROWID;
`;
