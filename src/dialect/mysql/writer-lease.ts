/**
 * The writer lease on MySQL / MariaDB / Galera: one row, taken and renewed with one conditional
 * UPDATE judged by the database's clock, then read back. Two instances claiming at once cannot
 * both win: on one server the row lock orders them and the second re-reads the row; on Galera
 * both may pass the WHERE on their own node, and certification lets only the first commit (the
 * other fails with 1213, or is retried by the server and then matches nothing). The lease only
 * decides who commits for the others; the fence keeps commits correct whoever holds it.
 */
import type { Pool, ResultSetHeader } from 'mysql2/promise';
import type { WriterLease } from '../dialect';
import type { Rows } from './connection';

const NOW_MS = 'CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED)';

const SQL = {
  // Created on the first claim, so instances without election leave the schema as it was.
  create: `CREATE TABLE IF NOT EXISTS writer_lease (
    id         TINYINT      NOT NULL PRIMARY KEY,
    owner      VARCHAR(64)  NOT NULL,
    address    VARCHAR(255) NOT NULL,
    expires_at BIGINT       NOT NULL
  ) ENGINE = InnoDB`,
  seed: "INSERT IGNORE INTO writer_lease (id, owner, address, expires_at) VALUES (1, '', '', 0)",
  claim: `UPDATE writer_lease SET owner = ?, address = ?, expires_at = ${NOW_MS} + ?
          WHERE id = 1 AND (owner = ? OR expires_at < ${NOW_MS})`,
  read: `SELECT owner, address, expires_at - ${NOW_MS} AS remaining FROM writer_lease WHERE id = 1`,
  release: 'UPDATE writer_lease SET expires_at = 0 WHERE id = 1 AND owner = ?',
} as const;

/** Creates the lease row where it is missing (idempotent; every instance may run it at once). */
export async function createWriterLease(pool: Pool, retry: <T>(fn: () => Promise<T>) => Promise<T>): Promise<void> {
  await retry(() => pool.query(SQL.create));
  await retry(() => pool.query(SQL.seed));
}

/**
 * Takes or renews the lease for `owner`; returns the holder afterwards. A claim that lost a
 * conflict (`lostRace`) is no failure: the read-back says who won.
 */
export async function claimWriterLease(
  pool: Pool,
  owner: string,
  address: string,
  ttlMs: number,
  lostRace: (e: unknown) => boolean,
): Promise<WriterLease> {
  try {
    await pool.execute<ResultSetHeader>(SQL.claim, [owner, address, Math.trunc(ttlMs), owner]);
  } catch (e) {
    if (!lostRace(e)) throw e;
  }
  const [rows] = await pool.execute<Rows<{ owner: string; address: string; remaining: unknown }>>(SQL.read);
  const row = rows[0];
  if (!row) return { owner: '', address: '', remainingMs: 0 };
  return { owner: row.owner, address: row.address, remainingMs: Number(row.remaining) };
}

/** Ends `owner`'s lease at once (a clean stop), so another instance takes over without waiting for it to expire. */
export async function releaseWriterLease(pool: Pool, owner: string): Promise<void> {
  await pool.execute(SQL.release, [owner]);
}
