/** The SQLite dialect (better-sqlite3): one writer connection in WAL mode plus one reader. */
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import type { SqliteEndpoint } from '../../config';
import {
  cannotListen,
  DEFAULT_CAPABILITIES,
  type DbSize,
  type Dialect,
  type LeaseRow,
  type LogRow,
  type MetaValues,
  type WriteTx,
} from '../dialect';
import { SCHEMA } from './schema';

type Db = BetterSqlite3.Database;
type Stmt = BetterSqlite3.Statement;

interface RawRow {
  revision: bigint;
  sub: bigint;
  key: Buffer;
  create_revision: bigint;
  prev_revision: bigint;
  version: bigint;
  lease: bigint;
  value: Buffer;
  deleted: bigint;
}

const ROW_COLUMNS = 'revision, sub, key, create_revision, prev_revision, version, lease, value, deleted';
// SQLite's default limit on bound parameters is 32766; 9 columns per row.
const INSERT_CHUNK = 256;

type MetaRow = { name: string; value: string };

const metaMap = (rows: unknown[]): Map<string, string> => new Map((rows as MetaRow[]).map((r) => [r.name, r.value]));

/** `values` after a transaction wrote `entries` to meta (only the names `values` holds rows for). */
function applyWritten(values: MetaValues, names: readonly string[], entries: Record<string, string>): MetaValues {
  const out = new Map(values);
  for (const n of names) if (entries[n] !== undefined) out.set(n, entries[n]);
  return out;
}

/** A cached read of some meta rows, valid while the writer connection's data_version is `version`. */
interface CachedMeta {
  names: readonly string[];
  values: MetaValues;
  version: bigint;
}

function leaseRows(rows: unknown[]): LeaseRow[] {
  return (rows as Array<{ id: bigint; ttl: bigint; expires_at: bigint }>).map((r) => ({
    id: r.id,
    ttl: Number(r.ttl),
    expiresAt: Number(r.expires_at),
  }));
}

function toRow(r: RawRow): LogRow {
  return {
    revision: Number(r.revision),
    sub: Number(r.sub),
    key: r.key,
    createRevision: Number(r.create_revision),
    prevRevision: Number(r.prev_revision),
    version: Number(r.version),
    lease: r.lease,
    value: r.value,
    deleted: r.deleted !== 0n,
  };
}

export class SqliteDialect implements Dialect {
  readonly name = 'sqlite';
  // Several processes on one file poll; there is no server to announce commits.
  readonly capabilities = DEFAULT_CAPABILITIES;
  readonly listen = cannotListen('sqlite');
  private db!: Db;
  private reader!: Db;
  private stmts!: ReturnType<SqliteDialect['prepare']>;
  private insertCache = new Map<number, Stmt>();
  private metaCache = new Map<number, Stmt>();
  /** Committed meta rows by the names read, valid while data_version holds. */
  private readCache = new Map<string, CachedMeta>();

  constructor(private readonly endpoint: SqliteEndpoint) {}

  async open(): Promise<void> {
    // Imported lazily: only the dialect in use loads its driver.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Database = require('better-sqlite3') as typeof BetterSqlite3;
    const file = this.endpoint.path;
    if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.db = new Database(file, { timeout: this.endpoint.busyTimeoutMs });
    this.db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode: a commit survives a crash of this process (kill -9); FULL also survives
    // power loss at the cost of an fsync per commit. Chosen per endpoint (?_synchronous=FULL).
    this.db.pragma(`synchronous = ${this.endpoint.synchronous}`);
    this.db.defaultSafeIntegers(true);
    this.db.exec(SCHEMA);
    this.reader = new Database(file, { timeout: this.endpoint.busyTimeoutMs, readonly: true });
    this.reader.defaultSafeIntegers(true);
    this.stmts = this.prepare();
  }

