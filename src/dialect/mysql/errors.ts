/** Which MySQL / MariaDB failures are worth retrying, which mean the connection is gone, and the error ensureDatabase meets. */
import { codeOf, errnoOf, SOCKET_ERROR_CODES } from '../error-codes';

/** Server shutdown, connection killed, server gone away, lost during a query, disconnected for inactivity. */
const CONNECTION_ERRNOS = new Set([1053, 1927, 2006, 2013, 4031]);
const CONNECTION_CODES = new Set([...SOCKET_ERROR_CODES, 'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT']);

export function isConnectionError(e: unknown): boolean {
  if (!e) return false;
  return (e as { fatal?: unknown }).fatal === true || CONNECTION_CODES.has(codeOf(e) ?? '') || CONNECTION_ERRNOS.has(errnoOf(e) ?? 0);
}

/** ER_RECORD_FILE_FULL (1114), ER_DISK_FULL (1021), or the OS's ENOSPC (errno 28) passed through. */
export function isDiskFull(e: unknown): boolean {
  const errno = errnoOf(e) ?? 0;
  if (errno === 1114 || errno === 1021) return true;
  const message = (e as { message?: unknown } | null | undefined)?.message;
  return typeof message === 'string' && /(errno|Errcode|error):? 28\b/i.test(message);
}

/** A failure worth running the transaction again for: one of the engine's retry error numbers, or a lost connection. */
export function transientFor(retryCodes: readonly string[]): (e: unknown) => boolean {
  const errnos = new Set(retryCodes.map(Number));
  return (e) => errnos.has(errnoOf(e) ?? 0) || isConnectionError(e);
}

/** ER_BAD_DB_ERROR: the database does not exist. */
export const isMissingDatabase = (e: unknown): boolean => errnoOf(e) === 1049;
