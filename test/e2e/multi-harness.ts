/**
 * Several strata processes on one shared PostgreSQL / MySQL database: one database per
 * test file and backend, every instance started with the same endpoint string, all of them
 * stopped and the database dropped afterwards. SQLite is not a shared-database backend.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { createClient, WatchReader, type EtcdClient, type Msg } from '../helpers/client';
import { readIdentity, type Identity } from '../helpers/identity';
import { startStrata, type Server } from '../helpers/servers';
import { forEachBackend, type Backend, type BackendName } from '../helpers/targets';
import { requireBuild } from './strata-cli';

export interface Cluster {
  backend: Backend;
  /** The endpoint instance i is started with: one string for all, but for Galera one node each. */
  endpoint(i: number): string;
  servers: Server[];
  clients: EtcdClient[];
  /** The one identity every instance reports: they are one logical member (docs/compatibility.md). */
  identity: Identity;
  /** Starts instance i again on the same database (after it was killed or stopped). */
  restart(i: number): Promise<void>;
  /** Streams opened by a test; closed after the file. */
  track<T extends { close(): void }>(x: T): T;
  /** A fresh key prefix, unique within this file's database. */
  prefix(name: string): string;
}

/** The backends several instances can share: every one but SQLite. */
const SHARED: BackendName[] = ['postgres', 'mysql', 'galera'];

/**
 * One describe block per shared backend, with `count` instances on one fresh database. The
 * instances are started together, as an HA deployment starts: the database does not exist yet.
 */
export function forEachSharedBackend(suite: string, count: number, body: (cl: Cluster) => void, args: string[] = []): void {
  forEachBackend(
    suite,
    (backend) => {
      const dbDir = mkdtempSync(path.join(tmpdir(), 'strata-multi-'));
      const open: Array<{ close(): void }> = [];
      let seq = 0;
      const cl: Cluster = {
        backend,
        endpoint: (i) => backend.endpoint(dbDir, i),
        servers: [],
        clients: [],
        identity: undefined as unknown as Identity,
        async restart(i) {
          cl.clients[i]?.close();
          const old = cl.servers[i];
          await old.kill();
          old.cleanup();
          cl.servers[i] = await startStrata({ endpoint: cl.endpoint(i), args });
          cl.clients[i] = createClient(cl.servers[i].address);
          expect((await readIdentity(cl.clients[i])).identity, `identity of instance ${i} after its restart`).toEqual(cl.identity);
        },
        track(x) {
          open.push(x);
          return x;
        },
        prefix(name) {
          seq++;
          return `/multi/${suite}/${String(seq).padStart(3, '0')}-${name}/`;
        },
      };
      beforeAll(async () => {
        requireBuild();
        await backend.ready?.();
        const started = await Promise.allSettled(Array.from({ length: count }, (_, i) => startStrata({ endpoint: cl.endpoint(i), args })));
        for (const r of started) if (r.status === 'fulfilled') cl.servers.push(r.value);
        const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw new Error(`${count} instances started together on one new ${backend.name} database: ${String(failed.reason)}`);
        cl.clients.push(...cl.servers.map((s) => createClient(s.address)));
        const ids = await Promise.all(cl.clients.map(async (c) => (await readIdentity(c)).identity));
        cl.identity = ids[0];
        for (const [i, id] of ids.entries()) expect(id, `identity of instance ${i}`).toEqual(cl.identity);
      });
      afterAll(async () => {
        for (const x of open.splice(0)) {
          try {
            x.close();
          } catch {
            // already closed
          }
        }
        for (const c of cl.clients) c.close();
        const exits: Array<{ address: string; code: number | null; logs: string }> = [];
        for (const s of cl.servers) {
          exits.push({ address: s.address, code: await s.stop(), logs: s.logs() });
          s.cleanup();
        }
        try {
          backend.drop(dbDir);
        } finally {
          rmSync(dbDir, { recursive: true, force: true });
        }
        // SIGTERM ends each instance cleanly (exit 0) even with others on the database.
        for (const e of exits) expect(e.code, `instance at ${e.address} exit code; logs:\n${e.logs}`).toBe(0);
      });
      body(cl);
    },
    SHARED,
  );
}

/** Rejects with `what` if `p` has not settled within `ms`. */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** int64 fields arrive as decimal strings. */
export function num(x: unknown): number {
  const v = Number(x);
  if (!Number.isSafeInteger(v)) throw new Error(`not a safe integer: ${String(x)}`);
  return v;
}

/** Opens a watch on `c` and waits for its created response; returns the reader and the watch id. */
export async function openWatch(cl: Cluster, c: EtcdClient, req: Msg): Promise<{ w: WatchReader; id: string; created: Msg }> {
  const w = cl.track(new WatchReader(c.watch()));
  w.send({ create_request: req });
  await w
    .until((rs) => rs.some((r) => r.created), 10_000)
    .catch((e: Error) => {
      throw new Error(`watch was not created within 10 s: ${e.message.slice(0, 500)}`);
    });
  const created = w.responses.find((r) => r.created) as Msg;
  return { w, id: String(created.watch_id), created };
}

/** Events of one watch, flattened. */
export function watchEvents(w: WatchReader, id: string): Msg[] {
  return w.responses.filter((r) => String(r.watch_id) === id).flatMap((r) => (r.events ?? []) as Msg[]);
}

/** Waits until the watch has an event at revision ≥ rev; a short message (not every response) on timeout. */
export async function waitWatchRev(w: WatchReader, id: string, rev: number, ms: number, what: string): Promise<Msg[]> {
  try {
    await w.until(() => watchEvents(w, id).some((e) => num(e.kv.mod_revision) >= rev), ms);
  } catch (e) {
    const evs = watchEvents(w, id);
    const last = evs.length > 0 ? num(evs[evs.length - 1].kv.mod_revision) : 'none';
    throw new Error(
      `${what}: no event at revision ≥ ${rev} within ${ms} ms (${evs.length} events, last at ${last}; ${(e as Error).message.slice(0, 200)})`,
      { cause: e },
    );
  }
  return watchEvents(w, id);
}

/** Runs `count` tasks with at most `width` in flight. */
export async function pool(count: number, width: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, count) }, async () => {
      for (;;) {
        const i = next++;
        if (i >= count) return;
        await task(i);
      }
    }),
  );
}
