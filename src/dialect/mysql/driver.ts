/**
 * MySQL / MariaDB connections (mysql2): the configuration from the endpoint and the datastore
 * options, the database created when missing, one pool whose connections run READ COMMITTED and
 * never end the process when they break, and write transactions. On a Galera node every pooled
 * connection also waits for causality before it reads (wsrep_sync_wait): a plain read, and the
 * fence's FOR UPDATE, are otherwise answered from the node's own, possibly lagging, copy.
 */
import type { Connection, ConnectionOptions, Pool, PoolConnection, RowDataPacket } from 'mysql2/promise';
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
  /** Whether the server is a Galera node (@@wsrep_on), learned before the pool opens. */
  galera = false;
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
      if (this.galera) void c.query(SQL.causalReads);
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
      supportBigNumbers: true,
      bigNumberStrings: true,
      connectTimeout: Number(e.params.timeout?.replace(/s$/, '') ?? '10') * 1000,
    };
  }

  /**
   * Learns whether the server is a Galera node (a galera:// endpoint demands one), then creates
   * the database when it does not exist, as kine does.
   */
  private async ensureDatabase(): Promise<void> {
    let c: Connection;
    let missing = false;
    try {
      c = await this.mysql.createConnection(this.connectionConfig(this.endpoint.database));
    } catch (e) {
      if (!isMissingDatabase(e)) throw e;
      missing = true;
      c = await this.mysql.createConnection(this.connectionConfig(undefined));
    }
    try {
      // MySQL has no wsrep_on at all: no row.
      const [rows] = await c.query<Array<{ Value: string } & RowDataPacket>>(SQL.wsrepOn);
      this.galera = rows[0]?.Value === 'ON';
      if (this.endpoint.requireGalera && !this.galera) {
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
