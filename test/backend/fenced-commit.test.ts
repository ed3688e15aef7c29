/**
 * The group commit in one round trip (PostgreSQL's strata_commit, MySQL's multi-statement request)
 * against the real databases: taken while this instance knows nothing else committed; refused by
 * the database when another instance wrote since, after which the batch runs again under the fence
 * on the latest state; and, when the connection is lost around it, resolved by reading back before
 * anyone is answered.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseEndpoint } from '../../src/config';
import { CommitUnknownError, type Dialect, type Shortcut, type WriteTx } from '../../src/dialect/dialect';
import type { Store } from '../../src/mvcc/store';
import { putRequest } from '../helpers/requests';
import { forEachBackend } from '../helpers/targets';
import { dialectFor, put, putIf, range, storeOn } from './helpers';

/** How each write of a dialect went: in one request, or in a transaction (after a refused shortcut or none). */
interface WriteCounts {
  shortcuts: number;
  refused: number;
  transactions: number;
}

function countWrites(dialect: Dialect): WriteCounts {
  const counts: WriteCounts = { shortcuts: 0, refused: 0, transactions: 0 };
  const real = dialect.write.bind(dialect);
  dialect.write = <T>(fn: (tx: WriteTx) => Promise<T>, shortcut?: Shortcut<T>): Promise<T> => {
    if (shortcut) counts.shortcuts++;
    return real((tx) => {
      if (shortcut) counts.refused++;
      counts.transactions++;
      return fn(tx);
    }, shortcut);
  };
  return counts;
}

/** Holds the dialect's plain meta reads (the tailer's and the fence's) while closed, so the instance cannot learn of other writes. */
function gateMetaReads(dialect: Dialect): { close(): void; open(): void } {
  const real = dialect.readMeta.bind(dialect);
  let gate: Promise<void> | undefined;
  let release = () => {};
  dialect.readMeta = async (names) => {
    await gate;
    return real(names);
  };
  return {
    close: () => (gate = new Promise((r) => (release = r))),
    open: () => {
      release();
      gate = undefined;
    },
  };
}

