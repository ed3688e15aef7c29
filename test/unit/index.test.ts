import { describe, expect, it } from 'vitest';
import type { LogRow } from '../../src/log/types';
import { inRange, keyRange } from '../../src/mvcc/key-range';
import { OrderedKeys } from '../../src/mvcc/ordered-keys';
import { IndexLoad, RevisionIndex } from '../../src/mvcc/revision-index';

/** A version of `key` written at `revision`. */
const v = (revision: number, extra: Partial<LogRow> = {}, key = 'k'): LogRow => ({
  revision,
  sub: 0,
  key: Buffer.from(key, 'latin1'),
  createRevision: revision,
  prevRevision: 0,
  version: 1,
  lease: 0n,
  value: Buffer.from(`v${revision}`),
  deleted: false,
  ...extra,
});
const keys = (it: Iterable<{ k: string }>) => [...it].map((x) => x.k);

describe('OrderedKeys', () => {
  it('counts live items per chunk as a full walk would, across splits, removals and changes', () => {
    const live = new Set<string>();
    const isLive = (x: { k: string }) => live.has(x.k);
    const o = new OrderedKeys<{ k: string }>();
    const all: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const k = `key/${String((i * 7919) % 3000).padStart(4, '0')}`;
      all.push(k);
      o.insert({ k }, isLive);
      // Every third key becomes live right after its insert, as a commit would make it.
      if (i % 3 === 0) {
        live.add(k);
        o.addLive(k, 1);
      }
    }
    for (let i = 0; i < 3000; i += 7) {
      const k = all[i];
      if (live.delete(k)) o.addLive(k, -1);
      else if (i % 2 === 0) o.remove(k);
    }
    all.sort();
    const walk = (a: string, b: string | null) => all.filter((k) => k >= a && (b === null || k < b) && live.has(k)).length;
    for (const [a, b] of [
      ['', null],
      ['key/0100', 'key/2500'],
      ['key/1', 'key/2'],
      ['key/0999', 'key/1000'],
      ['zzz', null],
      ['key/2999', null],
    ] as const) {
      expect(o.countLive(a, b, isLive), `${a}..${b}`).toBe(walk(a, b));
    }
    o.recountLive(isLive);
    expect(o.countLive('', null, isLive)).toBe(live.size);
  });

  it('keeps byte order across chunk splits and removals', () => {
    const o = new OrderedKeys<{ k: string }>();
    const all: string[] = [];
    // A deterministic shuffle of 5,000 keys, including bytes above 0x7f.
    for (let i = 0; i < 5000; i++) {
      const n = (i * 7919) % 5000;
      const k = String.fromCharCode(n % 256, (n >> 8) + 0x80, 0x41);
      all.push(k);
      o.insert({ k }, () => false);
    }
    all.sort();
    expect(keys(o.range('', null))).toEqual(all);
    expect(o.size).toBe(5000);
    for (let i = 0; i < all.length; i += 3) o.remove(all[i]);
    const left = all.filter((_, i) => i % 3 !== 0);
    expect(keys(o.range('', null))).toEqual(left);
    const [a, b] = [left[100], left[2000]];
    expect(keys(o.range(a, b))).toEqual(left.slice(100, 2000));
    expect(keys(OrderedKeys.fromSorted(left.map((k) => ({ k }))).range(a, b))).toEqual(left.slice(100, 2000));
  });
});

describe('keyRange', () => {
  const b = (s: string) => Buffer.from(s, 'latin1');
  it('reads range_end as etcd does', () => {
    expect(keyRange(b('a'), Buffer.alloc(0))).toEqual({ start: 'a', end: undefined });
    expect(keyRange(b('a'), Buffer.from([0]))).toEqual({ start: 'a', end: null });
    expect(keyRange(b('a'), b('c'))).toEqual({ start: 'a', end: 'c' });
    expect(inRange(keyRange(b('a'), b('c')), 'b\xff')).toBe(true);
    expect(inRange(keyRange(b('a'), b('c')), 'c')).toBe(false);
    expect(inRange(keyRange(b('\x00'), b('\x00')), '\xff\xff')).toBe(true);
  });
});

