/**
 * MySQL / MariaDB tables (InnoDB). Keys are VARBINARY(MAX_KEY_BYTES), compared bytewise (etcd's
 * order); values LONGBLOB. There is no index by key: nothing reads by key (the index is in memory,
 * compaction joins on the primary key). Only SQL that MySQL 8 and MariaDB both accept. Every
 * statement is idempotent.
 */
import { MAX_AUTH_NAME_BYTES, MAX_KEY_BYTES } from '../../limits';

/** Serialises schema creation between instances starting at the same moment (GET_LOCK). */
export const SCHEMA_LOCK = 'strata_schema';

export const SCHEMA: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS log (
    revision        BIGINT          NOT NULL,
    sub             INT             NOT NULL,
    \`key\`         VARBINARY(${MAX_KEY_BYTES}) NOT NULL,
    create_revision BIGINT          NOT NULL,
    prev_revision   BIGINT          NOT NULL,
    version         BIGINT          NOT NULL,
    lease           BIGINT          NOT NULL,
    value           LONGBLOB        NOT NULL,
    deleted         TINYINT         NOT NULL,
    PRIMARY KEY (revision, sub)
  ) ENGINE = InnoDB ROW_FORMAT = DYNAMIC`,
  `CREATE TABLE IF NOT EXISTS meta (
    name  VARCHAR(128) NOT NULL PRIMARY KEY,
    value VARCHAR(255) NOT NULL
  ) ENGINE = InnoDB`,
  `CREATE TABLE IF NOT EXISTS lease (
    id         BIGINT NOT NULL PRIMARY KEY,
    ttl        BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
  ) ENGINE = InnoDB`,
  // Schema 3: etcd's users and roles (dialect/auth-rows.ts says what a value holds). Names are
  // bytes, so 'root' and 'ROOT' are two users, as in etcd.
  ...['auth_user', 'auth_role'].map(
    (table) => `CREATE TABLE IF NOT EXISTS ${table} (
    name  VARBINARY(${MAX_AUTH_NAME_BYTES}) NOT NULL PRIMARY KEY,
    value LONGBLOB NOT NULL
  ) ENGINE = InnoDB`,
  ),
];
