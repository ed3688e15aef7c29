/**
 * The whole log at one committed revision, read inside one consistent read of the database while
 * writers go on: what a backup (Snapshot) and a hash of the store (Hash, HashKV) are computed from.
 * Rows are paged through, never held all at once, and may be read more than once.
 */
import type { ConsistentRead, Dialect } from '../dialect/dialect';
import { MARKS, marksFrom } from './meta';
import type { LeaseRow, LogRow } from './types';

// Small pages keep the garbage between collections small (SQLite's row buffers live outside the JS heap).
const PAGE_ROWS = 500;

export interface LogView {
  /** The last committed revision in this read. */
  revision: number;
  /** etcd's compact revision (-1: never compacted). Rows at or below it may be partly deleted already. */
  compactRevision: number;
  /** Every row at or below `revision`, in (revision, sub) order; each call starts a new pass. */
  rows(): AsyncIterable<LogRow>;
  leases: LeaseRow[];
}

async function* pagedRows(r: ConsistentRead, upTo: number): AsyncGenerator<LogRow> {
  let after = { revision: 0, sub: -1 };
  for (;;) {
    const page = await r.loadRows(after.revision, after.sub, PAGE_ROWS);
    for (const row of page) {
      if (row.revision > upTo) return;
      yield row;
    }
    if (page.length < PAGE_ROWS) return;
    const last = page[page.length - 1];
    after = { revision: last.revision, sub: last.sub };
  }
}

export function readLogView<T>(dialect: Dialect, fn: (view: LogView) => Promise<T>): Promise<T> {
  return dialect.readConsistent(async (r) => {
    const marks = marksFrom(await r.readMeta(MARKS));
    const leases = await r.loadLeases();
    return fn({ revision: marks.revision, compactRevision: marks.compactRevision, leases, rows: () => pagedRows(r, marks.revision) });
  });
}
