/**
 * In-process backend tests: a Store over a real dialect on each available backend, built from the
 * same endpoints the conformance targets use. Static imports, because vitest cannot follow the
 * lazy require of a .ts dialect in src/dialect/index.ts.
 */
import pino from 'pino';
import type { DatastoreOptions, Endpoint } from '../../src/config';
import type { Dialect } from '../../src/dialect/dialect';
import { MysqlDialect } from '../../src/dialect/mysql/mysql';
import { PostgresDialect } from '../../src/dialect/postgres/postgres';
import { SqliteDialect } from '../../src/dialect/sqlite/sqlite';
import type { DeleteRangeRequest, PutRequest, RangeRequest } from '../../src/mvcc/types';

export const OPTS: DatastoreOptions = { tls: { skipVerify: false }, maxOpenConnections: 4, connectionMaxIdleMs: 60_000, pollIntervalMs: 20 };
export const log = pino({ level: 'silent' });

export function dialectFor(e: Endpoint): Dialect {
  if (e.kind === 'sqlite') return new SqliteDialect(e);
  if (e.kind === 'postgres') return new PostgresDialect(e, OPTS, log);
  return new MysqlDialect(e, OPTS, log);
}

export const put = (key: string, value: string): PutRequest => ({
  key: Buffer.from(key),
  value: Buffer.from(value),
  lease: 0n,
  prev_kv: false,
  ignore_value: false,
  ignore_lease: false,
});

export const del = (key: string): DeleteRangeRequest => ({ key: Buffer.from(key), range_end: Buffer.alloc(0), prev_kv: false });

/** A linearizable Range of `key` (to `rangeEnd` if given) with every option at its default. */
export const range = (key: string, rangeEnd = ''): RangeRequest => ({
  key: Buffer.from(key),
  range_end: Buffer.from(rangeEnd),
  limit: 0,
  revision: 0,
  sort_order: 0,
  sort_target: 0,
  serializable: false,
  keys_only: false,
  count_only: false,
  min_mod_revision: 0,
  max_mod_revision: 0,
  min_create_revision: 0,
  max_create_revision: 0,
});
