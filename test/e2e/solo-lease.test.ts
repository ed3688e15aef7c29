/**
 * The solo lease across processes (src/log/solo.ts): the holder is stopped (SIGSTOP) or killed
 * (kill -9) while it holds the lease; the other instance's write lands once the lease's TTL has
 * passed, and a stopped holder, resumed, reads that write (its lease ended while it slept).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { b, createClient, s, type EtcdClient } from '../helpers/client';
import { startStrata, type Server } from '../helpers/servers';
import { SOLO_TTL_MS, takeSoloLease as takeLease } from '../helpers/solo';
import { forEachBackend, type Backend } from '../helpers/targets';
import { requireBuild } from './strata-cli';

const TTL_MS = SOLO_TTL_MS;

const valueOf = async (c: EtcdClient, key: string): Promise<string | undefined> => {
  const kvs = (await c.kv.Range({ key: b(key) })).kvs ?? [];
  return kvs[0] ? s(kvs[0].value) : undefined;
};

forEachBackend(
  'solo lease across processes',
  (backend: Backend) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'strata-solo-e2e-'));
    const servers: Server[] = [];
    const clients: EtcdClient[] = [];
    const start = async (quiet: string): Promise<number> => {
      const server = await startStrata({
        endpoint: backend.endpoint(dir),
        args: ['--solo-reads', 'on', '--solo-reads-quiet-period', quiet],
      });
      servers.push(server);
      clients.push(createClient(server.address));
      return servers.length - 1;
    };
    beforeAll(async () => {
      requireBuild();
      await backend.ready?.();
    });
    afterAll(async () => {
      for (const c of clients) c.close();
      for (const sv of servers) {
        sv.proc.kill('SIGCONT');
        await sv.kill();
        sv.cleanup();
      }
      backend.drop(dir);
      rmSync(dir, { recursive: true, force: true });
    });

    test('SIGSTOP of the holder: the other write lands within the TTL, and the resumed holder reads it', async () => {
      const holder = await start('0.2');
      const other = await start('60');
      await clients[holder].kv.Put({ key: b('stop/k'), value: b('v0') });
      await takeLease(servers[holder], clients[holder], 'stop/k');
      servers[holder].proc.kill('SIGSTOP');
      try {
        const started = Date.now();
        await clients[other].kv.Put({ key: b('stop/k'), value: b('v1') });
        expect(Date.now() - started).toBeLessThan(TTL_MS + 1000);
        expect(await valueOf(clients[other], 'stop/k')).toBe('v1');
      } finally {
        servers[holder].proc.kill('SIGCONT');
      }
      // Its lease ended while it was stopped: the first read after it resumes goes to the database.
      expect(await valueOf(clients[holder], 'stop/k')).toBe('v1');
    });

    test('kill -9 of the holder: the other write lands within the TTL', async () => {
      const holder = await start('0.2');
      await clients[holder].kv.Put({ key: b('kill/k'), value: b('v0') });
      // The instances of the first test wrote meanwhile: this one waits out its quiet period first.
      await takeLease(servers[holder], clients[holder], 'kill/k');
      await servers[holder].kill();
      const started = Date.now();
      await clients[1].kv.Put({ key: b('kill/k'), value: b('v1') });
      expect(Date.now() - started).toBeLessThan(TTL_MS + 1000);
      expect(await valueOf(clients[1], 'kill/k')).toBe('v1');
    });
  },
  ['postgres', 'mysql'],
);
