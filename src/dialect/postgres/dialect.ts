/**
 * The PostgreSQL dialect: a connection pool for writes and reads, and one extra connection that
 * LISTENs for other instances' commits. The fence is `SELECT … FOR UPDATE` on the marks in meta;
 * READ COMMITTED then shows every row committed before the lock was granted. CockroachDB and
 * YugabyteDB speak the same protocol with their own rules (rules.ts): no NOTIFY (the log is
 * polled), no advisory lock, their retry codes.
 */
import type { PoolClient } from 'pg';
import type { Logger } from 'pino';
import type { DatastoreOptions, PostgresEndpoint } from '../../config';
import { authName, encodeRole, encodeUser, toAuthRows, type RawAuthRowOfKind } from '../auth-rows';
import { insertChunks } from '../chunks';
import {
  type AuthChanges,
  type Capabilities,
  type AuthRows,
  type ConsistentRead,
  type KineRow,
  type DbSize,
  type Dialect,
  type FencedWrite,
  type Shortcut,
  type LeaseRow,
  type LogRow,
  type MetaValues,
  type OpenOptions,
  type WriteTx,
} from '../dialect';
import {
  toKineRow,
  toLeaseRow,
  toLockedMeta,
  toLogRow,
  toMetaValues,
  type RawKineRow,
  type RawLeaseRow,
  type RawLockedMetaRow,
  type RawLogColumns,
  type RawMetaRow,
} from '../rows';
import { PostgresDriver } from './driver';
import type { HostHealth } from '../hosts';
import { ENGINE_RULES } from '../rules';
import { isConnectionError, isDiskFull, isSchemaRace, transientFor } from './errors';
import { schema, SCHEMA_LOCK_ID } from './schema';
import { AUTH_SQL, prepared, preparedLogRows, SQL } from './statements';

type Queryable = Pick<PoolClient, 'query'>;

/** Rows per INSERT, and key and value bytes per INSERT (arrays travel hex-encoded). */
const INSERT_ROWS = 1000;
const INSERT_BYTES = 16 << 20;

/** Attempts at creating the schema where no advisory lock keeps two instances from racing. */
const SCHEMA_ATTEMPTS = 5;

export class PostgresDialect implements Dialect {
  readonly name = 'postgres';
  readonly capabilities: Capabilities;
  readonly isTransient: (e: unknown) => boolean;
  readonly isDiskFull = isDiskFull;
  readonly isUnreachable = isConnectionError;

  poolStats(): { inUse: number; idle: number } {
    const p = this.driver.pool;
    return p ? { inUse: p.totalCount - p.idleCount, idle: p.idleCount } : { inUse: 0, idle: 0 };
  }
  private readonly driver: PostgresDriver;

  constructor(endpoint: PostgresEndpoint, opts: DatastoreOptions, log: Logger) {
    this.driver = new PostgresDriver(endpoint, opts, log);
    this.capabilities = ENGINE_RULES[endpoint.engine];
    this.isTransient = transientFor(this.capabilities.retryCodes);
  }

  hostHealth(): HostHealth[] {
    return this.driver.hostHealth();
  }

