/**
 * The engines we cannot run, exercised through their rules on the engines we can: a
 * `cockroachdb://` endpoint on the real PostgreSQL and a `tidb://` endpoint on the real MariaDB.
 * A trigger on the log table fails the first INSERT with the engine's own retry code (SQLSTATE
 * 40001; TiDB's write conflict, error 9007), raised by the server itself; a non-transactional
 * sequence counts the attempts. The write must be retried and acknowledged exactly once, and the
 * same failure under rules that do not list the code must fail the write with nothing applied.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { createConnection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEndpoint } from '../../src/config';
import type { Dialect } from '../../src/dialect/dialect';
import { batchByteCap } from '../../src/dialect/rules';
import { Log } from '../../src/log/log';
import { Store } from '../../src/mvcc/store';
import { databaseFor, dropDatabase, MYSQL_BASE, PG_BASE, skippedSuite, testBackend } from '../helpers/targets';
import { dialectFor, log, OPTS, put, range, storeOn } from './helpers';

interface Fixture {
  dir: string;
  database: string;
  opened: Array<{ dialect: Dialect; store: Store }>;
}

function fixture(name: string, kind: 'postgres' | 'mysql'): Fixture {
  const fx: Fixture = { dir: '', database: '', opened: [] };
  beforeAll(() => {
    fx.dir = mkdtempSync(path.join(tmpdir(), `strata-${name}-`));
    fx.database = databaseFor(fx.dir);
  });
  afterAll(async () => {
    for (const o of fx.opened.reverse()) await o.store.close();
    dropDatabase(kind, fx.database);
    rmSync(fx.dir, { recursive: true, force: true });
  });
  return fx;
}

async function open(fx: Fixture, endpoint: string): Promise<{ dialect: Dialect; store: Store }> {
  const dialect = dialectFor(parseEndpoint(endpoint));
  const store = storeOn(dialect);
  await store.open();
  const o = { dialect, store };
  fx.opened.push(o);
  return o;
}

async function expectAppliedOnce(store: Store, dialect: Dialect, key: string, before: number): Promise<void> {
  const r = await store.range(range(key));
  expect(r.kvs).toHaveLength(1);
  expect(r.kvs[0]).toMatchObject({ version: 1, mod_revision: before + 1 });
  const rows = (await dialect.rowsAfter(before, before + 10)).filter((row) => row.key.toString() === key);
  expect(rows.map((row) => row.revision)).toEqual([before + 1]);
}

const pgBackend = testBackend('postgres');
if (!pgBackend) skippedSuite('engine rules on PostgreSQL', 'postgres not selected or not reachable');
else
  describe('cockroachdb:// rules on the real PostgreSQL', () => {
    const fx = fixture('crdb-rules', 'postgres');
    const base = PG_BASE.replace(/^postgres(ql)?:/, 'cockroachdb:');
    let sql: Client;
    afterAll(async () => sql?.end());

    it('polls instead of listening, and creates no NOTIFY trigger', async () => {
      const { dialect } = await open(fx, `${base}/${fx.database}?sslmode=disable`);
      expect(dialect.capabilities).toMatchObject({ engine: 'cockroachdb', notifications: false, advisoryLocks: 'none' });
      sql = new Client({ connectionString: `${PG_BASE}/${fx.database}` });
      await sql.connect();
      const triggers = await sql.query("SELECT tgname FROM pg_trigger WHERE tgrelid = 'meta'::regclass AND NOT tgisinternal");
      expect(triggers.rows).toEqual([]);
    });

    /**
     * Fails the first attempt of the next put with SQLSTATE `state`, raised by a trigger on log
     * (`deferred`: at COMMIT), and checks the put is acknowledged once after exactly two attempts.
     */
    const failOnce = async (name: string, state: string, deferred: boolean) => {
      const { dialect, store } = fx.opened[0];
      await sql.query(`CREATE SEQUENCE ${name}_attempts`);
      await sql.query(`CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF nextval('${name}_attempts') = 1 THEN
            RAISE EXCEPTION 'injected: %', '${state}' USING ERRCODE = '${state}';
          END IF;
          RETURN NULL;
        END $$`);
      await sql.query(
        deferred
          ? `CREATE CONSTRAINT TRIGGER ${name} AFTER INSERT ON log DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ${name}()`
          : `CREATE TRIGGER ${name} AFTER INSERT ON log FOR EACH ROW EXECUTE FUNCTION ${name}()`,
      );
      try {
        const before = store.revision;
        const answer = await store.put(put(`crdb/${name}`, 'v'));
        expect(answer.header.revision).toBe(before + 1);
        // One failed attempt, one that committed: the sequence is not rolled back with either.
        expect((await sql.query(`SELECT last_value FROM ${name}_attempts`)).rows[0].last_value).toBe('2');
        await expectAppliedOnce(store, dialect, `crdb/${name}`, before);
      } finally {
        await sql.query(`DROP TRIGGER ${name} ON log`);
      }
    };

    it('retries a serialization failure (40001) raised by the server, and acknowledges the write once', () =>
      failOnce('serialization_fault', '40001', false));

    // A deferred constraint trigger runs inside COMMIT: the COMMIT itself fails, as CockroachDB's would.
    it('reads back a COMMIT answered "statement completion unknown" (40003), then retries it once', () =>
      failOnce('commit_fault', '40003', true));

    it("keeps each write batch under CockroachDB's transaction cap: the rest of the queue waits for the next", async () => {
      const jobs: number[] = [];
      const dialect = dialectFor(parseEndpoint(`${base}/${fx.database}?sslmode=disable`));
      const observer = { sql: () => undefined, retry: () => undefined, commit: (_s: number, n: number) => void jobs.push(n) };
      const store = new Store(new Log(dialect, log, { pollIntervalMs: OPTS.pollIntervalMs, observer }), log, {
        watchProgressNotifyIntervalMs: 60_000,
      });
      await store.open();
      fx.opened.push({ dialect, store });
      const MiB = Buffer.alloc(1 << 20, 'x').toString();
      const cap = batchByteCap(dialect.capabilities) / (1 << 20);
      const n = 2 * cap + 4;
      const before = store.revision;
      const answers = await Promise.all(Array.from({ length: n }, (_, i) => store.put(put(`cap/${i}`, MiB))));
      expect(answers.map((a) => a.header.revision).sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => before + 1 + i));
      // A batch stops taking jobs once it holds more than the cap: at most one job past it.
      expect(jobs.reduce((a, b) => a + b, 0)).toBe(n);
      expect(Math.max(...jobs)).toBeLessThanOrEqual(cap + 1);
      expect(jobs.length).toBeGreaterThanOrEqual(3);
    });
  });

