/**
 * Lock and Election across two strata instances on one PostgreSQL / MariaDB database: a waiter on
 * one instance is woken by what happens through the other (an unlock, a resignation, a lease that
 * expires), as it would be on one etcd cluster.
 */
import { expect, test } from 'vitest';
import { b, prefixEnd, type EtcdClient } from '../helpers/client';
import { createConcurrencyClient } from '../helpers/concurrency-client';
import { CtlProcess } from '../helpers/ctl-process';
import { waitFor } from '../helpers/ports';
import { forEachSharedBackend, within, type Cluster } from './multi-harness';

async function owners(c: EtcdClient, name: string): Promise<number> {
  const r = await c.kv.Range({ key: b(`${name}/`), range_end: prefixEnd(`${name}/`), count_only: true });
  return Number(r.count);
}

forEachSharedBackend('multi-instance-lock', 2, (cl: Cluster) => {
  test('etcdctl elect: the leader on one instance resigns, the campaigner on the other is elected, an observer sees both', async () => {
    const name = cl.prefix('elect').slice(0, -1);
    const [a0, a1] = cl.servers.map((s) => s.address);
    const procs: CtlProcess[] = [];
    try {
      const obs = new CtlProcess(a1, ['elect', '-l', name]);
      procs.push(obs);
      const p1 = new CtlProcess(a0, ['elect', name, 'p1']);
      procs.push(p1);
      expect((await p1.lines(2, 'p1 elected'))[1]).toBe('p1');
      const p2 = new CtlProcess(a1, ['elect', name, 'p2']);
      procs.push(p2);
      await waitFor(async () => (await owners(cl.clients[0], name)) === 2, 10_000, 'p2 campaigning through instance 1');
      expect(p2.stdout).toBe('');
      expect(await p1.stop()).toBe(0);
      const second = await p2.lines(2, 'p2 elected');
      expect(second[0]).toMatch(new RegExp(`^${name}/[0-9a-f]+$`));
      expect(second[1]).toBe('p2');
      const seen = await obs.lines(4, 'both leaders observed through instance 1');
      expect([seen[1], seen[3]]).toEqual(['p1', 'p2']);
      expect(await p2.stop()).toBe(0);
      expect(await owners(cl.clients[1], name)).toBe(0);
    } finally {
      for (const p of procs) await p.kill();
    }
  }, 60_000);

  test('v3lock: the holder on one instance lets its lease expire, the waiter on the other gets the lock', async () => {
    const name = cl.prefix('lock').slice(0, -1);
    const [l0, l1] = cl.servers.map((s) => cl.track(createConcurrencyClient(s.address)));
    const holderLease = (await cl.clients[0].lease.LeaseGrant({ TTL: 2 })).ID as string;
    const waiterLease = (await cl.clients[1].lease.LeaseGrant({ TTL: 30 })).ID as string;
    const held = await l0.lock('Lock', { name: b(name), lease: holderLease }).done;
    const waiting = l1.lock('Lock', { name: b(name), lease: waiterLease });
    await waitFor(async () => (await owners(cl.clients[0], name)) === 2, 10_000, 'the waiter queued through instance 1');
    const got = await within(waiting.done, 15_000, 'the waiter taking the lock after the holder lease expired');
    expect(Buffer.from(got.key as Buffer).toString()).toBe(`${name}/${BigInt(waiterLease).toString(16)}`);
    expect(Number(got.header.revision)).toBeGreaterThan(Number(held.header.revision));
    const left = await cl.clients[0].kv.Range({ key: b(`${name}/`), range_end: prefixEnd(`${name}/`) });
    expect(left.kvs.map((kv: { key: Buffer }) => Buffer.from(kv.key as Buffer).toString())).toEqual([
      `${name}/${BigInt(waiterLease).toString(16)}`,
    ]);
    await l0.lock('Unlock', { key: got.key }).done;
    expect(await owners(cl.clients[1], name)).toBe(0);
  }, 60_000);
});