describe('RevisionIndex', () => {
  it('answers reads at any retained revision and hides tombstoned keys', () => {
    const idx = new RevisionIndex();
    idx.append('a', v(2));
    idx.append('a', v(3, { createRevision: 2, version: 2 }));
    idx.append('a', v(4, { deleted: true }));
    idx.append('a', v(6));
    idx.append('b', v(5));
    const a = idx.get('a')!;
    expect(a.at(1)).toBeUndefined();
    expect(a.at(3)?.version).toBe(2);
    expect(a.at(4)).toBeUndefined();
    expect(a.at(5)).toBeUndefined();
    expect(a.at(6)?.createRevision).toBe(6);
    expect(keys(idx.histories({ start: 'a', end: null }))).toEqual(['a', 'b']);
  });

  it('undoes an append, removing a key it created', () => {
    const idx = new RevisionIndex();
    idx.append('a', v(2));
    const change = idx.append('b', v(3));
    idx.revert(change);
    expect(idx.get('b')).toBeUndefined();
    expect(keys(idx.histories({ start: '', end: null }))).toEqual(['a']);
  });

  it('compacts: keeps the version visible at the compact revision, drops dead keys', () => {
    const idx = new RevisionIndex();
    idx.append('a', v(2));
    idx.append('a', v(3));
    idx.append('a', v(5));
    idx.append('gone', v(2));
    idx.append('gone', v(4, { deleted: true }));
    idx.append('later', v(4));
    idx.append('later', v(6, { deleted: true }));
    idx.compact(4);
    expect(idx.compactRevision).toBe(4);
    expect(idx.get('a')!.versions.map((x) => x.revision)).toEqual([3, 5]);
    expect(idx.get('gone')).toBeUndefined();
    expect(idx.get('later')!.versions.map((x) => x.revision)).toEqual([4, 6]);
    expect(keys(idx.histories({ start: '', end: null }))).toEqual(['a', 'later']);
  });

  it('compacts in steps to what one compaction leaves, reads above the compact revision unchanged mid-way', () => {
    const build = () => {
      const idx = new RevisionIndex();
      let rev = 1;
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < 100; i++) {
          const k = `key/${String(i).padStart(3, '0')}`;
          idx.append(k, v(++rev, { deleted: round === 1 && i % 3 === 0 }, k));
        }
      }
      idx.revision = rev;
      idx.recountLive();
      return idx;
    };
    const snapshot = (idx: RevisionIndex, at: number) =>
      keys(idx.histories({ start: '', end: null })).map((k) => [k, idx.get(k)!.at(at)?.revision]);
    const whole = build();
    whole.compact(150);
    const stepped = build();
    const trim = stepped.trim(150);
    expect(stepped.compactRevision).toBe(150);
    const before = [150, 200, 301].map((at) => snapshot(stepped, at));
    let steps = 0;
    while (!trim.step(7)) {
      steps++;
      expect([150, 200, 301].map((at) => snapshot(stepped, at).filter(([, r]) => r !== undefined))).toEqual(
        before.map((s) => s.filter(([, r]) => r !== undefined)),
      );
      // A write between steps lands and is kept.
      if (steps === 3) stepped.append('key/050', v(302, {}, 'key/050'));
    }
    expect(steps).toBeGreaterThan(10);
    whole.append('key/050', v(302, {}, 'key/050'));
    expect(keys(stepped.histories({ start: '', end: null }))).toEqual(keys(whole.histories({ start: '', end: null })));
    for (const k of keys(whole.histories({ start: '', end: null })))
      expect(stepped.get(k)!.versions.map((x) => x.revision)).toEqual(whole.get(k)!.versions.map((x) => x.revision));
    expect(stepped.countLive({ start: '', end: null })).toBe(whole.countLive({ start: '', end: null }));
  });

  it('counts at older revisions as a walk would, across splits, deletes, reverts and compaction', () => {
    const idx = new RevisionIndex();
    const key = (i: number) => `key/${String((i * 7919) % 4000).padStart(4, '0')}`;
    const commit = (k: string, extra: Partial<LogRow>) => {
      const rev = idx.revision + 1;
      idx.commitTo([idx.append(k, v(rev, extra, k))], rev);
    };
    for (let i = 0; i < 1500; i++) commit(key(i), {});
    for (let i = 0; i < 1500; i += 4) commit(key(i), { deleted: true });
    const walk = (r: { start: string; end: string | null }, at: number) => {
      let n = 0;
      idx.forEachHistory(r, (h) => void (h.at(at) && n++));
      return n;
    };
    const ranges = [
      { start: '', end: null },
      { start: 'key/0100', end: 'key/2500' },
      { start: 'key/1', end: 'key/2' },
      { start: 'key/3999', end: null },
    ];
    const revs = [2, 700, 1501, 1700, idx.revision];
    const check = () => {
      for (const at of revs.filter((r) => r >= idx.compactRevision))
        for (const r of ranges) expect(idx.countAt(r, at), `${r.start}..${r.end} at ${at}`).toBe(walk(r, at));
    };
    check();
    // New keys split the chunks whose counts were kept; a reverted write leaves no trace.
    for (let i = 1500; i < 4000; i++) commit(key(i), {});
    const rev = idx.revision + 1;
    idx.revert(idx.append('key/x', v(rev, {}, 'key/x')));
    check();
    // A write txn reads its own writes above the committed revision: walked, never kept.
    idx.append('key/y', v(rev, {}, 'key/y'));
    expect(idx.countAt({ start: 'key/x', end: null }, rev)).toBe(1);
    expect(idx.countAt({ start: 'key/x', end: null }, idx.revision)).toBe(0);
    idx.compact(1600);
    check();
  });

  it('a trim of an index since rebuilt stops', () => {
    const idx = new RevisionIndex();
    idx.append('a', v(2));
    idx.append('a', v(3));
    const trim = idx.trim(3);
    idx.reset();
    const rebuilt = new IndexLoad();
    rebuilt.add([v(2, {}, 'a'), v(3, {}, 'a')]);
    idx.install(rebuilt);
    expect(trim.step(Infinity)).toBe(true);
    expect(idx.get('a')!.versions.map((x) => x.revision)).toEqual([2, 3]);
  });
});
