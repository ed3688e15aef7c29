/**
 * Reading the database's whole state at one set of marks: at start, and when an instance fell
 * behind a compaction. Rows committed after the marks are left to the tailer. A compaction
 * committed during the load may delete rows under it (a tombstone after its key's put was read),
 * so the load repeats, into a new build, until none did.
 */
import type { Logger } from 'pino';
import type { Dialect } from '../dialect/dialect';
import type { Marks } from './meta';
import type { LogRow, LogSnapshot } from './types';

const LOAD_CHUNK = 10_000;
/** A load that takes longer than this reports its progress this often. */
export const PROGRESS_EVERY_MS = 5000;

/** Where a load hands its rows, chunk by chunk in (revision, sub) order. */
export interface RowSink {
  add(rows: LogRow[]): void;
}

interface Loaded<B extends RowSink> {
  snapshot: LogSnapshot;
  /** The build that received exactly the snapshot's rows. */
  build: B;
  rows: number;
  /** The marks the snapshot matches. */
  marks: Marks;
}

export async function loadSnapshot<B extends RowSink>(
  dialect: Dialect,
  readMarks: () => Promise<Marks>,
  first: Marks,
  startBuild: () => B,
  log?: Logger,
  progressEveryMs = PROGRESS_EVERY_MS,
): Promise<Loaded<B>> {
  for (let marks = first; ;) {
    const build = startBuild();
    let rows = 0;
    let after = { rev: 0, sub: -1 };
    const started = Date.now();
    let lastReport = started;
    for (;;) {
      const chunk = await dialect.loadRows(after.rev, after.sub, LOAD_CHUNK);
      if (chunk.length === 0) break;
      const last = chunk[chunk.length - 1];
      const taken = last.revision <= marks.revision ? chunk : chunk.filter((r) => r.revision <= marks.revision);
      build.add(taken);
      rows += taken.length;
      if (log && Date.now() - lastReport >= progressEveryMs) {
        lastReport = Date.now();
        log.info({ rows, revision: last.revision, of: marks.revision, ms: lastReport - started }, 'loading the log');
      }
      if (chunk.length < LOAD_CHUNK || last.revision > marks.revision) break;
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
      snapshot: { revision: marks.revision, compactRevision: marks.compactRevision, leases, auth: { ...auth, marks: marks.auth } },
      build,
      rows,
      marks,
    };
  }
}
