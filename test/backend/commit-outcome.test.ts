/**
 * The writer against each real database with one fault injected at the dialect boundary: a COMMIT
 * whose acknowledgement is lost (it landed), a connection lost before COMMIT (it did not land), and
 * a transient error (deadlock / busy). Every write must be applied exactly once and answered only
 * after its outcome is known.
 */
import { expect, it } from 'vitest';
import { CommitUnknownError, type Dialect, type WriteTx } from '../../src/dialect/dialect';
import { MARKS, marksFrom } from '../../src/log/meta';
import { forEachBackend } from '../helpers/targets';
import { put, range as get, storePerSuite } from './helpers';

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
    throw Object.assign(new Error('injected: deadlock detected'), {
      code: dialect.name === 'sqlite' ? 'SQLITE_BUSY' : '40P01',
      errno: 1213,
    });
  };
  return { fired: () => !armed };
}

forEachBackend('commit outcome', (backend) => {
  const fx = storePerSuite(backend, 'commit');

  for (const fault of ['lost-ack', 'lost-before-commit', 'transient'] as const) {
    it(`${fault}: every write of the batch is applied exactly once, one revision each`, async () => {
      const before = fx.store.revision;
      const inj = injectOnce(fx.dialect, fault);
      const keys = Array.from({ length: 8 }, (_, i) => `${fault}/${i}`);
      const answers = await Promise.all(keys.map((k) => fx.store.put(put(k, `v-${k}`))));
      expect(inj.fired()).toBe(true);

      const revs = answers.map((a) => a.header.revision).sort((x, y) => x - y);
      expect(revs).toEqual(keys.map((_, i) => before + 1 + i));
      expect(fx.store.revision).toBe(before + keys.length);
      for (const k of keys) {
        const r = await fx.store.range(get(k));
        expect(r.kvs).toHaveLength(1);
        expect(r.kvs[0]).toMatchObject({ version: 1, create_revision: r.kvs[0].mod_revision });
        expect(r.kvs[0].value.toString()).toBe(`v-${k}`);
      }
      // The log itself holds each write once, at consecutive revisions.
      const rows = (await fx.dialect.rowsAfter(before, before + keys.length + 5)).filter((row) => row.key.toString().startsWith(fault));
      expect(rows.map((row) => row.revision)).toEqual(keys.map((_, i) => before + 1 + i));
      expect(marksFrom(await fx.dialect.readMeta(MARKS)).revision).toBe(before + keys.length);
    });
  }

  it('a failure that is not transient fails the batch once, and nothing is applied', async () => {
    const before = fx.store.revision;
    const real = fx.dialect.write.bind(fx.dialect);
    fx.dialect.write = async () => {
      fx.dialect.write = real;
      // A server's own error (not a connection problem; a full disk is NOSPACE, see disk-full.test.ts).
      throw Object.assign(new Error('injected: constraint'), {
        code: fx.dialect.name === 'sqlite' ? 'SQLITE_CONSTRAINT' : '23514',
        errno: 3819,
      });
    };
    await expect(fx.store.put(put('doomed', 'x'))).rejects.toThrow(/storage error: injected: constraint/);
    expect(fx.store.revision).toBe(before);
    expect((await fx.store.range(get('doomed'))).kvs).toHaveLength(0);
    const ok = await fx.store.put(put('after', 'y'));
    expect(ok.header.revision).toBe(before + 1);
  });
});
