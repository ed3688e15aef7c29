/**
 * MySQL / MariaDB connections (mysql2): the configuration from the endpoint and the datastore
 * options, the database created when missing, one pool whose connections run READ COMMITTED (and
 * the engine's causal-read statements) and never end the process when they break, and write
 * transactions. An endpoint naming several hosts gets them from HostSet: hosts in order, the pool
 * on the first live one. A server that says it is a Galera node (@@wsrep_on) takes Galera's rules
 * whatever the scheme; galera:// demands one.
 */
import type { Connection, ConnectionOptions, Pool, PoolConnection, RowDataPacket } from 'mysql2/promise';
import { CommitUnknownError } from '../dialect';
import type { Logger } from 'pino';
import type { DatastoreOptions, MysqlEndpoint } from '../../config';
import type { HostPort } from '../../endpoint';
import { HostedDriver } from '../hosts';
import { loadModule } from '../load-module';
import { ENGINE_RULES, type EngineRules } from '../rules';
import { tlsOptions } from '../tls';
import { inTransaction } from '../transaction';
import { isConnectionError, isMissingDatabase } from './errors';
import { SQL } from './statements';

type Mysql = typeof import('mysql2/promise');

export class MysqlDriver extends HostedDriver<Pool> {
  /** The engine's rules: the scheme's, or Galera's once a host says it is a Galera node (before the pool opens). */
  rules: EngineRules;
  private mysql!: Mysql;

  constructor(
    private readonly endpoint: MysqlEndpoint,
    private readonly opts: DatastoreOptions,
    log: Logger,
  ) {
    super(endpoint.hosts, log, isConnectionError);
    this.rules = ENGINE_RULES[endpoint.engine];
  }

  async open(): Promise<void> {
    this.mysql = loadModule<Mysql>('mysql2/promise');
    await this.openHosts();
  }

  close(): Promise<void> {
    return this.closeHosts();
  }

  /** Runs fn in one transaction on a pooled connection (see inTransaction). */
  async transaction<T>(fn: (c: PoolConnection) => Promise<T>): Promise<T> {
    const c = await this.connection();
    const conn = { exec: (sql: string) => c.query(sql), release: (broken: boolean) => (broken ? c.destroy() : c.release()) };
    return inTransaction(conn, SQL.begin, isConnectionError, () => fn(c)).catch((e: unknown) => Promise.reject(this.noted(e)));
  }

  /** A pooled connection; failing to get one may mean a lost host, which the host set then checks at once. */
  async connection(): Promise<PoolConnection> {
    try {
      return await this.pool.getConnection();
    } catch (e) {
      throw this.noted(e);
    }
  }

  protected createPool(h: HostPort): Pool {
    const pool = this.mysql.createPool({
      ...this.connectionConfig(this.endpoint.database, h),
      connectionLimit: this.opts.maxOpenConnections,
      maxIdle: this.opts.maxOpenConnections,
      idleTimeout: this.opts.connectionMaxIdleMs,
      waitForConnections: true,
    });
    const session = [SQL.readCommitted, ...this.rules.causalReads];
    pool.pool.on('connection', (c) => {
      // A connection that dies while idle or between two queries must not end the process: the
      // next query on it fails and the writer retries.
      c.on('error', (err: Error) => {
        this.log.debug({ error: err.message }, 'database connection failed');
        this.noted(err);
      });
      for (const stmt of session) void c.query(stmt);
    });
    return pool;
  }

  /** Whether a host may take connections: it answers and, where the endpoint asks, takes writes. */
  protected async check(h: HostPort): Promise<void> {
    const c = await this.mysql.createConnection(this.connectionConfig(this.endpoint.database, h));
    c.on('error', () => undefined);
    try {
      if (this.endpoint.targetSessionAttrs === 'any') await c.query(SQL.ping);
      else {
        const [[row]] = await c.query<Array<{ ro: unknown } & RowDataPacket>>(SQL.readOnly);
        if (Number(row?.ro) !== 0) throw new Error(`host is read-only (target_session_attrs=${this.endpoint.targetSessionAttrs})`);
      }
    } finally {
      await c.end().catch(() => undefined);
    }
  }

  /**
   * Sends one multi-statement request that opens, fills and commits a transaction. Once sent, a
   * lost connection leaves its outcome unknown (CommitUnknownError). Any other failure stopped it
   * mid-transaction, so the connection rolls back before it is reused.
   */
  async multiStatementCommit(sql: string, values: unknown[]): Promise<void> {
    const c = await this.connection();
    let broken = false;
    try {
      await c.query({ sql, values });
    } catch (e) {
      broken =
        isConnectionError(e) ||
        (await c.query(SQL.rollback).then(
          () => false,
          () => true,
        ));
      throw isConnectionError(e) ? new CommitUnknownError(this.noted(e)) : e;
    } finally {
      if (broken) c.destroy();
      else c.release();
    }
  }

  /** Runs fn in one read-only transaction on one consistent snapshot of the database. */
  async consistentRead<T>(fn: (c: PoolConnection) => Promise<T>): Promise<T> {
    const c = await this.connection();
    try {
      await c.query(SQL.repeatableReadOnce);
    } catch (e) {
      c.destroy();
      throw e;
    }
    const conn = { exec: (sql: string) => c.query(sql), release: (broken: boolean) => (broken ? c.destroy() : c.release()) };
    return inTransaction(conn, SQL.beginConsistent, isConnectionError, () => fn(c));
  }

  private connectionConfig(database: string | undefined, h: HostPort): ConnectionOptions {
    const e = this.endpoint;
    return {
      host: h.host,
      port: h.port,
      socketPath: e.socketPath,
      user: e.user,
      password: e.password,
      database,
      ssl: tlsOptions(e, this.opts.tls),
      // The fenced commit is one multi-statement request; every value in it is escaped by mysql2.
      multipleStatements: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
      connectTimeout: Number(e.params.timeout?.replace(/s$/, '') ?? '10') * 1000,
    };
  }

  /**
   * Learns whether the server is a Galera node (a galera:// endpoint demands one), then creates
   * the database when it does not exist, as kine does.
   */
  protected async ensureDatabase(h: HostPort): Promise<void> {
    let c: Connection;
    let missing = false;
    try {
      c = await this.mysql.createConnection(this.connectionConfig(this.endpoint.database, h));
    } catch (e) {
      if (!isMissingDatabase(e)) throw e;
      missing = true;
      c = await this.mysql.createConnection(this.connectionConfig(undefined, h));
    }
    try {
      // MySQL has no wsrep_on at all: no row.
      const [rows] = await c.query<Array<{ Value: string } & RowDataPacket>>(SQL.wsrepOn);
      const galera = rows[0]?.Value === 'ON';
      if (galera) this.rules = ENGINE_RULES.galera;
      else if (this.endpoint.engine === 'galera') {
        throw new Error('the galera:// endpoint names a server that is not a Galera node (wsrep_on is OFF); use mysql://');
      }
      if (missing) {
        await c.query(SQL.createDatabase(this.endpoint.database));
        this.log.info({ database: this.endpoint.database }, 'created database');
      }
    } finally {
      await c.end();
    }
  }
}