const myBackend = testBackend('mysql');
if (!myBackend) skippedSuite('engine rules on MariaDB', 'mysql not selected or not reachable');
else
  describe('tidb:// rules on the real MariaDB', () => {
    const fx = fixture('tidb-rules', 'mysql');
    const m = /^mysql:\/\/([^:@]*)(?::([^@]*))?@tcp\(([^:)]+)(?::(\d+))?\)/.exec(MYSQL_BASE);
    let sql: Awaited<ReturnType<typeof createConnection>>;
    afterAll(async () => sql?.end());

    const arm = async () => {
      await sql.query('DROP SEQUENCE IF EXISTS fault_attempts');
      await sql.query('CREATE SEQUENCE fault_attempts');
    };
    const attempts = async () => Number(((await sql.query('SELECT NEXTVAL(fault_attempts) - 1 AS n'))[0] as Array<{ n: unknown }>)[0].n);

    it("retries TiDB's write conflict (9007) only under TiDB's rules", async () => {
      const plain = await open(fx, `${MYSQL_BASE}/${fx.database}`);
      const tidb = await open(fx, `${MYSQL_BASE.replace(/^mysql:/, 'tidb:')}/${fx.database}`);
      expect(tidb.dialect.capabilities.retryCodes).toContain('9007');
      expect(plain.dialect.capabilities.retryCodes).not.toContain('9007');
      // mysql:// tells MySQL from MariaDB by the server's version.
      expect(plain.dialect.capabilities.engine).toBe('mariadb');
      sql = await createConnection({ host: m?.[3], port: Number(m?.[4] ?? 3306), user: m?.[1], password: m?.[2], database: fx.database });
      await sql.query('CREATE SEQUENCE fault_attempts');
      await sql.query(`CREATE TRIGGER fault_once BEFORE INSERT ON log FOR EACH ROW
        BEGIN
          IF NEXTVAL(fault_attempts) = 1 THEN
            SIGNAL SQLSTATE 'HY000' SET MYSQL_ERRNO = 9007, MESSAGE_TEXT = 'injected: write conflict';
          END IF;
        END`);
      try {
        // MariaDB's own rules do not know 9007: the write fails once, nothing applied.
        let before = plain.store.revision;
        await expect(plain.store.put(put('tidb/plain', 'v'))).rejects.toThrow(/write conflict/);
        expect(await attempts()).toBe(1);
        expect((await plain.store.range(range('tidb/plain'))).kvs).toEqual([]);
        expect((await plain.dialect.rowsAfter(before, before + 10)).length).toBe(0);

        await arm();
        before = tidb.store.revision;
        const answer = await tidb.store.put(put('tidb/k', 'v'));
        expect(answer.header.revision).toBe(before + 1);
        expect(await attempts()).toBe(2);
        await expectAppliedOnce(tidb.store, tidb.dialect, 'tidb/k', before);
      } finally {
        await sql.query('DROP TRIGGER fault_once');
      }
    });
  });
