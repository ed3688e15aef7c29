/**
 * Schema versions on every backend: a database left by schema 1 (strata's first release, SQLite
 * only, with a (key, revision) index and no lease_stamp mark) is upgraded in place without losing a
 * row; opening again changes nothing; a database newer than the binary is refused.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import { Client } from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseEndpoint, type Endpoint } from '../../src/config';
import { SCHEMA_VERSION } from '../../src/log/schema';
import { NO_CREDENTIALS } from '../../src/mvcc/auth/types';
import type { Store } from '../../src/mvcc/store';
import { forEachBackend } from '../helpers/targets';
import { dialectFor, put, range, storeOn } from './helpers';

/** Raw SQL on the backend's database, outside strata. */
async function rawSql(e: Endpoint, statements: string[]): Promise<Array<Record<string, unknown>[]>> {
  const out: Array<Record<string, unknown>[]> = [];
  if (e.kind === 'sqlite') {
    const db = new Database(e.path);
    try {
      for (const st of statements)
        out.push(st.trim().toUpperCase().startsWith('SELECT') ? (db.prepare(st).all() as Record<string, unknown>[]) : (db.exec(st), []));
    } finally {
      db.close();
    }
  } else if (e.kind === 'postgres') {
    const c = new Client({ host: e.host, port: e.port, user: e.user, password: e.password, database: e.database });
    await c.connect();
    try {
      for (const st of statements) out.push((await c.query(st)).rows);
    } finally {
      await c.end();
    }
  } else {
    const c = await mysql.createConnection({ host: e.host, port: e.port, user: e.user, password: e.password, database: e.database });
    try {
      for (const st of statements) out.push((await c.query(st))[0] as Record<string, unknown>[]);
    } finally {
      await c.end();
    }
  }
  return out;
}

