/**
 * The index keeps each version as a copy in shared slabs: every field reads back exactly as written
 * (binary keys, empty and 1 MiB values, leases 0 and 2^62), through reverts, compaction in steps
 * and the moves compaction makes out of mostly dead slabs.
 */
import { describe, expect, it } from 'vitest';
import type { LogRow } from '../../src/log/types';
import { KeyHistory } from '../../src/mvcc/key-history';
import { Version } from '../../src/mvcc/kv-bytes';
import { RevisionIndex } from '../../src/mvcc/revision-index';
import { Slabs } from '../../src/mvcc/slabs';

const row = (revision: number, key: Buffer, value: Buffer, extra: Partial<LogRow> = {}): LogRow => ({
  revision,
  sub: 0,
  key,
  createRevision: revision,
  prevRevision: 0,
  version: 1,
  lease: 0n,
  value,
  deleted: false,
  ...extra,
});

/** The fields of a version, its buffers copied out (what a read would send). */
const fields = (v: LogRow) => ({
  revision: v.revision,
  sub: v.sub,
  key: Buffer.from(v.key).toString('hex'),
  createRevision: v.createRevision,
  prevRevision: v.prevRevision,
  version: v.version,
  lease: v.lease,
  value: Buffer.from(v.value).toString('hex'),
  deleted: v.deleted,
});

const keyOf = (i: number) => Buffer.from([0, 0xff, i & 0xff, (i >> 8) & 0xff, 0x80]);
const valueOf = (i: number, round: number) => Buffer.alloc(100 + (i % 50), (i * 31 + round) & 0xff);

describe('stored versions', () => {
  it('read back every field as written: binary keys, empty and 1 MiB values, leases 0 and 2^62', () => {
    const slabs = new Slabs();
    const rows = [
      row(2, keyOf(1), Buffer.alloc(0)),
      row(3, keyOf(2), Buffer.alloc(1 << 20, 0xab), { lease: 2n ** 62n }),
      row(4, Buffer.alloc(300, 0x80), Buffer.from('v'), { lease: 1n, sub: 3, prevRevision: 2, version: 7, createRevision: 2 }),
      row(5, keyOf(3), Buffer.alloc(0), { deleted: true, createRevision: 0, version: 0 }),
      row(6, Buffer.from('k'), Buffer.alloc(200_000, 1), { lease: 2n ** 63n - 1n }),
    ];
    const versions = rows.map((r) => new Version(r, slabs));
    for (const [i, v] of versions.entries()) expect(fields(v)).toEqual(fields(rows[i]));
    // The 1 MiB value lives in a buffer of its own, exactly its size.
    expect(versions[1].bytes().buffer.byteLength).toBe(versions[1].bytes().length);
  });

  it('survive a revert, compaction in steps and the moves out of mostly dead slabs', () => {
    const idx = new RevisionIndex();
    const expected = new Map<string, LogRow>();
    let rev = 1;
    const put = (i: number, round: number) => {
      rev++;
      const k = keyOf(i).toString('latin1');
      const r = row(rev, keyOf(i), valueOf(i, round), { lease: i % 3 === 0 ? 2n ** 62n + BigInt(i) : 0n, version: round + 1 });
      idx.commitTo([idx.append(k, r)], rev);
      expected.set(k, r);
    };
    // Enough bytes for several slabs; then every key but each tenth is written again.
    for (let i = 0; i < 30_000; i++) put(i, 0);
    const before = new Map([...expected].map(([k]) => [k, idx.get(k)?.at(rev)?.bytes().buffer]));
    for (let i = 0; i < 30_000; i++) if (i % 10 !== 0) put(i, 1);
    // A put that fails to commit leaves nothing behind.
    const failed = idx.append(keyOf(0).toString('latin1'), row(rev + 1, keyOf(0), Buffer.from('lost')));
    idx.revert(failed);
    const trim = idx.trim(rev);
    while (!trim.step(1000)) {
      // Reads above the compact revision are exact at every step.
      for (const k of [keyOf(0), keyOf(1), keyOf(29_990)].map((b) => b.toString('latin1'))) {
        expect(fields(idx.get(k)?.at(rev) as LogRow)).toEqual(fields(expected.get(k) as LogRow));
      }
    }
    let moved = 0;
    for (const [k, r] of expected) {
      const h = idx.get(k);
      expect(h?.versions.length).toBe(1);
      const v = h?.at(rev);
      expect(v && fields(v)).toEqual(fields({ ...r, prevRevision: 0 }));
      if (v?.bytes().buffer !== before.get(k)) moved++;
    }
    // The keys written once sat among dead versions: compaction moved them out.
    expect(moved).toBeGreaterThan(2_700);
  });

  it('a key history with one version or many answers as a plain list would, through pushes, pops and drops', () => {
    const slabs = new Slabs();
    const at = (r: number) => new Version(row(r, keyOf(1), Buffer.from(`v${r}`), { deleted: r % 5 === 0 }), slabs);
    const h = new KeyHistory('k', at(2));
    const model = [2];
    const check = () => {
      expect(h.versions.map((v) => v.revision)).toEqual(model);
      expect(h.count).toBe(model.length);
      expect(h.latest()?.revision).toBe(model[model.length - 1]);
      for (let r = 0; r <= 40; r++) {
        const seen = [...model].reverse().find((x) => x <= r);
        expect(h.at(r)?.revision).toBe(seen === undefined || seen % 5 === 0 ? undefined : seen);
        const first = model.findIndex((x) => x >= r);
        expect(h.firstFrom(r)).toBe(first < 0 ? model.length : first);
      }
    };
    check();
    for (let r = 3; r <= 30; r++) {
      h.push(at(r));
      model.push(r);
      check();
      if (r % 4 === 0) {
        expect(h.pop()?.revision).toBe(model.pop());
        check();
      }
      if (r % 7 === 0) {
        const n = model.length - 1;
        expect(h.dropOldest(n).map((v) => v.revision)).toEqual(model.splice(0, n));
        check();
      }
    }
    expect(h.dropOldest(h.count).length).toBeGreaterThan(0);
    expect(h.count).toBe(0);
    expect(h.latest()).toBeUndefined();
  });
});
