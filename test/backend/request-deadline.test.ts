/**
 * A write that keeps losing conflicts is retried until its caller's own deadline, not etcd's fixed
 * request timeout: on the real PostgreSQL every INSERT fails with a serialization failure (40001,
 * raised by the server; helpers/pg-conflicts.ts) for longer than that timeout. A put
 * whose caller allows more time is acknowledged once the conflicts stop; one whose caller set no
 * deadline fails with etcd's "request timed out" after the timeout, with nothing applied; one whose
 * deadline is short gives up at its deadline.
 */
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conflictsFor, settle } from '../helpers/pg-conflicts';
import { databaseFor, PG_BASE, skippedSuite, testBackend } from '../helpers/targets';
import { put, range, storePerSuite } from './helpers';

const TIMED_OUT = 'etcdserver: request timed out';
/** Longer than etcd's request timeout (7 s), which the failures must outlast. */
const FAULT_MS = 8_500;

const pg = testBackend('postgres');
if (!pg) skippedSuite('write retries until the request deadline', 'postgres not selected or not reachable');
else
  describe('write retries until the request deadline (PostgreSQL, 40001 raised by the server)', () => {
    const fx = storePerSuite(pg, 'deadline');
    let sql: Client;
    beforeAll(async () => {
      sql = new Client({ connectionString: `${PG_BASE}/${databaseFor(fx.dir)}` });
      await sql.connect();
    });
    afterAll(async () => sql?.end());

    it('retries past the request timeout while the caller still waits; the others fail at theirs', async () => {
      const { store } = fx;
      await store.put(put('deadline/warm', 'x'));
      const stop = await conflictsFor(sql, FAULT_MS);
      try {
        const started = Date.now();
        const [patient, timeout, hasty] = await Promise.all([
          settle(store.put(put('deadline/patient', 'p'), undefined, started + 20_000), started),
          settle(store.put(put('deadline/timeout', 't')), started),
          settle(store.put(put('deadline/hasty', 'h'), undefined, started + 2_000), started),
        ]);
        expect(patient.ok, JSON.stringify(patient)).toBe(true);
        expect(patient.ms).toBeGreaterThanOrEqual(FAULT_MS - 100);
        expect(timeout).toMatchObject({ ok: false, message: TIMED_OUT });
        expect(timeout.ms).toBeGreaterThanOrEqual(6_500);
        expect(timeout.ms).toBeLessThan(FAULT_MS);
        expect(hasty).toMatchObject({ ok: false, message: TIMED_OUT });
        expect(hasty.ms).toBeLessThan(4_000);
        expect((await store.range(range('deadline/patient'))).kvs.map((kv) => kv.value.toString())).toEqual(['p']);
        expect((await store.range(range('deadline/timeout'))).kvs).toEqual([]);
        expect((await store.range(range('deadline/hasty'))).kvs).toEqual([]);
        // Acknowledged once: one row for it in the log.
        const rows = await sql.query("SELECT count(*)::int AS n FROM log WHERE key = 'deadline/patient'::bytea");
        expect(rows.rows[0].n).toBe(1);
      } finally {
        await stop();
      }
    }, 40_000);
  });
