/**
 * Limits strata adds to etcd's, the same on every backend so data can move between them.
 * Keys longer than this are refused with INVALID_ARGUMENT. MySQL needs a bound for its VARBINARY
 * key column, and 2048 bytes keeps (key, revision) indexable on every backend (InnoDB indexes at
 * most 3072 bytes, PostgreSQL's B-tree about 2700) should an index by key be needed; etcd itself
 * has no key limit beyond the request size.
 */
export const MAX_KEY_BYTES = 2048;

/**
 * User and role names longer than this are refused with INVALID_ARGUMENT: they are primary keys
 * (MySQL needs a bound for the VARBINARY column); etcd has no limit beyond the request size.
 */
export const MAX_AUTH_NAME_BYTES = 512;

/**
 * Txns nested deeper than this are refused with etcd's `too many operations in txn request`, before
 * anything is written. etcd bounds nesting only through --max-txn-ops (each level spends one op of
 * its parent's budget, so the default 128 allows 129 levels); this bound keeps a larger
 * --max-txn-ops from nesting deeper than protobuf decoding and encoding can recurse.
 */
export const MAX_TXN_DEPTH = 512;

/**
 * etcd's own request timeout (5 s + two election timeouts of 1 s): how long a write whose caller
 * set no deadline is retried through transient failures before it fails with etcd's "request
 * timed out", here or forwarded to an elected writer.
 */
export const ETCD_REQUEST_TIMEOUT_MS = 7_000;
