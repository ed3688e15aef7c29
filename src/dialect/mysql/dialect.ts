/**
 * The MySQL / MariaDB dialect: one connection pool, READ COMMITTED on every connection. The fence
 * is `SELECT … FOR UPDATE` on the marks in meta. MySQL cannot notify, so other instances' commits
 * are found by polling the marks (the tailer's interval). Multi-row statements come in
 * power-of-two sizes so each connection prepares only a handful of shapes. The engine's rules
 * (rules.ts) come from the scheme (galera://, tidb://), or, for mysql://, from the server: Galera's
 * when @@wsrep_on says it is a Galera node (driver.ts), else MySQL's or MariaDB's by its version.
 *
 * On Galera reads are causal (the rules' session statements), a batch's write set stays under the
 * live wsrep_max_ws_size, the schema is created without GET_LOCK (a lock of one node only:
 * concurrent DDL is ordered by Galera itself), and Defragment leaves the tables alone (see
 * `defragment`).
 */
import type { PoolConnection, ResultSetHeader } from 'mysql2/promise';
import type { Logger } from 'pino';
import type { DatastoreOptions, MysqlEndpoint } from '../../config';
import {
  cannotListen,
  type AuthRows,
  type Capabilities,
  type ConsistentRead,
  type KineRow,
  type OpenOptions,
  type DbSize,
  type Dialect,
  type LeaseRow,
  type LogRow,
  type MetaValues,
  type FencedWrite,
  type Shortcut,
  type WriteTx,
  type WriterLease,
} from '../dialect';
import { toKineRow, toLogRow, toMetaValues, type RawKineRow, type RawMetaRow } from '../rows';
import { loadAuthOn, loadLeasesOn, rowsAfterOn, setMetaOn, writeTxOn, type LogColumns, type Rows } from './connection';
import { MysqlDriver } from './driver';
import type { HostHealth } from '../hosts';
import { ENGINE_RULES } from '../rules';
import { isConnectionError, isDiskFull, transientFor } from './errors';
import { SCHEMA, SCHEMA_LOCK } from './schema';
import { errnoOf } from '../error-codes';
import { FENCE_MOVED_ERRNO, fencedCommit, SQL, SQL_FOR_COUNT } from './statements';
import { claimWriterLease, createWriterLease, releaseWriterLease } from './writer-lease';
import { isWriteSetTooLarge, liveWriteSetCap } from './write-set';

/** Meta names and values the fenced commit sends as text: nothing that needs escaping, no ',' or '=' (its separators). */
const PLAIN_TEXT = /^[A-Za-z0-9._-]*$/;
/** A log row's numbers as text in a request, at most. */
const ROW_TEXT_BYTES = 160;

export class MysqlDialect implements Dialect {
  readonly name = 'mysql';
  capabilities: Capabilities;
  readonly listen = cannotListen('mysql');
  private transient: (e: unknown) => boolean;
  readonly isDiskFull = isDiskFull;
  readonly isUnreachable = isConnectionError;

  poolStats(): { inUse: number; idle: number } {
    // mysql2 keeps its counts in the pool's internal queues.
    const p = (this.driver.pool as unknown as { pool?: { _allConnections?: { length: number }; _freeConnections?: { length: number } } })
      ?.pool;
    const all = p?._allConnections?.length ?? 0;
    const idle = p?._freeConnections?.length ?? 0;
    return { inUse: all - idle, idle };
  }
  private readonly driver: MysqlDriver;
  /** Key and value bytes per multi-row INSERT: half the server's max_allowed_packet. */
  private insertBytes = 4 << 20;

  constructor(
    endpoint: MysqlEndpoint,
    opts: DatastoreOptions,
    private readonly log: Logger,
  ) {
    this.driver = new MysqlDriver(endpoint, opts, log);
    this.capabilities = ENGINE_RULES[endpoint.engine];
    this.transient = transientFor(this.capabilities.retryCodes);
  }

  isTransient(e: unknown): boolean {
    return this.transient(e) || (this.capabilities.engine === 'galera' && isWriteSetTooLarge(e));
  }

  /** The rules learned from the server at open; the retry codes follow them. */
  private useRules(rules: Capabilities): void {
    this.capabilities = rules;
    this.transient = transientFor(rules.retryCodes);
  }

  hostHealth(): HostHealth[] {
    return this.driver.hostHealth();
  }

  async open(options?: OpenOptions): Promise<void> {
    await this.driver.open();
    this.useRules(this.driver.rules);
    const c = await this.driver.pool.getConnection();
    try {
      if (options?.schema !== false) await (this.serverWideLocks() ? this.createSchemaLocked(c) : this.createSchemaUnlocked(c));
      const [[packet]] = await c.query<Rows<{ bytes: unknown }>>(SQL.maxAllowedPacket);
      this.insertBytes = Math.max(1 << 20, Math.floor(Number(packet.bytes) / 2));
      const [[server]] = await c.query<Rows<{ version: unknown }>>(SQL.version);
      if (this.capabilities.engine === 'mysql' && /mariadb/i.test(String(server.version))) this.useRules(ENGINE_RULES.mariadb);
      if (this.capabilities.engine === 'galera') {
        // The live wsrep_max_ws_size, where it is set below the rules' ceiling (batchByteCap keeps a batch to a quarter of it).
        const maxTxnBytes = await liveWriteSetCap(c);
        this.useRules({ ...this.capabilities, maxTxnBytes });
        this.log.info({ maxTxnBytes }, 'the server is a Galera node: causal reads on');
      }
    } finally {
      c.release();
    }
  }

