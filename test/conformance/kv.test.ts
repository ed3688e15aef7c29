/**
 * KV semantics (etcd-semantics.md): revisions, versions, puts, ranges, deletes, errors.
 * Revisions are always compared with values read in the same test, except in the fresh-server test.
 */
import { expect, test } from 'vitest';
import { b, createClient, prefixEnd, s, type Msg } from '../helpers/client';
import { expectGrpcError } from '../helpers/grpc-error';
import { Code, Err, currentRev, forEachTarget, hrev, keysOf, kv, kvs, n } from './harness';

forEachTarget('kv', (ctx) => {
  test('a fresh store answers revision 1 and its first write is revision 2', async () => {
    const server = await ctx.target.start();
    const c = createClient(server.address);
    try {
      const r = await c.kv.Range({ key: b('\0'), range_end: b('\0') });
      expect(hrev(r)).toBe(1);
      expect(r.kvs).toEqual([]);
      expect(n(r.count)).toBe(0);
      expect(r.more).toBe(false);
      const miss = await c.kv.DeleteRange({ key: b('nothing') });
      expect(n(miss.deleted)).toBe(0);
      expect(hrev(miss)).toBe(1);
      const p = await c.kv.Put({ key: b('first'), value: b('v') });
      expect(hrev(p)).toBe(2);
      const g = await c.kv.Range({ key: b('first') });
      expect(hrev(g)).toBe(2);
      expect(kvs(g)).toEqual([{ key: 'first', create_revision: 2, mod_revision: 2, version: 1, value: 'v', lease: '0' }]);
    } finally {
      c.close();
      await server.stop();
      server.cleanup();
    }
  });

  test('a put creates a revision; create == mod == header revision; version 1', async () => {
    const p = ctx.prefix('put');
    const before = await currentRev(ctx.c);
    const r = await ctx.c.kv.Put({ key: b(p + 'k'), value: b('v1') });
    expect(hrev(r)).toBe(before + 1);
    expect(r.prev_kv).toBeNull();
    const g = await ctx.c.kv.Range({ key: b(p + 'k') });
    expect(hrev(g)).toBe(before + 1);
    expect(kvs(g)).toEqual([{ key: p + 'k', create_revision: before + 1, mod_revision: before + 1, version: 1, value: 'v1', lease: '0' }]);
    expect(n(g.count)).toBe(1);
    expect(g.more).toBe(false);
  });

  test('version counts puts since creation; create_revision stays, mod_revision follows', async () => {
    const p = ctx.prefix('version');
    const k = b(p + 'k');
    const r1 = hrev(await ctx.c.kv.Put({ key: k, value: b('1') }));
    const r2 = hrev(await ctx.c.kv.Put({ key: k, value: b('2') }));
    const r3 = hrev(await ctx.c.kv.Put({ key: k, value: b('2') })); // same value still counts
    expect([r2, r3]).toEqual([r1 + 1, r1 + 2]);
    const g = kv((await ctx.c.kv.Range({ key: k })).kvs[0]);
    expect(g).toMatchObject({ create_revision: r1, mod_revision: r3, version: 3, value: '2' });
  });

  test('a delete ends the key; re-creating starts again at version 1 with a new create_revision', async () => {
    const p = ctx.prefix('recreate');
    const k = b(p + 'k');
    const c1 = hrev(await ctx.c.kv.Put({ key: k, value: b('a') }));
    await ctx.c.kv.Put({ key: k, value: b('b') });
    const d = await ctx.c.kv.DeleteRange({ key: k, prev_kv: true });
    expect(n(d.deleted)).toBe(1);
    const dr = hrev(d);
    expect(dr).toBe(c1 + 2);
    expect(kv(d.prev_kvs[0])).toMatchObject({ create_revision: c1, mod_revision: c1 + 1, version: 2, value: 'b' });
    expect((await ctx.c.kv.Range({ key: k })).kvs).toEqual([]);
    const c2 = hrev(await ctx.c.kv.Put({ key: k, value: b('c') }));
    expect(c2).toBe(dr + 1);
    expect(kv((await ctx.c.kv.Range({ key: k })).kvs[0])).toMatchObject({ create_revision: c2, mod_revision: c2, version: 1, value: 'c' });
    // history is still there
    expect(kv((await ctx.c.kv.Range({ key: k, revision: c1 + 1 })).kvs[0])).toMatchObject({ version: 2, value: 'b' });
    expect((await ctx.c.kv.Range({ key: k, revision: dr })).kvs).toEqual([]);
  });

  test('writes that change nothing do not create a revision', async () => {
    const p = ctx.prefix('noop');
    await ctx.c.kv.Put({ key: b(p + 'k'), value: b('v') });
    const rev = await currentRev(ctx.c);
    const d = await ctx.c.kv.DeleteRange({ key: b(p + 'missing') });
    expect(n(d.deleted)).toBe(0);
    expect(hrev(d)).toBe(rev);
    const dr = await ctx.c.kv.DeleteRange({ key: b(p + 'x'), range_end: b(p + 'z'), prev_kv: true });
    expect(n(dr.deleted)).toBe(0);
    expect(dr.prev_kvs).toEqual([]);
    expect(hrev(dr)).toBe(rev);
    const t = await ctx.c.kv.Txn({ success: [{ request_range: { key: b(p + 'k') } }] });
    expect(hrev(t)).toBe(rev);
    const t2 = await ctx.c.kv.Txn({ success: [{ request_delete_range: { key: b(p + 'missing') } }] });
    expect(hrev(t2)).toBe(rev);
    expect(await currentRev(ctx.c)).toBe(rev);
  });

  test('every response header carries the current revision, reads included', async () => {
    const p = ctx.prefix('header');
    const w = hrev(await ctx.c.kv.Put({ key: b(p + 'a'), value: b('1') }));
    const miss = await ctx.c.kv.Range({ key: b(p + 'missing') });
    expect(hrev(miss)).toBe(w);
    expect(n(miss.count)).toBe(0);
    const past = await ctx.c.kv.Range({ key: b(p + 'a'), revision: w - 1 });
    expect(hrev(past)).toBe(w); // the store's revision, not the one read at
    expect(past.kvs).toEqual([]);
    const failed = await ctx.c.kv.Txn({ compare: [{ key: b(p + 'a'), target: 'VERSION', result: 'EQUAL', version: 9 }] });
    expect(failed.succeeded).toBe(false);
    expect(hrev(failed)).toBe(w);
    for (const m of [miss, past, failed]) expect(m.header).toEqual(ctx.header(w));
  });

  test('put prev_kv: the previous kv on update, none on create or when not asked', async () => {
    const p = ctx.prefix('prevkv');
    const k = b(p + 'k');
    const r1 = await ctx.c.kv.Put({ key: k, value: b('1'), prev_kv: true });
    expect(r1.prev_kv).toBeNull();
    const r2 = await ctx.c.kv.Put({ key: k, value: b('2'), prev_kv: true });
    expect(kv(r2.prev_kv)).toEqual({ key: p + 'k', create_revision: hrev(r1), mod_revision: hrev(r1), version: 1, value: '1', lease: '0' });
    const r3 = await ctx.c.kv.Put({ key: k, value: b('3') });
    expect(r3.prev_kv).toBeNull();
  });

  test('ignore_value and ignore_lease keep the stored value and lease', async () => {
    const p = ctx.prefix('ignore');
    const k = b(p + 'k');
    const lease = await ctx.c.lease.LeaseGrant({ TTL: 300 });
    try {
      await ctx.c.kv.Put({ key: k, value: b('keep'), lease: lease.ID });
      const r = await ctx.c.kv.Put({ key: k, ignore_value: true, lease: lease.ID, prev_kv: true });
      expect(s(r.prev_kv.value)).toBe('keep');
      let g = kv((await ctx.c.kv.Range({ key: k })).kvs[0]);
      expect(g).toMatchObject({ value: 'keep', version: 2, lease: String(lease.ID), mod_revision: hrev(r) });
      const r2 = await ctx.c.kv.Put({ key: k, value: b('new'), ignore_lease: true });
      g = kv((await ctx.c.kv.Range({ key: k })).kvs[0]);
      expect(g).toMatchObject({ value: 'new', version: 3, lease: String(lease.ID), mod_revision: hrev(r2) });
      // ignore_value without a lease detaches the lease (the lease field is taken as given)
      await ctx.c.kv.Put({ key: k, ignore_value: true });
      g = kv((await ctx.c.kv.Range({ key: k })).kvs[0]);
      expect(g).toMatchObject({ value: 'new', version: 4, lease: '0' });
    } finally {
      await ctx.c.lease.LeaseRevoke({ ID: lease.ID });
    }
  });

  test('put errors: ignore_* on a missing key, value/lease given with ignore_*, unknown lease', async () => {
    const p = ctx.prefix('puterr');
    const before = await currentRev(ctx.c);
    await expectGrpcError(ctx.c.kv.Put({ key: b(p + 'missing'), ignore_value: true }), Code.InvalidArgument, Err.keyNotFound);
    await expectGrpcError(
      ctx.c.kv.Put({ key: b(p + 'missing'), value: b('v'), ignore_lease: true }),
      Code.InvalidArgument,
      Err.keyNotFound,
    );
    await ctx.c.kv.Put({ key: b(p + 'k'), value: b('v') });
    await expectGrpcError(ctx.c.kv.Put({ key: b(p + 'k'), value: b('v'), ignore_value: true }), Code.InvalidArgument, Err.valueProvided);
    await expectGrpcError(
      ctx.c.kv.Put({ key: b(p + 'k'), value: b('v'), lease: 5, ignore_lease: true }),
      Code.InvalidArgument,
      Err.leaseProvided,
    );
    await expectGrpcError(ctx.c.kv.Put({ key: b(p + 'k'), value: b('v'), lease: '7340985723' }), Code.NotFound, Err.leaseNotFound);
    expect(await currentRev(ctx.c)).toBe(before + 1);
  });

  test('an empty key is rejected by Put, Range, DeleteRange and Txn', async () => {
    await expectGrpcError(ctx.c.kv.Put({ key: b(''), value: b('v') }), Code.InvalidArgument, Err.emptyKey);
    await expectGrpcError(ctx.c.kv.Range({ key: b('') }), Code.InvalidArgument, Err.emptyKey);
    await expectGrpcError(ctx.c.kv.Range({ key: b(''), range_end: b('z') }), Code.InvalidArgument, Err.emptyKey);
    await expectGrpcError(ctx.c.kv.DeleteRange({ key: b('') }), Code.InvalidArgument, Err.emptyKey);
    await expectGrpcError(
      ctx.c.kv.Txn({ compare: [{ key: b(''), target: 'VERSION', result: 'EQUAL', version: 0 }] }),
      Code.InvalidArgument,
      Err.emptyKey,
    );
    await expectGrpcError(ctx.c.kv.Txn({ success: [{ request_put: { key: b(''), value: b('v') } }] }), Code.InvalidArgument, Err.emptyKey);
    await expectGrpcError(ctx.c.kv.Txn({ failure: [{ request_range: { key: b('') } }] }), Code.InvalidArgument, Err.emptyKey);
    await expectGrpcError(ctx.c.kv.Txn({ success: [{ request_delete_range: { key: b('') } }] }), Code.InvalidArgument, Err.emptyKey);
  });

  test('count is the whole range; limit cuts kvs and sets more; kube-style paging at a pinned revision', async () => {
    const p = ctx.prefix('paging');
    const names = Array.from({ length: 25 }, (_, i) => `${p}item-${String(i).padStart(2, '0')}`);
    for (const k of names) await ctx.c.kv.Put({ key: b(k), value: b('v') });
    await ctx.c.kv.Put({ key: b(p.slice(0, -1) + '0'), value: b('outside') }); // prefixEnd itself: excluded
    const pages: Msg[] = [];
    let key: Buffer = b(p);
    let rev = 0;
    for (let i = 0; i < 5; i++) {
      const r = await ctx.c.kv.Range({ key, range_end: prefixEnd(p), limit: 10, revision: rev });
      pages.push(r);
      if (rev === 0) {
        rev = hrev(r);
        // a write after the first page must not show up in later pages pinned at `rev`
        await ctx.c.kv.Put({ key: b(`${p}item-99`), value: b('late') });
        await ctx.c.kv.DeleteRange({ key: b(names[24]) });
      }
      if (!r.more) break;
      key = Buffer.concat([r.kvs[r.kvs.length - 1].key, Buffer.from([0])]);
    }
    expect(pages.map((r) => r.kvs.length)).toEqual([10, 10, 5]);
    expect(pages.map((r) => n(r.count))).toEqual([25, 15, 5]);
    expect(pages.map((r) => r.more)).toEqual([true, true, false]);
    expect(pages.flatMap(keysOf)).toEqual(names);
    // header.revision is the current store revision, not the pinned one
    expect(hrev(pages[2])).toBe(rev + 2);
    // limit larger than the range, limit 0, and a negative limit mean "everything"
    for (const limit of [0, 100, -1]) {
      const r = await ctx.c.kv.Range({ key: b(p), range_end: prefixEnd(p), limit, revision: rev });
      expect([r.kvs.length, n(r.count), r.more]).toEqual([25, 25, false]);
    }
    const exact = await ctx.c.kv.Range({ key: b(p), range_end: prefixEnd(p), limit: 25, revision: rev });
    expect([exact.kvs.length, n(exact.count), exact.more]).toEqual([25, 25, false]);
  });

  test('count_only answers the count and no kvs (more stays false); keys_only answers empty values', async () => {
    const p = ctx.prefix('only');
    for (const k of ['a', 'b', 'c']) await ctx.c.kv.Put({ key: b(p + k), value: b('value-' + k) });
    const co = await ctx.c.kv.Range({ key: b(p), range_end: prefixEnd(p), count_only: true, limit: 1 });
    expect(co.kvs).toEqual([]);
    expect(n(co.count)).toBe(3);
    expect(co.more).toBe(false);
    const ko = await ctx.c.kv.Range({ key: b(p), range_end: prefixEnd(p), keys_only: true, limit: 2 });
    expect(ko.more).toBe(true);
    expect(n(ko.count)).toBe(3);
    const full = await ctx.c.kv.Range({ key: b(p), range_end: prefixEnd(p), limit: 2 });
    expect(kvs(ko)).toEqual(kvs(full).map((x) => ({ ...x, value: '' })));
    expect(kvs(ko)[0].version).toBe(1);
  });

  test('range_end "\\0" means every key >= key; key "\\0" with range_end "\\0" is every key', async () => {
    const p = ctx.prefix('fromkey');
    for (const k of ['a', 'b', 'c']) await ctx.c.kv.Put({ key: b(p + k), value: b(k) });
    const from = await ctx.c.kv.Range({ key: b(p + 'b'), range_end: b('\0') });
    const ks = keysOf(from);
    expect(ks.slice(0, 2)).toEqual([p + 'b', p + 'c']);
    expect(ks.every((k) => k >= p + 'b')).toBe(true);
    expect(n(from.count)).toBe(ks.length);
    const all = await ctx.c.kv.Range({ key: b('\0'), range_end: b('\0') });
    const allKeys = keysOf(all);
    expect(allKeys).toEqual(expect.arrayContaining([p + 'a', p + 'b', p + 'c']));
    expect([...allKeys].sort((x, y) => Buffer.compare(b(x), b(y)))).toEqual(allKeys);
    expect(n(all.count)).toBe(allKeys.length);
    const countAll = await ctx.c.kv.Range({ key: b('\0'), range_end: b('\0'), count_only: true });
    expect(n(countAll.count)).toBe(allKeys.length);
  });

  test('a range whose end is at or below its key is empty; a point read matches one key exactly', async () => {
    const p = ctx.prefix('bounds');
    for (const k of ['a', 'ab', 'b']) await ctx.c.kv.Put({ key: b(p + k), value: b(k) });
    const inverted = await ctx.c.kv.Range({ key: b(p + 'b'), range_end: b(p + 'a') });
    expect([inverted.kvs.length, n(inverted.count)]).toEqual([0, 0]);
    const same = await ctx.c.kv.Range({ key: b(p + 'a'), range_end: b(p + 'a') });
    expect(same.kvs).toEqual([]);
    expect(keysOf(await ctx.c.kv.Range({ key: b(p + 'a') }))).toEqual([p + 'a']);
    expect(keysOf(await ctx.c.kv.Range({ key: b(p + 'a'), range_end: b(p + 'b') }))).toEqual([p + 'a', p + 'ab']);
  });

  test('keys and values are bytes: byte order, non-UTF-8, NUL and 0xff bytes round-trip', async () => {
    const p = b(ctx.prefix('binary'));
    const suffixes = [[0x00], [0x01], [0x7f], [0x80], [0xc3, 0x28], [0xfe], [0xff], [0xff, 0x00], [0xff, 0xff]];
    const shuffled = [...suffixes].reverse();
    for (const sfx of shuffled) {
      await ctx.c.kv.Put({ key: Buffer.concat([p, Buffer.from(sfx)]), value: Buffer.from([0, 0xff, ...sfx, 0x80]) });
    }
    const r = await ctx.c.kv.Range({ key: p, range_end: prefixEnd(p) });
    const got = (r.kvs as Msg[]).map((x) => [...Buffer.from(x.key).subarray(p.length)]);
    expect(got).toEqual(suffixes);
    for (const x of r.kvs as Msg[]) {
      const sfx = [...Buffer.from(x.key).subarray(p.length)];
      expect([...Buffer.from(x.value)]).toEqual([0, 0xff, ...sfx, 0x80]);
    }
    // a range end inside the binary keys: [p+0x7f, p+0xff) excludes 0xff and its extensions
    const mid = await ctx.c.kv.Range({ key: Buffer.concat([p, Buffer.from([0x7f])]), range_end: Buffer.concat([p, Buffer.from([0xff])]) });
    expect((mid.kvs as Msg[]).map((x) => [...Buffer.from(x.key).subarray(p.length)])).toEqual([[0x7f], [0x80], [0xc3, 0x28], [0xfe]]);
    // prefixEnd of a key ending in 0xff bytes
    const ff = Buffer.concat([p, Buffer.from([0xff])]);
    const ffr = await ctx.c.kv.Range({ key: ff, range_end: prefixEnd(ff) });
    expect(ffr.kvs.length).toBe(3);
  });

  test('sort: each target and order; NONE with a non-KEY target sorts ascending (only what limit+1 read); ties keep key order', async () => {
    const p = ctx.prefix('sort');
    // create order c, a, b, d, e (create revisions differ from key order)
    for (const [k, v] of [
      ['c', 'v3'],
      ['a', 'v9'],
      ['b', 'v1'],
      ['d', 'v1'],
      ['e', 'v5'],
    ]) {
      await ctx.c.kv.Put({ key: b(p + k), value: b(v) });
    }
    await ctx.c.kv.Put({ key: b(p + 'a'), value: b('v2') }); // a: version 2, latest mod
    await ctx.c.kv.Txn({ success: ['b', 'e'].map((k) => ({ request_put: { key: b(p + k), value: b('v7') } })) }); // b, e share a mod
    const q = async (sort_order: string, sort_target: string, extra: Msg = {}): Promise<string[]> =>
      keysOf(await ctx.c.kv.Range({ key: b(p), range_end: prefixEnd(p), sort_order, sort_target, ...extra })).map((k) => k.slice(p.length));
    expect(await q('NONE', 'KEY')).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(await q('ASCEND', 'KEY')).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(await q('DESCEND', 'KEY')).toEqual(['e', 'd', 'c', 'b', 'a']);
    expect(await q('ASCEND', 'CREATE')).toEqual(['c', 'a', 'b', 'd', 'e']);
    expect(await q('DESCEND', 'CREATE')).toEqual(['e', 'd', 'b', 'a', 'c']);
    expect(await q('NONE', 'CREATE')).toEqual(['c', 'a', 'b', 'd', 'e']);
    expect(await q('ASCEND', 'MOD')).toEqual(['c', 'd', 'a', 'b', 'e']);
    expect(await q('DESCEND', 'MOD')).toEqual(['b', 'e', 'a', 'd', 'c']);
    expect(await q('ASCEND', 'VERSION')).toEqual(['c', 'd', 'a', 'b', 'e']);
    expect(await q('DESCEND', 'VERSION')).toEqual(['a', 'b', 'e', 'c', 'd']);
    expect(await q('ASCEND', 'VALUE')).toEqual(['d', 'a', 'c', 'b', 'e']);
    expect(await q('DESCEND', 'VALUE')).toEqual(['b', 'e', 'c', 'a', 'd']);
    expect(await q('NONE', 'VALUE')).toEqual(['d', 'a', 'c', 'b', 'e']);
    // sort first, then limit: more is set and count is the whole range
    const top = await ctx.c.kv.Range({ key: b(p), range_end: prefixEnd(p), sort_order: 'DESCEND', sort_target: 'MOD', limit: 2 });
    expect(keysOf(top).map((k) => k.slice(p.length))).toEqual(['b', 'e']);
    expect([top.more, n(top.count)]).toEqual([true, 5]);
    // a sort defaulted from NONE (target != KEY) sorts only the first limit+1 keys etcd read in key
    // order (a, b, c here), then cuts to the limit; ASCEND sorts the whole range first
    const defaulted = await q('NONE', 'MOD', { limit: 2 });
    expect(defaulted).toEqual(['c', 'a']);
    expect(await q('ASCEND', 'MOD', { limit: 2 })).toEqual(['c', 'd']);
    expect(await q('NONE', 'VALUE', { limit: 1 })).toEqual(['a']);
  });

  test('min/max mod/create revision filters; count stays the count of the whole range', async () => {
    const p = ctx.prefix('filters');
    const rev: Record<string, number> = {};
    for (const k of ['a', 'b', 'c', 'd']) rev[k] = hrev(await ctx.c.kv.Put({ key: b(p + k), value: b('1') }));
    rev.b2 = hrev(await ctx.c.kv.Put({ key: b(p + 'b'), value: b('2') })); // b: create rev.b, mod rev.b2
    const q = async (extra: Msg): Promise<Msg> => ctx.c.kv.Range({ key: b(p), range_end: prefixEnd(p), ...extra });
    const short = (r: Msg): string[] => keysOf(r).map((k) => k.slice(p.length));
    let r = await q({ min_mod_revision: rev.c });
    expect(short(r)).toEqual(['b', 'c', 'd']);
    expect(n(r.count)).toBe(4);
    r = await q({ max_mod_revision: rev.c });
    expect(short(r)).toEqual(['a', 'c']);
    expect(n(r.count)).toBe(4);
    r = await q({ min_create_revision: rev.b, max_create_revision: rev.c });
    expect(short(r)).toEqual(['b', 'c']);
    r = await q({ min_mod_revision: rev.c, limit: 1 });
    expect(short(r)).toEqual(['b']);
    expect([r.more, n(r.count)]).toEqual([true, 4]);
    r = await q({ min_mod_revision: rev.b2 + 1 });
    expect([r.kvs.length, n(r.count), r.more]).toEqual([0, 4, false]);
  });

  test('revision reads: 0 and negative mean current, past revisions show the state then, future is OutOfRange', async () => {
    const p = ctx.prefix('revread');
    const k = b(p + 'k');
    const r1 = hrev(await ctx.c.kv.Put({ key: k, value: b('one') }));
    const r2 = hrev(await ctx.c.kv.Put({ key: k, value: b('two') }));
    const r3 = hrev(await ctx.c.kv.DeleteRange({ key: k }));
    expect((await ctx.c.kv.Range({ key: k, revision: r1 - 1 })).kvs).toEqual([]);
    expect(kv((await ctx.c.kv.Range({ key: k, revision: r1 })).kvs[0])).toMatchObject({ value: 'one', version: 1 });
    expect(kv((await ctx.c.kv.Range({ key: k, revision: r2 })).kvs[0])).toMatchObject({ value: 'two', version: 2, mod_revision: r2 });
    expect((await ctx.c.kv.Range({ key: k, revision: r3 })).kvs).toEqual([]);
    await ctx.c.kv.Put({ key: k, value: b('three') });
    for (const revision of [0, -1]) {
      expect(kv((await ctx.c.kv.Range({ key: k, revision })).kvs[0])).toMatchObject({ value: 'three', version: 1 });
    }
    const cur = await currentRev(ctx.c);
    expect(kv((await ctx.c.kv.Range({ key: k, revision: cur })).kvs[0])).toMatchObject({ value: 'three' });
    await expectGrpcError(ctx.c.kv.Range({ key: k, revision: cur + 1 }), Code.OutOfRange, Err.future);
    await expectGrpcError(ctx.c.kv.Range({ key: k, revision: cur + 1000 }), Code.OutOfRange, Err.future);
  });

  test('delete range: deletes [key, range_end) at one revision, prev_kvs in key order', async () => {
    const p = ctx.prefix('delrange');
    for (const k of ['a', 'b', 'c', 'd']) await ctx.c.kv.Put({ key: b(p + k), value: b(k) });
    const before = await currentRev(ctx.c);
    const d = await ctx.c.kv.DeleteRange({ key: b(p + 'b'), range_end: b(p + 'd'), prev_kv: true });
    expect(n(d.deleted)).toBe(2);
    expect(hrev(d)).toBe(before + 1);
    expect(kvs({ kvs: d.prev_kvs }).map((x) => [x.key.slice(p.length), x.value])).toEqual([
      ['b', 'b'],
      ['c', 'c'],
    ]);
    const noPrev = await ctx.c.kv.DeleteRange({ key: b(p), range_end: prefixEnd(p) });
    expect(n(noPrev.deleted)).toBe(2);
    expect(noPrev.prev_kvs).toEqual([]);
    expect(hrev(noPrev)).toBe(before + 2);
    expect(n((await ctx.c.kv.Range({ key: b(p), range_end: prefixEnd(p), count_only: true })).count)).toBe(0);
  });

  test('a 1 MiB value round-trips; a request over 1.5 MiB is rejected as too large', async () => {
    const p = ctx.prefix('size');
    const big = Buffer.alloc(1024 * 1024, 0x61);
    await ctx.c.kv.Put({ key: b(p + 'big'), value: big });
    const g = await ctx.c.kv.Range({ key: b(p + 'big') });
    expect(Buffer.compare(Buffer.from(g.kvs[0].value), big)).toBe(0);
    const before = await currentRev(ctx.c);
    await expectGrpcError(ctx.c.kv.Put({ key: b(p + 'huge'), value: Buffer.alloc(1600 * 1024) }), Code.InvalidArgument, Err.tooLarge);
    await expectGrpcError(
      ctx.c.kv.Txn({ success: [{ request_put: { key: b(p + 'huge'), value: Buffer.alloc(1600 * 1024) } }] }),
      Code.InvalidArgument,
      Err.tooLarge,
    );
    expect(await currentRev(ctx.c)).toBe(before);
  });
});
