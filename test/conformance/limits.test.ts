/**
 * strata's own size limits, the same on every backend (src/limits.ts): keys of at most 2048 bytes
 * (longer ones are refused with INVALID_ARGUMENT, "etcdserver: key is too long …"), and values up to
 * etcd's request limit, here 1 MiB, stored and read back byte for byte — from memory and, after a
 * restart, from the database. strata-only: etcd has no key limit, so this file does not run with
 * STRATA_TEST_AGAINST=etcd.
 */
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { AGAINST } from '../helpers/against';
import { createClient, prefixEnd, type EtcdClient, type Msg } from '../helpers/client';
import { expectGrpcError } from '../helpers/grpc-error';
import { startStrata, type Server } from '../helpers/servers';
import { forEachConformanceBackend, skippedSuite } from '../helpers/targets';

const MAX_KEY = 2048;
const MiB = 1 << 20;

const expectKeyTooLong = (p: Promise<unknown>) =>
  expectGrpcError(p, grpc.status.INVALID_ARGUMENT, `etcdserver: key is too long (strata stores keys of at most ${MAX_KEY} bytes)`);

/** A key of exactly `len` bytes: the prefix, then every byte value in turn, then `last`. */
function longKey(prefix: string, len: number, last: number): Buffer {
  const k = Buffer.alloc(len);
  const head = Buffer.from(prefix);
  head.copy(k);
  for (let i = head.length; i < len - 1; i++) k[i] = (i * 7) & 0xff;
  k[len - 1] = last;
  return k;
}

