/**
 * Physical compaction on every backend: after Compact(physical) the log keeps, per key, only the
 * version visible at the compact revision and what came after it; tombstones at or below it go.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEndpoint } from '../../src/config';
import type { Dialect } from '../../src/dialect/dialect';
import { Store } from '../../src/mvcc/store';
import { availableBackends } from '../helpers/targets';
import { del, dialectFor, log, put } from './helpers';

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
