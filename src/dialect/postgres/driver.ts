/**
 * PostgreSQL connections (node-postgres): the configuration from the endpoint and the datastore
 * options, the database created when missing, one pool whose broken connections never end the
 * process, write transactions, and the extra connection that LISTENs and reconnects. node-postgres
 * connects to one host; an endpoint naming several gets libpq's behaviour from HostSet (hosts in
 * order, target_session_attrs checked), with the pool on the host chosen.
 */
import type { Client, ClientConfig, Pool, PoolClient, QueryConfig, QueryResultRow } from 'pg';
import { CommitUnknownError } from '../dialect';
import type { Logger } from 'pino';
import type { DatastoreOptions, PostgresEndpoint } from '../../config';
import type { HostPort } from '../../endpoint';
import { HostedDriver } from '../hosts';
import { codeOf } from '../error-codes';
import { loadModule } from '../load-module';
import { ENGINE_RULES } from '../rules';
import { tlsOptions } from '../tls';
import { inTransaction } from '../transaction';
import { isConnectionError, isDatabaseCreatedMeanwhile, isMissingDatabase } from './errors';
import { SQL } from './statements';

type Pg = typeof import('pg');

/** How long the LISTEN connection waits before it reconnects: after losing it, after a failed attempt. */
const RELISTEN_MS = 250;
const RELISTEN_RETRY_MS = 1000;

export class PostgresDriver extends HostedDriver<Pool> {
  private readonly isAmbiguous: (e: unknown) => boolean;
  private pg!: Pg;
  private listener: Client | undefined;
  private closed = false;

  constructor(
    private readonly endpoint: PostgresEndpoint,
    private readonly opts: DatastoreOptions,
    log: Logger,
  ) {
    super(endpoint.hosts, log, isConnectionError);
    const ambiguous = new Set(ENGINE_RULES[endpoint.engine].ambiguousCommitCodes);
    this.isAmbiguous = (e) => ambiguous.has(codeOf(e) ?? '');
  }

  async open(): Promise<void> {
    this.pg = loadModule<Pg>('pg');
    await this.openHosts();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.listener?.end().catch(() => undefined);
    await this.closeHosts();
  }

  /** Runs fn in one transaction on a pooled connection (see inTransaction). */
  async transaction<T>(fn: (c: PoolClient) => Promise<T>, begin: string = SQL.begin): Promise<T> {
    let c: PoolClient;
    try {
      c = await this.pool.connect();
    } catch (e) {
      throw this.noted(e);
    }
    const conn = { exec: (sql: string) => c.query(sql), release: (broken: boolean) => c.release(broken) };
    return inTransaction(conn, begin, isConnectionError, () => fn(c), this.isAmbiguous).catch((e: unknown) =>
      Promise.reject(this.noted(e)),
    );
  }

  protected createPool(h: HostPort): Pool {
    const pool = new this.pg.Pool({
      ...this.clientConfig(this.endpoint.database, h),
      max: this.opts.maxOpenConnections,
      idleTimeoutMillis: this.opts.connectionMaxIdleMs,
    });
    // An idle connection dropped by the server must not take the process down; the next query reconnects.
    pool.on('error', (err) => {
      this.log.debug({ error: err.message }, 'idle database connection failed');
      this.noted(err);
    });
    // A checked-out client whose connection dies between two queries emits 'error' with no
    // listener of the pool's attached, which would end the process; the next query on it fails and
    // the writer retries, so logging is all that is needed here.
    pool.on('connect', (client) => client.on('error', (err) => this.log.debug({ error: err.message }, 'database connection failed')));
    return pool;
  }

  /** Whether a host may take connections: it answers and, where the endpoint asks, takes writes. */
  protected async check(h: HostPort): Promise<void> {
    const c = new this.pg.Client(this.clientConfig(this.endpoint.database, h));
    c.on('error', () => undefined);
    try {
      await c.connect();
      const attrs = this.endpoint.targetSessionAttrs;
      if (attrs === 'read-write') {
        const r = await c.query<{ transaction_read_only: string }>(SQL.readOnly);
        if (r.rows[0]?.transaction_read_only !== 'off') throw new Error('host is read-only (target_session_attrs=read-write)');
      } else if (attrs === 'primary') {
        const r = await c.query<{ recovery: boolean }>(SQL.inRecovery);
        if (r.rows[0]?.recovery !== false) throw new Error('host is a standby (target_session_attrs=primary)');
      }
    } finally {
      await c.end().catch(() => undefined);
    }
  }

  /**
   * Runs one statement that commits by itself (autocommit): once it was sent, a lost connection
   * leaves its outcome unknown (CommitUnknownError) and the connection is destroyed.
   */
  async autocommit<R extends QueryResultRow>(query: QueryConfig): Promise<R[]> {
    let c: PoolClient;
    try {
      c = await this.pool.connect();
    } catch (e) {
      throw this.noted(e);
    }
    let broken = false;
    try {
      return (await c.query<R>(query)).rows;
    } catch (e) {
      if (!isConnectionError(e)) throw e;
      broken = true;
      throw new CommitUnknownError(this.noted(e));
    } finally {
      c.release(broken);
    }
  }

  /**
   * Calls `onNotify` on every notification, and once each time listening (re)starts: anything
   * committed while nobody listened is picked up then. Resolves once listening.
   */
  async listen(onNotify: () => void): Promise<void> {
    const connect = async (): Promise<void> => {
      const c = new this.pg.Client(this.clientConfig(this.endpoint.database, this.currentHost));
      c.on('notification', () => onNotify());
      c.on('error', (err) => {
        if (this.closed) return;
        this.log.warn({ error: (err as Error).message }, 'LISTEN connection lost; reconnecting');
        void c.end().catch(() => undefined);
        setTimeout(() => void reconnect(), RELISTEN_MS).unref();
      });
      await c.connect();
      await c.query(SQL.listen);
      this.listener = c;
      onNotify();
    };
    const reconnect = async (): Promise<void> => {
      if (this.closed) return;
      try {
        await connect();
      } catch (err) {
        if (!this.closed) setTimeout(() => void reconnect(), RELISTEN_RETRY_MS).unref();
        this.log.debug({ error: (err as Error).message }, 'LISTEN reconnect failed');
      }
    };
    await connect();
  }

  private clientConfig(database: string, h: HostPort): ClientConfig {
    const e = this.endpoint;
    const timeoutSeconds = Number(e.params.connect_timeout ?? '10');
    return {
      host: e.socketPath ?? h.host,
      port: h.port,
      user: e.user,
      password: e.password,
      database,
      ssl: tlsOptions(e, this.opts.tls) ?? false,
      application_name: e.params.application_name ?? 'strata',
      connectionTimeoutMillis: timeoutSeconds * 1000,
      options: e.params.options,
    };
  }

  /** Creates the database when it does not exist, as kine does. */
  protected async ensureDatabase(h: HostPort): Promise<void> {
    const probe = new this.pg.Client(this.clientConfig(this.endpoint.database, h));
    try {
      await probe.connect();
      return;
    } catch (e) {
      if (!isMissingDatabase(e)) throw e;
    } finally {
      await probe.end().catch(() => undefined);
    }
    const admin = new this.pg.Client(this.clientConfig(this.endpoint.params.maintenance_db ?? 'postgres', h));
    await admin.connect();
    try {
      await admin.query(SQL.createDatabase(this.endpoint.database));
      this.log.info({ database: this.endpoint.database }, 'created database');
    } catch (e) {
      if (!isDatabaseCreatedMeanwhile(e)) throw e;
    } finally {
      await admin.end().catch(() => undefined);
    }
  }
}
