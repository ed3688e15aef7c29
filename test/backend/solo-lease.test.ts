/**
 * The solo lease (src/log/solo.ts) on the real databases: a lone instance that holds it answers
 * linearizable reads with no SQL; another instance's write revokes it, waits it out and commits
 * only once the holder's validity has ended, and the holder's next linearizable read sees that
 * write.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { parseEndpoint } from '../../src/config';
import { Log } from '../../src/log/log';
import type { LogObserver } from '../../src/log/types';
import { Store } from '../../src/mvcc/store';
import { forEachBackend, type Backend } from '../helpers/targets';
import { dialectFor, log, OPTS, put, range } from './helpers';

const TTL_MS = 2000;

/** Counts SQL calls by kind. */
class Counter implements LogObserver {
  calls = new Map<string, number>();
  sql(kind: string): void {
    this.calls.set(kind, (this.calls.get(kind) ?? 0) + 1);
  }
  commit(): void {}
  retry(): void {}
  total(): number {
    return [...this.calls.values()].reduce((a, b) => a + b, 0);
  }
}

function storeWith(backend: Backend, dir: string, observer: Counter, quietMs: number): Store {
  const dialect = dialectFor(parseEndpoint(backend.endpoint(dir)));
  return new Store(new Log(dialect, log, { pollIntervalMs: OPTS.pollIntervalMs, observer, solo: { quietMs, ttlMs: TTL_MS } }), log, {
    watchProgressNotifyIntervalMs: 60_000,
  });
}

async function until(what: string, probe: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const value = async (s: Store, key: string): Promise<string | undefined> => (await s.range(range(key))).kvs[0]?.value.toString();

forEachBackend(
  'solo lease',
  (backend: Backend) => {
    let dir = '';
    const stores: Store[] = [];
    beforeEach(() => {
      dir = mkdtempSync(path.join(tmpdir(), 'strata-solo-'));
    });
    afterEach(async () => {
      for (const s of stores.splice(0)) await s.close();
      backend.drop(dir);
      rmSync(dir, { recursive: true, force: true });
    });

    it('a lone instance holding it answers linearizable reads with no SQL', async () => {
      const counter = new Counter();
      const a = storeWith(backend, dir, counter, 0);
      stores.push(a);
      await a.open();
      await a.put(put('k', 'v1'));
      // The first read asks for the lease; it is taken by a batch through the fence.
      await until('the solo lease', async () => {
        await a.range(range('k'));
        return a.maintenance.soloLeaseHeld();
      });
      await new Promise((r) => setTimeout(r, 50));
      counter.calls.clear();
      const started = performance.now();
      for (let i = 0; i < 500; i++) expect(await value(a, 'k')).toBe('v1');
      const ms = performance.now() - started;
      // No fence read; only the lease's renewals (a few statements every TTL/3) ran meanwhile.
      expect(counter.calls.get('read_meta') ?? 0, JSON.stringify([...counter.calls])).toBe(0);
      expect(counter.total(), JSON.stringify([...counter.calls])).toBeLessThanOrEqual(8 * (1 + Math.ceil(ms / (TTL_MS / 3))));
      // Its own writes are read back at once.
      await a.put(put('k', 'v2'));
      expect(await value(a, 'k')).toBe('v2');
    });

    it("another instance's write waits out the lease, never commits inside it, and the holder then reads it", async () => {
      const a = storeWith(backend, dir, new Counter(), 1000);
      const b = storeWith(backend, dir, new Counter(), 30_000);
      stores.push(a, b);
      await a.open();
      await b.open();
      await a.put(put('k', 'v0'));
      await until('the solo lease', async () => {
        await a.range(range('k'));
        return a.maintenance.soloLeaseHeld();
      });
      for (let n = 1; n <= 3; n++) {
        const started = performance.now();
        const done = b.put(put('k', `v${n}`));
        // While b waits, a may still answer from memory: what it answers is the old value.
        let heldDuring = false;
        const probe = (async () => {
          while (!(await Promise.race([done.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 5))]))) {
            heldDuring ||= a.maintenance.soloLeaseHeld();
            expect(await value(a, 'k')).toMatch(/^v\d$/);
          }
        })();
        await done;
        const heldAtCommit = a.maintenance.soloLeaseHeld();
        await probe;
        // The instant b's write is acknowledged, a's validity is over, and a reads the write.
        expect(heldAtCommit).toBe(false);
        expect(await value(a, 'k')).toBe(`v${n}`);
        const ms = performance.now() - started;
        if (n === 1) {
          expect(heldDuring).toBe(true);
          expect(ms).toBeGreaterThan(200);
        }
        expect(ms).toBeLessThan(TTL_MS + 2000);
        // a takes the lease again once it has seen no other instance for its quiet period (at least two TTLs).
        await until(
          'the solo lease again',
          async () => {
            await a.range(range('k'));
            return a.maintenance.soloLeaseHeld();
          },
          4 * TTL_MS + 3000,
        );
        expect(await value(a, 'k')).toBe(`v${n}`);
      }
      // Never taken by b, which saw a's rows and revoked a's lease.
      expect(b.maintenance.soloLeaseHeld()).toBe(false);
    });
  },
  ['postgres', 'mysql'],
);
