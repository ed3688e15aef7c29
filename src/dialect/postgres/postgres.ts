/**
 * The PostgreSQL dialect (node-postgres): a connection pool for writes and reads, and one extra
 * connection that LISTENs for other instances' commits. The fence is `SELECT … FOR UPDATE` on the
 * marks in meta; READ COMMITTED then shows every row committed before the lock was granted.
 */
import type { Client, ClientConfig, Pool, PoolClient, QueryConfig } from 'pg';
import type { Logger } from 'pino';
import type { DatastoreOptions, PostgresEndpoint } from '../../config';
import {
  DEFAULT_CAPABILITIES,
  type DbSize,
  type Dialect,
  type LeaseRow,
  type LogRow,
  type MetaValues,
  type OpenOptions,
  type WriteTx,
} from '../dialect';
import { tlsOptions } from '../tls';
import { inTransaction } from '../transaction';
import { NOTIFY_CHANNEL, schema, SCHEMA_LOCK_ID } from './schema';

type Pg = typeof import('pg');
type Queryable = Pick<PoolClient, 'query'>;

interface RawRow {
  revision: string;
  sub: number;
  key: Buffer;
  create_revision: string;
  prev_revision: string;
  version: string;
  lease: string;
  value: Buffer;
  deleted: boolean;
}

const ROW_COLUMNS = 'revision, sub, key, create_revision, prev_revision, version, lease, value, deleted';
/** Rows per INSERT, and value bytes per INSERT (arrays travel hex-encoded). */
const INSERT_ROWS = 1000;
const INSERT_BYTES = 16 << 20;

const Q = {
  meta: `SELECT name, value FROM meta WHERE name = ANY($1::text[])`,
  lockMeta: `SELECT name, value, (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now
             FROM meta WHERE name = ANY($1::text[]) ORDER BY name FOR UPDATE`,
  rowsAfter: `SELECT ${ROW_COLUMNS} FROM log WHERE revision > $1 AND revision <= $2 ORDER BY revision, sub`,
  loadRows: `SELECT ${ROW_COLUMNS} FROM log WHERE (revision, sub) > ($1, $2) ORDER BY revision, sub LIMIT $3`,
  insert: `INSERT INTO log (${ROW_COLUMNS}) SELECT * FROM unnest($1::bigint[], $2::int[], $3::bytea[], $4::bigint[],
           $5::bigint[], $6::bigint[], $7::bigint[], $8::bytea[], $9::boolean[])`,
  setMeta: `INSERT INTO meta (name, value) SELECT * FROM unnest($1::text[], $2::text[])
            ON CONFLICT (name) DO UPDATE SET value = excluded.value`,
  upsertLeases: `INSERT INTO lease (id, ttl, expires_at) SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[])
                 ON CONFLICT (id) DO UPDATE SET ttl = excluded.ttl, expires_at = excluded.expires_at`,
  deleteLeases: `DELETE FROM lease WHERE id = ANY($1::bigint[])`,
  loadLeases: `SELECT id, ttl, expires_at FROM lease`,
  compactPrev: `DELETE FROM log l USING log n WHERE n.revision > $1 AND n.revision <= $2 AND n.prev_revision > 0
                AND l.key = n.key AND l.revision = n.prev_revision`,
  compactTombstones: `DELETE FROM log WHERE revision > $1 AND revision <= $2 AND deleted`,
} as const;

/** A named (server-side prepared) statement: parsed once per connection. */
const named = (name: keyof typeof Q, values: unknown[]): QueryConfig => ({ name: `strata_${name}`, text: Q[name], values });

/** SQLSTATEs worth retrying: serialization failure, deadlock, shutdown, connection trouble. */
const TRANSIENT_STATES = new Set(['40001', '40P01', '57P01', '57P02', '57P03', '53300', '08000', '08001', '08003', '08004', '08006']);
const CONNECTION_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH']);

function isConnectionError(e: unknown): boolean {
  const err = e as { code?: string; message?: string } | undefined;
  if (err?.code && (CONNECTION_CODES.has(err.code) || err.code.startsWith('08') || err.code.startsWith('57P'))) return true;
  // node-postgres's own errors (no SQLSTATE, a plain Error: "Connection terminated unexpectedly",
  // "Client has encountered a connection error and is not queryable", pool timeouts, …) all come
  // from the connection, not from the statement.
  if (e instanceof Error && e.constructor === Error && !err?.code) return true;
  return /Connection terminated|connection.*(closed|ended)|Client has encountered a connection error/i.test(err?.message ?? '');
}

