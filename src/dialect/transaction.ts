/**
 * One write transaction on a server database connection, the same for PostgreSQL and MySQL: a
 * connection lost during COMMIT, or the engine's own "ambiguous result" answer to it, becomes
 * CommitUnknownError (the writer reads back), any other
 * failure rolls back, and a connection that failed is destroyed instead of going back to the pool.
 */
import { CommitUnknownError } from './dialect';

export interface TxConnection {
  /** Runs one statement without parameters (BEGIN, COMMIT, ROLLBACK). */
  exec(sql: string): Promise<unknown>;
  /** Gives the connection back to the pool, or destroys it when `broken`. */
  release(broken: boolean): void;
}

export async function inTransaction<C extends TxConnection, T>(
  c: C,
  begin: string,
  isConnectionError: (e: unknown) => boolean,
  fn: () => Promise<T>,
  isAmbiguous: (e: unknown) => boolean = () => false,
): Promise<T> {
  let broken = false;
  try {
    await c.exec(begin);
    const out = await fn();
    try {
      await c.exec('COMMIT');
    } catch (e) {
      if (!isConnectionError(e) && !isAmbiguous(e)) throw e;
      broken = isConnectionError(e);
      throw new CommitUnknownError(e);
    }
    return out;
  } catch (e) {
    if (isConnectionError(e)) broken = true;
    if (!broken) await c.exec('ROLLBACK').catch(() => (broken = true));
    throw e;
  } finally {
    c.release(broken);
  }
}