  private async createSchemaLocked(c: PoolConnection): Promise<void> {
    const [[lock]] = await c.query<Rows<{ ok: unknown }>>(SQL.schemaLock, [SCHEMA_LOCK]);
    if (Number(lock.ok) !== 1) throw new Error('timed out waiting for another instance to create the schema');
    try {
      for (const stmt of SCHEMA) await c.query(stmt);
    } finally {
      await c.query(SQL.schemaUnlock, [SCHEMA_LOCK]);
    }
  }

  /** GET_LOCK serialises schema creation only where it locks for every instance (not Galera's node-local lock). */
  private serverWideLocks(): boolean {
    return this.capabilities.advisoryLocks === 'server' || this.capabilities.advisoryLocks === 'cluster';
  }

  /**
   * On Galera each CREATE … IF NOT EXISTS is replicated in total order (TOI), so instances starting
   * together on different nodes cannot interleave halfway; one that meets a conflict tries again.
   */
  private async createSchemaUnlocked(c: PoolConnection): Promise<void> {
    for (const stmt of SCHEMA) await retryTransient(() => c.query(stmt), this.transient);
  }

  close(): Promise<void> {
    return this.driver.close();
  }

  async write<T>(fn: (tx: WriteTx) => Promise<T>, shortcut?: Shortcut<T>): Promise<T> {
    if (shortcut && (await this.commitFenced(shortcut.changes))) return shortcut.result;
    try {
      return await this.driver.transaction((c) => fn(writeTxOn(c, this.insertBytes)));
    } catch (e) {
      if (this.capabilities.engine === 'galera' && isWriteSetTooLarge(e)) await this.relearnWriteSetCap();
      throw e;
    }
  }

  /** wsrep_max_ws_size was lowered under us: the next attempt's batches are cut to the live value. */
  private async relearnWriteSetCap(): Promise<void> {
    const c = await this.driver.pool.getConnection();
    try {
      const maxTxnBytes = await liveWriteSetCap(c);
      this.useRules({ ...this.capabilities, maxTxnBytes });
      this.log.warn({ maxTxnBytes }, 'a write set passed wsrep_max_ws_size: write batches now kept under the live value');
    } finally {
      c.release();
    }
  }

  /** The shortcut of `write`: true when it committed, false when nothing was written. */
  async commitFenced(w: FencedWrite): Promise<boolean> {
    const expect = [...w.expect].map(([name, value]) => `${name}=${value}`).join(',');
    const texts = [...w.expect.keys(), ...w.expect.values(), ...Object.keys(w.meta), ...Object.values(w.meta)];
    let bytes = 0;
    for (const r of w.rows) bytes += r.key.length + r.value.length + ROW_TEXT_BYTES;
    // Text goes into the request as it is (only bytes go hex-encoded): anything needing escapes,
    // or a request that could pass max_allowed_packet, takes the transaction instead.
    if (!texts.every((t) => PLAIN_TEXT.test(t)) || 2 * bytes > this.insertBytes) return false;
    const values: unknown[] = [expect, ...w.expect.keys()];
    for (const r of w.rows) {
      values.push(r.revision, r.sub, r.key, r.createRevision, r.prevRevision, r.version, r.lease.toString(), r.value, r.deleted ? 1 : 0);
    }
    for (const l of w.leaseUpserts) values.push(l.id.toString(), l.ttl, l.expiresAt);
    for (const id of w.leaseDeletes) values.push(id.toString());
    for (const [name, value] of Object.entries(w.meta)) values.push(name, value);
    const counts = {
      marks: w.expect.size,
      rows: w.rows.length,
      upserts: w.leaseUpserts.length,
      deletes: w.leaseDeletes.length,
      meta: Object.keys(w.meta).length,
    };
    try {
      await this.driver.multiStatementCommit(fencedCommit(counts), values);
      return true;
    } catch (e) {
      if (errnoOf(e) === FENCE_MOVED_ERRNO) return false;
      throw e;
    }
  }

  async readMeta(names: readonly string[]): Promise<MetaValues> {
    const [rows] = await this.driver.pool.execute<Rows<RawMetaRow>>(SQL_FOR_COUNT.meta(names.length), [...names]);
    return toMetaValues(rows);
  }

  async getMeta(name: string): Promise<string | undefined> {
    const [rows] = await this.driver.pool.execute<Rows<{ value: string }>>(SQL.getMeta, [name]);
    return rows[0]?.value;
  }

