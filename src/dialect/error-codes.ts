/** The fields the drivers put on their errors, read without trusting the error's shape. */

/** A driver's error code: SQLITE_BUSY, a PostgreSQL SQLSTATE, mysql2's or node's socket code. */
export function codeOf(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** MySQL's numeric error number. */
export function errnoOf(e: unknown): number | undefined {
  const errno = (e as { errno?: unknown } | null | undefined)?.errno;
  return typeof errno === 'number' ? errno : undefined;
}

/** Node's codes for a socket that failed, which both server drivers pass on. */
export const SOCKET_ERROR_CODES: readonly string[] = ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT'];
