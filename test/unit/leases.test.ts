/**
 * The lease table and the lessor's rules: ids, TTL bounds, renewals by the batch clock, keys
 * moving between leases with undo, other instances' lease snapshots and rows (orphans adopted).
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { BatchState } from '../../src/log/batch';
import type { LogRow } from '../../src/log/types';
import { effectiveTTL, LeaseTable, MAX_TTL, MIN_TTL } from '../../src/mvcc/lease-table';
import { AuthState } from '../../src/mvcc/auth/auth-state';
import { LogApplier } from '../../src/mvcc/log-applier';
import { IndexLoad, RevisionIndex } from '../../src/mvcc/revision-index';
import { WatchHub } from '../../src/mvcc/watch/watch-hub';
import { b, Harness, putReq } from './helpers';

const keysOf = (t: LeaseTable, id: bigint) => [...(t.get(id)?.keys ?? [])].sort();

describe('lease table', () => {
  it('grants the asked id or a random positive one, and refuses an id in use', () => {
    const t = new LeaseTable();
    const batch = new BatchState(1, 5_000);
    expect(t.grant(batch, 42n, 10)).toMatchObject({ id: 42n, ttl: 10, expiresAt: 15_000 });
    const random = t.grant(batch, 0n, 5);
    expect(random.id > 0n && random.id < 2n ** 63n).toBe(true);
    expect(() => t.grant(batch, 42n, 10)).toThrow('etcdserver: lease already exists');
    expect(batch.leaseChanges().upserts.map((l) => l.id)).toEqual([42n, random.id]);
  });

  it('renews by the batch clock; an expired or unknown lease answers TTL 0', () => {
    const t = new LeaseTable();
    t.grant(new BatchState(1, 0), 1n, 10);
    expect(t.renew(new BatchState(1, 9_000), 1n)).toBe(10);
    expect(t.get(1n)?.expiresAt).toBe(19_000);
    expect(t.renew(new BatchState(1, 19_000), 1n)).toBe(0);
    expect(t.renew(new BatchState(1, 0), 99n)).toBe(0);
    expect(t.expiredBy(19_000)).toEqual([1n]);
    expect(t.expiredBy(18_999)).toEqual([]);
  });

  it('moves keys between leases and undoes the move', () => {
    const t = new LeaseTable();
    const setup = new BatchState(1, 0);
    t.grant(setup, 1n, 10);
    t.grant(setup, 2n, 10);
    const batch = new BatchState(1, 0);
    t.move(batch.onUndo, 'k', 0n, 1n);
    t.move(batch.onUndo, 'k', 1n, 2n);
    expect([keysOf(t, 1n), keysOf(t, 2n)]).toEqual([[], ['k']]);
    batch.undoAll();
    expect([keysOf(t, 1n), keysOf(t, 2n)]).toEqual([[], []]);
  });

  it('adopts keys another instance attached before its lease was synced, and drops leases gone from the database', () => {
    const t = new LeaseTable();
    t.grant(new BatchState(1, 0), 1n, 10);
    t.move(null, 'early', 0n, 7n);
    t.sync([{ id: 7n, ttl: 30, expiresAt: 30_000 }]);
    expect(t.get(1n)).toBeUndefined();
    expect(t.get(7n)).toMatchObject({ ttl: 30, expiresAt: 30_000 });
    expect(keysOf(t, 7n)).toEqual(['early']);
  });

  it("applies etcd's TTL bounds", () => {
    expect(effectiveTTL(1)).toBe(MIN_TTL);
    expect(effectiveTTL(60)).toBe(60);
    expect(() => effectiveTTL(MAX_TTL + 1)).toThrow('etcdserver: too large lease TTL');
  });
});

describe('following another instance', () => {
  const row = (revision: number, key: string, lease: bigint, createRevision: number, version: number): LogRow => ({
    revision,
    sub: 0,
    key: b(key),
    createRevision,
    prevRevision: 0,
    version,
    lease,
    value: b(`v${revision}`),
    deleted: false,
  });

  it('moves a key between leases row by row, also when one window holds several rows of the key', () => {
    const h = new Harness();
    const hub = new WatchHub(h.index, pino({ level: 'silent' }), 60_000);
    const applier = new LogApplier(
      h.index,
      h.leases,
      new AuthState(),
      hub,
      (rev) => h.index.compact(rev),
      (changes, upTo) => h.index.commitTo(changes, upTo),
    );
    applier.syncLeases([
      { id: 1n, ttl: 10, expiresAt: 10_000 },
      { id: 2n, ttl: 10, expiresAt: 10_000 },
    ]);
    applier.applyRemote([row(2, 'k', 1n, 2, 1), row(3, 'k', 2n, 2, 2)], 3);
    expect([keysOf(h.leases, 1n), keysOf(h.leases, 2n)]).toEqual([[], ['k']]);
    expect(h.index.revision).toBe(3);
    expect(h.index.get('k')?.at(3)).toMatchObject({ version: 2, lease: 2n });
    // Local writes go on from there: the key's next version follows the remote one.
    h.run((w) => w.put(putReq('k', 'local')));
    expect(h.rows[0]).toMatchObject({ revision: 4, prevRevision: 3, version: 3, createRevision: 2 });
    expect(keysOf(h.leases, 2n)).toEqual([]);
    hub.stop();
  });
});

describe('revision index', () => {
  it('counts live keys at the committed revision through puts, deletes and reverts', () => {
    const h = new Harness();
    for (const k of ['a', 'b', 'c']) h.run((w) => w.put(putReq(k, '1')));
    h.run((w) => w.deleteRange({ key: b('b'), range_end: b(''), prev_kv: false }));
    h.run((w) => w.put(putReq('b', '2')));
    expect(() =>
      h.run((w) => {
        w.put(putReq('d', '1'));
        throw new Error('the job fails after writing');
      }),
    ).toThrow('the job fails');
    const all = { start: '', end: null };
    expect(h.index.countLive(all)).toBe(3);
    expect(h.index.get('d')).toBeUndefined();
    const fresh = new RevisionIndex();
    const load = new IndexLoad();
    load.add(h.rows);
    fresh.install(load);
    fresh.revision = h.index.revision;
    fresh.recountLive();
    expect(fresh.countLive(all)).toBe(3);
  });
});
