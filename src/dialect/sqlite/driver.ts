/**
 * SQLite connections (better-sqlite3): one writer in WAL mode, which also creates the file and the
 * schema, and one read-only reader that sees only committed data. Every call is synchronous, so a
 * transaction whose awaits are only calls on these connections never lets other work in.
 */
import { closeSync, mkdirSync, openSync } from 'node:fs';
import * as path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import type { Logger } from 'pino';
import type { SqliteEndpoint } from '../../config';
import { loadModule } from '../load-module';
import { PRAGMAS, prepareTransaction, type TransactionStatements } from './statements';
import { BACKSTOP_PAGES, Checkpointer } from './checkpointer';

type Db = BetterSqlite3.Database;

export class SqliteDriver {
  writer!: Db;
  reader!: Db;
  private tx!: TransactionStatements;
  private checkpointer: Checkpointer | undefined;

  constructor(
    private readonly endpoint: SqliteEndpoint,
    private readonly log?: Logger,
  ) {}

  /** Opens the file (creating it and its folder if missing) and runs `schema` before the reader opens. */
  open(schema: string): void {
    const Database = loadModule<typeof BetterSqlite3>('better-sqlite3');
    const file = this.endpoint.path;
    if (file !== ':memory:') createPrivately(file);
    this.writer = new Database(file, { timeout: this.endpoint.busyTimeoutMs });
    this.writer.pragma(PRAGMAS.journalMode);
    // NORMAL in WAL mode: a commit survives a crash of this process (kill -9); FULL also survives
    // power loss at the cost of an fsync per commit. Chosen per endpoint (?_synchronous=FULL).
    this.writer.pragma(PRAGMAS.synchronous(this.endpoint.synchronous));
    this.writer.defaultSafeIntegers(true);
    this.writer.exec(schema);
    this.reader = new Database(file, { timeout: this.endpoint.busyTimeoutMs, readonly: true });
    this.reader.defaultSafeIntegers(true);
    this.tx = prepareTransaction(this.writer);
    if (file !== ':memory:') {
      this.writer.pragma(PRAGMAS.autoCheckpoint(BACKSTOP_PAGES));
      this.checkpointer = new Checkpointer(file, this.endpoint.busyTimeoutMs, (error) =>
        this.log?.warn({ error }, 'WAL checkpoint failed; the writer checkpoints past its backstop'),
      );
    }
  }

  /** A read-only connection of its own on the same file (a long read that must not share the reader). */
  openReader(): Db {
    const Database = loadModule<typeof BetterSqlite3>('better-sqlite3');
    const db = new Database(this.endpoint.path, { timeout: this.endpoint.busyTimeoutMs, readonly: true });
    db.defaultSafeIntegers(true);
    return db;
  }

  async close(): Promise<void> {
    if (!this.writer) return;
    // The worker's connection first: the last one to close folds the WAL in and removes it.
    await this.checkpointer?.stop();
    this.checkpointer = undefined;
    this.reader.close();
    this.writer.close();
  }

  /**
   * Runs fn in one write transaction on the writer (BEGIN IMMEDIATE: the database's one write
   * lock); commits if it resolves, rolls back if it throws.
   */
  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    this.tx.begin.run();
    try {
      const out = await fn();
      this.tx.commit.run();
      return out;
    } catch (e) {
      this.rollback();
      throw e;
    }
  }

  /** `transaction` for a synchronous fn: nothing else runs on the writer between BEGIN and COMMIT. */
  transactionSync<T>(fn: () => T): T {
    this.tx.begin.run();
    try {
      const out = fn();
      this.tx.commit.run();
      return out;
    } catch (e) {
      this.rollback();
      throw e;
    }
  }

  private rollback(): void {
    if (this.writer.inTransaction) this.tx.rollback.run();
  }
}

/**
 * The database holds every Secret a cluster stores: a folder strata creates is 0700 and a new file
 * 0600, as etcd's data dir and db. SQLite gives -wal and -shm the database file's mode. Existing
 * files and folders keep the mode their owner chose.
 */
function createPrivately(file: string): void {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
  try {
    closeSync(openSync(file, 'wx', 0o600));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
}