async function withStore<T>(e: Endpoint, fn: (s: Store) => Promise<T>): Promise<T> {
  const store = storeOn(dialectFor(e));
  await store.open();
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

const meta = async (e: Endpoint, name: string): Promise<unknown> =>
  (await rawSql(e, [`SELECT value FROM meta WHERE name = '${name}'`]))[0][0]?.value;

forEachBackend('schema versions', (backend) => {
  let dir: string;
  let endpoint: Endpoint;

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'strata-schema-'));
    endpoint = parseEndpoint(backend.endpoint(dir));
  });
  afterAll(() => {
    backend.drop(dir);
    rmSync(dir, { recursive: true, force: true });
  });

  it('upgrades a schema-1 database in place, keeping every row, and a second open changes nothing', async () => {
    await withStore(endpoint, async (s) => {
      for (let i = 0; i < 5; i++) await s.put(put(`k${i}`, `v${i}`));
    });
    const index =
      endpoint.kind === 'mysql'
        ? 'ALTER TABLE log ADD INDEX log_key_revision (`key`, revision)'
        : 'CREATE INDEX log_key_revision ON log (key, revision)';
    await rawSql(endpoint, [
      index,
      "UPDATE meta SET value = '1' WHERE name = 'schema_version'",
      "DELETE FROM meta WHERE name = 'lease_stamp'",
    ]);

    for (let open = 0; open < 2; open++) {
      await withStore(endpoint, async (s) => {
        expect(s.revision).toBe(6);
        const r = await s.range(range('k', 'l'));
        expect(r.kvs.map((kv) => kv.value.toString())).toEqual(['v0', 'v1', 'v2', 'v3', 'v4']);
        // Writes work after the upgrade, and the new mark is maintained.
        await s.lease.grant(0n, 60);
      });
      expect(await meta(endpoint, 'schema_version')).toBe(String(SCHEMA_VERSION));
      expect(await meta(endpoint, 'lease_stamp')).toBeDefined();
    }
    if (endpoint.kind !== 'mysql') {
      // MySQL never shipped schema 1; on the others the unused index is gone.
      const q =
        endpoint.kind === 'sqlite'
          ? "SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'log_key_revision'"
          : "SELECT indexname AS name FROM pg_indexes WHERE indexname = 'log_key_revision'";
      expect((await rawSql(endpoint, [q]))[0]).toEqual([]);
    }
  });

  it('upgrades a schema-2 database: the auth tables and marks appear, users and roles then persist', async () => {
    const oldTrigger =
      endpoint.kind === 'postgres'
        ? [
            'DROP TRIGGER IF EXISTS meta_notify ON meta',
            `CREATE TRIGGER meta_notify AFTER INSERT OR UPDATE ON meta FOR EACH ROW
             WHEN (NEW.name IN ('compact_revision', 'lease_stamp', 'revision')) EXECUTE FUNCTION strata_notify()`,
          ]
        : [];
    await rawSql(endpoint, [
      'DROP TABLE auth_user',
      'DROP TABLE auth_role',
      "DELETE FROM meta WHERE name IN ('auth_revision', 'auth_enabled', 'auth_token_secret')",
      "UPDATE meta SET value = '2' WHERE name = 'schema_version'",
      ...oldTrigger,
    ]);
    await withStore(endpoint, async (s) => {
      await s.authWrite((a, b) => {
        a.userAdd(b, NO_CREDENTIALS, 'root', { hash: 'h' });
        a.userGrantRole(b, NO_CREDENTIALS, 'root', 'root');
        a.roleAdd(b, NO_CREDENTIALS, 'app');
        a.roleGrantPermission(b, NO_CREDENTIALS, 'app', { permType: 2, key: Buffer.from('/a/'), rangeEnd: Buffer.from('/a0') });
      });
    });
    expect(await meta(endpoint, 'schema_version')).toBe(String(SCHEMA_VERSION));
    expect(await meta(endpoint, 'auth_revision')).toBe('5');
    expect(await meta(endpoint, 'auth_enabled')).toBe('0');
    expect(String(await meta(endpoint, 'auth_token_secret'))).toMatch(/^[0-9a-f]{64}$/);
    if (endpoint.kind === 'postgres') {
      const [[t]] = await rawSql(endpoint, ["SELECT pg_get_triggerdef(oid) AS def FROM pg_trigger WHERE tgname = 'meta_notify'"]);
      expect(String(t.def)).toContain('auth_revision');
    }
    await withStore(endpoint, async (s) => {
      expect(await s.authRead((a) => a.userList(NO_CREDENTIALS))).toEqual(['root']);
      expect(await s.authRead((a) => a.userGet(NO_CREDENTIALS, 'root'))).toEqual(['root']);
      expect(await s.authRead((a) => a.roleGet(NO_CREDENTIALS, 'app'))).toEqual([
        { permType: 2, key: Buffer.from('/a/'), rangeEnd: Buffer.from('/a0') },
      ]);
      await s.authWrite((a, b) => a.enable(b, NO_CREDENTIALS));
      expect(s.authEnabled).toBe(true);
    });
    await withStore(endpoint, async (s) => {
      expect(s.authEnabled).toBe(true);
      expect(await s.authRead((a) => a.status({ kind: 'cert', user: 'root' }))).toEqual({ enabled: true, authRevision: 5 });
      await s.authWrite((a, b) => a.disable(b, { kind: 'cert', user: 'root' }));
    });
  });

  it('refuses a database written by a newer strata, and leaves it untouched', async () => {
    await rawSql(endpoint, ["UPDATE meta SET value = '99' WHERE name = 'schema_version'"]);
    await expect(withStore(endpoint, async () => undefined)).rejects.toThrow(/schema version 99 is newer than this strata/);
    expect(await meta(endpoint, 'schema_version')).toBe('99');
    await rawSql(endpoint, [`UPDATE meta SET value = '${SCHEMA_VERSION}' WHERE name = 'schema_version'`]);
  });
});
