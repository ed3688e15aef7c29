/**
 * One user's merged key permissions and etcd's two questions about them (server/auth's
 * range_perm_cache and pkg/adt's interval tree): does any READ (WRITE) interval meet this key, and
 * do the intervals together cover this range with no gap. Intervals are half-open [begin, end) of
 * bytes, `end` null for "every key from begin on"; a single-key permission is [key, key + "\0").
 */
import type { AuthPermissionRow } from '../../log/types';

/** etcd's permission types (authpb.Permission.Type). */
export const PermType = { READ: 0, WRITE: 1, READWRITE: 2 } as const;

/** Which of a user's permissions a request needs. */
export type Access = 'read' | 'write';

interface Interval {
  begin: Buffer;
  /** null: no end (etcd's empty BytesAffineComparable, larger than every key). */
  end: Buffer | null;
}

const ZERO = Buffer.from([0]);

/** "\0" as a range end means every key from the start key on (etcd's open-ended range). */
const isOpenEnded = (rangeEnd: Buffer): boolean => rangeEnd.length === 1 && rangeEnd[0] === 0;

/** Compares two bounds where null is larger than every key. */
function cmp(a: Buffer | null, b: Buffer | null): number {
  if (a === null) return b === null ? 0 : 1;
  if (b === null) return -1;
  return Buffer.compare(a, b);
}

/** adt's Interval.Compare(x) === 0: the query meets x (etcd's own rule, also for inverted queries). */
function overlaps(q: Interval, x: Interval): boolean {
  const leftOf = cmp(q.begin, x.begin) < 0 && cmp(q.end, x.begin) <= 0;
  const rightOf = cmp(q.begin, x.end) >= 0;
  return !leftOf && !rightOf;
}

/** The interval a stored permission stands for. */
function permInterval(p: AuthPermissionRow): Interval {
  if (p.rangeEnd.length === 0) return { begin: p.key, end: Buffer.concat([p.key, ZERO]) };
  return { begin: p.key, end: isOpenEnded(p.rangeEnd) ? null : p.rangeEnd };
}

/** etcd's isValidPermissionRange: a key, and a range end that is empty, "\0", or after the key. */
export function isValidPermissionRange(key: Buffer, rangeEnd: Buffer): boolean {
  if (key.length === 0) return false;
  if (rangeEnd.length === 0 || isOpenEnded(rangeEnd)) return true;
  return Buffer.compare(key, rangeEnd) < 0;
}

export class KeyPermissions {
  private readonly read: Interval[] = [];
  private readonly write: Interval[] = [];

  constructor(perms: Iterable<AuthPermissionRow>) {
    for (const p of perms) {
      const ivl = permInterval(p);
      if (p.permType === PermType.READ || p.permType === PermType.READWRITE) this.read.push(ivl);
      if (p.permType === PermType.WRITE || p.permType === PermType.READWRITE) this.write.push(ivl);
    }
    // The interval tree visits in ascending order of begin; Contains depends on it.
    const byBegin = (a: Interval, b: Interval) => Buffer.compare(a.begin, b.begin) || cmp(a.end, b.end);
    this.read.sort(byBegin);
    this.write.sort(byBegin);
  }

  /**
   * etcd's isRangeOpPermitted: an empty range end asks about the one key (does any interval meet
   * it), any other about the range (do the intervals cover it, "\0" meaning to the end).
   */
  permits(access: Access, key: Buffer, rangeEnd: Buffer): boolean {
    const ivls = access === 'read' ? this.read : this.write;
    // The point [key, key + "\0") meets x exactly when x.begin <= key < x.end (no buffer to build).
    if (rangeEnd.length === 0) return ivls.some((x) => Buffer.compare(x.begin, key) <= 0 && cmp(key, x.end) < 0);
    return contains(ivls, { begin: key, end: isOpenEnded(rangeEnd) ? null : rangeEnd });
  }
}

/** adt's Contains: the intervals meeting `q`, in order, leave no gap and reach from its begin to its end. */
function contains(ivls: Interval[], q: Interval): boolean {
  let minBegin: Buffer | undefined;
  let maxEnd: Buffer | null = null;
  for (const x of ivls) {
    if (!overlaps(q, x)) continue;
    if (minBegin === undefined) {
      minBegin = x.begin;
      maxEnd = x.end;
      continue;
    }
    if (cmp(maxEnd, x.begin) < 0) return false;
    if (cmp(x.end, maxEnd) > 0) maxEnd = x.end;
  }
  return minBegin !== undefined && cmp(maxEnd, q.end) >= 0 && Buffer.compare(minBegin, q.begin) <= 0;
}
