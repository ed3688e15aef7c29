/**
 * Physical compaction on every backend: after Compact(physical) the log keeps, per key, only the
 * version visible at the compact revision and what came after it; tombstones at or below it go.
 */
import { expect, it } from 'vitest';
import { forEachBackend } from '../helpers/targets';
import { del, put, storePerSuite } from './helpers';

forEachBackend('physical compaction', (backend) => {
  const fx = storePerSuite(backend, 'compact');

  it('deletes superseded rows and tombstones, keeps the visible version and everything newer', async () => {
    for (let i = 1; i <= 4; i++) await fx.store.put(put('a', `a${i}`)); // revs 2..5
    await fx.store.put(put('b', 'b1')); // 6
    await fx.store.deleteRange(del('b')); // 7: tombstone
    await fx.store.put(put('c', 'c1')); // 8
    const at = fx.store.revision; // 8
    await fx.store.put(put('a', 'a5')); // 9: after the compact revision, stays
    await fx.store.compact({ revision: at, physical: true });

    const rows = await fx.dialect.loadRows(0, -1, 1000);
    const seen = rows.map((r) => `${r.key.toString()}@${r.revision}${r.deleted ? '-' : ''}`);
    expect(seen).toEqual(['a@5', 'c@8', 'a@9']);
    expect(await fx.dialect.getMeta('compact_done')).toBe(String(at));
  });
});
