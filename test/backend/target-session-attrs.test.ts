/**
 * target_session_attrs against a real read-only server: a PostgreSQL standby of our own (a fresh
 * cluster restarted with standby.signal, so it is in recovery and refuses writes), named before the
 * real PostgreSQL in the endpoint. read-write and primary must pass over the standby to the
 * writable server; any takes the standby, and strata's schema creation is refused there.
 */
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEndpoint } from '../../src/config';
import { skipped } from '../helpers/notice';
import { freePort } from '../helpers/ports';
import { databaseFor, dropDatabase, PG_BASE, skippedSuite, testBackend } from '../helpers/targets';
import { dialectFor, put, range, storeOn } from './helpers';

const PG_BIN = process.env.STRATA_TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** Why a standby of our own cannot be made here, or undefined. */
function standbyUnavailable(): string | undefined {
  if (!existsSync(path.join(PG_BIN, 'initdb'))) return `no PostgreSQL server binaries at ${PG_BIN} (set STRATA_TEST_PG_BIN)`;
  if (spawnSync('id', ['-u', 'postgres']).status !== 0) return 'no "postgres" user to run a PostgreSQL server as';
  if (process.getuid?.() !== 0) return 'making a PostgreSQL server of our own needs root (to run it as "postgres")';
  return undefined;
}

function asPostgres(bin: string, args: string[]): void {
  const r = spawnSync('runuser', ['-u', 'postgres', '--', path.join(PG_BIN, bin), ...args], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')}: ${r.stderr || r.stdout}`);
}

const pg = testBackend('postgres');
const why = pg ? standbyUnavailable() : 'postgres not selected or not reachable';
if (why && pg && process.env.CI === 'true') throw new Error(`target_session_attrs suite cannot run in CI: ${why}`);
if (why) {
  if (pg) skipped('target_session_attrs suite', why);
  skippedSuite('target_session_attrs', why);
} else
  describe('target_session_attrs with a standby named first', () => {
    let dir = '';
    let data = '';
    let port = 0;
    let database = '';
    const real = new URL(PG_BASE);
    const endpoint = (attrs: string) =>
      `postgres://postgres@127.0.0.1:${port},${real.hostname}:${real.port || 5432}/${database}?sslmode=disable&target_session_attrs=${attrs}`;
    const pgCtl = (action: string) =>
      asPostgres('pg_ctl', [
        '-D',
        data,
        '-w',
        '-l',
        path.join(dir, 'log'),
        '-o',
        `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`,
        action,
      ]);

    beforeAll(async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'strata-standby-'));
      const id = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim();
      chownSync(dir, Number(id), Number(id));
      data = path.join(dir, 'data');
      port = await freePort();
      database = databaseFor(dir);
      asPostgres('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres']);
      pgCtl('start');
      // The standby holds strata's database name, so only its read-only state can turn strata away.
      const r = spawnSync('psql', [`postgres://postgres@127.0.0.1:${port}/postgres`, '-qAtc', `CREATE DATABASE ${database}`], {
        encoding: 'utf8',
      });
      if (r.status !== 0) throw new Error(r.stderr);
      pgCtl('stop');
      writeFileSync(path.join(data, 'standby.signal'), '');
      chownSync(path.join(data, 'standby.signal'), Number(id), Number(id));
      pgCtl('start');
    }, 120_000);

    afterAll(() => {
      if (data) spawnSync('runuser', ['-u', 'postgres', '--', path.join(PG_BIN, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop']);
      if (database) dropDatabase('postgres', database);
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    for (const attrs of ['read-write', 'primary']) {
      it(`${attrs}: passes over the standby to the writable server, and reports the standby down`, async () => {
        const dialect = dialectFor(parseEndpoint(endpoint(attrs)));
        const store = storeOn(dialect);
        await store.open();
        try {
          await store.put(put(`attrs/${attrs}`, 'v'));
          expect((await store.range(range(`attrs/${attrs}`))).kvs).toHaveLength(1);
          expect(dialect.hostHealth?.()).toEqual([
            { host: `127.0.0.1:${port}`, up: false, active: false },
            { host: `${real.hostname}:${real.port || 5432}`, up: true, active: true },
          ]);
          // The write is on the real server.
          const r = spawnSync('psql', [`${PG_BASE}/${database}`, '-qAtc', `SELECT count(*) FROM log WHERE key = 'attrs/${attrs}'`], {
            encoding: 'utf8',
          });
          expect(r.stdout.trim()).toBe('1');
        } finally {
          await store.close();
        }
      });
    }

    it('any: takes the first host that answers, the standby, where creating the schema is refused', async () => {
      const dialect = dialectFor(parseEndpoint(endpoint('any')));
      const store = storeOn(dialect);
      await expect(store.open()).rejects.toThrow(/read-only transaction/);
      await dialect.close().catch(() => undefined);
    });
  });
