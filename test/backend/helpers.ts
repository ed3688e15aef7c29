/**
 * In-process backend tests: a Store over a real dialect on each available backend, built from the
 * same endpoints the conformance targets use. Static imports, because vitest cannot follow the
 * lazy require of a .ts dialect in src/dialect/index.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll } from 'vitest';
import { parseEndpoint, type DatastoreOptions, type Endpoint } from '../../src/config';
import type { Dialect } from '../../src/dialect/dialect';
import { MysqlDialect } from '../../src/dialect/mysql/dialect';
import { PostgresDialect } from '../../src/dialect/postgres/dialect';
import { SqliteDialect } from '../../src/dialect/sqlite/dialect';
import { Log } from '../../src/log/log';
import { Store } from '../../src/mvcc/store';
import {
  CompareResult,
  CompareTarget,
  type DeleteRangeRequest,
  type PutRequest,
  type RangeRequest,
  type TxnRequest,
} from '../../src/mvcc/types';
import { deleteRangeRequest, putRequest, rangeRequest } from '../helpers/requests';
import type { Backend } from '../helpers/targets';

export const OPTS: DatastoreOptions = {
  tls: { skipVerify: false },
  maxOpenConnections: 4,
  connectionMaxIdleMs: 60_000,
  pollIntervalMs: 20,
};
export const log = pino({ level: 'silent' });

export function dialectFor(e: Endpoint): Dialect {
  if (e.kind === 'sqlite') return new SqliteDialect(e);
  if (e.kind === 'postgres') return new PostgresDialect(e, OPTS, log);
  return new MysqlDialect(e, OPTS, log);
}

/** A Store over its own Log over `dialect`, as app.ts builds them; `pipelinedCommits` as --datastore-pipelined-commits. */
export function storeOn(dialect: Dialect, pipelinedCommits = false): Store {
  return new Store(new Log(dialect, log, { pollIntervalMs: OPTS.pollIntervalMs, pipelinedCommits }), log, {
    watchProgressNotifyIntervalMs: 60_000,
  });
}

export const put = (key: string, value: string): PutRequest => putRequest({ key: Buffer.from(key), value: Buffer.from(value) });

export const del = (key: string): DeleteRangeRequest => deleteRangeRequest({ key: Buffer.from(key) });

/** A Txn that puts `key` = `value` if `compareKey` holds `expected`, and does nothing otherwise. */
export const putIf = (compareKey: string, expected: string, key: string, value: string): TxnRequest => ({
  compare: [
    {
      result: CompareResult.EQUAL,
      target: CompareTarget.VALUE,
      key: Buffer.from(compareKey),
      range_end: Buffer.alloc(0),
      operand: { kind: 'value', value: Buffer.from(expected) },
    },
  ],
  success: [{ kind: 'put', put: put(key, value) }],
  failure: [],
});

/** A linearizable Range of `key` (to `rangeEnd` if given) with every option at its default. */
export const range = (key: string, rangeEnd = ''): RangeRequest =>
  rangeRequest({ key: Buffer.from(key), range_end: Buffer.from(rangeEnd) });

/**
 * A Store on `backend`, opened before the suite's tests on a database of its own and closed and
 * dropped after them. Call inside a describe; read `dialect`, `store` and `dir` (the scratch dir
 * the database is named after) inside the tests.
 */
export function storePerSuite(backend: Backend, name: string): { dialect: Dialect; store: Store; dir: string } {
  const fixture = {} as { dialect: Dialect; store: Store; dir: string };
  beforeAll(async () => {
    fixture.dir = mkdtempSync(path.join(tmpdir(), `strata-${name}-`));
    fixture.dialect = dialectFor(parseEndpoint(backend.endpoint(fixture.dir)));
    fixture.store = storeOn(fixture.dialect);
    await fixture.store.open();
  });
  afterAll(async () => {
    const dir = fixture.dir;
    await fixture.store?.close();
    backend.drop(dir);
    rmSync(dir, { recursive: true, force: true });
  });
  return fixture;
}