forEachBackend(
  'fenced commit',
  (backend) => {
    let dir = '';
    let a: Store;
    let b: Store;
    let aWrites: WriteCounts;
    let aGate: { close(): void; open(): void };
    let aDialect: Dialect;
    beforeAll(async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'strata-fenced-'));
      aDialect = dialectFor(parseEndpoint(backend.endpoint(dir)));
      // Before the Log wraps the dialect, so the tailer's and the fence's reads go through the gate.
      aGate = gateMetaReads(aDialect);
      a = storeOn(aDialect);
      await a.open();
      aWrites = countWrites(aDialect);
      b = storeOn(dialectFor(parseEndpoint(backend.endpoint(dir))));
      await b.open();
    });
    afterAll(async () => {
      aGate?.open();
      await a?.close();
      await b?.close();
      backend.drop(dir);
      rmSync(dir, { recursive: true, force: true });
    });

    it('an instance that wrote last commits each batch in one request', async () => {
      await a.put(put('solo/0', 'v'));
      const before = { ...aWrites };
      const answers: Array<{ header: { revision: number } }> = [];
      for (let i = 1; i <= 5; i++) answers.push(await a.put(put(`solo/${i}`, 'v')));
      expect(aWrites.shortcuts - before.shortcuts).toBe(5);
      expect(aWrites.transactions - before.transactions).toBe(0);
      expect(answers.map((r) => r.header.revision)).toEqual(answers.map((_, i) => answers[0].header.revision + i));
      // The other instance sees every write at the revision it was answered with.
      for (const [i, r] of answers.entries()) {
        const got = await b.range(range(`solo/${i + 1}`));
        expect(got.kvs[0]?.mod_revision).toBe(r.header.revision);
      }
    });

    it('values of every size reach the database byte for byte in one request', async () => {
      await a.put(put('sizes/warm', 'x'));
      const before = { ...aWrites };
      const sizes = [0, 1, 65_535, 65_536, 100_000, 1 << 20];
      const values = sizes.map((n) => randomBytes(n));
      const answers = await Promise.all(values.map((v, i) => a.put(putRequest({ key: Buffer.from(`sizes/${i}`), value: v }))));
      expect(aWrites.transactions - before.transactions).toBe(0);
      const first = Math.min(...answers.map((r) => r.header.revision));
      const rows = await aDialect.rowsAfter(first - 1, first + sizes.length);
      for (const [i, v] of values.entries()) {
        const row = rows.find((r) => r.key.toString() === `sizes/${i}`);
        expect(row?.value.length, `value of ${sizes[i]} bytes`).toBe(v.length);
        expect(Buffer.compare(row?.value ?? Buffer.alloc(0), v), `value of ${sizes[i]} bytes`).toBe(0);
      }
    });

    it('another instance wrote meanwhile: the database refuses the request and compares see the latest state', async () => {
      await a.put(put('cas', 'old'));
      await a.put(put('warm', 'x')); // memory now where this instance's last batch left it
      aGate.close();
      try {
        // b moves the key; a cannot have learned of it (its meta reads are held).
        const moved = await b.put(put('cas', 'new'));
        const before = { ...aWrites };
        // On a's stale memory the first compare would succeed and the second fail; under the fence, the reverse.
        const [stale, fresh] = await Promise.all([a.txn(putIf('cas', 'old', 'stale', '1')), a.txn(putIf('cas', 'new', 'fresh', '1'))]);
        expect(aWrites.shortcuts - before.shortcuts).toBe(1);
        expect(aWrites.refused - before.refused).toBe(1);
        expect(stale.succeeded).toBe(false);
        expect(fresh.succeeded).toBe(true);
        // No gap: a's write takes the revision right after b's.
        expect(fresh.header.revision).toBe(moved.header.revision + 1);
        // Back in step: the next batch goes in one request again.
        const next = await a.put(put('after', 'x'));
        expect(aWrites.shortcuts - before.shortcuts).toBe(2);
        expect(aWrites.refused - before.refused).toBe(1);
        expect(next.header.revision).toBe(fresh.header.revision + 1);
      } finally {
        aGate.open();
      }
      expect((await a.range(range('stale'))).kvs).toHaveLength(0);
      expect((await b.range(range('fresh'))).kvs[0]?.value.toString()).toBe('1');
      const rows = await aDialect.rowsAfter(0, a.revision);
      const revisions = [...new Set(rows.map((r) => r.revision))];
      expect(revisions).toEqual(revisions.map((_, i) => revisions[0] + i));
    });

    for (const fault of ['lost-ack', 'lost-before-sent'] as const) {
      it(`${fault} around the one request: every write is applied once and answered after its outcome is known`, async () => {
        await a.put(put(`${fault}/warm`, 'x'));
        const real = aDialect.write.bind(aDialect);
        let fired = false;
        aDialect.write = async <T>(fn: (tx: WriteTx) => Promise<T>, shortcut?: Shortcut<T>): Promise<T> => {
          if (!shortcut || fired) return real(fn, shortcut);
          fired = true;
          if (fault === 'lost-ack') await real(fn, shortcut);
          throw new CommitUnknownError(new Error(`injected: connection lost (${fault})`));
        };
        try {
          const before = a.revision;
          const keys = Array.from({ length: 6 }, (_, i) => `${fault}/${i}`);
          const answers = await Promise.all(keys.map((k) => a.put(put(k, `v-${k}`))));
          expect(fired).toBe(true);
          const revs = answers.map((r) => r.header.revision).sort((x, y) => x - y);
          expect(revs).toEqual(keys.map((_, i) => before + 1 + i));
          const rows = (await aDialect.rowsAfter(before, before + keys.length + 5)).filter((r) => r.key.toString().startsWith(`${fault}/`));
          expect(rows.map((r) => r.revision)).toEqual(revs);
          for (const k of keys) expect((await b.range(range(k))).kvs[0]?.value.toString()).toBe(`v-${k}`);
        } finally {
          aDialect.write = real;
        }
      });
    }
  },
  ['postgres', 'mysql'],
);
