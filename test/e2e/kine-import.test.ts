// A database written as kine writes it (kine's own table DDL per dialect and its row shapes:
// creates, updates carrying create_revision and prev_revision, a tombstone, a re-create after it, a
// TTL "lease", a gap-fill row, the compact_rev_key row moved by a compaction that deleted a
// superseded row), on every backend: strata refuses to start an empty keyspace beside it, `strata
// import --from-kine` converts it in place keeping kine's revisions, and kine's table is unchanged.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, expect, it } from 'vitest';
import { loadModule } from '../../src/dialect/load-module';
import { b, createClient } from '../helpers/client';
import { expectGrpcError } from '../helpers/grpc-error';
import { STRATA_BIN, startStrata } from '../helpers/servers';
import { rangeAll } from '../helpers/snapshot-history';
import { MYSQL_BASE, PG_BASE, databaseFor, forEachBackend, type BackendName } from '../helpers/targets';

/** kine's schema (k3s-io/kine pkg/drivers/{sqlite,pgsql,mysql}), as those drivers create it. */
const KINE_DDL: Record<Exclude<BackendName, 'galera'>, string[]> = {
  sqlite: [
    `CREATE TABLE IF NOT EXISTS kine (id INTEGER PRIMARY KEY AUTOINCREMENT, name INTEGER, created INTEGER, deleted INTEGER,
       create_revision INTEGER, prev_revision INTEGER, lease INTEGER, value BLOB, old_value BLOB)`,
    'CREATE INDEX IF NOT EXISTS kine_name_index ON kine (name)',
    'CREATE INDEX IF NOT EXISTS kine_name_id_index ON kine (name,id)',
    'CREATE INDEX IF NOT EXISTS kine_id_deleted_index ON kine (id,deleted)',
    'CREATE INDEX IF NOT EXISTS kine_prev_revision_index ON kine (prev_revision)',
    'CREATE UNIQUE INDEX IF NOT EXISTS kine_name_prev_revision_uindex ON kine (name, prev_revision)',
  ],
  postgres: [
    `CREATE TABLE IF NOT EXISTS kine (id BIGSERIAL PRIMARY KEY, name text COLLATE "C", created INTEGER, deleted INTEGER,
       create_revision BIGINT, prev_revision BIGINT, lease INTEGER, value bytea, old_value bytea)`,
    'CREATE INDEX IF NOT EXISTS kine_name_index ON kine (name)',
    'CREATE INDEX IF NOT EXISTS kine_name_id_index ON kine (name,id)',
    'CREATE INDEX IF NOT EXISTS kine_id_deleted_index ON kine (id,deleted)',
    'CREATE INDEX IF NOT EXISTS kine_prev_revision_index ON kine (prev_revision)',
    'CREATE UNIQUE INDEX IF NOT EXISTS kine_name_prev_revision_uindex ON kine (name, prev_revision)',
  ],
  mysql: [
    `CREATE TABLE IF NOT EXISTS kine (id BIGINT UNSIGNED AUTO_INCREMENT, name VARCHAR(630) CHARACTER SET ascii, created INTEGER,
       deleted INTEGER, create_revision BIGINT UNSIGNED, prev_revision BIGINT UNSIGNED, lease INTEGER, value MEDIUMBLOB,
       old_value MEDIUMBLOB, PRIMARY KEY (id))`,
    'CREATE INDEX kine_name_index ON kine (name)',
    'CREATE INDEX kine_name_id_index ON kine (name,id)',
    'CREATE INDEX kine_id_deleted_index ON kine (id,deleted)',
    'CREATE INDEX kine_prev_revision_index ON kine (prev_revision)',
    'CREATE UNIQUE INDEX kine_name_prev_revision_uindex ON kine (name, prev_revision)',
  ],
};

type Row = [
  name: string,
  created: number,
  deleted: number,
  createRevision: number,
  prevRevision: number,
  lease: number,
  value: string | null,
  oldValue: string | null,
];

