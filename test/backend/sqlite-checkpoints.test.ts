/**
 * SQLite's WAL is folded into the database by a worker thread, not by the COMMIT that crosses the
 * automatic threshold on the event loop: the writer's own threshold is only a distant backstop,
 * yet the WAL does not pile up, and closing ends the worker and leaves no WAL behind.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { parseEndpoint } from '../../src/config';
import { BACKSTOP_PAGES } from '../../src/dialect/sqlite/checkpointer';
import { SqliteDialect } from '../../src/dialect/sqlite/dialect';
import type { TxnRequest } from '../../src/mvcc/types';
import { put, storeOn } from './helpers';

let dir = '';
let file = '';
let dialect: SqliteDialect;
const writerDb = () => (dialect as unknown as { driver: { writer: BetterSqlite3.Database } }).driver.writer;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'strata-checkpoints-'));
  file = path.join(dir, 'state.db');
  dialect = new SqliteDialect(parseEndpoint(`sqlite://${file}`) as never);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) if (cond()) return true;
  return cond();
}

test('the worker folds the WAL into the database while the writer checkpoints only past its backstop', async () => {
  const store = storeOn(dialect);
  await store.open();
  expect(Number(writerDb().pragma('wal_autocheckpoint', { simple: true }))).toBe(BACKSTOP_PAGES);
  const before = statSync(file).size;
  // About 1,600 pages: past SQLite's default threshold, below the backstop.
  const value = 'x'.repeat(32 * 1024);
  const txn: TxnRequest = { compare: [], success: [], failure: [] };
  for (let i = 0; i < 200; i++) txn.success.push({ kind: 'put', put: put(`cp/${i}`, value) });
  await store.txn(txn);
  expect(await until(() => statSync(file).size > before + 6 * 2 ** 20, 5000)).toBe(true);
  await store.close();
  expect(existsSync(`${file}-wal`)).toBe(false);
});
