/** The SQLite dialect: one writer connection in WAL mode plus one reader, all calls synchronous. */
import type { Logger } from 'pino';
import type { SqliteEndpoint } from '../../config';
import { authName, encodeRole, encodeUser, toAuthRows, type RawAuthRowOfKind } from '../auth-rows';
import {
  cannotListen,
  type AuthRows,
  type ConsistentRead,
  type KineRow,
  type OpenOptions,
  type DbSize,
  type Dialect,
  type LeaseRow,
  type LogRow,
  type MetaValues,
  type WriteTx,
} from '../dialect';
import { insertChunks } from '../chunks';
import {
  toKineRow,
  toLeaseRow,
  toLogRow,
  toMetaValues,
  type RawKineRow,
  type RawLeaseRow,
  type RawLogColumns,
  type RawMetaRow,
} from '../rows';
import { SqliteDriver } from './driver';
import { ENGINE_RULES } from '../rules';
import { isDiskFull, isTransient } from './errors';
import { SCHEMA } from './schema';
import { KINE_SQL, prepareConsistentReader, prepareStatements, PRAGMAS, VACUUM, type Statements } from './statements';

// SQLite's default limit on bound parameters is 32766; 9 columns per row.
const INSERT_CHUNK_ROWS = 256;

/** A cached read of some meta rows, valid while the writer connection's data_version is `version`. */
interface CachedMeta {
  names: readonly string[];
  values: MetaValues;
  version: bigint;
}

const logRows = (rows: unknown[]): LogRow[] => (rows as RawLogColumns[]).map(toLogRow);
const leaseRows = (rows: unknown[]): LeaseRow[] => (rows as RawLeaseRow[]).map(toLeaseRow);
const metaValues = (rows: unknown[]): MetaValues => toMetaValues(rows as RawMetaRow[]);
const authRows = (rows: unknown[]): AuthRows => toAuthRows(rows as RawAuthRowOfKind[]);

/** `values` after a transaction wrote `entries` to meta (only the names `values` holds rows for). */
function applyWritten(values: MetaValues, names: readonly string[], entries: Record<string, string>): MetaValues {
  const out = new Map(values);
  for (const n of names) if (entries[n] !== undefined) out.set(n, entries[n]);
  return out;
}

export class SqliteDialect implements Dialect {
  readonly name = 'sqlite';
  // Several processes on one file poll; there is no server to announce commits.
  readonly capabilities = ENGINE_RULES.sqlite;
  readonly listen = cannotListen('sqlite');
  readonly isTransient = isTransient;
  readonly isDiskFull = isDiskFull;
  /** A file is never unreachable in the sense of a server outage. */
  readonly isUnreachable = (): boolean => false;
  private readonly driver: SqliteDriver;
  private stmts!: Statements;
  /** Committed meta rows by the names read, valid while data_version holds. */
  private readonly readCache = new Map<string, CachedMeta>();

  constructor(endpoint: SqliteEndpoint, log?: Logger) {
    this.driver = new SqliteDriver(endpoint, log);
  }

  async open(options?: OpenOptions): Promise<void> {
    this.driver.open(options?.schema === false ? '' : SCHEMA);
    this.stmts = prepareStatements(this.driver.writer, this.driver.reader);
  }

  async close(): Promise<void> {
    await this.driver.close();
  }

  async write<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T> {
    const s = this.stmts.writer;
    // What this transaction read under the lock and wrote of meta, for the cache once it commits.
    let seen: CachedMeta | undefined;
    const written: Record<string, string> = {};
    const tx: WriteTx = {
      // BEGIN IMMEDIATE already holds the database's one write lock: that is the fence.
      // One machine, one clock: SQLite has no server of its own.
      lockMeta: async (names) => {
        const values = metaValues(s.lockMeta.all(JSON.stringify(names)));
        seen = { names, values, version: s.dataVersion.get() as bigint };
        return { values, nowMs: Date.now() };
      },
      rowsAfter: async (after, upTo) => logRows(s.rowsAfter.all(after, upTo)),
      loadLeases: async () => leaseRows(s.loadLeases.all()),
      insertRows: async (rows) => this.insertRows(rows),
      clearLog: async () => {
        s.clearRows.run();
        s.clearLeases.run();
      },
      upsertLeases: async (leases) => {
        for (const l of leases) s.upsertLease.run(l.id, l.ttl, l.expiresAt);
      },
      deleteLeases: async (ids) => {
        for (const id of ids) s.deleteLease.run(id);
      },
      loadAuth: async () => authRows(s.loadAuth.all()),
      writeAuth: async (c) => {
        for (const u of c.users) s.upsertUser.run(authName(u.name), encodeUser(u));
        for (const n of c.deletedUsers) s.deleteUser.run(authName(n));
        for (const r of c.roles) s.upsertRole.run(authName(r.name), encodeRole(r));
        for (const n of c.deletedRoles) s.deleteRole.run(authName(n));
      },
      setMeta: async (entries) => {
        const flat = Object.entries(entries).flat();
        s.setMeta.forCount(flat.length / 2).run(...flat);
        Object.assign(written, entries);
      },
    };
    const out = await this.driver.transaction(() => fn(tx));
    // This commit did not move data_version (it counts other connections' commits only).
    this.readCache.clear();
    if (seen) this.readCache.set(seen.names.join('\0'), { ...seen, values: applyWritten(seen.values, seen.names, written) });
    return out;
  }