/** kine's writes, in order: each INSERT takes the next id (the revision). */
const HISTORY: Array<Row | { fill: number } | { compact: number }> = [
  ['compact_rev_key', 0, 0, 0, 0, 0, '', null], // 1: created at kine's start
  ['/registry/health', 1, 0, 0, 0, 0, '{"health":"true"}', null], // 2
  ['/registry/a', 1, 0, 0, 0, 0, 'a1', null], // 3
  ['/registry/a', 0, 0, 3, 3, 0, 'a2', 'a1'], // 4
  ['/registry/b', 1, 0, 0, 0, 0, 'b1', null], // 5
  ['/registry/events/e1', 1, 0, 0, 0, 3600, 'ev', null], // 6
  ['/registry/b', 0, 1, 5, 5, 0, 'b1', 'b1'], // 7: tombstone
  { fill: 8 }, // 8: a gap kine filled
  ['/registry/b', 1, 0, 0, 7, 0, 'b2', null], // 9: re-created after its tombstone
  ['/registry/a', 0, 0, 3, 4, 0, 'a3', 'a2'], // 10
  { compact: 5 }, // kine's compaction at 5: row 3 (superseded by 4) goes, compact_rev_key moves
  ['/registry/c', 1, 0, 0, 0, 0, 'c1', null], // 11
];

interface Sql {
  exec(sql: string, params?: unknown[]): Promise<void>;
  /** kine's table as text, to show it unchanged. */
  dump(): Promise<string>;
  close(): Promise<void>;
}

async function connect(kind: BackendName, dataDir: string): Promise<Sql> {
  const db = databaseFor(dataDir);
  const dumpSql = 'SELECT id, name, created, deleted, create_revision, prev_revision, lease, value, old_value FROM kine ORDER BY id';
  if (kind === 'sqlite') {
    const Database = loadModule<typeof import('better-sqlite3')>('better-sqlite3');
    const d = new Database(path.join(dataDir, 'state.db'));
    return {
      exec: async (sql, params = []) => void d.prepare(sql).run(...params),
      dump: async () => JSON.stringify(d.prepare(dumpSql).all()),
      close: async () => void d.close(),
    };
  }
  if (kind === 'postgres') {
    const pg = loadModule<typeof import('pg')>('pg');
    const admin = new pg.Client({ connectionString: `${PG_BASE}/postgres` });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${db}"`);
    await admin.end();
    const c = new pg.Client({ connectionString: `${PG_BASE}/${db}` });
    await c.connect();
    return {
      exec: async (sql, params = []) => {
        let n = 0;
        await c.query(
          sql.replace(/\?/g, () => `$${++n}`),
          params,
        );
      },
      dump: async () => JSON.stringify((await c.query(dumpSql)).rows),
      close: () => c.end(),
    };
  }
  const mysql = loadModule<typeof import('mysql2/promise')>('mysql2/promise');
  const m = /^mysql:\/\/([^:@]*)(?::([^@]*))?@tcp\(([^:)]+)(?::(\d+))?\)/.exec(MYSQL_BASE)!;
  const conf = { user: m[1], password: m[2], host: m[3], port: Number(m[4] ?? 3306) };
  const admin = await mysql.createConnection(conf);
  await admin.query(`CREATE DATABASE \`${db}\``);
  await admin.end();
  const c = await mysql.createConnection({ ...conf, database: db });
  return {
    exec: async (sql, params = []) => void (await c.query(sql, params)),
    dump: async () => JSON.stringify((await c.query(dumpSql))[0]),
    close: () => c.end(),
  };
}

