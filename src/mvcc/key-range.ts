/** Key ranges as etcd means them, over keys held as binary strings (latin1: one char per byte). */

/** A point, [start, end), or everything from start on (end null). */
export interface KeyRange {
  start: string;
  /** undefined: the single key `start`; null: no upper bound. */
  end: string | null | undefined;
}

/** etcd's reading of (key, range_end): empty end is one key, "\0" is "from key on". */
export function keyRange(key: Buffer, rangeEnd: Buffer | undefined): KeyRange {
  const start = key.toString('latin1');
  if (!rangeEnd || rangeEnd.length === 0) return { start, end: undefined };
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return { start, end: null };
  return { start, end: rangeEnd.toString('latin1') };
}

export function inRange(r: KeyRange, k: string): boolean {
  if (r.end === undefined) return k === r.start;
  return k >= r.start && (r.end === null || k < r.end);
}
