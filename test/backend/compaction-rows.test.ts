/**
 * Physical compaction on every backend: after Compact(physical) the log keeps, per key, only the
 * version visible at the compact revision and what came after it; tombstones at or below it go.
 */
import { describe, expect, it } from 'vitest';
import type { Dialect } from '../../src/dialect/dialect';
import { Compactor, nextWindow } from '../../src/log/compactor';
import type { TxnRequest } from '../../src/mvcc/types';
import { forEachBackend } from '../helpers/targets';
import { del, log, put, storePerSuite } from './helpers';

/** One Txn putting every key given, at one revision. */
const putAll = (keys: string[], value: string): TxnRequest => ({
  compare: [],
  success: keys.map((k) => ({ kind: 'put' as const, put: put(k, value) })),
  failure: [],
});

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

forEachBackend('physical compaction windows', (backend) => {
  const fx = storePerSuite(backend, 'compact-windows');

  it('revisionAfterRows counts rows, not revisions', async () => {
    const base = fx.store.revision;
    await fx.store.put(put('r/a', '1')); // base+1: one row
    await fx.store.txn(putAll(['r/b', 'r/c', 'r/d'], '1')); // base+2: three rows
    await fx.store.put(put('r/a', '2')); // base+3: one row
    const after = (rev: number, rows: number) => fx.dialect.revisionAfterRows(rev, rows);
    expect(await after(base, 0)).toBe(base + 1);
    expect(await after(base, 1)).toBe(base + 2);
    expect(await after(base, 3)).toBe(base + 2);
    expect(await after(base, 4)).toBe(base + 3);
    expect(await after(base, 5)).toBeUndefined();
    expect(await after(base + 1, 3)).toBe(base + 3);
  });

  it('a window holds no more rows than it was sized for, unless it is one revision', async () => {
    const keys = [...Array(50).keys()].map((i) => `d/${i}`);
    for (let i = 0; i < 300; i++) await fx.store.put(put(keys[i % keys.length], `s${i}`));
    for (let i = 0; i < 20; i++) await fx.store.txn(putAll(keys, `t${i}`));
    const target = fx.store.revision;
    const before = await fx.dialect.loadRows(0, -1, 100_000);

    // The real dialect, with each window's size and bounds written down on the way through.
    const windows: { after: number; upTo: number; rows: number }[] = [];
    let sizedFor = 0;
    const seen = Object.create(fx.dialect) as Dialect;
    seen.revisionAfterRows = (after, rows) => ((sizedFor = rows), fx.dialect.revisionAfterRows(after, rows));
    seen.compactWindow = (after, upTo, key) => (windows.push({ after, upTo, rows: sizedFor }), fx.dialect.compactWindow(after, upTo, key));
    const compactor = new Compactor(seen, log);
    await compactor.init();
    const from = Number((await fx.dialect.getMeta('compact_done')) ?? '0');
    await compactor.compactTo(target);

    expect(windows[0].after).toBe(from);
    expect(windows[windows.length - 1].upTo).toBe(target);
    for (const [i, w] of windows.entries()) {
      if (i > 0) expect(w.after).toBe(windows[i - 1].upTo);
      const inWindow = before.filter((r) => r.revision > w.after && r.revision <= w.upTo);
      const oneRevision = new Set(inWindow.map((r) => r.revision)).size <= 1;
      if (!oneRevision) expect(inWindow.length).toBeLessThanOrEqual(w.rows);
    }
    const left = (await fx.dialect.loadRows(0, -1, 100_000)).filter((r) => r.key.toString().startsWith('d/'));
    expect(left.map((r) => `${r.key.toString()}@${r.revision}`)).toEqual(keys.map((k) => `${k}@${target}`));
  });

  it('where a window holds the event loop, the loop is left free as long before the next one', async () => {
    // Enough rows for windows to grow to several milliseconds each.
    const keys = [...Array(100).keys()].map((i) => `p/${i}`);
    for (let i = 0; i < 150; i++) await fx.store.txn(putAll(keys, `v${i}`));
    const target = fx.store.revision;
    // Each window from its sizing query to its commit, and the time since the previous window ended.
    const windows: { ms: number; idleBefore: number }[] = [];
    let began = 0;
    let ended = 0;
    const seen = Object.create(fx.dialect) as Dialect;
    seen.revisionAfterRows = (after, rows) => ((began = performance.now()), fx.dialect.revisionAfterRows(after, rows));
    seen.compactWindow = async (after, upTo, key) => {
      const deleted = await fx.dialect.compactWindow(after, upTo, key);
      windows.push({ ms: performance.now() - began, idleBefore: ended === 0 ? Infinity : began - ended });
      ended = performance.now();
      return deleted;
    };
    const compactor = new Compactor(seen, log);
    await compactor.init();
    await compactor.compactTo(target);

    expect(windows.length).toBeGreaterThan(3);
    if (!fx.dialect.capabilities.blocksEventLoop) return;
    const held = windows.slice(0, -1).reduce((n, w) => n + w.ms, 0);
    expect(held).toBeGreaterThan(10);
    // Timers run on millisecond ticks: one may fire up to a millisecond early by performance.now().
    for (let i = 1; i < windows.length; i++) expect(windows[i].idleBefore).toBeGreaterThanOrEqual(windows[i - 1].ms - 1.5);
  });
});

describe('physical compaction window sizes', () => {
  it('halve after a slow window, double after a quick one, within bounds', () => {
    expect(nextWindow(64, 50)).toBe(32);
    expect(nextWindow(1, 50)).toBe(1);
    expect(nextWindow(64, 1)).toBe(128);
    expect(nextWindow(100_000, 1)).toBe(100_000);
    expect(nextWindow(2048, 1, 2048)).toBe(2048);
    expect(nextWindow(4096, 10, 2048)).toBe(2048);
    expect(nextWindow(64, 10)).toBe(64);
  });
});