/** Writes HISTORY with kine's statements (its insert, its gap fill, its compaction's effect). */
async function writeKine(kind: BackendName, sql: Sql): Promise<void> {
  for (const stmt of KINE_DDL[kind === 'galera' ? 'mysql' : kind]) await sql.exec(stmt);
  const buf = (v: string | null) => (v === null ? null : Buffer.from(v));
  for (const h of HISTORY) {
    if (!Array.isArray(h) && 'fill' in h) {
      // The id was taken by an insert that rolled back (why kine fills gaps); a sequence has moved past it.
      if (kind === 'postgres') await sql.exec("SELECT nextval(pg_get_serial_sequence('kine', 'id'))");
      await sql.exec(
        'INSERT INTO kine(id, name, created, deleted, create_revision, prev_revision, lease, value, old_value) values(?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [h.fill, `gap-${h.fill}`, 0, 1, 0, 0, 0, null, null],
      );
    } else if (!Array.isArray(h) && 'compact' in h) {
      await sql.exec('DELETE FROM kine WHERE id = 3');
      await sql.exec("UPDATE kine SET prev_revision = ? WHERE name = 'compact_rev_key'", [h.compact]);
    } else if (Array.isArray(h)) {
      const [name, created, deleted, cr, prev, lease, value, old] = h;
      await sql.exec(
        'INSERT INTO kine(name, created, deleted, create_revision, prev_revision, lease, value, old_value) values(?, ?, ?, ?, ?, ?, ?, ?)',
        [name, created, deleted, cr, prev, lease, buf(value), buf(old)],
      );
    }
  }
}

const kv = (key: string, value: string, create: number, mod: number, version: number, lease = 0) =>
  `${Buffer.from(key).toString('hex')} = ${Buffer.from(value).toString('hex')} create ${create} mod ${mod} version ${version} lease ${lease}`;

forEachBackend('kine database adopted', (backend) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'strata-kine-'));
  const endpoint = backend.endpoint(dataDir);
  afterAll(() => {
    backend.drop(dataDir);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('is refused empty on start, converted in place with its revisions, and its table left as it was', async () => {
    const sql = await connect(backend.name, dataDir);
    try {
      await writeKine(backend.name, sql);
      const before = await sql.dump();

      const refused = spawnSync(process.execPath, [STRATA_BIN, '--listen-address', '127.0.0.1:0', '--endpoint', endpoint], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain("holds kine's table");
      expect(refused.stderr).toContain('strata import --from-kine');

      const r = spawnSync(process.execPath, [STRATA_BIN, 'import', '--from-kine', endpoint], { encoding: 'utf8', timeout: 60_000 });
      expect(r.stderr).toContain('revision 11, compact revision 5');
      expect(r.status).toBe(0);

      const s = await startStrata({ endpoint, dataDir });
      const c = createClient(s.address);
      try {
        // Versions are counted from the rows kine still held: /registry/a's create (3) was compacted away.
        expect(await rangeAll(c)).toEqual([
          kv('/registry/a', 'a3', 3, 10, 2),
          kv('/registry/b', 'b2', 9, 9, 1),
          kv('/registry/c', 'c1', 11, 11, 1),
          kv('/registry/events/e1', 'ev', 6, 6, 1, 3600),
          kv('/registry/health', '{"health":"true"}', 2, 2, 1),
        ]);
        expect(Number((await c.kv.Range({ key: b('/registry/a') })).header.revision)).toBe(11);
        expect(await rangeAll(c, 7)).toEqual([
          kv('/registry/a', 'a2', 3, 4, 1),
          kv('/registry/events/e1', 'ev', 6, 6, 1, 3600),
          kv('/registry/health', '{"health":"true"}', 2, 2, 1),
        ]);
        expect(await rangeAll(c, 5)).toContain(kv('/registry/b', 'b1', 5, 5, 1));
        await expectGrpcError(
          c.kv.Range({ key: b('/registry/a'), revision: 4 }),
          grpc.status.OUT_OF_RANGE,
          'etcdserver: mvcc: required revision has been compacted',
        );
        // kine's TTL "lease" 3600 (its lease id is the TTL) is a lease of that id and TTL.
        const ttl = await c.lease.LeaseTimeToLive({ ID: '3600', keys: true });
        expect(Number(ttl.grantedTTL)).toBe(3600);
        expect((ttl.keys as Buffer[]).map((k) => Buffer.from(k).toString())).toEqual(['/registry/events/e1']);
        // The store goes on from kine's revision.
        const put = await c.kv.Put({ key: b('/registry/d'), value: b('d1') });
        expect(Number(put.header.revision)).toBe(12);
      } finally {
        c.close();
        expect(await s.stop()).toBe(0);
      }
      expect(await sql.dump()).toBe(before);
    } finally {
      await sql.close();
    }
  }, 60_000);
});