if (AGAINST === 'etcd') skippedSuite('limits', 'strata only: etcd has no key size limit');
else
  forEachConformanceBackend('limits', (backend) => {
    let server: Server;
    let c: EtcdClient;
    const endpoint = (dir: string): string => backend.endpoint(dir);
    const stored: Array<{ key: Buffer; value: Buffer }> = [];

    beforeAll(async () => {
      server = await startStrata({ endpoint, onCleanup: (dir) => backend.drop(dir) });
      c = createClient(server.address);
    });
    afterAll(async () => {
      c?.close();
      if (server) {
        await server.stop();
        server.cleanup();
      }
    });

    test(`a key longer than ${MAX_KEY} bytes is refused with INVALID_ARGUMENT, in a put and in a txn`, async () => {
      const p = '/limits/long/';
      const before = Number((await c.kv.Range({ key: Buffer.from(p) })).header.revision);
      for (const len of [MAX_KEY + 1, 4096, 64 * 1024]) {
        const key = longKey(p, len, 0x41);
        await expectKeyTooLong(c.kv.Put({ key, value: Buffer.from('v') }));
        await expectKeyTooLong(c.kv.Txn({ success: [{ request_put: { key, value: Buffer.from('v') } }] }));
        await expectKeyTooLong(c.kv.Txn({ success: [{ request_txn: { success: [{ request_put: { key, value: Buffer.from('v') } }] } }] }));
      }
      const after = await c.kv.Range({ key: Buffer.from(p), range_end: prefixEnd(p) });
      expect({ rev: Number(after.header.revision), kvs: after.kvs }, 'nothing was written').toEqual({ rev: before, kvs: [] });
    });

    test(`keys of exactly ${MAX_KEY} bytes (any byte values) round-trip and sort in byte order`, async () => {
      const p = '/limits/max/';
      const lasts = [0xff, 0x00, 0x80, 0x7f];
      const keys = lasts.map((l) => longKey(p, MAX_KEY, l));
      const revs: number[] = [];
      for (const [i, key] of keys.entries()) {
        const value = Buffer.from(`v${i}`);
        revs.push(Number((await c.kv.Put({ key, value })).header.revision));
        stored.push({ key, value });
      }
      for (const [i, key] of keys.entries()) {
        const got = await c.kv.Range({ key });
        expect(got.kvs).toHaveLength(1);
        expect(Buffer.compare(got.kvs[0].key, key), `key ${i} read back byte for byte`).toBe(0);
        expect(Number(got.kvs[0].mod_revision)).toBe(revs[i]);
      }
      const all = await c.kv.Range({ key: Buffer.from(p), range_end: prefixEnd(p) });
      const sorted = [...keys].sort(Buffer.compare);
      expect((all.kvs as Msg[]).map((x) => Buffer.from(x.key).toString('hex'))).toEqual(sorted.map((k) => k.toString('hex')));
      // A watch from history delivers the exact bytes; a txn compare and a delete find the key.
      const w = c.watch();
      const events: Msg[] = [];
      const done = new Promise<void>((resolve, reject) => {
        w.on('data', (m: Msg) => {
          events.push(...((m.events ?? []) as Msg[]));
          if (events.length >= keys.length) resolve();
        });
        w.on('error', reject);
      });
      w.write({ create_request: { key: Buffer.from(p), range_end: prefixEnd(p), start_revision: revs[0] } });
      await done;
      w.cancel();
      expect(events.map((e) => Buffer.from(e.kv.key).toString('hex'))).toEqual(keys.map((k) => k.toString('hex')));
      const t = await c.kv.Txn({ compare: [{ key: keys[2], target: 'MOD', result: 'EQUAL', mod_revision: revs[2] }] });
      expect(t.succeeded).toBe(true);
      const extra = longKey(p, MAX_KEY, 0x01);
      await c.kv.Put({ key: extra, value: Buffer.from('gone') });
      expect(Number((await c.kv.DeleteRange({ key: extra })).deleted)).toBe(1);
    });

    test('a value of 1 MiB round-trips, as the value, the prev_kv and an old revision', async () => {
      const key = Buffer.from('/limits/big/one');
      const v1 = randomBytes(MiB);
      const v2 = randomBytes(MiB);
      const r1 = Number((await c.kv.Put({ key, value: v1 })).header.revision);
      expect(Buffer.compare((await c.kv.Range({ key })).kvs[0].value, v1)).toBe(0);
      const put2 = await c.kv.Put({ key, value: v2, prev_kv: true });
      expect(Buffer.compare(put2.prev_kv.value, v1), 'prev_kv is the first 1 MiB value').toBe(0);
      expect(Buffer.compare((await c.kv.Range({ key })).kvs[0].value, v2)).toBe(0);
      expect(Buffer.compare((await c.kv.Range({ key, revision: r1 })).kvs[0].value, v1)).toBe(0);
      stored.push({ key, value: v2 });
    });

    test('twelve 1 MiB puts at once (one group commit, more than a MiB per batch) all land', async () => {
      const items = Array.from({ length: 12 }, (_, i) => ({
        key: Buffer.from(`/limits/big/many/${String(i).padStart(2, '0')}`),
        value: randomBytes(MiB),
      }));
      const revs = await Promise.all(items.map((x) => c.kv.Put(x).then((r) => Number(r.header.revision))));
      expect(new Set(revs).size).toBe(items.length);
      const all = await c.kv.Range({ key: Buffer.from('/limits/big/many/'), range_end: prefixEnd('/limits/big/many/') });
      expect(all.kvs).toHaveLength(items.length);
      for (const [i, x] of items.entries()) expect(Buffer.compare(all.kvs[i].value, x.value), `value ${i}`).toBe(0);
      stored.push(...items);
    });

    test('after a restart the long keys and the 1 MiB values are read back from the database', async () => {
      await server.stop();
      // The same data dir and endpoint; the first server's cleanup still owns dir and database.
      const first = server;
      const again = await startStrata({ endpoint, dataDir: first.dataDir });
      c.close();
      c = createClient(again.address);
      server = {
        ...again,
        cleanup: () => first.cleanup(),
      };
      for (const x of stored) {
        const got = await c.kv.Range({ key: x.key });
        expect(got.kvs, `key ${x.key.subarray(0, 24).toString('hex')}… after restart`).toHaveLength(1);
        expect(Buffer.compare(got.kvs[0].key, x.key)).toBe(0);
        expect(Buffer.compare(got.kvs[0].value, x.value), `value of ${x.key.subarray(0, 24).toString('hex')}… after restart`).toBe(0);
      }
    });
  });
