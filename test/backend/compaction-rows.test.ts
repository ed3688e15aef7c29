/**
 * Physical compaction on every backend: after Compact(physical) the log keeps, per key, only the
 * version visible at the compact revision and what came after it; tombstones at or below it go.
 */
import { describe, expect, it } from 'vitest';
import { nextWindow } from '../../src/log/compactor';
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

  it('a compaction across many windows deletes every superseded row and keeps the rest', async () => {
    const first = fx.store.revision + 1;
    for (let i = 0; i < 600; i++) await fx.store.put(put(`w/${i % 7}`, `v${i}`));
    const at = fx.store.revision;
    await fx.store.put(put('w/0', 'after'));
    await fx.store.compact({ revision: at, physical: true });
    const rows = (await fx.dialect.loadRows(0, -1, 10_000)).filter((r) => r.key.toString().startsWith('w/'));
    // Per key, the version visible at the compact revision, then the one written after it.
    const last = (k: number) => first + 599 - ((599 - k) % 7);
    const expected = [...Array(7).keys()].map((k) => `w/${k}@${last(k)}`).sort((x, y) => Number(x.split('@')[1]) - Number(y.split('@')[1]));
    expect(rows.map((r) => `${r.key.toString()}@${r.revision}`)).toEqual([...expected, `w/0@${at + 1}`]);
    expect(await fx.dialect.getMeta('compact_done')).toBe(String(at));
  });
});

describe('physical compaction windows', () => {
  it('halve after a slow window, double after a quick one, within bounds', () => {
    expect(nextWindow(64, 50)).toBe(32);
    expect(nextWindow(1, 50)).toBe(1);
    expect(nextWindow(64, 1)).toBe(128);
    expect(nextWindow(100_000, 1)).toBe(100_000);
    expect(nextWindow(64, 10)).toBe(64);
  });
});
