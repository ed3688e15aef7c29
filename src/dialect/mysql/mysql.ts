/**
 * The MySQL / MariaDB dialect (mysql2): one connection pool, READ COMMITTED on every connection.
 * The fence is `SELECT … FOR UPDATE` on the marks in meta. MySQL cannot notify, so other
 * instances' commits are found by polling the marks (the tailer's interval).
 * Statements go through the binary protocol (prepared, values sent raw); multi-row statements come
 * in power-of-two sizes so each connection prepares only a handful of shapes.
 */
import type { Pool, PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { Logger } from 'pino';
import type { DatastoreOptions, MysqlEndpoint } from '../../config';
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
import { tlsOptions } from '../tls';
import { inTransaction } from '../transaction';
import { SCHEMA, SCHEMA_LOCK } from './schema';

type Mysql = typeof import('mysql2/promise');
type Queryable = Pick<PoolConnection, 'execute' | 'query'>;

interface RawRow extends RowDataPacket {
  revision: string;
  sub: number;
  key: Buffer;
  create_revision: string;
  prev_revision: string;
  version: string;
  lease: string;
  value: Buffer;
  deleted: number;
}

const ROW_COLUMNS = 'revision, sub, `key`, create_revision, prev_revision, version, lease, value, deleted';
const MAX_CHUNK = 256;
const inList = (n: number): string => `(${Array(n).fill('?').join(', ')})`;

const Q = {
  rowsAfter: `SELECT ${ROW_COLUMNS} FROM log WHERE revision > ? AND revision <= ? ORDER BY revision, sub`,
  // Spelled out rather than (revision, sub) > (?, ?), which MariaDB does not turn into a range scan.
  loadRows: `SELECT ${ROW_COLUMNS} FROM log WHERE revision > ? OR (revision = ? AND sub > ?) ORDER BY revision, sub LIMIT ?`,
  loadLeases: 'SELECT id, ttl, expires_at FROM lease',
  compactPrev: `DELETE l FROM log l JOIN log n ON l.\`key\` = n.\`key\` AND l.revision = n.prev_revision
                WHERE n.revision > ? AND n.revision <= ? AND n.prev_revision > 0`,
  compactTombstones: 'DELETE FROM log WHERE revision > ? AND revision <= ? AND deleted = 1',
} as const;

const many = (n: number, one: string): string => Array(n).fill(one).join(', ');
const SQL_SHAPES = {
  meta: (n: number) => `SELECT name, value FROM meta WHERE name IN ${inList(n)}`,
  lockMeta: (n: number) => `SELECT name, value, CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED) AS now
                            FROM meta WHERE name IN ${inList(n)} ORDER BY name FOR UPDATE`,
  insert: (n: number) => `INSERT INTO log (${ROW_COLUMNS}) VALUES ${many(n, '(?, ?, ?, ?, ?, ?, ?, ?, ?)')}`,
  setMeta: (n: number) => `INSERT INTO meta (name, value) VALUES ${many(n, '(?, ?)')} ON DUPLICATE KEY UPDATE value = VALUES(value)`,
  upsertLeases: (n: number) =>
    `INSERT INTO lease (id, ttl, expires_at) VALUES ${many(n, '(?, ?, ?)')}
     ON DUPLICATE KEY UPDATE ttl = VALUES(ttl), expires_at = VALUES(expires_at)`,
  deleteLeases: (n: number) => `DELETE FROM lease WHERE id IN (${many(n, '?')})`,
};

/** Splits n items into power-of-two chunks of at most MAX_CHUNK: few statement shapes. */
function pow2Chunks<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; ) {
    let size = MAX_CHUNK;
    while (size > items.length - i) size >>= 1;
    out.push(items.slice(i, i + size));
    i += size;
  }
  return out;
}

/** Errors worth retrying: deadlock, lock wait timeout, too many connections, lost connection. */
const TRANSIENT_ERRNOS = new Set([1205, 1213, 1040, 1053, 1927, 2006, 2013, 4031]);
const CONNECTION_CODES = new Set(['PROTOCOL_CONNECTION_LOST', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'PROTOCOL_SEQUENCE_TIMEOUT']);

function isConnectionError(e: unknown): boolean {
  const err = e as { fatal?: boolean; code?: string; errno?: number } | undefined;
  return !!err && (err.fatal === true || CONNECTION_CODES.has(err.code ?? '') || [1053, 1927, 2006, 2013, 4031].includes(err.errno ?? 0));
}

function toRow(r: RawRow): LogRow {
  return {
    revision: Number(r.revision),
    sub: Number(r.sub),
    key: r.key,
    createRevision: Number(r.create_revision),
    prevRevision: Number(r.prev_revision),
    version: Number(r.version),
    lease: BigInt(r.lease),
    value: r.value,
    deleted: Number(r.deleted) !== 0,
  };
}

