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
        await s.leaseGrant(0n, 60);
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

  it('refuses a database written by a newer strata, and leaves it untouched', async () => {
    await rawSql(endpoint, ["UPDATE meta SET value = '99' WHERE name = 'schema_version'"]);
    await expect(withStore(endpoint, async () => undefined)).rejects.toThrow(/schema version 99 is newer than this strata/);
    expect(await meta(endpoint, 'schema_version')).toBe('99');
    await rawSql(endpoint, [`UPDATE meta SET value = '${SCHEMA_VERSION}' WHERE name = 'schema_version'`]);
  });
});