function toRow(r: RawRow): LogRow {
  return {
    revision: Number(r.revision),
    sub: r.sub,
    key: r.key,
    createRevision: Number(r.create_revision),
    prevRevision: Number(r.prev_revision),
    version: Number(r.version),
    lease: BigInt(r.lease),
    value: r.value,
    deleted: r.deleted,
  };
}

function toLease(r: { id: string; ttl: string; expires_at: string }): LeaseRow {
  return { id: BigInt(r.id), ttl: Number(r.ttl), expiresAt: Number(r.expires_at) };
}

export class PostgresDialect implements Dialect {
  readonly name = 'postgres';
  readonly capabilities = { ...DEFAULT_CAPABILITIES, notifications: true };
  private pg!: Pg;
  private pool!: Pool;
  private listener: Client | undefined;
  private closed = false;

  constructor(
    private readonly endpoint: PostgresEndpoint,
    private readonly opts: DatastoreOptions,
    private readonly log: Logger,
  ) {}

  private clientConfig(database: string): ClientConfig {
    const e = this.endpoint;
    const timeout = Number(e.params.connect_timeout ?? '10');
    return {
      host: e.socketPath ?? e.host,
      port: e.port,
      user: e.user,
      password: e.password,
      database,
      ssl: tlsOptions(e, this.opts.tls) ?? false,
      application_name: e.params.application_name ?? 'strata',
      connectionTimeoutMillis: timeout * 1000,
      options: e.params.options,
    };
  }