  private prepare() {
    const db = this.db;
    return {
      begin: db.prepare('BEGIN IMMEDIATE'),
      commit: db.prepare('COMMIT'),
      rollback: db.prepare('ROLLBACK'),
      meta: db.prepare('SELECT name, value FROM meta WHERE name IN (SELECT value FROM json_each(?))'),
      readerMeta: this.reader.prepare('SELECT name, value FROM meta WHERE name IN (SELECT value FROM json_each(?))'),
      readerOneMeta: this.reader.prepare('SELECT value FROM meta WHERE name = ?'),
      ping: this.reader.prepare('SELECT 1'),
      setMeta: db.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value'),
      deleteMeta: db.prepare('DELETE FROM meta WHERE name = ?'),
      dataVersion: db.prepare('PRAGMA data_version').pluck(),
      rowsAfter: db.prepare(`SELECT ${ROW_COLUMNS} FROM log WHERE revision > ? AND revision <= ? ORDER BY revision, sub`),
      readerRowsAfter: this.reader.prepare(`SELECT ${ROW_COLUMNS} FROM log WHERE revision > ? AND revision <= ? ORDER BY revision, sub`),
      loadRows: this.reader.prepare(`SELECT ${ROW_COLUMNS} FROM log WHERE (revision, sub) > (?, ?) ORDER BY revision, sub LIMIT ?`),
      upsertLease: db.prepare(
        'INSERT INTO lease (id, ttl, expires_at) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET ttl = excluded.ttl, expires_at = excluded.expires_at',
      ),
      deleteLease: db.prepare('DELETE FROM lease WHERE id = ?'),
      loadLeases: db.prepare('SELECT id, ttl, expires_at FROM lease'),
      readerLoadLeases: this.reader.prepare('SELECT id, ttl, expires_at FROM lease'),
      // The predecessor is found through the primary key: (revision = prev_revision) holds few rows.
      compactPrev: db.prepare(
        `DELETE FROM log WHERE rowid IN (SELECT p.rowid FROM log n JOIN log p ON p.revision = n.prev_revision AND p.key = n.key
         WHERE n.revision > ? AND n.revision <= ? AND n.prev_revision > 0)`,
      ),
      compactTombstones: db.prepare('DELETE FROM log WHERE revision > ? AND revision <= ? AND deleted = 1'),
      pageCount: this.reader.prepare('PRAGMA page_count'),
      freeCount: this.reader.prepare('PRAGMA freelist_count'),
      pageSize: this.reader.prepare('PRAGMA page_size'),
    };
  }

  async close(): Promise<void> {
    if (!this.db) return;
    this.reader.close();
    this.db.close();
  }

  private insertStmt(n: number): Stmt {
    let s = this.insertCache.get(n);
    if (!s) {
      const one = '(?, ?, ?, ?, ?, ?, ?, ?, ?)';
      s = this.db.prepare(`INSERT INTO log (${ROW_COLUMNS}) VALUES ${Array(n).fill(one).join(', ')}`);
      this.insertCache.set(n, s);
    }
    return s;
  }