  async open(options: OpenOptions): Promise<void> {
    await this.driver.open();
    const locked = this.capabilities.advisoryLocks !== 'none';
    const statements =
      options.schema === false ? [] : schema(options.announce, this.capabilities.notifications, this.capabilities.fencedWrites);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.driver.transaction(async (c) => {
          if (locked) await c.query(SQL.schemaLock, [SCHEMA_LOCK_ID.toString()]);
          for (const stmt of statements) await c.query(stmt);
        });
      } catch (e) {
        // Without the lock, another instance creating the same table at once wins; ours sees it next time.
        if (locked || attempt >= SCHEMA_ATTEMPTS || !(isSchemaRace(e) || this.isTransient(e))) throw e;
      }
    }
  }

  close(): Promise<void> {
    return this.driver.close();
  }

  listen(onChange: () => void): Promise<void> {
    return this.driver.listen(onChange);
  }

  async write<T>(fn: (tx: WriteTx) => Promise<T>, shortcut?: Shortcut<T>): Promise<T> {
    if (shortcut && (await this.commitFenced(shortcut.changes))) return shortcut.result;
    return this.driver.transaction((c) => fn(this.tx(c)));
  }

  private tx(c: PoolClient): WriteTx {
    return {
      lockMeta: async (names) => toLockedMeta((await c.query<RawLockedMetaRow>(prepared('lockMeta', [names]))).rows),
      rowsAfter: (after, upTo) => rowsAfterOn(c, after, upTo),
      loadLeases: () => loadLeasesOn(c),
      insertRows: (rows) => insertRowsOn(c, rows),
      clearLog: async () => void (await c.query(SQL.clearLog)),
      upsertLeases: async (ls) =>
        void (await c.query(prepared('upsertLeases', [ls.map((l) => l.id.toString()), ls.map((l) => l.ttl), ls.map((l) => l.expiresAt)]))),
      deleteLeases: async (ids) => void (await c.query(prepared('deleteLeases', [ids.map((id) => id.toString())]))),
      loadAuth: () => loadAuthOn(c),
      writeAuth: (changes) => writeAuthOn(c, changes),
      setMeta: async (entries) => void (await c.query(prepared('setMeta', [Object.keys(entries), Object.values(entries)]))),
    };
  }

  /** The shortcut of `write`: true when it committed, false when nothing was written. */
  async commitFenced(w: FencedWrite): Promise<boolean> {
    let bytes = 0;
    for (const r of w.rows) bytes += r.key.length + r.value.length;
    if (bytes > INSERT_BYTES) return false;
    const [r] = await this.driver.autocommit<{ ok: boolean }>(
      prepared('commit', [
        [...w.expect.keys()],
        [...w.expect.values()],
        ...columnsOf(w.rows),
        w.leaseUpserts.map((l) => l.id.toString()),
        w.leaseUpserts.map((l) => l.ttl),
        w.leaseUpserts.map((l) => l.expiresAt),
        w.leaseDeletes.map((id) => id.toString()),
        Object.keys(w.meta),
        Object.values(w.meta),
      ]),
    );
    return r.ok;
  }

  async readMeta(names: readonly string[]): Promise<MetaValues> {
    return toMetaValues((await this.driver.pool.query<RawMetaRow>(prepared('meta', [names]))).rows);
  }

  async getMeta(name: string): Promise<string | undefined> {
    return (await this.driver.pool.query<{ value: string }>(SQL.getMeta, [name])).rows[0]?.value;
  }

  async deleteMeta(name: string): Promise<void> {
    await this.driver.pool.query(SQL.deleteMeta, [name]);
  }

  async initMeta(defaults: Record<string, string>): Promise<void> {
    await this.driver.pool.query(SQL.initMeta, [Object.keys(defaults), Object.values(defaults)]);
  }

  async ping(): Promise<void> {
    await this.driver.pool.query(SQL.ping);
  }

  rowsAfter(after: number, upTo: number): Promise<LogRow[]> {
    return rowsAfterOn(this.driver.pool, after, upTo);
  }

  loadLeases(): Promise<LeaseRow[]> {
    return loadLeasesOn(this.driver.pool);
  }

  loadAuth(): Promise<AuthRows> {
    return loadAuthOn(this.driver.pool);
  }

  async loadRows(afterRevision: number, afterSub: number, limit: number): Promise<LogRow[]> {
    return logRowsOn(this.driver.pool, 'loadRows', [afterRevision, afterSub, limit]);
  }

  async hasKineTable(): Promise<boolean> {
    return (await this.driver.pool.query<{ found: boolean }>(SQL.kineExists)).rows[0].found;
  }

  async loadKineRows(afterId: number, limit: number): Promise<KineRow[]> {
    return (await this.driver.pool.query<RawKineRow>(SQL.kineRows, [afterId, limit])).rows.map(toKineRow);
  }

  readConsistent<T>(fn: (r: ConsistentRead) => Promise<T>): Promise<T> {
    return this.driver.transaction(
      (c) =>
        fn({
          readMeta: async (names) => toMetaValues((await c.query<RawMetaRow>(prepared('meta', [names]))).rows),
          loadRows: (afterRevision, afterSub, limit) => logRowsOn(c, 'loadRows', [afterRevision, afterSub, limit]),
          loadLeases: () => loadLeasesOn(c),
        }),
      SQL.beginConsistent,
    );
  }

  compactWindow(after: number, upTo: number, progressKey: string): Promise<number> {
    return this.driver.transaction(async (c) => {
      for (const stmt of this.capabilities.compactionSetup) await c.query(stmt);
      // Predecessors first: a tombstone deleted first would hide the row it superseded.
      const predecessors = await c.query(prepared('compactPredecessors', [after, upTo]));
      const tombstones = await c.query(prepared('compactTombstones', [after, upTo]));
      await c.query(prepared('setMeta', [[progressKey], [String(upTo)]]));
      return (predecessors.rowCount ?? 0) + (tombstones.rowCount ?? 0);
    });
  }

  async revisionAfterRows(after: number, rows: number): Promise<number | undefined> {
    const [r] = (await this.driver.pool.query<{ revision: string }>(prepared('revisionAfterRows', [after, rows]))).rows;
    return r === undefined ? undefined : Number(r.revision);
  }

  async reclaim(): Promise<void> {
    await this.driver.pool.query(SQL.reclaim);
  }

  async quotaBytes(): Promise<number> {
    const [r] = (await this.driver.pool.query<{ size: string }>(SQL.quotaBytes)).rows;
    return Number(r.size);
  }

  async dbSize(): Promise<DbSize> {
    const [r] = (await this.driver.pool.query<{ size: string; in_use: string }>(SQL.dbSize)).rows;
    return { size: Number(r.size), inUse: Number(r.in_use) };
  }

  async defragment(): Promise<void> {
    await this.driver.pool.query(SQL.defragment);
  }
}

