/** Which PostgreSQL failures are worth retrying, which mean the connection is gone, and the SQLSTATEs ensureDatabase meets. */
import { codeOf, SOCKET_ERROR_CODES } from '../error-codes';

const CONNECTION_CODES = new Set([...SOCKET_ERROR_CODES, 'ENOTFOUND', 'EHOSTUNREACH']);
/** SQLSTATE classes of a lost connection (08) and of a server shutting down (57P). */
const CONNECTION_STATE_CLASSES = ['08', '57P'];

export function isConnectionError(e: unknown): boolean {
  const code = codeOf(e);
  if (code && (CONNECTION_CODES.has(code) || CONNECTION_STATE_CLASSES.some((c) => code.startsWith(c)))) return true;
  // node-postgres's own errors (no SQLSTATE, a plain Error: "Connection terminated unexpectedly",
  // "Client has encountered a connection error and is not queryable", pool timeouts, …) all come
  // from the connection, not from the statement.
  if (e instanceof Error && e.constructor === Error && !code) return true;
  const message = (e as { message?: unknown } | null | undefined)?.message;
  return (
    typeof message === 'string' &&
    /Connection terminated|connection.*(closed|ended)|Client has encountered a connection error/i.test(message)
  );
}

/** disk_full (53100), and out of memory / configuration limit of the 53 class that a full disk causes. */
export const isDiskFull = (e: unknown): boolean => codeOf(e) === '53100';

/** A failure worth running the transaction again for: one of the engine's retry SQLSTATEs, or a lost connection. */
export function transientFor(retryCodes: readonly string[]): (e: unknown) => boolean {
  const states = new Set(retryCodes);
  return (e) => states.has(codeOf(e) ?? '') || isConnectionError(e);
}

/** invalid_catalog_name: the database does not exist. */
export const isMissingDatabase = (e: unknown): boolean => codeOf(e) === '3D000';

/** duplicate_database, or the unique violation of two CREATE DATABASE at once: another instance created it. */
export const isDatabaseCreatedMeanwhile = (e: unknown): boolean => ['42P04', '23505'].includes(codeOf(e) ?? '');

/** unique_violation, duplicate_table, duplicate_object: a concurrent CREATE … IF NOT EXISTS got there first. */
export const isSchemaRace = (e: unknown): boolean => ['23505', '42P07', '42710'].includes(codeOf(e) ?? '');
