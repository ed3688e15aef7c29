/**
 * The writer against each real database with one fault injected at the dialect boundary: a COMMIT
 * whose acknowledgement is lost (it landed), a connection lost before COMMIT (it did not land), and
 * a transient error (deadlock / busy). Every write must be applied exactly once and answered only
 * after its outcome is known.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEndpoint } from '../../src/config';
import { CommitUnknownError, type Dialect, type WriteTx } from '../../src/dialect/dialect';
import { Store } from '../../src/mvcc/store';
import { availableBackends } from '../helpers/targets';
import { dialectFor, log, put, range as get } from './helpers';

type Fault = 'lost-ack' | 'lost-before-commit' | 'transient';

/** Injects `fault` into the next write transaction only; the database underneath is the real one. */
function injectOnce(dialect: Dialect, fault: Fault): { fired: () => boolean } {
  const real = dialect.write.bind(dialect);
  let armed = true;
  const sentinel = new Error('injected: abort before COMMIT');
  dialect.write = async <T>(fn: (tx: WriteTx) => Promise<T>): Promise<T> => {
    if (!armed) return real(fn);
    armed = false;
    if (fault === 'lost-ack') {
      await real(fn);
      throw new CommitUnknownError(new Error('injected: connection lost after COMMIT was sent'));
    }
    try {
      await real(async (tx) => {
        await fn(tx);
        throw sentinel;
      });
    } catch (e) {
      if (e !== sentinel) throw e;
    }
    if (fault === 'lost-before-commit') throw new CommitUnknownError(new Error('injected: connection lost before COMMIT'));
    // Each dialect's own classification decides: deadlock (PostgreSQL 40P01, MySQL 1213), SQLite busy.
    throw Object.assign(new Error('injected: deadlock detected'), { code: dialect.name === 'sqlite' ? 'SQLITE_BUSY' : '40P01', errno: 1213 });
  };
  return { fired: () => !armed };
}

for (const backend of availableBackends()) {
  describe(`commit outcome [${backend.name}]`, () => {
    let dir: string;
    let dialect: Dialect;
    let store: Store;

    beforeAll(async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'strata-commit-'));
      dialect = dialectFor(parseEndpoint(backend.endpoint(dir)));
      store = new Store(dialect, log, { watchProgressNotifyIntervalMs: 60_000 });
      await store.open();
    });
    afterAll(async () => {
      await store?.close();
      backend.drop(dir);
      rmSync(dir, { recursive: true, force: true });
    });

    for (const fault of ['lost-ack', 'lost-before-commit', 'transient'] as const) {
      it(`${fault}: every write of the batch is applied exactly once, one revision each`, async () => {
        const before = store.revision;
        const inj = injectOnce(dialect, fault);
        const keys = Array.from({ length: 8 }, (_, i) => `${fault}/${i}`);
        const answers = await Promise.all(keys.map((k) => store.put(put(k, `v-${k}`))));
        expect(inj.fired()).toBe(true);

        const revs = answers.map((a) => a.header.revision).sort((x, y) => x - y);
        expect(revs).toEqual(keys.map((_, i) => before + 1 + i));
        expect(store.revision).toBe(before + keys.length);
        for (const k of keys) {
          const r = await store.range(get(k));
          expect(r.kvs).toHaveLength(1);
          expect(r.kvs[0]).toMatchObject({ version: 1, create_revision: r.kvs[0].mod_revision });
          expect(r.kvs[0].value.toString()).toBe(`v-${k}`);
        }
        // The log itself holds each write once, at consecutive revisions.
        const rows = (await dialect.rowsAfter(before, before + keys.length + 5)).filter((row) => row.key.toString().startsWith(fault));
        expect(rows.map((row) => row.revision)).toEqual(keys.map((_, i) => before + 1 + i));
        expect((await dialect.readMarks()).revision).toBe(before + keys.length);
      });
    }

    it('a failure that is not transient fails the batch once, and nothing is applied', async () => {
      const before = store.revision;
      const real = dialect.write.bind(dialect);
      dialect.write = async () => {
        dialect.write = real;
        // A server's own error, as each driver reports a full disk (not a connection problem).
        throw Object.assign(new Error('injected: disk full'), { code: dialect.name === 'sqlite' ? 'SQLITE_FULL' : '53100', errno: 1021 });
      };
      await expect(store.put(put('doomed', 'x'))).rejects.toThrow(/storage error: injected: disk full/);
      expect(store.revision).toBe(before);
      expect((await store.range(get('doomed'))).kvs).toHaveLength(0);
      const ok = await store.put(put('after', 'y'));
      expect(ok.header.revision).toBe(before + 1);
    });
  });
}