  private insertRows(rows: LogRow[]): void {
    for (const chunk of insertChunks(rows, INSERT_CHUNK_ROWS)) {
      const params: unknown[] = [];
      for (const r of chunk) {
        params.push(r.revision, r.sub, r.key, r.createRevision, r.prevRevision, r.version, r.lease, r.value, r.deleted ? 1 : 0);
      }
      this.stmts.writer.insertRows.forCount(chunk.length).run(...params);
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
    const version = this.stmts.writer.dataVersion.get() as bigint;
    let cached = this.readCache.get(key);
    if (cached?.version !== version) {
      // Read through the reader: the writer's connection may be inside an uncommitted batch.
      cached = { names, values: metaValues(this.stmts.reader.meta.all(JSON.stringify(names))), version };
      this.readCache.set(key, cached);
    }
    return cached.values;
  }

  async getMeta(name: string): Promise<string | undefined> {
    return this.stmts.reader.oneMeta.get(name) as string | undefined;
  }

  async deleteMeta(name: string): Promise<void> {
    this.stmts.writer.deleteMeta.run(name);
  }

  async initMeta(defaults: Record<string, string>): Promise<void> {
    this.driver.transactionSync(() => {
      for (const [name, value] of Object.entries(defaults)) this.stmts.writer.initMeta.run(name, value);
    });
  }

  async ping(): Promise<void> {
    this.stmts.reader.ping.get();
  }

  async rowsAfter(after: number, upTo: number): Promise<LogRow[]> {
    return logRows(this.stmts.reader.rowsAfter.all(after, upTo));
  }

  async loadRows(afterRevision: number, afterSub: number, limit: number): Promise<LogRow[]> {
    return logRows(this.stmts.reader.loadRows.all(afterRevision, afterSub, limit));
  }

  async hasKineTable(): Promise<boolean> {
    return this.driver.reader.prepare(KINE_SQL.exists).pluck().get() !== undefined;
  }

  async loadKineRows(afterId: number, limit: number): Promise<KineRow[]> {
    return (this.driver.reader.prepare(KINE_SQL.rows).all(afterId, limit) as RawKineRow[]).map(toKineRow);
  }

  async readConsistent<T>(fn: (r: ConsistentRead) => Promise<T>): Promise<T> {
    if (this.driver.writer.memory) throw new Error('an in-memory SQLite database has no second connection to read it consistently');
    const db = this.driver.openReader();
    try {
      const s = prepareConsistentReader(db);
      s.begin.run();
      s.start.get();
      const out = await fn({
        readMeta: async (names) => metaValues(s.meta.all(JSON.stringify(names))),
        loadRows: async (afterRevision, afterSub, limit) => logRows(s.loadRows.all(afterRevision, afterSub, limit)),
        loadLeases: async () => leaseRows(s.loadLeases.all()),
      });
      s.end.run();
      return out;
    } finally {
      db.close();
    }
  }

  async loadLeases(): Promise<LeaseRow[]> {
    return leaseRows(this.stmts.reader.loadLeases.all());
  }

  async loadAuth(): Promise<AuthRows> {
    return authRows(this.stmts.reader.loadAuth.all());
  }

  async compactWindow(after: number, upTo: number, progressKey: string): Promise<number> {
    const s = this.stmts.writer;
    return this.driver.transactionSync(() => {
      // Predecessors first: a tombstone deleted first would hide the row it superseded.
      const deleted = s.compactPredecessors.run(after, upTo).changes + s.compactTombstones.run(after, upTo).changes;
      s.setOneMeta.run(progressKey, String(upTo));
      return deleted;
    });
  }

  async revisionAfterRows(after: number, rows: number): Promise<number | undefined> {
    const r = this.stmts.reader.revisionAfterRows.get(after, rows) as bigint | undefined;
    return r === undefined ? undefined : Number(r);
  }

  async defragment(): Promise<void> {
    // VACUUM rewrites the file without free pages; the checkpoint first folds the WAL in.
    this.driver.writer.pragma(PRAGMAS.checkpoint);
    this.driver.writer.exec(VACUUM);
  }

  async quotaBytes(): Promise<number> {
    const r = this.stmts.reader;
    return Number(r.pageCount.get()) * Number(r.pageSize.get());
  }

  /** Freed pages are reused by the database itself. */
  async reclaim(): Promise<void> {}

  async dbSize(): Promise<DbSize> {
    const r = this.stmts.reader;
    const pages = Number(r.pageCount.get());
    const free = Number(r.freelistCount.get());
    const pageSize = Number(r.pageSize.get());
    return { size: pages * pageSize, inUse: (pages - free) * pageSize };
  }
}