export class MysqlDialect implements Dialect {
  readonly name = 'mysql';
  readonly capabilities = DEFAULT_CAPABILITIES;
  readonly listen = cannotListen('mysql');
  private mysql!: Mysql;
  private pool!: Pool;
  /** Value bytes per multi-row INSERT: half the server's max_allowed_packet. */
  private insertBytes = 4 << 20;

  constructor(
    private readonly endpoint: MysqlEndpoint,
    private readonly opts: DatastoreOptions,
    private readonly log: Logger,
  ) {}

  private connectionConfig(database: string | undefined) {
    const e = this.endpoint;
    return {
      host: e.host,
      port: e.port,
      socketPath: e.socketPath,
      user: e.user,
      password: e.password,
      database,
      ssl: tlsOptions(e, this.opts.tls),
      supportBigNumbers: true,
      bigNumberStrings: true,
      connectTimeout: Number(e.params.timeout?.replace(/s$/, '') ?? '10') * 1000,
    };
  }

  async open(): Promise<void> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    this.mysql = require('mysql2/promise') as Mysql;
    await this.ensureDatabase();
    this.pool = this.mysql.createPool({
      ...this.connectionConfig(this.endpoint.database),
      connectionLimit: this.opts.maxOpenConnections,
      maxIdle: this.opts.maxOpenConnections,
      idleTimeout: this.opts.connectionMaxIdleMs,
      waitForConnections: true,
    });
    // Each statement sees what committed before it; no gap locks between writers and the compactor.
    this.pool.pool.on('connection', (c) => {
      // A connection that dies while idle or between two queries must not end the process: the
      // next query on it fails and the writer retries.
      c.on('error', (err: Error) => this.log.warn({ err }, 'database connection failed'));
      void c.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
    });
    const c = await this.pool.getConnection();
    try {
      const [[lock]] = await c.query<RowDataPacket[]>('SELECT GET_LOCK(?, 60) AS ok', [SCHEMA_LOCK]);
      if (Number(lock.ok) !== 1) throw new Error('timed out waiting for another instance to create the schema');
      try {
        for (const stmt of SCHEMA) await c.query(stmt);
      } finally {
        await c.query('SELECT RELEASE_LOCK(?)', [SCHEMA_LOCK]);
      }
      const [[packet]] = await c.query<RowDataPacket[]>('SELECT @@max_allowed_packet AS bytes');
      this.insertBytes = Math.max(1 << 20, Math.floor(Number(packet.bytes) / 2));
    } finally {
      c.release();
    }
  }

  /** Creates the database when it does not exist, as kine does. */
  private async ensureDatabase(): Promise<void> {
    try {
      await (await this.mysql.createConnection(this.connectionConfig(this.endpoint.database))).end();
      return;
    } catch (e) {
      if ((e as { errno?: number }).errno !== 1049) throw e; // ER_BAD_DB_ERROR
    }
    const admin = await this.mysql.createConnection(this.connectionConfig(undefined));
    try {
      await admin.query(`CREATE DATABASE IF NOT EXISTS \`${this.endpoint.database}\``);
      this.log.info({ database: this.endpoint.database }, 'created database');
    } finally {
      await admin.end();
    }
  }

  async close(): Promise<void> {
    await this.pool?.end();
  }

  async write<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T> {
    const c = await this.pool.getConnection();
    const conn = { exec: (sql: string) => c.query(sql), release: (broken: boolean) => (broken ? c.destroy() : c.release()) };
    return inTransaction(conn, 'START TRANSACTION', isConnectionError, () => fn(this.tx(c)));
  }

  private tx(c: PoolConnection): WriteTx {
    return {
      lockMeta: async (names) => {
        const [rows] = await c.execute<RowDataPacket[]>(SQL_SHAPES.lockMeta(names.length), [...names]);
        return { values: new Map(rows.map((r) => [r.name as string, r.value as string])), nowMs: Number(rows[0]?.now ?? Date.now()) };
      },
      rowsAfter: (after, upTo) => this.rowsAfterOn(c, after, upTo),
      loadLeases: () => this.loadLeasesOn(c),
      insertRows: (rows) => this.insert(c, rows),
      upsertLeases: async (ls) => {
        for (const chunk of pow2Chunks(ls)) {
          await c.execute(SQL_SHAPES.upsertLeases(chunk.length), chunk.flatMap((l) => [l.id.toString(), l.ttl, l.expiresAt]));
        }
      },
      deleteLeases: async (ids) => {
        for (const chunk of pow2Chunks(ids)) await c.execute(SQL_SHAPES.deleteLeases(chunk.length), chunk.map((id) => id.toString()));
      },
      setMeta: (entries) => this.setMetaOn(c, entries),
    };
  }

  private async setMetaOn(c: Queryable, entries: Record<string, string>): Promise<void> {
    for (const chunk of pow2Chunks(Object.entries(entries))) await c.execute(SQL_SHAPES.setMeta(chunk.length), chunk.flat());
  }

  private async insert(c: Queryable, rows: LogRow[]): Promise<void> {
    // Chunks bounded by bytes too: one statement must fit in max_allowed_packet.
    for (let i = 0; i < rows.length; ) {
      let bytes = 0;
      let j = i;
      while (j < rows.length && (j === i || bytes + rows[j].value.length + rows[j].key.length < this.insertBytes)) {
        bytes += rows[j].value.length + rows[j].key.length;
        j++;
      }
      for (const chunk of pow2Chunks(rows.slice(i, j))) {
        const params: Array<string | number | Buffer> = [];
        for (const r of chunk) {
          params.push(r.revision, r.sub, r.key, r.createRevision, r.prevRevision, r.version, r.lease.toString(), r.value, r.deleted ? 1 : 0);
        }
        await c.execute(SQL_SHAPES.insert(chunk.length), params);
      }
      i = j;
    }
  }

  private async rowsAfterOn(c: Queryable, after: number, upTo: number): Promise<LogRow[]> {
    const [rows] = await c.execute<RawRow[]>(Q.rowsAfter, [after, upTo]);
    return rows.map(toRow);
  }

  private async loadLeasesOn(c: Queryable): Promise<LeaseRow[]> {
    const [rows] = await c.execute<RowDataPacket[]>(Q.loadLeases);
    return rows.map((r) => ({ id: BigInt(r.id as string), ttl: Number(r.ttl), expiresAt: Number(r.expires_at) }));
  }

  async readMeta(names: readonly string[]): Promise<MetaValues> {
    const [rows] = await this.pool.execute<RowDataPacket[]>(SQL_SHAPES.meta(names.length), [...names]);
    return new Map(rows.map((r) => [r.name as string, r.value as string]));
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  rowsAfter(after: number, upTo: number): Promise<LogRow[]> {
    return this.rowsAfterOn(this.pool, after, upTo);
  }

  loadLeases(): Promise<LeaseRow[]> {
    return this.loadLeasesOn(this.pool);
  }

  async loadRows(afterRevision: number, afterSub: number, limit: number): Promise<LogRow[]> {
    // LIMIT as a literal: MySQL 8 rejects a bound LIMIT in some prepared-statement paths.
    const [rows] = await this.pool.query<RawRow[]>(Q.loadRows.replace('LIMIT ?', `LIMIT ${Math.trunc(limit)}`), [
      afterRevision,
      afterRevision,
      afterSub,
    ]);
    return rows.map(toRow);
  }

  async getMeta(name: string): Promise<string | undefined> {
    const [rows] = await this.pool.execute<RowDataPacket[]>('SELECT value FROM meta WHERE name = ?', [name]);
    return rows[0]?.value as string | undefined;
  }

  async deleteMeta(name: string): Promise<void> {
    await this.pool.execute('DELETE FROM meta WHERE name = ?', [name]);
  }

  async initMeta(defaults: Record<string, string>): Promise<void> {
    const entries = Object.entries(defaults);
    await this.pool.query(`INSERT IGNORE INTO meta (name, value) VALUES ${many(entries.length, '(?, ?)')}`, entries.flat());
  }

  async compactWindow(after: number, upTo: number, progressKey: string): Promise<number> {
    const c = await this.pool.getConnection();
    const conn = { exec: (sql: string) => c.query(sql), release: (broken: boolean) => (broken ? c.destroy() : c.release()) };
    return inTransaction(conn, 'START TRANSACTION', isConnectionError, async () => {
      // Predecessors first: a tombstone deleted first would hide the row it superseded.
      const [prev] = await c.execute<ResultSetHeader>(Q.compactPrev, [after, upTo]);
      const [tomb] = await c.execute<ResultSetHeader>(Q.compactTombstones, [after, upTo]);
      await this.setMetaOn(c, { [progressKey]: String(upTo) });
      return prev.affectedRows + tomb.affectedRows;
    });
  }

  async dbSize(): Promise<DbSize> {
    const [[r]] = await this.pool.query<RowDataPacket[]>(
      `SELECT COALESCE(SUM(data_length + index_length + data_free), 0) AS size,
              COALESCE(SUM(data_length + index_length), 0) AS in_use
       FROM information_schema.tables WHERE table_schema = DATABASE()`,
    );
    return { size: Number(r.size), inUse: Number(r.in_use) };
  }

  async defragment(): Promise<void> {
    // InnoDB rebuilds the tables online; writers are not blocked for the duration.
    await this.pool.query('OPTIMIZE TABLE log, lease, meta');
  }

  isTransient(e: unknown): boolean {
    const errno = (e as { errno?: number } | undefined)?.errno;
    return (errno !== undefined && TRANSIENT_ERRNOS.has(errno)) || isConnectionError(e);
  }
}
