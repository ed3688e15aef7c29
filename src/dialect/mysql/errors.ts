/** Which MySQL / MariaDB failures are worth retrying, which mean the connection is gone, and the error ensureDatabase meets. */
import { codeOf, errnoOf, SOCKET_ERROR_CODES } from '../error-codes';

/** Lock wait timeout, deadlock, too many connections; connection failures are retried too. */
const RETRYABLE_ERRNOS = new Set([1205, 1213, 1040]);
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

export function isTransient(e: unknown): boolean {
  return RETRYABLE_ERRNOS.has(errnoOf(e) ?? 0) || isConnectionError(e);
}

/** ER_BAD_DB_ERROR: the database does not exist. */
export const isMissingDatabase = (e: unknown): boolean => errnoOf(e) === 1049;
