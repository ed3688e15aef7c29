/**
 * Several strata instances on one PostgreSQL / MariaDB database behave as one etcd:
 * linearizable reads across instances, watches that see every instance's writes in order and
 * once (also from past revisions), compare-and-swap without lost updates, and compaction seen by
 * all. Leases: multi-instance-lease.test.ts; kill -9: multi-instance-crash.test.ts.
 */
import * as grpc from '@grpc/grpc-js';
import { expect, test } from 'vitest';
import { b, prefixEnd, s, type EtcdClient, type Msg } from '../helpers/client';
import { expectGrpcError } from '../helpers/grpc-error';
import { note } from '../helpers/notice';
import { forEachSharedBackend, num, openWatch, pool, waitWatchRev, watchEvents, within, type Cluster } from './multi-harness';

const INSTANCES = 3;
const COMPACTED = 'etcdserver: mvcc: required revision has been compacted';

const rev = (m: Msg): number => num(m.header.revision);

forEachSharedBackend('multi-instance', INSTANCES, (cl: Cluster) => {
  const C = (i: number): EtcdClient => cl.clients[i % INSTANCES];

  test('a write through one instance is read at once through another (linearizable, no wait)', async () => {
    const p = cl.prefix('read-your-write');
    const key = b(p + 'k');
    let created = 0;
    for (let i = 0; i < 60; i++) {
      const put = await C(i).kv.Put({ key, value: b(`v${i}`) });
      if (i === 0) created = rev(put);
      for (const j of [i + 1, i + 2]) {
        const got = await C(j).kv.Range({ key });
        expect(rev(got), `header of a read through instance ${j % INSTANCES} after a put through ${i % INSTANCES}`).toBeGreaterThanOrEqual(
          rev(put),
        );
        expect(
          got.kvs.map((x: Msg) => ({
            value: s(x.value),
            mod: num(x.mod_revision),
            version: num(x.version),
            create: num(x.create_revision),
          })),
        ).toEqual([{ value: `v${i}`, mod: rev(put), version: i + 1, create: created }]);
      }
      // A read-only txn is linearizable too.
      const t = await C(i + 1).kv.Txn({
        compare: [{ key, target: 'MOD', result: 'EQUAL', mod_revision: rev(put) }],
        success: [{ request_range: { key } }],
      });
      expect(t.succeeded, `txn compare through instance ${(i + 1) % INSTANCES} sees the put through ${i % INSTANCES}`).toBe(true);
    }
    const del = await C(0).kv.DeleteRange({ key });
    expect(num(del.deleted)).toBe(1);
    for (const j of [1, 2]) {
      const got = await C(j).kv.Range({ key });
      expect(got.kvs).toEqual([]);
      expect(rev(got)).toBeGreaterThanOrEqual(rev(del));
    }
  });

  test('a watch on each instance sees every write made through all of them, in order, exactly once', async () => {
    const p = cl.prefix('watch-all');
    const KEYS = 40;
    const PER_INSTANCE = 200;
    const WORKERS = 8; // per instance: 24 writes in flight in all
    const watches = await Promise.all(cl.clients.map((c) => openWatch(cl, c, { key: b(p), range_end: prefixEnd(p), prev_kv: true })));
    const acked: Array<{ rev: number; key: string; value: string; via: number }> = [];
    await within(
      Promise.all(
        cl.clients.map((c, inst) =>
          pool(PER_INSTANCE, WORKERS, async (i) => {
            const key = `${p}k${String((i * 7 + inst) % KEYS).padStart(2, '0')}`;
            const value = `i${inst}-${i}`;
            const r = await c.kv.Put({ key: b(key), value: b(value) });
            acked.push({ rev: rev(r), key, value, via: inst });
          }),
        ),
      ),
      40_000,
      `${INSTANCES * PER_INSTANCE} concurrent puts through ${INSTANCES} instances`,
    );
    expect(acked).toHaveLength(INSTANCES * PER_INSTANCE);
    acked.sort((x, y) => x.rev - y.rev);
    const revs = acked.map((a) => a.rev);
    // One revision per put, taken from one counter across all instances: no duplicates, no gaps.
    for (let i = 1; i < revs.length; i++) expect(revs[i], `acknowledged revisions are consecutive at index ${i}`).toBe(revs[i - 1] + 1);
    // A write after the load: once every watch has seen it, nothing of the load can still arrive.
    const sentinel = rev(await C(1).kv.Put({ key: b(p + 'zz-sentinel'), value: b('end') }));
    expect(sentinel).toBe(revs[revs.length - 1] + 1);

    const seqs: Array<Array<[number, string, string]>> = [];
    for (const [i, { w, id }] of watches.entries()) {
      const evs = await waitWatchRev(w, id, sentinel, 20_000, `watch on instance ${i}`);
      expect(
        w.responses.filter((r) => r.canceled),
        `watch on instance ${i} was not canceled`,
      ).toEqual([]);
      const got = evs.map((e) => num(e.kv.mod_revision));
      // Strictly increasing, exactly the acknowledged revisions, then the sentinel: in order and once.
      expect(got, `revisions seen by the watch on instance ${i}`).toEqual([...revs, sentinel]);
      const last = new Map<string, { rev: number; value: string; version: number }>();
      for (const [k, e] of evs.entries()) {
        const key = s(e.kv.key);
        const value = s(e.kv.value);
        expect(e.type, `event ${k} on instance ${i}`).toBe('PUT');
        if (k < acked.length) expect({ key, value }, `event ${k} on instance ${i}`).toEqual({ key: acked[k].key, value: acked[k].value });
        // prev_kv is the key's previous event in this same stream; versions count up by one.
        const before = last.get(key);
        if (before) {
          const prev = e.prev_kv && { rev: num(e.prev_kv.mod_revision), value: s(e.prev_kv.value) };
          expect(prev, `prev_kv of event ${k} on instance ${i}`).toEqual({ rev: before.rev, value: before.value });
          expect(num(e.kv.version)).toBe(before.version + 1);
        } else {
          expect(e.prev_kv ?? null, `first event of ${key} on instance ${i} has no prev_kv`).toBeNull();
          expect(num(e.kv.version)).toBe(1);
        }
        last.set(key, { rev: num(e.kv.mod_revision), value, version: num(e.kv.version) });
      }
      seqs.push(evs.map((e) => [num(e.kv.mod_revision), s(e.kv.key), s(e.kv.value)]));
    }
    for (let i = 1; i < seqs.length; i++) expect(seqs[i], `instance ${i} saw the same events as instance 0`).toEqual(seqs[0]);
  });

  test('compare-and-swap from all instances at once loses no update', async () => {
    const p = cl.prefix('cas');
    const key = b(p + 'counter');
    const TARGET = 150; // successful increments in all: 50 through each instance
    const WORKERS = 4; // per instance
    const init = await C(0).kv.Put({ key, value: b('0') });
    const written: number[] = [];
    let conflicts = 0;
    await within(
      Promise.all(
        cl.clients.map(async (c) => {
          let quota = TARGET / INSTANCES;
          await Promise.all(
            Array.from({ length: WORKERS }, async () => {
              let cur = (await c.kv.Range({ key })).kvs[0] as Msg;
              while (quota > 0) {
                const next = Number(s(cur.value)) + 1;
                const t = await c.kv.Txn({
                  compare: [{ key, target: 'MOD', result: 'EQUAL', mod_revision: cur.mod_revision }],
                  success: [{ request_put: { key, value: b(String(next)) } }, { request_range: { key } }],
                  failure: [{ request_range: { key } }],
                });
                if (t.succeeded) {
                  written.push(next);
                  quota--;
                  cur = t.responses[1].response_range.kvs[0] as Msg;
                } else {
                  conflicts++;
                  cur = t.responses[0].response_range.kvs[0] as Msg;
                }
              }
            }),
          );
        }),
      ),
      45_000,
      `${TARGET} compare-and-swap increments from ${INSTANCES * WORKERS} clients`,
    );
    // Every successful swap wrote a distinct value 1..TARGET: none was based on a stale read.
    expect([...written].sort((x, y) => x - y)).toEqual(Array.from({ length: TARGET }, (_, i) => i + 1));
    for (let i = 0; i < INSTANCES; i++) {
      const got = (await C(i).kv.Range({ key })).kvs[0] as Msg;
      expect(
        { value: s(got.value), version: num(got.version), create: num(got.create_revision) },
        `counter read through instance ${i}`,
      ).toEqual({
        value: String(TARGET),
        version: TARGET + 1,
        create: rev(init),
      });
    }
    note(`[${cl.backend.name}] CAS: ${TARGET} increments, ${conflicts} failed compares retried`);
  });

  test('a compaction through one instance is seen by all: reads and watches below it are refused', async () => {
    const p = cl.prefix('compact');
    const key = b(p + 'k');
    const r1 = rev(await C(0).kv.Put({ key, value: b('1') }));
    const r2 = rev(await C(0).kv.Put({ key, value: b('2') }));
    const r3 = rev(await C(0).kv.Put({ key, value: b('3') }));
    expect(rev(await C(1).kv.Compact({ revision: r2 }))).toBeGreaterThanOrEqual(r3);
    for (const i of [2, 0, 1]) {
      await expectGrpcError(C(i).kv.Range({ key, revision: r1 }), grpc.status.OUT_OF_RANGE, COMPACTED);
      expect(
        (await C(i).kv.Range({ key, revision: r2 })).kvs.map((x: Msg) => s(x.value)),
        `read at the compact revision through ${i}`,
      ).toEqual(['2']);
      // A watch from before the compaction, on an instance that has read since: created, then canceled.
      const { w, id } = await openWatch(cl, C(i), { key, start_revision: r1 });
      await within(
        w.until((rs) => rs.some((r) => r.canceled), 10_000),
        11_000,
        `compacted cancel of a watch from r${r1} through instance ${i}`,
      );
      const cancel = w.responses.find((r) => r.canceled) as Msg;
      expect({ id: String(cancel.watch_id), compact: num(cancel.compact_revision), events: cancel.events }).toEqual({
        id,
        compact: r2,
        events: [],
      });
      expect(watchEvents(w, id), `no events from compacted history through instance ${i}`).toEqual([]);
    }
    // Compacting again, through any instance, at or below it is refused; above it is accepted.
    await expectGrpcError(C(2).kv.Compact({ revision: r2 }), grpc.status.OUT_OF_RANGE, COMPACTED);
    await expectGrpcError(C(0).kv.Compact({ revision: r1 }), grpc.status.OUT_OF_RANGE, COMPACTED);
    expect(rev(await C(2).kv.Compact({ revision: r3, physical: true }))).toBeGreaterThanOrEqual(r3);
    for (const i of [0, 1]) {
      await expectGrpcError(C(i).kv.Range({ key, revision: r2 }), grpc.status.OUT_OF_RANGE, COMPACTED);
      expect((await C(i).kv.Range({ key })).kvs.map((x: Msg) => [s(x.value), num(x.version)])).toEqual([['3', 3]]);
    }
  });

  test('watches from past revisions, opened on another instance while one writes, replay and then follow without a gap', async () => {
    const p = cl.prefix('watch-from-past');
    const N = 400;
    const revs: number[] = [];
    const opened: Array<{ start: number; w: Awaited<ReturnType<typeof openWatch>> }> = [];
    const writer = (async () => {
      for (let i = 0; i < N; i++) revs.push(rev(await C(0).kv.Put({ key: b(`${p}k${i % 10}`), value: b(String(i)) })));
    })();
    // While instance 0 writes, open watches on 1 and 2 from revisions already written.
    for (let j = 0; j < 8; j++) {
      await within(
        new Promise<void>((resolve) => {
          const check = (): void => (revs.length >= (j + 1) * 40 ? resolve() : void setTimeout(check, 2));
          check();
        }),
        20_000,
        `${(j + 1) * 40} puts through instance 0`,
      );
      const start = revs[j * 30];
      opened.push({ start, w: await openWatch(cl, C(1 + (j % 2)), { key: b(p), range_end: prefixEnd(p), start_revision: start }) });
    }
    await within(writer, 30_000, `${N} puts through instance 0`);
    const last = revs[revs.length - 1];
    for (const [
      j,
      {
        start,
        w: { w, id },
      },
    ] of opened.entries()) {
      const evs = await waitWatchRev(w, id, last, 15_000, `watch ${j} from r${start} on instance ${1 + (j % 2)}`);
      const want = revs.filter((r) => r >= start);
      expect(
        evs.map((e) => num(e.kv.mod_revision)),
        `watch ${j} from r${start}: every revision once, in order`,
      ).toEqual(want);
      expect(evs.map((e) => s(e.kv.value))).toEqual(want.map((r) => String(revs.indexOf(r))));
    }
  });
});
