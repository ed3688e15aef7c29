import { describe, expect, it } from 'vitest';
import { Code, EtcdError } from '../../src/errors';
import { readRange } from '../../src/mvcc/range';
import { CompareResult, CompareTarget, SortOrder, SortTarget, type Compare, type RequestOp } from '../../src/mvcc/types';
import { b, Harness, putReq, rangeReq } from './helpers';

const cmp = (key: string, target: CompareTarget, result: CompareResult, operand: Compare['operand'], end = ''): Compare => ({
  key: b(key),
  range_end: b(end),
  target,
  result,
  operand,
});
const put = (k: string, v: string): RequestOp => ({ kind: 'put', put: putReq(k, v) });
const get = (k: string): RequestOp => ({ kind: 'range', range: rangeReq(k) });

describe('put and delete', () => {
  it('counts versions, keeps create_revision, restarts after delete', () => {
    const h = new Harness();
    h.run((m) => m.put(putReq('a', '1')));
    h.run((m) => m.put(putReq('a', '2')));
    const prev = h.run((m) => m.deleteRange({ key: b('a'), range_end: b(''), prev_kv: true }));
    expect(prev.deleted).toBe(1);
    expect(prev.header.revision).toBe(4);
    expect(prev.prev_kvs[0]).toMatchObject({ version: 2, create_revision: 2, mod_revision: 3 });
    h.run((m) => m.put(putReq('a', '3')));
    const r = readRange(h.index, rangeReq('a'), h.index.revision);
    expect(r.kvs[0]).toMatchObject({ version: 1, create_revision: 5, mod_revision: 5 });
    expect(h.rows.map((x) => [x.revision, x.prevRevision, x.deleted])).toEqual([
      [2, 0, false],
      [3, 2, false],
      [4, 3, true],
      [5, 4, false],
    ]);
  });

  it('does not move the revision when nothing is deleted', () => {
    const h = new Harness();
    h.run((m) => m.put(putReq('a', '1')));
    const r = h.run((m) => m.deleteRange({ key: b('zz'), range_end: b(''), prev_kv: false }));
    expect(r).toMatchObject({ deleted: 0, header: { revision: 2 } });
    expect(h.index.revision).toBe(2);
  });

  it('ignore_value / ignore_lease need the key; unknown leases are refused', () => {
    const h = new Harness();
    expect(() => h.run((m) => m.put(putReq('a', '', { ignore_value: true })))).toThrow('etcdserver: key not found');
    expect(() => h.run((m) => m.put(putReq('a', 'x', { lease: 42n })))).toThrow('etcdserver: requested lease not found');
    h.run((m) => m.put(putReq('a', 'keep')));
    h.run((m) => m.put(putReq('a', '', { ignore_value: true })));
    expect(readRange(h.index, rangeReq('a'), h.index.revision).kvs[0].value.toString()).toBe('keep');
    expect(h.index.revision).toBe(3);
  });
});

describe('txn', () => {
  it('writes every op at one revision and reads its own writes', () => {
    const h = new Harness();
    const r = h.run((m) => m.txn({ compare: [], success: [get('a'), put('a', '1'), put('b', '2'), get('a')], failure: [] }));
    expect(r.succeeded).toBe(true);
    expect(r.header.revision).toBe(2);
    const heads = r.responses.map((x) => (x.kind === 'range' ? x.range.header.revision : x.kind === 'put' ? x.put.header.revision : -1));
    expect(heads).toEqual([1, 2, 2, 2]);
    const last = r.responses[3];
    expect(last.kind === 'range' && last.range.kvs[0].value.toString()).toBe('1');
    expect(h.rows.map((x) => [x.revision, x.sub])).toEqual([
      [2, 0],
      [2, 1],
    ]);
  });

  it('compares every target with every result, over ranges too', () => {
    const h = new Harness();
    h.run((m) => m.put(putReq('k1', 'b')));
    h.run((m) => m.put(putReq('k2', 'c')));
    h.run((m) => m.put(putReq('k2', 'd')));
    const ok = (c: Compare) => h.run((m) => m.txn({ compare: [c], success: [], failure: [] })).succeeded;
    expect(ok(cmp('k1', CompareTarget.VALUE, CompareResult.EQUAL, { kind: 'value', value: b('b') }))).toBe(true);
    expect(ok(cmp('k1', CompareTarget.VALUE, CompareResult.GREATER, { kind: 'value', value: b('a') }))).toBe(true);
    expect(ok(cmp('k2', CompareTarget.VERSION, CompareResult.EQUAL, { kind: 'version', value: 2 }))).toBe(true);
    expect(ok(cmp('k2', CompareTarget.CREATE, CompareResult.LESS, { kind: 'create_revision', value: 4 }))).toBe(true);
    expect(ok(cmp('k2', CompareTarget.MOD, CompareResult.NOT_EQUAL, { kind: 'mod_revision', value: 4 }))).toBe(false);
    expect(ok(cmp('k2', CompareTarget.LEASE, CompareResult.EQUAL, { kind: 'lease', value: 0n }))).toBe(true);
    // Over a range, every key must satisfy the compare.
    expect(ok(cmp('k', CompareTarget.VERSION, CompareResult.GREATER, { kind: 'version', value: 0 }, 'l'))).toBe(true);
    expect(ok(cmp('k', CompareTarget.VERSION, CompareResult.GREATER, { kind: 'version', value: 1 }, 'l'))).toBe(false);
    // A missing key compares as zero values, except VALUE, which always fails.
    expect(ok(cmp('none', CompareTarget.MOD, CompareResult.EQUAL, { kind: 'mod_revision', value: 0 }))).toBe(true);
    expect(ok(cmp('none', CompareTarget.VALUE, CompareResult.EQUAL, { kind: 'value', value: b('') }))).toBe(false);
    // A target whose operand is another field compares against 0.
    expect(ok(cmp('k1', CompareTarget.MOD, CompareResult.GREATER, { kind: 'version', value: 99 }))).toBe(true);
  });

  it('decides nested compares on the state before the txn', () => {
    const h = new Harness();
    const nested: RequestOp = {
      kind: 'txn',
      txn: {
        compare: [cmp('a', CompareTarget.VERSION, CompareResult.EQUAL, { kind: 'version', value: 0 })],
        success: [put('b', 'x')],
        failure: [put('c', 'y')],
      },
    };
    const r = h.run((m) => m.txn({ compare: [], success: [put('a', '1'), nested], failure: [] }));
    const inner = r.responses[1];
    expect(inner.kind === 'txn' && inner.txn.succeeded).toBe(true);
    expect(inner.kind === 'txn' && inner.txn.header.revision).toBe(0);
    expect(readRange(h.index, rangeReq('b'), 2).kvs).toHaveLength(1);
  });

  it('fails as a whole when a put on the chosen path names an unknown lease', () => {
    const h = new Harness();
    const bad: RequestOp = { kind: 'put', put: putReq('z', '1', { lease: 7n }) };
    expect(() => h.run((m) => m.txn({ compare: [], success: [put('a', '1'), bad], failure: [] }))).toThrow(EtcdError);
    expect(h.index.get('a')).toBeUndefined();
    expect(h.index.revision).toBe(1);
  });

  it('a read-only branch leaves the revision alone', () => {
    const h = new Harness();
    h.run((m) => m.put(putReq('a', '1')));
    const r = h.run((m) => m.txn({ compare: [], success: [get('a')], failure: [put('a', '2')] }));
    expect(r.header.revision).toBe(2);
    expect(h.index.revision).toBe(2);
  });
});

