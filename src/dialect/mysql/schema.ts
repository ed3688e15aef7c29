/**
 * MySQL / MariaDB tables (InnoDB). Keys are VARBINARY, compared bytewise (etcd's order), and
 * `key` + `revision` must fit InnoDB's 3072-byte index limit: hence MAX_KEY_BYTES. Values are
 * LONGBLOB. Only SQL that MySQL 8 and MariaDB both accept. Every statement is idempotent.
 */
import { MAX_KEY_BYTES } from '../../limits';

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
    PRIMARY KEY (revision, sub),
    KEY log_key_revision (\`key\`, revision)
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
];
