/**
 * Compaction: the Compact RPC, reads below/at/above the compact revision, what compaction keeps,
 * and watches that start in compacted history. Each test compacts at a revision it wrote itself,
 * so compact revisions only grow through the file.
 */
import { expect, test } from 'vitest';
import { WatchReader, b, prefixEnd, type Msg } from '../helpers/client';
import { expectGrpcError } from '../helpers/grpc-error';
import { Code, Err, currentRev, forEachTarget, hrev, kv, kvs, n } from './harness';
import { createWatch, events, pause, waitEvents } from './watchutil';

forEachTarget('compaction', (ctx) => {
  test('compact answers the current header and creates no revision; the compact revision itself stays readable', async () => {
    const p = ctx.prefix('basic');
    const k = b(p + 'k');
    const r1 = hrev(await ctx.c.kv.Put({ key: k, value: b('1') }));
    const r2 = hrev(await ctx.c.kv.Put({ key: k, value: b('2') }));
    const r3 = hrev(await ctx.c.kv.Put({ key: k, value: b('3') }));
    const c = await ctx.c.kv.Compact({ revision: r2 });
    expect(hrev(c)).toBe(r3);
    expect(await currentRev(ctx.c)).toBe(r3);
    expect(kv((await ctx.c.kv.Range({ key: k, revision: r2 })).kvs[0])).toMatchObject({
      value: '2',
      mod_revision: r2,
      version: 2,
      create_revision: r1,
    });
    expect(kv((await ctx.c.kv.Range({ key: k, revision: r3 })).kvs[0])).toMatchObject({ value: '3' });
    await expectGrpcError(ctx.c.kv.Range({ key: k, revision: r1 }), Code.OutOfRange, Err.compacted);
    await expectGrpcError(ctx.c.kv.Range({ key: k, revision: r1 - 1 }), Code.OutOfRange, Err.compacted);
    await expectGrpcError(ctx.c.kv.Range({ key: k, revision: r3 + 1 }), Code.OutOfRange, Err.future);
    // the current revision and revision 0 are unaffected
    expect(kv((await ctx.c.kv.Range({ key: k })).kvs[0])).toMatchObject({ value: '3', version: 3 });
  });

  test('compact errors: at or below the compact revision → compacted; above the current revision → future', async () => {
    const p = ctx.prefix('errors');
    const r1 = hrev(await ctx.c.kv.Put({ key: b(p + 'k'), value: b('1') }));
    const r2 = hrev(await ctx.c.kv.Put({ key: b(p + 'k'), value: b('2') }));
    await ctx.c.kv.Compact({ revision: r2 });
    await expectGrpcError(ctx.c.kv.Compact({ revision: r2 }), Code.OutOfRange, Err.compacted);
    await expectGrpcError(ctx.c.kv.Compact({ revision: r1 }), Code.OutOfRange, Err.compacted);
    await expectGrpcError(ctx.c.kv.Compact({ revision: r2 + 1 }), Code.OutOfRange, Err.future);
    await expectGrpcError(ctx.c.kv.Compact({ revision: r2 + 100 }), Code.OutOfRange, Err.future);
    expect(await currentRev(ctx.c)).toBe(r2);
    // compacting at exactly the current revision is fine
    const r3 = hrev(await ctx.c.kv.Put({ key: b(p + 'k'), value: b('3') }));
    expect(hrev(await ctx.c.kv.Compact({ revision: r3 }))).toBe(r3);
  });

  test('physical compaction is accepted and answers once done', async () => {
    const p = ctx.prefix('physical');
    for (let i = 0; i < 20; i++) await ctx.c.kv.Put({ key: b(p + (i % 3)), value: b(String(i)) });
    const r = await currentRev(ctx.c);
    const c = await ctx.c.kv.Compact({ revision: r, physical: true });
    expect(hrev(c)).toBe(r);
    await expectGrpcError(ctx.c.kv.Range({ key: b(p + '0'), revision: r - 1 }), Code.OutOfRange, Err.compacted);
    expect(kvs(await ctx.c.kv.Range({ key: b(p), range_end: prefixEnd(p) })).map((x) => x.version)).toEqual([7, 7, 6]);
  });

  test('compaction keeps the latest state of every key: versions and create revisions continue; deletes stay deleted', async () => {
    const p = ctx.prefix('keeps');
    const a1 = hrev(await ctx.c.kv.Put({ key: b(p + 'a'), value: b('a1') }));
    await ctx.c.kv.Put({ key: b(p + 'a'), value: b('a2') });
    const a3 = hrev(await ctx.c.kv.Put({ key: b(p + 'a'), value: b('a3') }));
    const old = hrev(await ctx.c.kv.Put({ key: b(p + 'old'), value: b('untouched') }));
    await ctx.c.kv.Put({ key: b(p + 'gone'), value: b('x') });
    await ctx.c.kv.DeleteRange({ key: b(p + 'gone') });
    await ctx.c.kv.Put({ key: b(p + 'deletedAtCompact'), value: b('x') });
    const rc = hrev(await ctx.c.kv.DeleteRange({ key: b(p + 'deletedAtCompact') }));
    await ctx.c.kv.Compact({ revision: rc });
    const after = hrev(await ctx.c.kv.Put({ key: b(p + 'new'), value: b('n') }));

    const atCompact = kvs(await ctx.c.kv.Range({ key: b(p), range_end: prefixEnd(p), revision: rc }));
    expect(atCompact).toEqual([
      { key: p + 'a', create_revision: a1, mod_revision: a3, version: 3, value: 'a3', lease: '0' },
      { key: p + 'old', create_revision: old, mod_revision: old, version: 1, value: 'untouched', lease: '0' },
    ]);
    const now = await ctx.c.kv.Range({ key: b(p), range_end: prefixEnd(p) });
    expect(kvs(now).map((x) => x.key.slice(p.length))).toEqual(['a', 'new', 'old']);
    expect(n(now.count)).toBe(3);
    expect(n((await ctx.c.kv.Range({ key: b(p), range_end: prefixEnd(p), revision: rc, count_only: true })).count)).toBe(2);
    // versions continue across the compaction (kube's compact_rev_key VERSION compare relies on it)
    const a4 = hrev(await ctx.c.kv.Put({ key: b(p + 'a'), value: b('a4') }));
    expect(kv((await ctx.c.kv.Range({ key: b(p + 'a') })).kvs[0])).toEqual({
      key: p + 'a',
      create_revision: a1,
      mod_revision: a4,
      version: 4,
      value: 'a4',
      lease: '0',
    });
    const t = await ctx.c.kv.Txn({ compare: [{ key: b(p + 'a'), target: 'CREATE', result: 'EQUAL', create_revision: a1 }] });
    expect(t.succeeded).toBe(true);
    // a re-created key starts over
    await ctx.c.kv.Put({ key: b(p + 'gone'), value: b('again') });
    expect(kv((await ctx.c.kv.Range({ key: b(p + 'gone') })).kvs[0])).toMatchObject({ version: 1, value: 'again' });
    expect(after).toBe(rc + 1);
  });

  test('every revision from the compact revision on reads as before the compaction', async () => {
    const p = ctx.prefix('history');
    const revs: number[] = [];
    for (let i = 0; i < 12; i++) {
      const k = b(p + ['a', 'b', 'c'][i % 3]);
      revs.push(i % 5 === 4 ? hrev(await ctx.c.kv.DeleteRange({ key: k })) : hrev(await ctx.c.kv.Put({ key: k, value: b(String(i)) })));
    }
    const snapshot = async (rev: number): Promise<Msg> => ctx.c.kv.Range({ key: b(p), range_end: prefixEnd(p), revision: rev });
    const before = new Map<number, unknown>();
    for (const r of revs) before.set(r, kvs(await snapshot(r)));
    const rc = revs[5];
    await ctx.c.kv.Compact({ revision: rc });
    for (const r of revs) {
      if (r < rc) await expectGrpcError(snapshot(r), Code.OutOfRange, Err.compacted);
      else expect(kvs(await snapshot(r)), `revision ${r}`).toEqual(before.get(r));
    }
  });

  test('a Txn whose range reads below the compact revision fails with compacted; compares are unaffected', async () => {
    const p = ctx.prefix('txn');
    const r1 = hrev(await ctx.c.kv.Put({ key: b(p + 'k'), value: b('1') }));
    const r2 = hrev(await ctx.c.kv.Put({ key: b(p + 'k'), value: b('2') }));
    await ctx.c.kv.Compact({ revision: r2 });
    await expectGrpcError(
      ctx.c.kv.Txn({ success: [{ request_range: { key: b(p + 'k'), revision: r1 } }] }),
      Code.OutOfRange,
      Err.compacted,
    );
    const ok = await ctx.c.kv.Txn({
      compare: [{ key: b(p + 'k'), target: 'MOD', result: 'EQUAL', mod_revision: r2 }],
      success: [{ request_range: { key: b(p + 'k'), revision: r2 } }],
    });
    expect(ok.succeeded).toBe(true);
    expect(kv(ok.responses[0].response_range.kvs[0])).toMatchObject({ value: '2' });
  });

  test('watch from a compacted revision: created, then canceled with the latest compact_revision', async () => {
    const p = ctx.prefix('watch');
    const r1 = hrev(await ctx.c.kv.Put({ key: b(p + 'k'), value: b('1') }));
    const r2 = hrev(await ctx.c.kv.Put({ key: b(p + 'k'), value: b('2') }));
    await ctx.c.kv.Compact({ revision: r2 - 1 });
    await ctx.c.kv.Compact({ revision: r2 });
    const w = ctx.track(new WatchReader(ctx.c.watch()));
    for (const start of [r1 - 1, r1]) {
      const from = w.responses.length;
      const created = await createWatch(w, { key: b(p), range_end: prefixEnd(p), start_revision: start, prev_kv: true });
      expect(created).toMatchObject({ created: true, canceled: false });
      const rs = await w.until((all) => all.slice(from).some((r) => r.canceled));
      const cancel = rs.slice(from).find((r) => r.canceled) as Msg;
      expect(cancel).toMatchObject({ watch_id: created.watch_id, canceled: true, events: [] });
      expect(n(cancel.compact_revision)).toBe(r2);
      expect(cancel.header, 'etcd 3.4/3.5 send header.revision 0 here').toEqual(ctx.header(0));
    }
    // from the compact revision: replays what is left
    const ok = await createWatch(w, { key: b(p), range_end: prefixEnd(p), start_revision: r2 });
    await waitEvents(w, ok.watch_id as string, 1);
    await pause(200);
    expect(events(w, ok.watch_id as string).map((e) => [e.kv.mod_revision, e.kv.value])).toEqual([[r2, '2']]);
    expect(w.responses.filter((r) => r.watch_id === ok.watch_id && r.canceled)).toEqual([]);
  });

  test('kube-apiserver compaction dance: version txn on compact_rev_key, Compact, then stale reads and watches fail', async () => {
    const p = ctx.prefix('kube');
    const key = p + 'compact_rev_key';
    const step = (version: number, value: string): Promise<Msg> =>
      ctx.c.kv.Txn({
        compare: [{ key: b(key), target: 'VERSION', result: 'EQUAL', version }],
        success: [{ request_put: { key: b(key), value: b(value) } }],
        failure: [{ request_range: { key: b(key) } }],
      });
    const t0 = await step(0, '0');
    expect(t0.succeeded).toBe(true);
    const first = hrev(t0);
    for (let i = 0; i < 5; i++) await ctx.c.kv.Put({ key: b(p + 'obj'), value: b(String(i)) });
    const t1 = await step(1, String(first));
    expect(t1.succeeded).toBe(true);
    const c = await ctx.c.kv.Compact({ revision: first, physical: false });
    expect(hrev(c)).toBe(hrev(t1));
    await expectGrpcError(ctx.c.kv.Range({ key: b(p), range_end: prefixEnd(p), revision: first - 1 }), Code.OutOfRange, Err.compacted);
    const list = await ctx.c.kv.Range({ key: b(p), range_end: prefixEnd(p), revision: first, limit: 10 });
    expect(n(list.count)).toBe(1);
    // another apiserver losing the race adopts the stored version and value
    const lost = await step(1, 'other');
    expect(lost.succeeded).toBe(false);
    expect(kv(lost.responses[0].response_range.kvs[0])).toMatchObject({ version: 2, value: String(first) });
    // the second loop's watch on compact_rev_key from header.revision (no +1) sees the next write
    const w = ctx.track(new WatchReader(ctx.c.watch()));
    const head = await ctx.c.kv.Range({ key: b(key) });
    const created = await createWatch(w, { key: b(key), start_revision: hrev(head) });
    const t2 = await step(2, String(hrev(t1)));
    expect(t2.succeeded).toBe(true);
    const evs = await waitEvents(w, created.watch_id as string, 2);
    expect(evs.map((e) => e.kv.value)).toEqual([String(first), String(hrev(t1))]);
  });
});
