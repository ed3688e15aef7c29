/**
 * The database drops strata's connections in the middle of a write load (pg_terminate_backend /
 * KILL): strata must retry what it can, never apply a write twice, and keep serving. Every
 * acknowledged put must be present exactly once (version 1: each key is written once).
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { b, createClient, prefixEnd, s, type EtcdClient } from '../helpers/client';
import { startStrata, type Server } from '../helpers/servers';
import { databaseFor, forEachBackend, mysqlArgs, PG_BASE } from '../helpers/targets';

const IN_FLIGHT = 64;
const LOAD_MS = 4000;
const KILL_EVERY_MS = 400;

/** Drops every connection to `database` but the killer's own; returns how many it dropped. */
function dropConnections(kind: string, database: string): number {
  if (kind === 'postgres') {
    const r = spawnSync(
      'psql',
      [
        `${PG_BASE}/postgres`,
        '-qAtc',
        `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '${database}' AND pid <> pg_backend_pid()`,
      ],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(r.stderr);
    return Number(r.stdout.trim());
  }
  const args = [...mysqlArgs(), '-N', '-e'];
  const list = spawnSync(
    'mysql',
    [...args, `SELECT id FROM information_schema.processlist WHERE db = '${database}' AND id <> CONNECTION_ID()`],
    {
      encoding: 'utf8',
    },
  );
  if (list.status !== 0) throw new Error(list.stderr);
  const ids = list.stdout.split('\n').filter(Boolean);
  if (ids.length === 0) return 0;
  // A connection may end between the listing and the KILL: ignore "Unknown thread id".
  spawnSync('mysql', ['--force', ...args, ids.map((id) => `KILL ${id};`).join(' ')], { encoding: 'utf8' });
  return ids.length;
}

forEachBackend(
  'connection loss',
  (backend) => {
    let server: Server;
    let c: EtcdClient;

    beforeAll(async () => {
      server = await startStrata({ endpoint: (dir) => backend.endpoint(dir), onCleanup: (dir) => backend.drop(dir) });
      c = createClient(server.address);
    });
    afterAll(async () => {
      c?.close();
      await server?.stop();
      server?.cleanup();
    });

    it('writes acknowledged while connections are being killed are all present, each once', async () => {
      const acked = new Set<string>();
      let failed = 0;
      const reasons = new Map<string, number>();
      let next = 0;
      let dropped = 0;
      const deadline = Date.now() + LOAD_MS;
      const killer = setInterval(() => (dropped += dropConnections(backend.name, databaseFor(server.dataDir))), KILL_EVERY_MS);
      const worker = async () => {
        while (Date.now() < deadline) {
          const key = `loss/${String(next++).padStart(6, '0')}`;
          try {
            await c.kv.Put({ key: b(key), value: b(key) });
            acked.add(key);
          } catch (e) {
            failed++;
            const why = (e as Error).message;
            reasons.set(why, (reasons.get(why) ?? 0) + 1);
          }
        }
      };
      try {
        await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
      } finally {
        clearInterval(killer);
      }
      expect(dropped).toBeGreaterThan(0);
      // A dropped connection is transient: the writer retries the batch, so no client sees it.
      expect(failed, `requests that failed instead of being retried: ${JSON.stringify([...reasons])}`).toBe(0);
      expect(acked.size).toBeGreaterThan(100);

      // Still serving after the storm.
      await c.kv.Put({ key: b('loss-after'), value: b('ok') });
      const r = await c.kv.Range({ key: b('loss/'), range_end: prefixEnd('loss/') });
      const present = new Map(r.kvs.map((kv: { key: Buffer; version: string }) => [s(kv.key), Number(kv.version)]));
      const missing = [...acked].filter((k) => !present.has(k));
      expect(missing, `acknowledged but missing (${failed} failed requests)`).toEqual([]);
      const twice = [...present].filter(([, v]) => v !== 1);
      expect(twice, 'keys written more than once').toEqual([]);
      // Revisions stay dense: one per applied put.
      const revs = r.kvs.map((kv: { mod_revision: string }) => Number(kv.mod_revision)).sort((x: number, y: number) => x - y);
      expect(new Set(revs).size).toBe(revs.length);
    });
  },
  ['postgres', 'mysql'],
);
