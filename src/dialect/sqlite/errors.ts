/** Which SQLite failures are worth retrying the whole transaction for. */
import { codeOf } from '../error-codes';

/** Another connection holds the write lock (busy) or a table lock (locked): waiting may help. */
const TRANSIENT_PREFIXES = ['SQLITE_BUSY', 'SQLITE_LOCKED'];

/** SQLITE_FULL: the disk (or max_page_count) is full. */
export const isDiskFull = (e: unknown): boolean => codeOf(e) === 'SQLITE_FULL';

export function isTransient(e: unknown): boolean {
  const code = codeOf(e) ?? '';
  return TRANSIENT_PREFIXES.some((p) => code.startsWith(p));
}
