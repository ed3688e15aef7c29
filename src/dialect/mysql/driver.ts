/**
 * MySQL / MariaDB connections (mysql2): the configuration from the endpoint and the datastore
 * options, the database created when missing, one pool whose connections run READ COMMITTED and
 * never end the process when they break, and write transactions.
 */
import type { ConnectionOptions, Pool, PoolConnection } from 'mysql2/promise';
import { CommitUnknownError } from '../dialect';
import type { Logger } from 'pino';
import type { DatastoreOptions, MysqlEndpoint } from '../../config';
import { loadModule } from '../load-module';
import { tlsOptions } from '../tls';
import { inTransaction } from '../transaction';
import { isConnectionError, isMissingDatabase } from './errors';
import { SQL } from './statements';

type Mysql = typeof import('mysql2/promise');

export class MysqlDriver {
  pool!: Pool;
  private mysql!: Mysql;

  constructor(
    private readonly endpoint: MysqlEndpoint,
    private readonly opts: DatastoreOptions,
    private readonly log: Logger,
  ) {}

  async open(): Promise<void> {
    this.mysql = loadModule<Mysql>('mysql2/promise');
    await this.ensureDatabase();
    this.pool = this.mysql.createPool({
      ...this.connectionConfig(this.endpoint.database),
      connectionLimit: this.opts.maxOpenConnections,
      maxIdle: this.opts.maxOpenConnections,
      idleTimeout: this.opts.connectionMaxIdleMs,
      waitForConnections: true,
    });
    this.pool.pool.on('connection', (c) => {
      // A connection that dies while idle or between two queries must not end the process: the
      // next query on it fails and the writer retries.
      c.on('error', (err: Error) => this.log.debug({ error: err.message }, 'database connection failed'));
      void c.query(SQL.readCommitted);
    });
  }

  async close(): Promise<void> {
    await this.pool?.end();
  }

  /** Runs fn in one transaction on a pooled connection (see inTransaction). */
  async transaction<T>(fn: (c: PoolConnection) => Promise<T>): Promise<T> {
    const c = await this.pool.getConnection();
    const conn = { exec: (sql: string) => c.query(sql), release: (broken: boolean) => (broken ? c.destroy() : c.release()) };
    return inTransaction(conn, SQL.begin, isConnectionError, () => fn(c));
  }

  /**
   * Sends one multi-statement request that opens, fills and commits a transaction. Once sent, a
   * lost connection leaves its outcome unknown (CommitUnknownError). Any other failure stopped it
   * mid-transaction, so the connection rolls back before it is reused.
   */
  async multiStatementCommit(sql: string, values: unknown[]): Promise<void> {
    const c = await this.pool.getConnection();
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
      throw isConnectionError(e) ? new CommitUnknownError(e) : e;
    } finally {
      if (broken) c.destroy();
      else c.release();
    }
  }

  /** Runs fn in one read-only transaction on one consistent snapshot of the database. */
  async consistentRead<T>(fn: (c: PoolConnection) => Promise<T>): Promise<T> {
    const c = await this.pool.getConnection();
    try {
      await c.query(SQL.repeatableReadOnce);
    } catch (e) {
      c.destroy();
      throw e;
    }
    const conn = { exec: (sql: string) => c.query(sql), release: (broken: boolean) => (broken ? c.destroy() : c.release()) };
    return inTransaction(conn, SQL.beginConsistent, isConnectionError, () => fn(c));
  }

  private connectionConfig(database: string | undefined): ConnectionOptions {
    const e = this.endpoint;
    return {
      host: e.host,
      port: e.port,
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

  /** Creates the database when it does not exist, as kine does. */
  private async ensureDatabase(): Promise<void> {
    try {
      await (await this.mysql.createConnection(this.connectionConfig(this.endpoint.database))).end();
      return;
    } catch (e) {
      if (!isMissingDatabase(e)) throw e;
    }
    const admin = await this.mysql.createConnection(this.connectionConfig(undefined));
    try {
      await admin.query(SQL.createDatabase(this.endpoint.database));
      this.log.info({ database: this.endpoint.database }, 'created database');
    } finally {
      await admin.end();
    }
  }
}
