/**
 * A full disk becomes etcd's NOSPACE: SQLite is made full for real (max_page_count at the file's
 * current size), a write fails with "database space exceeded", the alarm is raised, reads and the
 * alarm list keep working, and after room is made and the alarm disarmed, writes succeed again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { parseEndpoint } from '../../src/config';
import { isDiskFull as mysqlDiskFull } from '../../src/dialect/mysql/errors';
import { isDiskFull as postgresDiskFull } from '../../src/dialect/postgres/errors';
import { SqliteDialect } from '../../src/dialect/sqlite/dialect';
import { Code, EtcdError } from '../../src/errors';
import type { Store } from '../../src/mvcc/store';
import { put, range, storeOn } from './helpers';

let dir = '';
let dialect: SqliteDialect;
let store: Store;
const writerDb = () => (dialect as unknown as { driver: { writer: BetterSqlite3.Database } }).driver.writer;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'strata-full-'));
  dialect = new SqliteDialect(parseEndpoint(`sqlite://${path.join(dir, 'state.db')}`) as never);
  store = storeOn(dialect);
  await store.open();
});
afterAll(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('SQLITE_FULL raises NOSPACE; reads go on; disarm after making room', async () => {
  await store.put(put('small', 'v'));
  const pages = Number(writerDb().pragma('page_count', { simple: true }));
  writerDb().pragma(`max_page_count = ${pages}`);
  const err = await store.put(put('big', 'x'.repeat(200_000))).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(EtcdError);
  expect(err).toMatchObject({ code: Code.ResourceExhausted, message: 'etcdserver: mvcc: database space exceeded' });
  expect(store.maintenance.activeAlarms().map((a) => a.alarm)).toEqual(['NOSPACE']);
  // The capped store: a small put is refused too, reads work.
  await expect(store.put(put('small', 'w'))).rejects.toMatchObject({ code: Code.ResourceExhausted });
  expect((await store.range(range('small'))).kvs[0].value.toString()).toBe('v');

  writerDb().pragma('max_page_count = 1073741823');
  expect(await store.maintenance.alarm('deactivate', { memberId: store.identity.memberId, alarm: 'NOSPACE' })).toHaveLength(1);
  expect(store.maintenance.activeAlarms()).toEqual([]);
  await store.put(put('big', 'x'.repeat(200_000)));
});

test("the server databases' full-disk errors are recognised", () => {
  expect(postgresDiskFull({ code: '53100', message: 'could not extend file: No space left on device' })).toBe(true);
  expect(postgresDiskFull({ code: '40001' })).toBe(false);
  expect(mysqlDiskFull({ errno: 1114, message: "The table 'log' is full" })).toBe(true);
  expect(mysqlDiskFull({ errno: 3, message: 'Error writing file \'/tmp/x\' (Errcode: 28 "No space left on device")' })).toBe(true);
  expect(mysqlDiskFull({ errno: 1213 })).toBe(false);
});
