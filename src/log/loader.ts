/**
 * Reading the database's whole state at one set of marks: at start, and when an instance fell
 * behind a compaction. Rows committed after the marks are left to the tailer. A compaction
 * committed during the load may delete rows under it (a tombstone after its key's put was read),
 * so the load repeats until none did.
 */
import type { Logger } from 'pino';
import type { Dialect } from '../dialect/dialect';
import type { Marks } from './meta';
import type { LogRow, LogSnapshot } from './types';

const LOAD_CHUNK = 10_000;
/** A load that takes longer than this reports its progress this often. */
export const PROGRESS_EVERY_MS = 5000;

interface Loaded {
  snapshot: LogSnapshot;
  /** The marks the snapshot matches. */
  marks: Marks;
}

export async function loadSnapshot(
  dialect: Dialect,
  readMarks: () => Promise<Marks>,
  first: Marks,
  log?: Logger,
  progressEveryMs = PROGRESS_EVERY_MS,
): Promise<Loaded> {
  for (let marks = first; ;) {
    const rows: LogRow[] = [];
    let after = { rev: 0, sub: -1 };
    const started = Date.now();
    let lastReport = started;
    for (;;) {
      const chunk = await dialect.loadRows(after.rev, after.sub, LOAD_CHUNK);
      for (const r of chunk) if (r.revision <= marks.revision) rows.push(r);
      if (log && Date.now() - lastReport >= progressEveryMs && chunk.length > 0) {
        lastReport = Date.now();
        const at = chunk[chunk.length - 1].revision;
        log.info({ rows: rows.length, revision: at, of: marks.revision, ms: lastReport - started }, 'loading the log');
      }
      if (chunk.length < LOAD_CHUNK || chunk[chunk.length - 1].revision > marks.revision) break;
      const last = chunk[chunk.length - 1];
      after = { rev: last.revision, sub: last.sub };
    }
    const leases = await dialect.loadLeases();
    const auth = await dialect.loadAuth();
    const now = await readMarks();
    if (now.compactRevision !== marks.compactRevision) {
      marks = now;
      continue;
    }
    // Users and roles read after `marks` may be newer than its auth marks; the tailer reloads them then.
    return {
      snapshot: { revision: marks.revision, compactRevision: marks.compactRevision, rows, leases, auth: { ...auth, marks: marks.auth } },
      marks,
    };
  }
}