describe('readRange', () => {
  const h = new Harness();
  for (const [k, v] of [
    ['c', '1'],
    ['a', '3'],
    ['b', '2'],
    ['d', '2'],
  ])
    h.run((m) => m.put(putReq(k, v)));
  h.run((m) => m.put(putReq('a', '9')));

  it('counts the whole range and limits the page', () => {
    const r = readRange(h.index, rangeReq('a', 'z', { limit: 2 }), h.index.revision);
    expect([r.kvs.map((x) => x.key.toString()), r.count, r.more]).toEqual([['a', 'b'], 4, true]);
    const c = readRange(h.index, rangeReq('a', 'z', { count_only: true }), h.index.revision);
    expect([c.kvs, c.count, c.more]).toEqual([[], 4, false]);
  });

  it('sorts stably by each target', () => {
    const keysBy = (t: SortTarget, o: SortOrder) =>
      readRange(h.index, rangeReq('a', 'z', { sort_target: t, sort_order: o }), h.index.revision).kvs.map((x) => x.key.toString());
    expect(keysBy(SortTarget.KEY, SortOrder.DESCEND)).toEqual(['d', 'c', 'b', 'a']);
    expect(keysBy(SortTarget.VALUE, SortOrder.ASCEND)).toEqual(['c', 'b', 'd', 'a']);
    expect(keysBy(SortTarget.VALUE, SortOrder.NONE)).toEqual(['c', 'b', 'd', 'a']);
    expect(keysBy(SortTarget.MOD, SortOrder.DESCEND)).toEqual(['a', 'd', 'b', 'c']);
    expect(keysBy(SortTarget.VERSION, SortOrder.DESCEND)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('reads history and filters by revision', () => {
    expect(readRange(h.index, rangeReq('a'), 3).kvs[0].value.toString()).toBe('3');
    const f = readRange(h.index, rangeReq('a', 'z', { min_mod_revision: 4, max_create_revision: 4 }), h.index.revision);
    expect(f.kvs.map((x) => x.key.toString())).toEqual(['a', 'b']);
    expect(f.count).toBe(4);
  });

  it('keys_only empties values', () => {
    expect(readRange(h.index, rangeReq('a', 'z', { keys_only: true }), h.index.revision).kvs.every((x) => x.value.length === 0)).toBe(true);
  });
});

describe('errors', () => {
  it('carry etcd codes', () => {
    expect(new EtcdError(Code.OutOfRange, 'x').code).toBe(11);
  });
});

describe('readRange limit with a non-key sort target and no order', () => {
  it('sorts only the first limit+1 keys, as etcd does', () => {
    const h = new Harness();
    for (const [k, v] of [
      ['a', '4'],
      ['b', '3'],
      ['c', '2'],
      ['d', '1'],
      ['e', '0'],
    ])
      h.run((m) => m.put(putReq(k, v)));
    const keysOf = (o: SortOrder) =>
      readRange(h.index, rangeReq('a', 'z', { sort_target: SortTarget.VALUE, sort_order: o, limit: 2 }), h.index.revision).kvs.map((x) =>
        x.key.toString(),
      );
    expect(keysOf(SortOrder.NONE)).toEqual(['c', 'b']);
    expect(keysOf(SortOrder.ASCEND)).toEqual(['e', 'd']);
  });
});