function rowsAfterOn(c: Queryable, after: number, upTo: number): Promise<LogRow[]> {
  return logRowsOn(c, 'rowsAfter', [after, upTo]);
}

async function logRowsOn(c: Queryable, name: 'rowsAfter' | 'loadRows', values: unknown[]): Promise<LogRow[]> {
  return (await c.query<RawLogColumns>(preparedLogRows(name, values))).rows.map(toLogRow);
}

async function loadLeasesOn(c: Queryable): Promise<LeaseRow[]> {
  return (await c.query<RawLeaseRow>(prepared('loadLeases', []))).rows.map(toLeaseRow);
}

async function loadAuthOn(c: Queryable): Promise<AuthRows> {
  return toAuthRows((await c.query<RawAuthRowOfKind>(prepared('loadAuth', []))).rows);
}

async function writeAuthOn(c: Queryable, changes: AuthChanges): Promise<void> {
  const names = (xs: string[]) => xs.map(authName);
  if (changes.users.length > 0) {
    await c.query(AUTH_SQL.upsert('user'), [names(changes.users.map((u) => u.name)), changes.users.map(encodeUser)]);
  }
  if (changes.deletedUsers.length > 0) await c.query(AUTH_SQL.delete('user'), [names(changes.deletedUsers)]);
  if (changes.roles.length > 0) {
    await c.query(AUTH_SQL.upsert('role'), [names(changes.roles.map((r) => r.name)), changes.roles.map(encodeRole)]);
  }
  if (changes.deletedRoles.length > 0) await c.query(AUTH_SQL.delete('role'), [names(changes.deletedRoles)]);
}

async function insertRowsOn(c: Queryable, rows: LogRow[]): Promise<void> {
  for (const chunk of insertChunks(rows, INSERT_ROWS, INSERT_BYTES)) {
    await c.query(prepared('insertRows', columnsOf(chunk)));
  }
}

/** Log rows as one array per column, in the order of the log table's columns (for `unnest`). */
function columnsOf(rows: LogRow[]): unknown[][] {
  return [
    rows.map((r) => r.revision),
    rows.map((r) => r.sub),
    rows.map((r) => r.key),
    rows.map((r) => r.createRevision),
    rows.map((r) => r.prevRevision),
    rows.map((r) => r.version),
    rows.map((r) => r.lease.toString()),
    rows.map((r) => r.value),
    rows.map((r) => r.deleted),
  ];
}
