/** Txn semantics: one revision per txn, compares, branches, nesting, validation, kube/k3s shapes. */
import { describe, expect, test } from 'vitest';
import { b, prefixEnd, s, type Msg } from '../helpers/client';
import { expectGrpcError } from '../helpers/grpc-error';
import { Code, Err, currentRev, forEachTarget, hrev, keysOf, kv, kvs, n } from './harness';

const put = (key: string, value: string, extra: Msg = {}): Msg => ({ request_put: { key: b(key), value: b(value), ...extra } });
const get = (key: string, extra: Msg = {}): Msg => ({ request_range: { key: b(key), ...extra } });
const del = (key: string, extra: Msg = {}): Msg => ({ request_delete_range: { key: b(key), ...extra } });
const cmp = (key: string, target: string, result: string, value: Msg, extra: Msg = {}): Msg => ({
  key: b(key),
  target,
  result,
  ...value,
  ...extra,
});

forEachTarget('txn', (ctx) => {
  test('all writes of one txn share one revision; txn header and each response_put say it', async () => {
    const p = ctx.prefix('onerev');
    const before = await currentRev(ctx.c);
    const t = await ctx.c.kv.Txn({ success: [put(p + 'a', '1'), put(p + 'b', '2'), del(p + 'missing')] });
    expect(t.succeeded).toBe(true);
    expect(hrev(t)).toBe(before + 1);
    expect(t.responses.map((r: Msg) => r.response)).toEqual(['response_put', 'response_put', 'response_delete_range']);
    expect(t.responses.map((r: Msg) => n(r[r.response].header.revision))).toEqual([before + 1, before + 1, before + 1]);
    const r = await ctx.c.kv.Range({ key: b(p), range_end: prefixEnd(p) });
    expect(kvs(r).map((x) => [x.create_revision, x.mod_revision, x.version])).toEqual([
      [before + 1, before + 1, 1],
      [before + 1, before + 1, 1],
    ]);
  });

  test("ops see the txn's earlier writes; inner headers: the old revision before the first write, the new one after", async () => {
    const p = ctx.prefix('readyourwrites');
    const r0 = hrev(await ctx.c.kv.Put({ key: b(p + 'a'), value: b('old') }));
    const t = await ctx.c.kv.Txn({
      success: [
        get(p + 'a'),
        del(p + 'nothing'),
        put(p + 'a', 'new', { prev_kv: true }),
        get(p + 'a'),
        get(p, { range_end: prefixEnd(p) }),
        del(p + 'nothing'),
      ],
    });
    expect(hrev(t)).toBe(r0 + 1);
    const [r1, d1, p1, r2, r3, d2] = t.responses.map((x: Msg) => x[x.response]);
    expect(n(r1.header.revision)).toBe(r0);
    expect(s(r1.kvs[0].value)).toBe('old');
    expect(n(d1.header.revision)).toBe(r0); // nothing written yet
    expect(n(p1.header.revision)).toBe(r0 + 1);
    expect(s(p1.prev_kv.value)).toBe('old');
    expect(n(r2.header.revision)).toBe(r0 + 1);
    expect(kv(r2.kvs[0])).toMatchObject({ value: 'new', mod_revision: r0 + 1, version: 2 });
    expect(n(r3.count)).toBe(1);
    expect(n(d2.header.revision)).toBe(r0 + 1);
  });

  describe('compares', () => {
    test('MOD, VERSION, CREATE, VALUE and LEASE with EQUAL, NOT_EQUAL, GREATER and LESS', async () => {
      const p = ctx.prefix('cmp');
      const k = p + 'k';
      const lease = await ctx.c.lease.LeaseGrant({ TTL: 300 });
      try {
        const c1 = hrev(await ctx.c.kv.Put({ key: b(k), value: b('m') }));
        const m1 = hrev(await ctx.c.kv.Put({ key: b(k), value: b('m'), lease: lease.ID })); // version 2
        const cases: Array<[string, Msg, Record<string, boolean>]> = [
          ['MOD', { mod_revision: m1 }, { EQUAL: true, NOT_EQUAL: false, GREATER: false, LESS: false }],
          ['MOD', { mod_revision: m1 - 1 }, { EQUAL: false, NOT_EQUAL: true, GREATER: true, LESS: false }],
          ['MOD', { mod_revision: m1 + 1 }, { EQUAL: false, NOT_EQUAL: true, GREATER: false, LESS: true }],
          ['CREATE', { create_revision: c1 }, { EQUAL: true, NOT_EQUAL: false, GREATER: false, LESS: false }],
          ['CREATE', { create_revision: 0 }, { EQUAL: false, NOT_EQUAL: true, GREATER: true, LESS: false }],
          ['VERSION', { version: 2 }, { EQUAL: true, NOT_EQUAL: false, GREATER: false, LESS: false }],
          ['VERSION', { version: 3 }, { EQUAL: false, NOT_EQUAL: true, GREATER: false, LESS: true }],
          ['VALUE', { value: b('m') }, { EQUAL: true, NOT_EQUAL: false, GREATER: false, LESS: false }],
          ['VALUE', { value: b('a') }, { EQUAL: false, NOT_EQUAL: true, GREATER: true, LESS: false }],
          ['VALUE', { value: b('mm') }, { EQUAL: false, NOT_EQUAL: true, GREATER: false, LESS: true }],
          ['LEASE', { lease: lease.ID }, { EQUAL: true, NOT_EQUAL: false, GREATER: false, LESS: false }],
          ['LEASE', { lease: 0 }, { EQUAL: false, NOT_EQUAL: true, GREATER: true, LESS: false }],
        ];
        for (const [target, value, want] of cases) {
          for (const [result, ok] of Object.entries(want)) {
            const t = await ctx.c.kv.Txn({ compare: [cmp(k, target, result, value)], success: [get(k)], failure: [] });
            expect(t.succeeded, `${target} ${result} ${JSON.stringify(value)}`).toBe(ok);
            expect(t.responses.length).toBe(ok ? 1 : 0);
          }
        }
      } finally {
        await ctx.c.lease.LeaseRevoke({ ID: lease.ID });
      }
    });

    test('a missing key compares as zero for MOD/VERSION/CREATE/LEASE; VALUE compares always fail', async () => {
      const k = ctx.prefix('missing') + 'nope';
      const ok = async (c: Msg): Promise<boolean> => (await ctx.c.kv.Txn({ compare: [c] })).succeeded;
      expect(await ok(cmp(k, 'MOD', 'EQUAL', { mod_revision: 0 }))).toBe(true);
      expect(await ok(cmp(k, 'VERSION', 'EQUAL', { version: 0 }))).toBe(true);
      expect(await ok(cmp(k, 'CREATE', 'EQUAL', { create_revision: 0 }))).toBe(true);
      expect(await ok(cmp(k, 'LEASE', 'EQUAL', { lease: 0 }))).toBe(true);
      expect(await ok(cmp(k, 'VERSION', 'LESS', { version: 1 }))).toBe(true);
      expect(await ok(cmp(k, 'MOD', 'GREATER', { mod_revision: 0 }))).toBe(false);
      expect(await ok(cmp(k, 'VALUE', 'EQUAL', { value: b('') }))).toBe(false);
      expect(await ok(cmp(k, 'VALUE', 'NOT_EQUAL', { value: b('x') }))).toBe(false);
      expect(await ok(cmp(k, 'VALUE', 'LESS', { value: b('x') }))).toBe(false);
      // an absent target value compares as 0 (kube sends mod_revision 0 explicitly; both must work)
      expect(await ok({ key: b(k), target: 'MOD', result: 'EQUAL' })).toBe(true);
      expect(await ok({ key: b(k), target: 'VERSION', result: 'EQUAL' })).toBe(true);
    });

    test('a compare with range_end holds only if every key in the range holds; an empty range compares as zero', async () => {
      const p = ctx.prefix('cmprange');
      await ctx.c.kv.Put({ key: b(p + 'a'), value: b('x') });
      await ctx.c.kv.Put({ key: b(p + 'b'), value: b('x') });
      await ctx.c.kv.Put({ key: b(p + 'b'), value: b('x') }); // b: version 2
      const ok = async (c: Msg): Promise<boolean> => (await ctx.c.kv.Txn({ compare: [c] })).succeeded;
      const all = { range_end: prefixEnd(p) };
      expect(await ok(cmp(p, 'VALUE', 'EQUAL', { value: b('x') }, all))).toBe(true);
      expect(await ok(cmp(p, 'VERSION', 'EQUAL', { version: 1 }, all))).toBe(false);
      expect(await ok(cmp(p, 'VERSION', 'GREATER', { version: 0 }, all))).toBe(true);
      expect(await ok(cmp(p, 'VERSION', 'EQUAL', { version: 1 }, { range_end: b(p + 'b') }))).toBe(true);
      expect(await ok(cmp(p, 'CREATE', 'GREATER', { create_revision: 0 }, all))).toBe(true);
      // empty range: like a missing key
      expect(await ok(cmp(p + 'x', 'VERSION', 'EQUAL', { version: 0 }, { range_end: b(p + 'z') }))).toBe(true);
      expect(await ok(cmp(p + 'x', 'VALUE', 'EQUAL', { value: b('') }, { range_end: b(p + 'z') }))).toBe(false);
      // range_end "\0": every key >= key
      await ctx.c.kv.Put({ key: b(p + 'c'), value: b('y') });
      expect(await ok(cmp(p + 'c', 'VALUE', 'EQUAL', { value: b('y') }, { range_end: b(p + 'd') }))).toBe(true);
      const last = await ctx.c.kv.Range({ key: b('\0'), range_end: b('\0'), sort_order: 'DESCEND', sort_target: 'KEY', limit: 1 });
      const lastKey = s(last.kvs[0].key);
      expect(await ok(cmp(lastKey, 'CREATE', 'GREATER', { create_revision: 0 }, { range_end: b('\0') }))).toBe(true);
      expect(await ok(cmp(p + 'a', 'VALUE', 'EQUAL', { value: b('x') }, { range_end: b('\0') }))).toBe(false);
    });

    test('several compares are ANDed; the failure branch runs otherwise and reports the current revision', async () => {
      const p = ctx.prefix('and');
      const r = hrev(await ctx.c.kv.Put({ key: b(p + 'a'), value: b('1') }));
      await ctx.c.kv.Put({ key: b(p + 'b'), value: b('2') });
      const both = [cmp(p + 'a', 'VALUE', 'EQUAL', { value: b('1') }), cmp(p + 'b', 'VALUE', 'EQUAL', { value: b('2') })];
      const t1 = await ctx.c.kv.Txn({ compare: both, success: [put(p + 'c', 'then')], failure: [put(p + 'c', 'else')] });
      expect([t1.succeeded, hrev(t1)]).toEqual([true, r + 2]);
      const oneWrong = [both[0], cmp(p + 'b', 'VALUE', 'EQUAL', { value: b('nope') })];
      const t2 = await ctx.c.kv.Txn({ compare: oneWrong, success: [put(p + 'c', 'then2')], failure: [get(p + 'c')] });
      expect(t2.succeeded).toBe(false);
      expect(hrev(t2)).toBe(r + 2); // read-only else branch: no new revision
      expect(s(t2.responses[0].response_range.kvs[0].value)).toBe('then');
      const t3 = await ctx.c.kv.Txn({ compare: oneWrong, success: [], failure: [put(p + 'c', 'else')] });
      expect([t3.succeeded, hrev(t3)]).toEqual([false, r + 3]);
    });

    test('an empty txn succeeds with no responses and no new revision', async () => {
      const before = await currentRev(ctx.c);
      const t = await ctx.c.kv.Txn({});
      expect([t.succeeded, t.responses.length, hrev(t)]).toEqual([true, 0, before]);
    });
  });

  test('nested txns: all compares see the state before the txn; a nested response header says revision 0', async () => {
    const p = ctx.prefix('nested');
    const r0 = hrev(await ctx.c.kv.Put({ key: b(p + 'k'), value: b('old') }));
    const t = await ctx.c.kv.Txn({
      compare: [cmp(p + 'k', 'VALUE', 'EQUAL', { value: b('old') })],
      success: [
        put(p + 'k', 'new'),
        {
          request_txn: {
            // sees "old": the outer put is not visible to nested compares
            compare: [cmp(p + 'k', 'VALUE', 'EQUAL', { value: b('new') })],
            success: [put(p + 'then', '1')],
            failure: [get(p + 'k'), put(p + 'else', '1')],
          },
        },
        { request_txn: { compare: [cmp(p + 'k', 'VERSION', 'EQUAL', { version: 1 })], success: [get(p + 'else')] } },
      ],
    });
    expect([t.succeeded, hrev(t)]).toEqual([true, r0 + 1]);
    const inner = t.responses[1].response_txn;
    expect(inner.succeeded).toBe(false);
    expect(n(inner.header.revision)).toBe(0);
    // but the nested range does see the outer write
    expect(kv(inner.responses[0].response_range.kvs[0])).toMatchObject({ value: 'new', mod_revision: r0 + 1 });
    expect(n(inner.responses[1].response_put.header.revision)).toBe(r0 + 1);
    const inner2 = t.responses[2].response_txn;
    expect(inner2.succeeded).toBe(true);
    expect(kv(inner2.responses[0].response_range.kvs[0])).toMatchObject({ key: p + 'else', mod_revision: r0 + 1 });
    expect(keysOf(await ctx.c.kv.Range({ key: b(p), range_end: prefixEnd(p) }))).toEqual([p + 'else', p + 'k']);
  });

  test('duplicate keys: put+put, put+covering delete, nested put+outer put are rejected; delete+delete is allowed', async () => {
    const p = ctx.prefix('dup');
    const before = await currentRev(ctx.c);
    const bad: Msg[] = [
      { success: [put(p + 'a', '1'), put(p + 'a', '2')] },
      { failure: [put(p + 'a', '1'), put(p + 'a', '2')] },
      { success: [put(p + 'b', '1'), del(p + 'a', { range_end: b(p + 'c') })] },
      { success: [del(p + 'a', { range_end: b(p + 'c') }), put(p + 'b', '1')] },
      { success: [del(p + 'b'), put(p + 'b', '1')] },
      { success: [put(p + 'a', '1'), { request_txn: { success: [put(p + 'a', '2')] } }] },
      { success: [put(p + 'a', '1'), { request_txn: { failure: [put(p + 'a', '2')] } }] },
      { success: [del(p + 'a'), { request_txn: { success: [put(p + 'a', '2')] } }] },
      { success: [{ request_txn: { success: [put(p + 'a', '1')] } }, { request_txn: { success: [put(p + 'a', '2')] } }] },
    ];
    for (const req of bad) await expectGrpcError(ctx.c.kv.Txn(req), Code.InvalidArgument, Err.duplicateKey);
    expect(await currentRev(ctx.c)).toBe(before);

    await ctx.c.kv.Put({ key: b(p + 'x'), value: b('1') });
    const dd = await ctx.c.kv.Txn({ success: [del(p + 'x', { prev_kv: true }), del(p + 'x', { prev_kv: true })] });
    expect(dd.responses.map((r: Msg) => n(r.response_delete_range.deleted))).toEqual([1, 0]);
    expect(dd.responses.map((r: Msg) => r.response_delete_range.prev_kvs.length)).toEqual([1, 0]);
    expect(hrev(dd)).toBe(before + 2);
    // the same key in success and failure, or in then/else of one nested txn, is fine
    const sf = await ctx.c.kv.Txn({ success: [put(p + 'y', 'then')], failure: [put(p + 'y', 'else')] });
    expect(sf.succeeded).toBe(true);
    const te = await ctx.c.kv.Txn({
      success: [
        {
          request_txn: {
            compare: [cmp(p + 'y', 'VALUE', 'EQUAL', { value: b('then') })],
            success: [put(p + 'z', 'then')],
            failure: [put(p + 'z', 'else')],
          },
        },
      ],
    });
    expect(te.responses[0].response_txn.succeeded).toBe(true);
    expect(s((await ctx.c.kv.Range({ key: b(p + 'z') })).kvs[0].value)).toBe('then');
    // a put and a range read of the same key are not duplicates
    const pr = await ctx.c.kv.Txn({ success: [get(p + 'z'), put(p + 'z', 'again'), get(p + 'z')] });
    expect(s(pr.responses[2].response_range.kvs[0].value)).toBe('again');
  });

  test('more than 128 operations (or compares) is rejected; 128 is fine', async () => {
    const p = ctx.prefix('maxops');
    const ops = Array.from({ length: 129 }, (_, i) => get(`${p}k${i}`));
    await expectGrpcError(ctx.c.kv.Txn({ success: ops }), Code.InvalidArgument, Err.tooManyOps);
    await expectGrpcError(ctx.c.kv.Txn({ failure: ops }), Code.InvalidArgument, Err.tooManyOps);
    const cmps = Array.from({ length: 129 }, (_, i) => cmp(`${p}k${i}`, 'VERSION', 'EQUAL', { version: 0 }));
    await expectGrpcError(ctx.c.kv.Txn({ compare: cmps }), Code.InvalidArgument, Err.tooManyOps);
    const t = await ctx.c.kv.Txn({ compare: cmps.slice(0, 128), success: Array.from({ length: 128 }, (_, i) => put(`${p}k${i}`, 'v')) });
    expect(t.succeeded).toBe(true);
    expect(t.responses.length).toBe(128);
    expect(n((await ctx.c.kv.Range({ key: b(p), range_end: prefixEnd(p), count_only: true })).count)).toBe(128);
  });

  test('errors inside the taken branch fail the whole txn: unknown lease, ignore_value on a missing key, future revision', async () => {
    const p = ctx.prefix('txnerr');
    const before = await currentRev(ctx.c);
    await expectGrpcError(
      ctx.c.kv.Txn({ success: [put(p + 'a', '1'), put(p + 'b', '1', { lease: '8734562' })] }),
      Code.NotFound,
      Err.leaseNotFound,
    );
    await expectGrpcError(
      ctx.c.kv.Txn({ success: [put(p + 'a', '1'), { request_put: { key: b(p + 'b'), ignore_value: true } }] }),
      Code.InvalidArgument,
      Err.keyNotFound,
    );
    await expectGrpcError(
      ctx.c.kv.Txn({ success: [put(p + 'a', '1'), get(p + 'a', { revision: before + 1 })] }),
      Code.OutOfRange,
      Err.future,
    );
    // in a write txn the put checks run before the range-revision checks, whatever the op order
    await expectGrpcError(
      ctx.c.kv.Txn({ success: [get(p + 'a', { revision: before + 5 }), put(p + 'b', '1', { lease: '8734562' })] }),
      Code.NotFound,
      Err.leaseNotFound,
    );
    await expectGrpcError(ctx.c.kv.Txn({ success: [get(p + 'a', { revision: before + 5 })] }), Code.OutOfRange, Err.future);
    expect(await currentRev(ctx.c)).toBe(before);
    expect((await ctx.c.kv.Range({ key: b(p + 'a') })).kvs).toEqual([]);
    // the branch not taken is not checked
    const t = await ctx.c.kv.Txn({ success: [put(p + 'a', '1')], failure: [put(p + 'b', '1', { lease: '8734562' })] });
    expect(t.succeeded).toBe(true);
  });

  describe('kube-apiserver and k3s txn shapes', () => {
    test('create: MOD==0 put without failure ops; a second create fails with empty responses', async () => {
      const k = ctx.prefix('kcreate') + 'pods/default/p1';
      const create = { compare: [cmp(k, 'MOD', 'EQUAL', { mod_revision: 0 })], success: [put(k, 'obj1')] };
      const t1 = await ctx.c.kv.Txn(create);
      expect(t1.succeeded).toBe(true);
      const rv = hrev(t1);
      expect(n(t1.responses[0].response_put.header.revision)).toBe(rv);
      expect(kv((await ctx.c.kv.Range({ key: b(k), limit: 1 })).kvs[0])).toMatchObject({ mod_revision: rv, create_revision: rv });
      const t2 = await ctx.c.kv.Txn(create);
      expect([t2.succeeded, t2.responses.length, hrev(t2)]).toEqual([false, 0, rv]);
    });

    test('update: a conflict returns the current object in response_range; the retry succeeds', async () => {
      const k = ctx.prefix('kupdate') + 'obj';
      const a = hrev(await ctx.c.kv.Put({ key: b(k), value: b('v1') }));
      const bRev = hrev(await ctx.c.kv.Put({ key: b(k), value: b('v2') })); // someone else
      const update = (rev: number, v: string): Promise<Msg> =>
        ctx.c.kv.Txn({ compare: [cmp(k, 'MOD', 'EQUAL', { mod_revision: rev })], success: [put(k, v)], failure: [get(k)] });
      const t1 = await update(a, 'mine');
      expect(t1.succeeded).toBe(false);
      expect(hrev(t1)).toBe(bRev);
      expect(kv(t1.responses[0].response_range.kvs[0])).toMatchObject({ mod_revision: bRev, value: 'v2', version: 2 });
      const t2 = await update(bRev, 'mine');
      expect(t2.succeeded).toBe(true);
      expect(hrev(t2)).toBe(bRev + 1);
      // create-on-update (origRev 0) of a missing key
      const k2 = k + '-new';
      const t3 = await ctx.c.kv.Txn({
        compare: [cmp(k2, 'MOD', 'EQUAL', { mod_revision: 0 })],
        success: [put(k2, 'x')],
        failure: [get(k2)],
      });
      expect(t3.succeeded).toBe(true);
    });

    test('delete: success returns deleted 1 at the txn revision; a conflict returns the current object', async () => {
      const k = ctx.prefix('kdelete') + 'obj';
      const r1 = hrev(await ctx.c.kv.Put({ key: b(k), value: b('v1') }));
      const delTxn = (rev: number): Promise<Msg> =>
        ctx.c.kv.Txn({ compare: [cmp(k, 'MOD', 'EQUAL', { mod_revision: rev })], success: [del(k)], failure: [get(k)] });
      const bad = await delTxn(r1 - 1);
      expect(bad.succeeded).toBe(false);
      expect(kv(bad.responses[0].response_range.kvs[0])).toMatchObject({ mod_revision: r1 });
      const ok = await delTxn(r1);
      expect(ok.succeeded).toBe(true);
      expect(hrev(ok)).toBe(r1 + 1);
      expect(n(ok.responses[0].response_delete_range.deleted)).toBe(1);
      expect(ok.responses[0].response_delete_range.prev_kvs).toEqual([]);
      const gone = await delTxn(r1);
      expect(gone.succeeded).toBe(false);
      expect(gone.responses[0].response_range.kvs).toEqual([]);
      // k3s/kine delete shape: no compare, success = [range, delete]
      const k2 = k + '-2';
      const r2 = hrev(await ctx.c.kv.Put({ key: b(k2), value: b('x') }));
      const kine = await ctx.c.kv.Txn({ success: [get(k2), del(k2)] });
      expect(kine.succeeded).toBe(true);
      expect(kv(kine.responses[0].response_range.kvs[0])).toMatchObject({ mod_revision: r2 });
      expect(n(kine.responses[1].response_delete_range.deleted)).toBe(1);
    });

    test('compaction bookkeeping: VERSION compare on compact_rev_key, put the revision, adopt the else branch', async () => {
      const k = ctx.prefix('kcompact') + 'compact_rev_key';
      const step = (version: number, value: string): Promise<Msg> =>
        ctx.c.kv.Txn({ compare: [cmp(k, 'VERSION', 'EQUAL', { version })], success: [put(k, value)], failure: [get(k)] });
      const t1 = await step(0, '0');
      expect(t1.succeeded).toBe(true);
      const rev1 = hrev(t1);
      const t2 = await step(1, String(rev1));
      expect(t2.succeeded).toBe(true);
      const t3 = await step(1, 'stale'); // another apiserver with an old view
      expect(t3.succeeded).toBe(false);
      expect(kv(t3.responses[0].response_range.kvs[0])).toMatchObject({ version: 2, value: String(rev1) });
    });
  });
});
