/**
 * An endpoint naming several hosts, against the real PostgreSQL and MariaDB: the first host is a
 * closed port (never answers), the next two are TCP proxies to the same server. strata must start
 * on the first live host, and when that host is cut in the middle of a 64-in-flight put load, move
 * new connections to the last one without a client error; every acknowledged put stays present,
 * once. /metrics shows each host's health by host:port only.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { get } from '../gateway/http';
import { b, createClient, prefixEnd, s, type EtcdClient } from '../helpers/client';
import { dbProxy, type DbProxy } from '../helpers/db-proxy';
import { freePort, sleep, waitFor } from '../helpers/ports';
import { startStrata, type Server } from '../helpers/servers';
import { databaseFor, forEachBackend, MYSQL_BASE, PG_BASE } from '../helpers/targets';

const IN_FLIGHT = 64;
const LOAD_MS = 3000;
const CUT_AFTER_MS = 1000;

/** host:port of a test server's base URL (postgres://u@h:p or mysql://u@tcp(h:p)). */
function serverOf(base: string, defaultPort: number): { host: string; port: number } {
  const m = /@(?:tcp\()?([^:/)]+)(?::(\d+))?/.exec(base);
  if (!m) throw new Error(`cannot read host and port from ${base}`);
  return { host: m[1], port: Number(m[2] ?? defaultPort) };
}

/** Each host's strata_datastore_host_{up,active} reading. */
async function hostGauges(server: Server): Promise<Record<string, { up: number; active: number }>> {
  const text = (await get(server.url, '/metrics')).text;
  const out: Record<string, { up: number; active: number }> = {};
  for (const m of text.matchAll(/^strata_datastore_host_(up|active)\{host="([^"]+)"\} (\d+)$/gm)) {
    out[m[2]] ??= { up: -1, active: -1 };
    out[m[2]][m[1] as 'up' | 'active'] = Number(m[3]);
  }
  return out;
}

forEachBackend(
  'host failover',
  (backend) => {
    let server: Server;
    let c: EtcdClient;
    let first: DbProxy;
    let second: DbProxy;
    let dead: number;

    beforeAll(async () => {
      const real = backend.name === 'postgres' ? serverOf(PG_BASE, 5432) : serverOf(MYSQL_BASE, 3306);
      dead = await freePort();
      first = await dbProxy(real);
      second = await dbProxy(real);
      const hosts = [dead, first.port, second.port].map((p) => `127.0.0.1:${p}`).join(',');
      server = await startStrata({
        endpoint: (dir) =>
          backend.name === 'postgres'
            ? `postgres://postgres@${hosts}/${databaseFor(dir)}?sslmode=disable&target_session_attrs=read-write`
            : `mysql://root@${hosts}/${databaseFor(dir)}`,
        onCleanup: (dir) => backend.drop(dir),
      });
      c = createClient(server.address);
    });
    afterAll(async () => {
      c?.close();
      await server?.stop();
      server?.cleanup();
      await first?.cut();
      await second?.cut();
    });

    it('starts on the first live host, the dead one marked down', async () => {
      const want = {
        [`127.0.0.1:${dead}`]: { up: 0, active: 0 },
        [`127.0.0.1:${first.port}`]: { up: 1, active: 1 },
        [`127.0.0.1:${second.port}`]: { up: 1, active: 0 },
      };
      // The hosts after the chosen one are checked in the background, within a second.
      await waitFor(async () => JSON.stringify(await hostGauges(server)) === JSON.stringify(want), 5000, 'every host checked');
      expect(await hostGauges(server)).toEqual(want);
      const text = (await get(server.url, '/metrics')).text;
      expect(text).not.toMatch(/host="[^"]*(root|postgres|@)/);
    });

    it('moves to the next live host when the active one is cut mid-load; every acknowledged put stays', async () => {
      const acked = new Set<string>();
      const reasons = new Map<string, number>();
      let failed = 0;
      let next = 0;
      let lastAck = Date.now();
      let longestGap = 0;
      const started = Date.now();
      const deadline = started + LOAD_MS;
      const cut = sleep(CUT_AFTER_MS).then(() => first.cut());
      const worker = async () => {
        while (Date.now() < deadline) {
          const key = `failover/${String(next++).padStart(6, '0')}`;
          try {
            await c.kv.Put({ key: b(key), value: b(key) });
            acked.add(key);
            longestGap = Math.max(longestGap, Date.now() - lastAck);
            lastAck = Date.now();
          } catch (e) {
            failed++;
            const why = (e as Error).message;
            reasons.set(why, (reasons.get(why) ?? 0) + 1);
          }
        }
      };
      await Promise.all([cut, ...Array.from({ length: IN_FLIGHT }, worker)]);
      expect(failed, `requests that failed instead of moving host: ${JSON.stringify([...reasons])}`).toBe(0);
      expect(acked.size).toBeGreaterThan(100);
      // The writer's retries span about 3.9 s; moving host must take far less than that.
      expect(longestGap, 'longest time without an acknowledgement').toBeLessThan(2000);
      process.stdout.write(`host failover [${backend.name}]: ${acked.size} puts acknowledged, longest gap ${longestGap} ms\n`);
      const after = await hostGauges(server);
      expect(after[`127.0.0.1:${first.port}`]).toEqual({ up: 0, active: 0 });
      expect(after[`127.0.0.1:${second.port}`]).toEqual({ up: 1, active: 1 });

      const r = await c.kv.Range({ key: b('failover/'), range_end: prefixEnd('failover/') });
      const present = new Map(r.kvs.map((kv: { key: Buffer; version: string }) => [s(kv.key), Number(kv.version)]));
      expect(
        [...acked].filter((k) => !present.has(k)),
        'acknowledged but missing',
      ).toEqual([]);
      expect(
        [...present].filter(([, v]) => v !== 1),
        'keys written more than once',
      ).toEqual([]);
      const revs = r.kvs.map((kv: { mod_revision: string }) => Number(kv.mod_revision));
      expect(new Set(revs).size).toBe(revs.length);
    });

    it('sees a left host answer again in the background, and keeps serving where it is', async () => {
      await first.open();
      await waitFor(async () => (await hostGauges(server))[`127.0.0.1:${first.port}`]?.up === 1, 5000, 'the cut host back up');
      expect((await hostGauges(server))[`127.0.0.1:${second.port}`]).toEqual({ up: 1, active: 1 });
      await c.kv.Put({ key: b('failover-after'), value: b('ok') });
      const r = await c.kv.Range({ key: b('failover-after') });
      expect(s(r.kvs[0].value)).toBe('ok');
    });
  },
  ['postgres', 'mysql'],
);