  private insert(rows: LogRow[]): void {
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
      const chunk = rows.slice(i, i + INSERT_CHUNK);
      const params: unknown[] = [];
      for (const r of chunk) {
        params.push(r.revision, r.sub, r.key, r.createRevision, r.prevRevision, r.version, r.lease, r.value, r.deleted ? 1 : 0);
      }
      this.insertStmt(chunk.length).run(...params);
    }
  }

  /** One multi-row upsert of meta rows. */
  private setMetaRows(entries: Record<string, string>): void {
    const flat = Object.entries(entries).flat();
    const n = flat.length / 2;
    let st = this.metaCache.get(n);
    if (!st) {
      const values = Array(n).fill('(?, ?)').join(', ');
      st = this.db.prepare(`INSERT INTO meta (name, value) VALUES ${values} ON CONFLICT (name) DO UPDATE SET value = excluded.value`);
      this.metaCache.set(n, st);
    }
    st.run(...flat);
  }

  async write<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T> {
    const s = this.stmts;
    // What this transaction read under the lock and wrote of meta, for the cache once it commits.
    let seen: CachedMeta | undefined;
    const written: Record<string, string> = {};
    const tx: WriteTx = {
      // BEGIN IMMEDIATE already holds the database's one write lock: that is the fence.
      // One machine, one clock: SQLite has no server of its own.
      lockMeta: async (names) => {
        const values = metaMap(s.meta.all(JSON.stringify(names)));
        seen = { names, values, version: s.dataVersion.get() as bigint };
        return { values, nowMs: Date.now() };
      },
      rowsAfter: async (after, upTo) => (s.rowsAfter.all(after, upTo) as RawRow[]).map(toRow),
      loadLeases: async () => leaseRows(s.loadLeases.all()),
      insertRows: async (rows) => this.insert(rows),
      upsertLeases: async (leases) => {
        for (const l of leases) s.upsertLease.run(l.id, l.ttl, l.expiresAt);
      },
      deleteLeases: async (ids) => {
        for (const id of ids) s.deleteLease.run(id);
      },
      setMeta: async (entries) => {
        this.setMetaRows(entries);
        Object.assign(written, entries);
      },
    };
    s.begin.run();
    try {
      const out = await fn(tx);
      s.commit.run();
      // This commit did not move data_version (it counts other connections' commits only).
      this.readCache.clear();
      if (seen) this.readCache.set(seen.names.join('\0'), { ...seen, values: applyWritten(seen.values, seen.names, written) });
      return out;
    } catch (e) {
      if (this.db.inTransaction) s.rollback.run();
      throw e;
    }
  }

  /**
   * Meta rows, usually without touching the database: `PRAGMA data_version` on the writer's
   * connection changes only when another connection (another process) commits, and this process's
   * own commits update the cache. A linearizable read thus costs a counter check (about 1 µs), not
   * a query. The check is made for every read: an answer shared by the reads of one event-loop
   * turn would be stale for a read whose request arrived after a timer (the tailer's poll) checked.
   */
  async readMeta(names: readonly string[]): Promise<MetaValues> {
    const key = names.join('\0');
    const version = this.stmts.dataVersion.get() as bigint;
    let cached = this.readCache.get(key);
    if (cached?.version !== version) {
      // Read through the reader: the writer's connection may be inside an uncommitted batch.
      cached = { names, values: metaMap(this.stmts.readerMeta.all(JSON.stringify(names))), version };
      this.readCache.set(key, cached);
    }
    return cached.values;
  }

  async ping(): Promise<void> {
    this.stmts.ping.get();
  }

  async rowsAfter(after: number, upTo: number): Promise<LogRow[]> {
    return (this.stmts.readerRowsAfter.all(after, upTo) as RawRow[]).map(toRow);
  }

  async loadRows(afterRevision: number, afterSub: number, limit: number): Promise<LogRow[]> {
    return (this.stmts.loadRows.all(afterRevision, afterSub, limit) as RawRow[]).map(toRow);
  }

  async loadLeases(): Promise<LeaseRow[]> {
    return leaseRows(this.stmts.readerLoadLeases.all());
  }

  async deleteMeta(name: string): Promise<void> {
    this.stmts.deleteMeta.run(name);
  }

  isTransient(e: unknown): boolean {
    const code = (e as { code?: string } | undefined)?.code ?? '';
    return code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED');
  }

  async getMeta(name: string): Promise<string | undefined> {
    const r = this.stmts.readerOneMeta.get(name) as { value: string } | undefined;
    return r?.value;
  }

  async compactWindow(after: number, upTo: number, progressKey: string): Promise<number> {
    const s = this.stmts;
    s.begin.run();
    try {
      // Predecessors first: a tombstone deleted first would hide the row it superseded.
      const n = s.compactPrev.run(after, upTo).changes + s.compactTombstones.run(after, upTo).changes;
      s.setMeta.run(progressKey, String(upTo));
      s.commit.run();
      return n;
    } catch (e) {
      if (this.db.inTransaction) s.rollback.run();
      throw e;
    }
  }

  async initMeta(defaults: Record<string, string>): Promise<void> {
    const insert = this.db.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING');
    this.db.transaction(() => {
      for (const [name, value] of Object.entries(defaults)) insert.run(name, value);
    })();
  }

  async defragment(): Promise<void> {
    // VACUUM rewrites the file without free pages; the checkpoint first folds the WAL in.
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    this.db.exec('VACUUM');
  }

  async dbSize(): Promise<DbSize> {
    const pages = Number(this.stmts.pageCount.pluck().get());
    const free = Number(this.stmts.freeCount.pluck().get());
    const size = Number(this.stmts.pageSize.pluck().get());
    return { size: pages * size, inUse: (pages - free) * size };
  }
}
