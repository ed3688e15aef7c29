/**
 * Which log rows etcd's `key` bucket holds after compacting at C: every row above C, and of the
 * rows at or below C only each key's last one, unless that is a tombstone (etcd's keyIndex.compact
 * and scheduleCompaction). Deciding it for a row at or below C needs what comes after it, so the
 * rows are read twice: once up to C to learn each key's last row there, then to stream them.
 */
import type { LogRow } from '../log/types';

/** Rows in (revision, sub) order; each call starts a new pass over the same consistent read. */
export type RowSource = () => AsyncIterable<LogRow> | Iterable<LogRow>;

/** A key's last row at or below some revision: its revision, negated for a tombstone. */
export type LastRows = Map<string, number>;

const keyOf = (row: LogRow): string => row.key.toString('latin1');

/** Per key, its last row at or below `upTo` (rows past it are not read). */
export async function lastRowsUpTo(source: RowSource, upTo: number): Promise<LastRows> {
  const last: LastRows = new Map();
  if (upTo <= 0) return last;
  for await (const row of source()) {
    if (row.revision > upTo) break;
    last.set(keyOf(row), row.deleted ? -row.revision : row.revision);
  }
  return last;
}

/** Whether `row` (at or below the revision `last` was read to) is its key's last live row there. */
export const isLastLive = (last: LastRows, row: LogRow): boolean => last.get(keyOf(row)) === row.revision;

/**
 * The rows etcd would hold at `revision` after compacting at `compactRevision` (-1 or 0: never),
 * in (revision, sub) order.
 */
export async function* etcdRetainedRows(source: RowSource, revision: number, compactRevision: number): AsyncGenerator<LogRow> {
  const last = await lastRowsUpTo(source, compactRevision);
  for await (const row of source()) {
    if (row.revision > revision) break;
    if (row.revision > compactRevision || isLastLive(last, row)) yield row;
  }
}
