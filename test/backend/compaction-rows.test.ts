/**
 * Physical compaction on every backend: after Compact(physical) the log keeps, per key, only the
 * version visible at the compact revision and what came after it; tombstones at or below it go.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEndpoint, type DatastoreOptions, type Endpoint } from '../../src/config';
import type { Dialect } from '../../src/dialect/dialect';
import { MysqlDialect } from '../../src/dialect/mysql/mysql';
import { PostgresDialect } from '../../src/dialect/postgres/postgres';
import { SqliteDialect } from '../../src/dialect/sqlite/sqlite';
import { Store } from '../../src/mvcc/store';
import { availableBackends } from '../helpers/targets';

const OPTS: DatastoreOptions = { tls: { skipVerify: false }, maxOpenConnections: 2, connectionMaxIdleMs: 60_000, pollIntervalMs: 20 };
const log = pino({ level: 'silent' });

function dialectFor(e: Endpoint): Dialect {
  if (e.kind === 'sqlite') return new SqliteDialect(e);
  if (e.kind === 'postgres') return new PostgresDialect(e, OPTS, log);
  return new MysqlDialect(e, OPTS, log);
}

const put = (key: string, value: string) => ({ key: Buffer.from(key), value: Buffer.from(value), lease: 0n, prev_kv: false, ignore_value: false, ignore_lease: false });
const del = (key: string) => ({ key: Buffer.from(key), range_end: Buffer.alloc(0), prev_kv: false });

for (const backend of availableBackends()) {
  describe(`physical compaction [${backend.name}]`, () => {
    let dir: string;
    let dialect: Dialect;
    let store: Store;

    beforeAll(async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'strata-compact-'));
      dialect = dialectFor(parseEndpoint(backend.endpoint(dir)));
      store = new Store(dialect, log, { watchProgressNotifyIntervalMs: 60_000 });
      await store.open();
    });
    afterAll(async () => {
      await store?.close();
      backend.drop(dir);
      rmSync(dir, { recursive: true, force: true });
    });

    it('deletes superseded rows and tombstones, keeps the visible version and everything newer', async () => {
      for (let i = 1; i <= 4; i++) await store.put(put('a', `a${i}`)); // revs 2..5
      await store.put(put('b', 'b1')); // 6
      await store.deleteRange(del('b')); // 7: tombstone
      await store.put(put('c', 'c1')); // 8
      const at = store.revision; // 8
      await store.put(put('a', 'a5')); // 9: after the compact revision, stays
      await store.compact({ revision: at, physical: true });

      const rows = await dialect.loadRows(0, -1, 1000);
      const seen = rows.map((r) => `${r.key.toString()}@${r.revision}${r.deleted ? '-' : ''}`);
      expect(seen).toEqual(['a@5', 'c@8', 'a@9']);
      expect(await dialect.getMeta('compact_done')).toBe(String(at));
    });
  });
}
