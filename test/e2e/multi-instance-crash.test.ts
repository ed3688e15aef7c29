/**
 * kill -9 of one of three strata instances on one PostgreSQL / MariaDB database while clients
 * write through all of them (64 puts in flight): every acknowledged write survives, revisions
 * have no gaps, the other instances carry on, and the killed one catches up when restarted.
 */
import { expect, test } from 'vitest';
import { b, prefixEnd, s, type EtcdClient, type Msg } from '../helpers/client';
import { note } from '../helpers/notice';
import { forEachSharedBackend, num, openWatch, waitWatchRev, watchEvents, within, type Cluster } from './multi-harness';

const INSTANCES = 3;
const IN_FLIGHT = [22, 21, 21]; // 64 in all
const VICTIM = 2;
/** Acknowledged puts before the kill, and after it through each survivor. */
const BEFORE_KILL = 1500;
const AFTER_KILL = 400;

interface Put {
  key: string;
  value: string;
  via: number;
  rev?: number;
  error?: string;
}

forEachSharedBackend('multi-instance-crash', INSTANCES, (cl: Cluster) => {
  test('kill -9 of one instance under load: acknowledged writes survive, no gaps, the others carry on, the restarted one catches up', async () => {
    const p = cl.prefix('kill9');
    const r0 = num((await cl.clients[0].kv.Range({ key: b(p) })).header.revision);
    const sent: Put[] = [];
    let acked = 0;
    let killedAt = -1; // acknowledgements before the kill
    const ackedAfterKill = [0, 0, 0];
    let killDone: Promise<void> | undefined;
    let release!: () => void;
    const survivorsDone = new Promise<void>((r) => (release = r));

    const worker = async (c: EtcdClient, via: number, w: number): Promise<void> => {
      for (let seq = 0; ; seq++) {
        if (killedAt >= 0 && via !== VICTIM && ackedAfterKill[via] >= AFTER_KILL) return;
        const rec: Put = {
          key: `${p}i${via}/w${String(w).padStart(2, '0')}/${String(seq).padStart(5, '0')}`,
          value: `v-${via}-${w}-${seq}`,
          via,
        };
        sent.push(rec);
        try {
          rec.rev = num((await c.kv.Put({ key: b(rec.key), value: b(rec.value) })).header.revision);
        } catch (e) {
          rec.error = (e as Error).message;
          return; // the victim's clients stop at their first error; a survivor's error fails the test below
        }
        acked++;
        if (killedAt >= 0) {
          ackedAfterKill[via]++;
          if (ackedAfterKill[0] >= AFTER_KILL && ackedAfterKill[1] >= AFTER_KILL) release();
        } else if (acked >= BEFORE_KILL) {
          killedAt = acked;
          killDone = cl.servers[VICTIM].kill();
        }
      }
    };
    const load = Promise.all(cl.clients.flatMap((c, via) => Array.from({ length: IN_FLIGHT[via] }, (_, w) => worker(c, via, w))));
    await within(
      load,
      45_000,
      `load of 64 puts in flight; ${acked} acknowledged, killed after ${killedAt}, after the kill: ${ackedAfterKill}`,
    );
    await killDone;
    await survivorsDone;
    expect(killedAt).toBeGreaterThanOrEqual(BEFORE_KILL);

    const errors = sent.filter((x) => x.error !== undefined);
    const survivorErrors = errors.filter((x) => x.via !== VICTIM);
    expect(
      survivorErrors.map((x) => `${x.via}: ${x.error}`),
      'survivors answered every put',
    ).toEqual([]);
    expect(errors.length, 'the victim had puts in flight when it was killed').toBeGreaterThan(0);
    const ok = sent.filter((x) => x.rev !== undefined);
    const lost = sent.filter((x) => x.via === VICTIM && x.rev === undefined);

    // Through a survivor: every acknowledged put is there with its revision; nothing unknown is.
    const all = await cl.clients[1].kv.Range({ key: b(p), range_end: prefixEnd(p) });
    const rEnd = num(all.header.revision);
    const found = new Map<string, Msg>((all.kvs as Msg[]).map((x) => [s(x.key), x]));
    const byKey = new Map(sent.map((x) => [x.key, x]));
    for (const x of ok) {
      const kv = found.get(x.key);
      expect(kv ? { value: s(kv.value), rev: num(kv.mod_revision) } : 'missing', `acknowledged put ${x.key}`).toEqual({
        value: x.value,
        rev: x.rev,
      });
    }
    for (const [k, kv] of found) {
      const x = byKey.get(k);
      expect(x ? x.value : 'never sent', `stored key ${k}`).toBe(s(kv.value));
    }
    // Each key was written once, and nothing else wrote: the keys' revisions are every revision
    // from r0+1 to the current one, each exactly once.
    const revs = [...found.values()].map((x) => num(x.mod_revision)).sort((x, y) => x - y);
    expect(revs.length).toBe(rEnd - r0);
    for (let i = 0; i < revs.length; i++) expect(revs[i], `revision ${i + 1} after r0`).toBe(r0 + 1 + i);
    const unackedStored = lost.filter((x) => found.has(x.key)).length;

    // The killed instance comes back on the same database and catches up: same state, same history.
    await cl.restart(VICTIM);
    const back = cl.clients[VICTIM];
    const again = await back.kv.Range({ key: b(p), range_end: prefixEnd(p) });
    expect(num(again.header.revision)).toBe(rEnd);
    expect((again.kvs as Msg[]).map((x) => [s(x.key), s(x.value), num(x.mod_revision)])).toEqual(
      (all.kvs as Msg[]).map((x) => [s(x.key), s(x.value), num(x.mod_revision)]),
    );
    const { w, id } = await openWatch(cl, back, { key: b(p), range_end: prefixEnd(p), start_revision: r0 + 1 });
    const evs = await waitWatchRev(w, id, rEnd, 20_000, 'history replayed by the restarted instance');
    expect(
      evs.map((e) => num(e.kv.mod_revision)),
      'the restarted instance replays every revision once, in order',
    ).toEqual(revs);
    // ... and it takes writes again, seen at once through the others.
    const put = await back.kv.Put({ key: b(p + 'after-restart'), value: b('x') });
    expect(num(put.header.revision)).toBe(rEnd + 1);
    for (const i of [0, 1]) {
      expect((await cl.clients[i].kv.Range({ key: b(p + 'after-restart') })).kvs.map((x: Msg) => num(x.mod_revision))).toEqual([rEnd + 1]);
    }
    await waitWatchRev(w, id, rEnd + 1, 10_000, 'the restarted instance watches its own write');
    expect(watchEvents(w, id)).toHaveLength(revs.length + 1);

    note(
      `[${cl.backend.name}] kill -9 after ${killedAt} acks; ${ok.length} acknowledged (${ackedAfterKill[0]}+${ackedAfterKill[1]} after the kill), ` +
        `${lost.length} unanswered on the victim (${unackedStored} of them committed), ${revs.length} revisions, no gaps`,
    );
  }, 90_000);

  test('a lease whose granting instance was killed still expires, once, through the others', async () => {
    const p = cl.prefix('orphan-lease');
    const TTL = 2;
    const watches = await Promise.all([0, 1].map((i) => openWatch(cl, cl.clients[i], { key: b(p), range_end: prefixEnd(p) })));
    const grant = await cl.clients[VICTIM].lease.LeaseGrant({ TTL, ID: 0 });
    const keys = [`${p}a`, `${p}b`, `${p}c`];
    let last = 0;
    for (const [i, k] of keys.entries())
      last = num((await cl.clients[i % INSTANCES].kv.Put({ key: b(k), value: b('v'), lease: grant.ID })).header.revision);
    await cl.servers[VICTIM].kill();
    for (const [i, { w, id }] of watches.entries())
      await waitWatchRev(w, id, last + 1, TTL * 1000 + 8_000, `expiry on instance ${i} after the grantor was killed`);
    const sentinel = num((await cl.clients[0].kv.Put({ key: b(p + 'zz'), value: b('end') })).header.revision);
    for (const [i, { w, id }] of watches.entries()) {
      const evs = await waitWatchRev(w, id, sentinel, 10_000, `sentinel on instance ${i}`);
      const dels = evs.filter((e) => e.type === 'DELETE');
      expect(
        dels.map((e) => [s(e.kv.key), num(e.kv.mod_revision)]),
        `DELETE events on instance ${i}`,
      ).toEqual(keys.map((k) => [k, sentinel - 1]));
    }
    for (const i of [0, 1]) expect(num((await cl.clients[i].lease.LeaseTimeToLive({ ID: grant.ID })).TTL)).toBe(-1);
    await cl.restart(VICTIM);
    expect(num((await cl.clients[VICTIM].lease.LeaseTimeToLive({ ID: grant.ID })).TTL)).toBe(-1);
    expect((await cl.clients[VICTIM].kv.Range({ key: b(p), range_end: prefixEnd(p) })).kvs.map((x: Msg) => s(x.key))).toEqual([p + 'zz']);
  });
});
