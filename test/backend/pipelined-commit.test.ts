/**
 * Pipelining (--datastore-pipelined-commits) against the real databases: while one batch's commit
 * request is in flight, the next is sent behind it on another connection. The first batch is held in the database by a fence
 * row lock taken from outside, so the second is provably sent while the first is in flight. Then
 * the first fails for real (its backend terminated, its connection killed) or another instance
 * commits between the two: no caller of the second batch may be told success for a write the
 * database does not hold, nothing may be applied twice, revisions stay gapless, and compares see
 * the state that did happen.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { parseEndpoint } from '../../src/config';
import type { Dialect } from '../../src/dialect/dialect';
import { MARKS, marksFrom } from '../../src/log/meta';
import type { Store } from '../../src/mvcc/store';
import { databaseFor, MYSQL_BASE, PG_BASE, type Backend } from '../helpers/targets';
import { forEachBackend } from '../helpers/targets';
import { dialectFor, put, putIf, range, storeOn } from './helpers';

/** A plain connection to the test database, beside strata's. */
interface Admin {
  /** Takes the fence's revision row lock in an open transaction: every writer waits behind it. */
  holdFence(): Promise<void>;
  releaseFence(): Promise<void>;
  /** Connections of strata waiting for a row lock. */
  lockWaiters(): Promise<string[]>;
  /** Ends one of strata's connections the way the server does when an operator kills it. */
  kill(id: string): Promise<void>;
  close(): Promise<void>;
}