  async open(options: OpenOptions): Promise<void> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    this.pg = require('pg') as Pg;
    await this.ensureDatabase();
    this.pool = new this.pg.Pool({
      ...this.clientConfig(this.endpoint.database),
      max: this.opts.maxOpenConnections,
      idleTimeoutMillis: this.opts.connectionMaxIdleMs,
    });
    // An idle connection dropped by the server must not take the process down; the next query reconnects.
    this.pool.on('error', (err) => this.log.warn({ err }, 'idle database connection failed'));
    // A checked-out client whose connection dies between two queries emits 'error' with no
    // listener of the pool's attached, which would end the process; the next query on it fails and
    // the writer retries, so logging is all that is needed here.
    this.pool.on('connect', (client) => client.on('error', (err) => this.log.warn({ err }, 'database connection failed')));
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      await c.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK_ID.toString()]);
      for (const stmt of schema(options.announce)) await c.query(stmt);
      await c.query('COMMIT');
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      c.release();
    }
  }

  /** Creates the database when it does not exist, as kine does. */
  private async ensureDatabase(): Promise<void> {
    const probe = new this.pg.Client(this.clientConfig(this.endpoint.database));
    try {
      await probe.connect();
      return;
    } catch (e) {
      if ((e as { code?: string }).code !== '3D000') throw e;
    } finally {
      await probe.end().catch(() => undefined);
    }
    const admin = new this.pg.Client(this.clientConfig(this.endpoint.params.maintenance_db ?? 'postgres'));
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE "${this.endpoint.database}"`);
      this.log.info({ database: this.endpoint.database }, 'created database');
    } catch (e) {
      // Another instance created it first.
      if (!['42P04', '23505'].includes((e as { code?: string }).code ?? '')) throw e;
    } finally {
      await admin.end().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.listener?.end().catch(() => undefined);
    await this.pool?.end();
  }

  async listen(onChange: () => void): Promise<void> {
    const connect = async (): Promise<void> => {
      const c = new this.pg.Client(this.clientConfig(this.endpoint.database));
      c.on('notification', () => onChange());
      c.on('error', (err) => {
        if (this.closed) return;
        this.log.warn({ err }, 'LISTEN connection lost; reconnecting');
        void c.end().catch(() => undefined);
        setTimeout(() => void reconnect(), 250).unref();
      });
      await c.connect();
      await c.query(`LISTEN ${NOTIFY_CHANNEL}`);
      this.listener = c;
      // Anything committed while we were not listening is picked up now.
      onChange();
    };
    const reconnect = async (): Promise<void> => {
      if (this.closed) return;
      try {
        await connect();
      } catch (err) {
        if (!this.closed) setTimeout(() => void reconnect(), 1000).unref();
        this.log.warn({ err }, 'LISTEN reconnect failed');
      }
    };
    await connect();
  }

  async write<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    const conn = { exec: (sql: string) => c.query(sql), release: (broken: boolean) => c.release(broken) };
    return inTransaction(conn, 'BEGIN', isConnectionError, () => fn(this.tx(c)));
  }

  private tx(c: PoolClient): WriteTx {
    return {
      lockMeta: async (names) => {
        const r = await c.query<{ name: string; value: string; now: string }>(named('lockMeta', [names]));
        return { values: new Map(r.rows.map((m) => [m.name, m.value])), nowMs: Number(r.rows[0]?.now ?? Date.now()) };
      },
      rowsAfter: (after, upTo) => this.rowsAfterOn(c, after, upTo),
      loadLeases: () => this.loadLeasesOn(c),
      insertRows: (rows) => this.insert(c, rows),
      upsertLeases: async (ls) =>
        void (await c.query(named('upsertLeases', [ls.map((l) => l.id.toString()), ls.map((l) => l.ttl), ls.map((l) => l.expiresAt)]))),
      deleteLeases: async (ids) => void (await c.query(named('deleteLeases', [ids.map((id) => id.toString())]))),
      setMeta: async (entries) => void (await c.query(named('setMeta', [Object.keys(entries), Object.values(entries)]))),
    };
  }

  private async insert(c: Queryable, rows: LogRow[]): Promise<void> {
    for (let i = 0; i < rows.length; ) {
      let bytes = 0;
      let j = i;
      while (j < rows.length && j - i < INSERT_ROWS && (j === i || bytes + rows[j].value.length < INSERT_BYTES)) {
        bytes += rows[j].value.length + rows[j].key.length;
        j++;
      }
      const chunk = rows.slice(i, j);
      await c.query(
        named('insert', [
          chunk.map((r) => r.revision),
          chunk.map((r) => r.sub),
          chunk.map((r) => r.key),
          chunk.map((r) => r.createRevision),
          chunk.map((r) => r.prevRevision),
          chunk.map((r) => r.version),
          chunk.map((r) => r.lease.toString()),
          chunk.map((r) => r.value),
          chunk.map((r) => r.deleted),
        ]),
      );
      i = j;
    }
  }

  private async rowsAfterOn(c: Queryable, after: number, upTo: number): Promise<LogRow[]> {
    return (await c.query<RawRow>(named('rowsAfter', [after, upTo]))).rows.map(toRow);
  }

  private async loadLeasesOn(c: Queryable): Promise<LeaseRow[]> {
    return (await c.query<{ id: string; ttl: string; expires_at: string }>(named('loadLeases', []))).rows.map(toLease);
  }

  async readMeta(names: readonly string[]): Promise<MetaValues> {
    const r = await this.pool.query<{ name: string; value: string }>(named('meta', [names]));
    return new Map(r.rows.map((m) => [m.name, m.value]));
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
    return (await this.pool.query<RawRow>(named('loadRows', [afterRevision, afterSub, limit]))).rows.map(toRow);
  }

  async getMeta(name: string): Promise<string | undefined> {
    const r = await this.pool.query<{ value: string }>('SELECT value FROM meta WHERE name = $1', [name]);
    return r.rows[0]?.value;
  }

  async deleteMeta(name: string): Promise<void> {
    await this.pool.query('DELETE FROM meta WHERE name = $1', [name]);
  }

  async initMeta(defaults: Record<string, string>): Promise<void> {
    await this.pool.query(
      'INSERT INTO meta (name, value) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT (name) DO NOTHING',
      [Object.keys(defaults), Object.values(defaults)],
    );
  }

  async compactWindow(after: number, upTo: number, progressKey: string): Promise<number> {
    const c = await this.pool.connect();
    const conn = { exec: (sql: string) => c.query(sql), release: (broken: boolean) => c.release(broken) };
    return inTransaction(conn, 'BEGIN', isConnectionError, async () => {
      // Predecessors first: a tombstone deleted first would hide the row it superseded.
      const prev = await c.query(named('compactPrev', [after, upTo]));
      const tomb = await c.query(named('compactTombstones', [after, upTo]));
      await c.query(named('setMeta', [[progressKey], [String(upTo)]]));
      return (prev.rowCount ?? 0) + (tomb.rowCount ?? 0);
    });
  }

  async dbSize(): Promise<DbSize> {
    const r = await this.pool.query<{ size: string; in_use: string }>(
      `SELECT pg_database_size(current_database()) AS size,
              pg_total_relation_size('log') + pg_total_relation_size('meta') + pg_total_relation_size('lease') AS in_use`,
    );
    return { size: Number(r.rows[0].size), inUse: Number(r.rows[0].in_use) };
  }

  async defragment(): Promise<void> {
    // Plain VACUUM makes dead space reusable without locking writers out; VACUUM FULL would.
    await this.pool.query('VACUUM log, lease, meta');
  }

  isTransient(e: unknown): boolean {
    const code = (e as { code?: string } | undefined)?.code;
    return (code !== undefined && TRANSIENT_STATES.has(code)) || isConnectionError(e);
  }
}
