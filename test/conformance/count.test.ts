/**
 * count and count_only over ranges much larger than one chunk of the index (512 keys), at the
 * current revision and at older ones, after creates, deletes and re-creates: the count must equal
 * the number of keys a full read returns.
 */
import { expect, test } from 'vitest';
import { b, prefixEnd } from '../helpers/client';
import { forEachTarget, hrev, n } from './harness';

forEachTarget('count', (ctx) => {
  test('count_only agrees with a full read across thousands of keys, now and at past revisions', async () => {
    const { c } = ctx;
    const p = ctx.prefix('many');
    const key = (i: number) => `${p}${String((i * 7919) % 3000).padStart(4, '0')}`;
    // 3,000 keys in txns of 100 puts, created in a scattered order.
    for (let t = 0; t < 30; t++) {
      const success = Array.from({ length: 100 }, (_, j) => ({ request_put: { key: b(key(t * 100 + j)), value: b('v') } }));
      await c.kv.Txn({ success });
    }
    const full = await c.kv.Range({ key: b(p), range_end: prefixEnd(p), keys_only: true });
    const afterCreate = hrev(full);
    // Delete a contiguous block and scattered keys, then re-create some of the block.
    await c.kv.DeleteRange({ key: b(`${p}1000`), range_end: b(`${p}1600`) });
    for (let i = 0; i < 3000; i += 37) await c.kv.DeleteRange({ key: b(`${p}${String(i).padStart(4, '0')}`) });
    for (let i = 1200; i < 1300; i++) await c.kv.Put({ key: b(`${p}${String(i).padStart(4, '0')}`), value: b('again') });

    const ranges: Array<[string, string]> = [
      [p, prefixEnd(p).toString('latin1')],
      [`${p}0000`, `${p}0513`],
      [`${p}0900`, `${p}2100`],
      [`${p}1250`, `${p}1251`],
      [`${p}2999`, prefixEnd(p).toString('latin1')],
    ];
    for (const revision of [0, afterCreate]) {
      for (const [from, to] of ranges) {
        const read = await c.kv.Range({ key: b(from), range_end: b(to), keys_only: true, revision });
        const counted = await c.kv.Range({ key: b(from), range_end: b(to), count_only: true, revision });
        expect(n(counted.count), `${from}..${to} at ${revision || 'now'}`).toBe(read.kvs.length);
        expect(n(read.count)).toBe(read.kvs.length);
      }
    }
    // The same edits on a set of indexes: the count at the current revision is exact.
    const alive = new Set(Array.from({ length: 3000 }, (_, i) => i));
    for (let i = 1000; i < 1600; i++) alive.delete(i);
    for (let i = 0; i < 3000; i += 37) alive.delete(i);
    for (let i = 1200; i < 1300; i++) alive.add(i);
    const now = await c.kv.Range({ key: b(p), range_end: prefixEnd(p), count_only: true });
    expect(n(now.count)).toBe(alive.size);
  });
});