  async deleteMeta(name: string): Promise<void> {
    await this.driver.pool.execute(SQL.deleteMeta, [name]);
  }

  async initMeta(defaults: Record<string, string>): Promise<void> {
    const entries = Object.entries(defaults);
    // Instances starting together on different Galera nodes: all but one lose certification.
    await retryTransient(() => this.driver.pool.query(SQL_FOR_COUNT.initMeta(entries.length), entries.flat()), this.transient);
  }

  private writerLeaseReady: Promise<void> | undefined;

  async claimWriter(owner: string, address: string, ttlMs: number): Promise<WriterLease> {
    const pool = this.driver.pool;
    this.writerLeaseReady ??= createWriterLease(pool, (fn) => retryTransient(fn, this.transient)).catch((e: unknown) => {
      this.writerLeaseReady = undefined;
      throw e;
    });
    await this.writerLeaseReady;
    return claimWriterLease(pool, owner, address, ttlMs, (e) => this.transient(e) && !isConnectionError(e));
  }

  releaseWriter(owner: string): Promise<void> {
    return releaseWriterLease(this.driver.pool, owner);
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
    const [rows] = await this.driver.pool.query<LogColumns>({ sql: SQL.loadRows(limit), rowsAsArray: true }, [
      afterRevision,
      afterRevision,
      afterSub,
    ]);
    return rows.map(toLogRow);
  }

  async hasKineTable(): Promise<boolean> {
    const [rows] = await this.driver.pool.query<Rows<{ n: unknown }>>(SQL.kineExists);
    return Number(rows[0].n) > 0;
  }

  async loadKineRows(afterId: number, limit: number): Promise<KineRow[]> {
    const [rows] = await this.driver.pool.query<Rows<RawKineRow>>(SQL.kineRows(limit), [afterId]);
    return rows.map(toKineRow);
  }

  readConsistent<T>(fn: (r: ConsistentRead) => Promise<T>): Promise<T> {
    return this.driver.consistentRead((c) =>
      fn({
        readMeta: async (names) => toMetaValues((await c.execute<Rows<RawMetaRow>>(SQL_FOR_COUNT.meta(names.length), [...names]))[0]),
        loadRows: async (afterRevision, afterSub, limit) =>
          (await c.query<LogColumns>({ sql: SQL.loadRows(limit), rowsAsArray: true }, [afterRevision, afterRevision, afterSub]))[0].map(
            toLogRow,
          ),
        loadLeases: () => loadLeasesOn(c),
      }),
    );
  }

  compactWindow(after: number, upTo: number, progressKey: string): Promise<number> {
    return this.driver.transaction(async (c) => {
      // Predecessors first: a tombstone deleted first would hide the row it superseded.
      const [predecessors] = await c.execute<ResultSetHeader>(SQL.compactPredecessors, [after, upTo]);
      const [tombstones] = await c.execute<ResultSetHeader>(SQL.compactTombstones, [after, upTo]);
      await setMetaOn(c, { [progressKey]: String(upTo) });
      return predecessors.affectedRows + tombstones.affectedRows;
    });
  }

  async revisionAfterRows(after: number, rows: number): Promise<number | undefined> {
    const [[r]] = await this.driver.pool.query<Rows<{ revision: unknown }>>(SQL.revisionAfterRows(rows), [after]);
    return r === undefined ? undefined : Number(r.revision);
  }

  async quotaBytes(): Promise<number> {
    const [[r]] = await this.driver.pool.query<Rows<{ size: unknown }>>(SQL.quotaBytes);
    return Number(r.size);
  }

  /** Freed pages are reused by the database itself. */
  async reclaim(): Promise<void> {}

  async dbSize(): Promise<DbSize> {
    const [[r]] = await this.driver.pool.query<Rows<{ size: unknown; in_use: unknown }>>(SQL.dbSize);
    return { size: Number(r.size), inUse: Number(r.in_use) };
  }

  /**
   * On Galera, OPTIMIZE TABLE is DDL replicated in total order: every node rebuilds the tables
   * while the whole cluster waits for it, and a local-only rebuild would stall the node's applier.
   * etcd defragments one member without stopping the others, so strata answers success and leaves
   * the tables alone: InnoDB reuses the pages compaction freed (docs/compatibility.md).
   */
  async defragment(): Promise<void> {
    if (this.capabilities.engine === 'galera') {
      this.log.warn('defragment skipped: on Galera OPTIMIZE TABLE would block every node; InnoDB reuses freed pages');
      return;
    }
    await this.driver.pool.query(SQL.defragment);
  }
}

/** A few quick attempts of a statement that may lose a race with another instance. */
async function retryTransient<T>(fn: () => Promise<T>, isTransient: (e: unknown) => boolean): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (attempt >= 10 || !isTransient(e)) throw e;
      await new Promise((r) => setTimeout(r, 20 * attempt + Math.random() * 50));
    }
  }
}
