/**
 * Leases across several strata instances on one PostgreSQL / MariaDB database: granted
 * through one instance, used and kept alive through others, revoked or expired exactly once and
 * seen so by all. (multi-instance.test.ts has the rest; multi-instance-crash.test.ts kill -9.)
 */
import * as grpc from '@grpc/grpc-js';
import { expect, test } from 'vitest';
import { b, prefixEnd, s, type EtcdClient, type Msg } from '../helpers/client';
import { expectGrpcError } from '../helpers/grpc-error';
import { forEachSharedBackend, num, openWatch, waitWatchRev, within, type Cluster } from './multi-harness';

const INSTANCES = 3;

const rev = (m: Msg): number => num(m.header.revision);

forEachSharedBackend('multi-instance-lease', INSTANCES, (cl: Cluster) => {
  const C = (i: number): EtcdClient => cl.clients[i % INSTANCES];

  test('a lease granted through one instance, with keys attached through the others, expires exactly once', async () => {
    const p = cl.prefix('lease-expiry');
    const TTL = 2;
    const watches = await Promise.all(cl.clients.map((c) => openWatch(cl, c, { key: b(p), range_end: prefixEnd(p) })));
    const t0 = Date.now();
    const grant = await C(0).lease.LeaseGrant({ TTL, ID: 0 });
    expect(num(grant.TTL)).toBe(TTL);
    const id = grant.ID as string;
    const keys = Array.from({ length: 6 }, (_, i) => `${p}k${i}`);
    let lastPut = 0;
    for (const [i, k] of keys.entries())
      lastPut = Math.max(lastPut, rev(await C(1 + (i % 2)).kv.Put({ key: b(k), value: b('v'), lease: id })));
    const ttl = await C(2).lease.LeaseTimeToLive({ ID: id, keys: true });
    expect((ttl.keys as Buffer[]).map(s)).toEqual(keys);

    // No keepalive: wait for the expiry on every instance's watch.
    const deletes: number[][] = [];
    for (const [i, { w, id: wid }] of watches.entries()) {
      await waitWatchRev(w, wid, lastPut + 1, TTL * 1000 + 8_000, `lease expiry seen by the watch on instance ${i}`);
      if (i === 0) expect(Date.now() - t0, 'the lease did not expire before its TTL').toBeGreaterThanOrEqual(TTL * 1000 - 50);
    }
    // A put after the expiry: once every watch has it, any second deletion would have shown up too.
    const sentinel = rev(await C(0).kv.Put({ key: b(p + 'zz-sentinel'), value: b('end') }));
    for (const [i, { w, id: wid }] of watches.entries()) {
      const evs = await waitWatchRev(w, wid, sentinel, 10_000, `sentinel on instance ${i}`);
      const dels = evs.filter((e) => e.type === 'DELETE');
      expect(
        dels.map((e) => s(e.kv.key)),
        `DELETE events on instance ${i}`,
      ).toEqual(keys);
      const at = [...new Set(dels.map((e) => num(e.kv.mod_revision)))];
      expect(at, `all keys deleted at one revision (instance ${i})`).toHaveLength(1);
      deletes.push(at);
      // The expiry took exactly one revision: the next write got the one after it.
      expect(sentinel, `sentinel right after the expiry revision (instance ${i})`).toBe(at[0] + 1);
    }
    expect(new Set(deletes.map((d) => d[0])).size, 'every instance saw the expiry at the same revision').toBe(1);
    for (let i = 0; i < INSTANCES; i++) {
      const t = await C(i).lease.LeaseTimeToLive({ ID: id, keys: true });
      expect(num(t.TTL), `TimeToLive through instance ${i} after expiry`).toBe(-1);
      const ls = await C(i).lease.LeaseLeases({});
      expect((ls.leases as Msg[]).map((l) => String(l.ID))).not.toContain(String(id));
      expect((await C(i).kv.Range({ key: b(p), range_end: prefixEnd(p) })).kvs.map((x: Msg) => s(x.key))).toEqual([p + 'zz-sentinel']);
    }
  });

  test('a lease granted through one instance is used through another and kept alive through a third', async () => {
    const p = cl.prefix('lease-use');
    const key = b(p + 'k');
    const TTL = 3;
    const grant = await C(0).lease.LeaseGrant({ TTL, ID: 0 });
    const id = grant.ID as string;
    // The same ID through another instance is taken already.
    await expectGrpcError(C(1).lease.LeaseGrant({ TTL, ID: id }), grpc.status.FAILED_PRECONDITION, 'etcdserver: lease already exists');
    await C(1).kv.Put({ key, value: b('held'), lease: id });
    const t = await C(2).lease.LeaseTimeToLive({ ID: id, keys: true });
    expect({ granted: num(t.grantedTTL), keys: (t.keys as Buffer[]).map(s) }).toEqual({ granted: TTL, keys: [p + 'k'] });

    // Keep it alive through instance 2 for longer than twice its TTL.
    const ka = C(2).keepAlive();
    cl.track({ close: () => ka.cancel() });
    const answers: Msg[] = [];
    ka.on('data', (m: Msg) => answers.push(m));
    ka.on('error', () => undefined);
    const until = Date.now() + 2 * TTL * 1000 + 500;
    let sent = 0;
    while (Date.now() < until) {
      await new Promise((r) => setTimeout(r, 500));
      ka.write({ ID: id });
      sent++;
      const want = sent;
      await within(
        new Promise<void>((resolve) => {
          const check = (): void => (answers.length >= want ? resolve() : void setTimeout(check, 5));
          check();
        }),
        5_000,
        `keepalive answer ${want} through instance 2`,
      );
    }
    // The checks below run right after the last renewal.
    expect(
      answers.map((a) => num(a.TTL)),
      'every keepalive renews to the full TTL',
    ).toEqual(answers.map(() => TTL));
    // The renewals reached the instance that granted it and the one that attached the key.
    for (const i of [0, 1]) {
      expect(
        (await C(i).kv.Range({ key })).kvs.map((x: Msg) => s(x.value)),
        `key through instance ${i} after ${sent} keepalives`,
      ).toEqual(['held']);
      const left = await C(i).lease.LeaseTimeToLive({ ID: id });
      expect(num(left.TTL), `remaining TTL through instance ${i} right after a keepalive`).toBeGreaterThanOrEqual(TTL - 1);
    }
    ka.end();
    const revoke = await C(1).lease.LeaseRevoke({ ID: id });
    for (let i = 0; i < INSTANCES; i++) {
      const got = await C(i).kv.Range({ key });
      expect(got.kvs, `key through instance ${i} after the revoke`).toEqual([]);
      expect(rev(got)).toBeGreaterThanOrEqual(rev(revoke));
      expect(num((await C(i).lease.LeaseTimeToLive({ ID: id })).TTL)).toBe(-1);
    }
  });

  test('a lease revoked through one instance cannot be used through another', async () => {
    const p = cl.prefix('lease-revoked');
    const grant = await C(0).lease.LeaseGrant({ TTL: 60, ID: 0 });
    await C(1).kv.Put({ key: b(p + 'a'), value: b('1'), lease: grant.ID });
    await C(2).lease.LeaseRevoke({ ID: grant.ID });
    await expectGrpcError(
      C(1).kv.Put({ key: b(p + 'b'), value: b('1'), lease: grant.ID }),
      grpc.status.NOT_FOUND,
      'etcdserver: requested lease not found',
    );
    await expectGrpcError(C(0).lease.LeaseRevoke({ ID: grant.ID }), grpc.status.NOT_FOUND, 'etcdserver: requested lease not found');
    const ka = C(1).keepAlive();
    cl.track({ close: () => ka.cancel() });
    const answer = new Promise<Msg>((resolve, reject) => {
      ka.on('data', resolve);
      ka.on('error', reject);
    });
    ka.write({ ID: grant.ID });
    expect(num((await within(answer, 10_000, 'keepalive answer')).TTL), 'keepalive of a revoked lease through another instance').toBe(0);
    for (let i = 0; i < INSTANCES; i++)
      expect((await C(i).kv.Range({ key: b(p), range_end: prefixEnd(p) })).kvs, `keys through ${i}`).toEqual([]);
  });
});
