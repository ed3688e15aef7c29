/**
 * Limits strata adds to etcd's, the same on every backend so data can move between them.
 * Keys longer than this are refused with INVALID_ARGUMENT: MySQL's InnoDB indexes at most 3072
 * bytes of (key, revision) and PostgreSQL's B-tree about 2700; etcd itself has no key limit
 * beyond the request size.
 */
export const MAX_KEY_BYTES = 2048;
