/**
 * Conflicts raised by the real PostgreSQL: a trigger on strata's log table fails every INSERT with a
 * serialization failure (SQLSTATE 40001) until a moment on the server's clock, as a distributed
 * engine that keeps losing its transactions to others would.
 */
import type { Client } from 'pg';

/** Fails every INSERT into `log` for `ms` from now; the returned function removes the trigger. */
export async function conflictsFor(sql: Client, ms: number): Promise<() => Promise<void>> {
  await sql.query('CREATE TABLE conflicts_until (t timestamptz NOT NULL)');
  await sql.query(`INSERT INTO conflicts_until VALUES (clock_timestamp() + interval '${ms} milliseconds')`);
  await sql.query(`CREATE FUNCTION injected_conflict() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF clock_timestamp() < (SELECT t FROM conflicts_until) THEN
        RAISE EXCEPTION 'injected conflict' USING ERRCODE = '40001';
      END IF;
      RETURN NULL;
    END $$`);
  await sql.query('CREATE TRIGGER injected_conflict AFTER INSERT ON log FOR EACH ROW EXECUTE FUNCTION injected_conflict()');
  return async () => {
    await sql.query('DROP TRIGGER injected_conflict ON log');
    await sql.query('DROP FUNCTION injected_conflict()');
    await sql.query('DROP TABLE conflicts_until');
  };
}

/** A promise's outcome and when it came, in ms after `started`. */
export type Settled<T> = { ok: true; v: T; ms: number } | { ok: false; message: string; ms: number };

export function settle<T>(p: Promise<T>, started: number): Promise<Settled<T>> {
  return p.then(
    (v) => ({ ok: true as const, v, ms: Date.now() - started }),
    (e: Error) => ({ ok: false as const, message: e.message, ms: Date.now() - started }),
  );
}