async function pgAdmin(database: string): Promise<Admin> {
  const holder = new pg.Client({ connectionString: `${PG_BASE}/${database}` });
  const watcher = new pg.Client({ connectionString: `${PG_BASE}/${database}` });
  await holder.connect();
  await watcher.connect();
  return {
    holdFence: async () => {
      await holder.query('BEGIN');
      await holder.query("SELECT 1 FROM meta WHERE name = 'revision' FOR UPDATE");
    },
    releaseFence: async () => void (await holder.query('COMMIT')),
    lockWaiters: async () =>
      (
        await watcher.query<{ pid: number }>(
          "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
      ).rows.map((r) => String(r.pid)),
    kill: async (id) => void (await watcher.query('SELECT pg_terminate_backend($1)', [Number(id)])),
    close: async () => {
      await holder.end();
      await watcher.end();
    },
  };
}

async function mysqlAdmin(database: string): Promise<Admin> {
  const m = /^mysql:\/\/([^:@]*)(?::([^@]*))?@tcp\(([^:)]+)(?::(\d+))?\)/.exec(MYSQL_BASE);
  if (!m) throw new Error(`unexpected STRATA_TEST_MYSQL ${MYSQL_BASE}`);
  const options = { user: m[1], password: m[2], host: m[3], port: Number(m[4] ?? '3306'), database };
  const holder = await mysql.createConnection(options);
  const watcher = await mysql.createConnection(options);
  return {
    holdFence: async () => {
      await holder.query('START TRANSACTION');
      await holder.query("SELECT 1 FROM meta WHERE name = 'revision' FOR UPDATE");
    },
    releaseFence: async () => void (await holder.query('COMMIT')),
    lockWaiters: async () => {
      // Statements that lock the fence rows, running while the holder has them.
      const [rows] = await watcher.query<Array<{ id: number } & mysql.RowDataPacket>>(
        `SELECT ID AS id FROM information_schema.processlist
         WHERE DB = DATABASE() AND COMMAND IN ('Query', 'Execute') AND INFO LIKE '%FOR UPDATE%' AND ID <> CONNECTION_ID()`,
      );
      return rows.map((r) => String(r.id));
    },
    kill: async (id) => void (await watcher.query(`KILL ${Number(id)}`)),
    close: async () => {
      await holder.end();
      await watcher.end();
    },
  };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const got = await probe();
    if (got !== undefined) return got;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Waits until `n` of strata's requests wait on the held fence; returns them. */
const waiters = (admin: Admin, n: number): Promise<string[]> =>
  until(`${n} requests waiting on the fence`, async () => {
    const w = await admin.lockWaiters();
    return w.length >= n ? w : undefined;
  });

/** Every answered revision holds exactly the answered write, once; the log's revisions since `before` have no gap. */
async function expectLogMatches(
  dialect: Dialect,
  before: number,
  answered: Map<string, { revision: number; value: string }>,
): Promise<void> {
  const marks = marksFrom(await dialect.readMeta(MARKS));
  const rows = await dialect.rowsAfter(before, marks.revision);
  const revisions = [...new Set(rows.map((r) => r.revision))];
  expect(revisions).toEqual(revisions.map((_, i) => before + 1 + i));
  expect(revisions.at(-1) ?? before).toBe(marks.revision);
  for (const [key, { revision, value }] of answered) {
    const ofKey = rows.filter((r) => r.key.toString() === key);
    expect(
      ofKey.map((r) => r.revision),
      key,
    ).toEqual([revision]);
    expect(ofKey[0].value.toString(), key).toBe(value);
  }
}

forEachBackend(
  'pipelined commit',
  (backend: Backend) => {
    let dir = '';
    let a: Store;
    let aDialect: Dialect;
    let admin: Admin;
    beforeEach(async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'strata-pipelined-'));
      aDialect = dialectFor(parseEndpoint(backend.endpoint(dir)));
      a = storeOn(aDialect, true);
      await a.open();
      await a.put(put('warm', 'x')); // memory is where this instance's last batch left it
      admin = await (backend.name === 'postgres' ? pgAdmin : mysqlAdmin)(databaseFor(dir));
    });
    afterEach(async () => {
      await admin?.close();
      await a?.close();
      backend.drop(dir);
      rmSync(dir, { recursive: true, force: true });
    });

    it('a batch is sent while the one ahead is in flight, and both commit in revision order', async () => {
      const before = a.revision;
      await admin.holdFence();
      const first = Promise.all(['p/1', 'p/2'].map((k) => a.put(put(k, `v-${k}`))));
      await waiters(admin, 1);
      const second = Promise.all([a.put(put('p/3', 'v-p/3')), a.txn(putIf('p/1', 'v-p/1', 'p/4', 'v-p/4'))]);
      // Sent behind the first, which has not committed: both wait on the fence in the database.
      await waiters(admin, 2);
      await admin.releaseFence();
      const [[r1, r2], [r3, t4]] = await Promise.all([first, second]);
      expect([r1.header.revision, r2.header.revision]).toEqual([before + 1, before + 2]);
      expect(r3.header.revision).toBe(before + 3);
      // Evaluated against the first batch's changes before they had committed.
      expect(t4.succeeded).toBe(true);
      expect(t4.header.revision).toBe(before + 4);
      await expectLogMatches(
        aDialect,
        before,
        new Map(['p/1', 'p/2', 'p/3', 'p/4'].map((k, i) => [k, { revision: before + 1 + i, value: `v-${k}` }])),
      );
    });

    it('the batch ahead loses its connection: the one behind is taken back and run again, each write applied once', async () => {
      const before = a.revision;
      await admin.holdFence();
      const firstKeys = ['k/1', 'k/2', 'k/3'];
      const first = Promise.all(firstKeys.map((k) => a.put(put(k, `v-${k}`))));
      const [ahead] = await waiters(admin, 1);
      const second = Promise.all([
        a.put(put('k/4', 'v-k/4')),
        // On memory with the first batch in it this succeeds; run again, it must see what committed.
        a.txn(putIf('k/1', 'v-k/1', 'k/5', 'v-k/5')),
      ]);
      await waiters(admin, 2);
      await admin.kill(ahead);
      await admin.releaseFence();
      const [firstAnswers, [r4, t5]] = await Promise.all([first, second]);
      // The first batch did not land and was retried; the second was evaluated again behind it.
      const answered = new Map<string, { revision: number; value: string }>();
      firstAnswers.forEach((r, i) => answered.set(firstKeys[i], { revision: r.header.revision, value: `v-${firstKeys[i]}` }));
      answered.set('k/4', { revision: r4.header.revision, value: 'v-k/4' });
      expect(t5.succeeded).toBe(true);
      answered.set('k/5', { revision: t5.header.revision, value: 'v-k/5' });
      expect([...answered.values()].map((x) => x.revision).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5].map((i) => before + i));
      expect(Math.max(...firstAnswers.map((r) => r.header.revision))).toBeLessThan(r4.header.revision);
      await expectLogMatches(aDialect, before, answered);
      expect(a.revision).toBe(before + 5);
      for (const [k, { value }] of answered) expect((await a.range(range(k))).kvs[0]?.value.toString()).toBe(value);
    });

    it('another instance commits between the two: the one behind is refused, and its compares see that commit', async () => {
      const b = storeOn(dialectFor(parseEndpoint(backend.endpoint(dir))));
      await b.open();
      try {
        await a.put(put('cas', 'old'));
        const before = a.revision;
        await admin.holdFence();
        const first = a.put(put('first', 'v'));
        await waiters(admin, 1);
        // b has not written yet: it takes the fence under a transaction, queued right behind a's first batch.
        const moved = b.put(put('cas', 'new'));
        await waiters(admin, 2);
        // a's memory still says cas = old: the first compare passes there, the second under the truth.
        const second = Promise.all([a.txn(putIf('cas', 'old', 'stale', '1')), a.txn(putIf('cas', 'new', 'fresh', '1'))]);
        await waiters(admin, 3);
        await admin.releaseFence();
        const [f, m, [stale, fresh]] = await Promise.all([first, moved, second]);
        expect(f.header.revision).toBe(before + 1);
        expect(m.header.revision).toBe(before + 2);
        expect(stale.succeeded).toBe(false);
        expect(fresh.succeeded).toBe(true);
        expect(fresh.header.revision).toBe(before + 3);
        await expectLogMatches(
          aDialect,
          before,
          new Map([
            ['first', { revision: before + 1, value: 'v' }],
            ['cas', { revision: before + 2, value: 'new' }],
            ['fresh', { revision: before + 3, value: '1' }],
          ]),
        );
        expect((await a.range(range('stale'))).kvs).toHaveLength(0);
        expect((await b.range(range('fresh'))).kvs[0]?.value.toString()).toBe('1');
      } finally {
        await b.close();
      }
    });
  },
  ['postgres', 'mysql'],
);
