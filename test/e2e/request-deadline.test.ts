/**
 * The request's own deadline reaches the writer through both front-ends: while PostgreSQL fails
 * every commit with a serialization failure (40001) for longer than etcd's request timeout, a gRPC
 * Put with a longer grpc-timeout is retried until it lands, and a gateway put (HTTP has no
 * deadline) fails with etcd's "request timed out" after the timeout, nothing applied.
 */
import { Client } from 'pg';
import { describe, expect, it } from 'vitest';
import { b, createClient } from '../helpers/client';
import { conflictsFor, settle } from '../helpers/pg-conflicts';
import { startStrata } from '../helpers/servers';
import { databaseFor, PG_BASE, testBackend } from '../helpers/targets';

const FAULT_MS = 8_500;
const pg = testBackend('postgres');

describe.runIf(pg)('request deadlines (PostgreSQL, 40001 raised by the server)', () => {
  it('gRPC retries until its grpc-timeout; the gateway, which has none, until etcd’s request timeout', async () => {
    const server = await startStrata({ endpoint: (d) => pg!.endpoint(d), onCleanup: (d) => pg!.drop(d) });
    const c = createClient(server.address);
    const sql = new Client({ connectionString: `${PG_BASE}/${databaseFor(server.dataDir)}` });
    try {
      await c.kv.Put({ key: b('warm'), value: b('x') });
      await sql.connect();
      const stop = await conflictsFor(sql, FAULT_MS);
      try {
        const started = Date.now();
        const gateway = fetch(`http://${server.address}/v3/kv/put`, {
          method: 'POST',
          body: JSON.stringify({ key: b('gw').toString('base64'), value: b('g').toString('base64') }),
        }).then(async (r) => ({ status: r.status, body: (await r.json()) as { message?: string } }));
        // The test client sends a 20 s grpc-timeout.
        const [grpcPut, gw] = await Promise.all([settle(c.kv.Put({ key: b('grpc'), value: b('v') }), started), settle(gateway, started)]);
        expect(grpcPut.ok, JSON.stringify(grpcPut)).toBe(true);
        expect(grpcPut.ms).toBeGreaterThanOrEqual(FAULT_MS - 100);
        expect(gw.ok && gw.v.body.message, JSON.stringify(gw)).toBe('etcdserver: request timed out');
        expect(gw.ms).toBeLessThan(FAULT_MS);
      } finally {
        await stop();
      }
      expect((await c.kv.Range({ key: b('grpc') })).kvs.map((kv: { value: Buffer }) => kv.value.toString())).toEqual(['v']);
      expect((await c.kv.Range({ key: b('gw') })).kvs).toEqual([]);
    } finally {
      c.close();
      await sql.end().catch(() => undefined);
      expect(await server.stop()).toBe(0);
      server.cleanup();
    }
  }, 40_000);
});
