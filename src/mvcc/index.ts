/**
 * The in-memory revision index: every key (in byte order) with its versions since the last
 * compaction. Reads at any retained revision, txn compares and watch catch-up are answered here.
 * Versions above `revision` belong to a batch still being committed and are invisible to reads.
 */
import { OrderedKeys } from './ordered-keys';

/** One version of a key, written at revision (main, sub). */
export interface Version {
  readonly main: number;
  readonly sub: number;
  readonly createRevision: number;
  readonly version: number;
  readonly lease: bigint;
  readonly value: Buffer;
  /** A tombstone: the key was deleted at `main`. */
  readonly deleted: boolean;
}

export class KeyHistory {
  readonly versions: Version[] = [];
  private buf: Buffer | undefined;
  constructor(readonly k: string) {}

  /** The key as bytes, made once: responses reuse it instead of converting per read. */
  get key(): Buffer {
    return (this.buf ??= Buffer.from(this.k, 'latin1'));
  }

  /** The version visible at `rev`, or undefined if the key did not exist then. */
  at(rev: number): Version | undefined {
    const vs = this.versions;
    for (let i = vs.length - 1; i >= 0; i--) {
      const v = vs[i];
      if (v.main <= rev) return v.deleted ? undefined : v;
    }
    return undefined;
  }

  /** Index of the first version with main >= rev. */
  firstFrom(rev: number): number {
    const vs = this.versions;
    let lo = 0;
    let hi = vs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (vs[mid].main < rev) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** A key range as etcd means it: a point, [start, end), or everything from start on (end null). */
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

export class RevisionIndex {
  private readonly byKey = new Map<string, KeyHistory>();
  private ordered = new OrderedKeys<KeyHistory>();
  /** The last committed revision: reads at "now" read here. */
  revision = 1;
  /** Revisions below this have been compacted away; -1 (as etcd) before the first compaction. */
  compactRevision = -1;

  get keyCount(): number {
    return this.ordered.size;
  }

  get(k: string): KeyHistory | undefined {
    return this.byKey.get(k);
  }

  /** Histories of the keys in range, in byte order (including keys deleted at the latest revision). */
  *histories(r: KeyRange): Generator<KeyHistory> {
    if (r.end === undefined) {
      const h = this.byKey.get(r.start);
      if (h) yield h;
      return;
    }
    if (r.end !== null && r.end <= r.start) return;
    yield* this.ordered.range(r.start, r.end);
  }

  /** Calls fn for each key's history in range, in byte order, until fn returns false. */
  forEachHistory(r: KeyRange, fn: (h: KeyHistory) => boolean | void): void {
    if (r.end === undefined) {
      const h = this.byKey.get(r.start);
      if (h) fn(h);
      return;
    }
    if (r.end !== null && r.end <= r.start) return;
    this.ordered.forEach(r.start, r.end, fn);
  }

  /** Appends a version; returns an undo function for a batch that fails to commit. */
  append(k: string, v: Version): () => void {
    let h = this.byKey.get(k);
    const created = !h;
    if (!h) {
      h = new KeyHistory(k);
      this.byKey.set(k, h);
      this.ordered.insert(h, this.isLive);
    }
    h.versions.push(v);
    const hist = h;
    return () => {
      hist.versions.pop();
      if (created) {
        this.byKey.delete(k);
        this.ordered.remove(k);
      }
    };
  }

  /** Whether a key exists at the committed revision (what the per-chunk live counts count). */
  private readonly isLive = (h: KeyHistory): boolean => h.at(this.revision) !== undefined;

  /** Recounts live keys per chunk; after a bulk load, once `revision` is set. */
  recountLive(): void {
    this.ordered.recountLive(this.isLive);
  }

  /** Live keys in range at the committed revision, without visiting every key. */
  countLive(r: KeyRange): number {
    if (r.end === undefined) return this.byKey.get(r.start)?.at(this.revision) ? 1 : 0;
    if (r.end !== null && r.end <= r.start) return 0;
    return this.ordered.countLive(r.start, r.end, this.isLive);
  }

  /**
   * Makes `rows` (their versions already in the histories) visible: the committed revision moves
   * to `upTo`, and the live counts follow.
   */
  commitTo(rows: ReadonlyArray<{ key: Buffer; revision: number; sub: number; deleted: boolean }>, upTo: number): void {
    this.noteCommitted(rows);
    this.revision = upTo;
  }

  private noteCommitted(rows: ReadonlyArray<{ key: Buffer; revision: number; sub: number; deleted: boolean }>): void {
    for (const r of rows) {
      const k = r.key.toString('latin1');
      const h = this.byKey.get(k);
      if (!h) continue;
      const vs = h.versions;
      let i = vs.length - 1;
      while (i >= 0 && !(vs[i].main === r.revision && vs[i].sub === r.sub)) i--;
      if (i < 0) continue;
      const wasLive = i > 0 && !vs[i - 1].deleted;
      const nowLive = !r.deleted;
      if (wasLive !== nowLive) this.ordered.addLive(k, nowLive ? 1 : -1);
    }
  }

  /** Forgets everything, before a reload from the database. */
  reset(): void {
    this.byKey.clear();
    this.ordered = new OrderedKeys<KeyHistory>();
    this.revision = 1;
    this.compactRevision = -1;
  }

  /** Loads history in bulk at startup: versions arrive in revision order. */
  load(entries: Iterable<[string, Version]>): void {
    for (const [k, v] of entries) {
      let h = this.byKey.get(k);
      if (!h) {
        h = new KeyHistory(k);
        this.byKey.set(k, h);
      }
      h.versions.push(v);
    }
    const all = [...this.byKey.values()].sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
    this.ordered = OrderedKeys.fromSorted(all);
    // Liveness is judged at `revision`, which the caller sets after loading: see recountLive.
  }

  /**
   * Drops what compaction at `rev` makes unreachable: per key, every version older than the one
   * visible at `rev`, and that one too if it is a tombstone.
   */
  compact(rev: number): void {
    this.compactRevision = Math.max(this.compactRevision, rev);
    const emptied: string[] = [];
    for (const h of this.byKey.values()) {
      const vs = h.versions;
      let keep = h.firstFrom(rev + 1) - 1; // the version visible at rev
      if (keep < 0) continue;
      if (vs[keep].deleted) keep++;
      if (keep > 0) vs.splice(0, keep);
      if (vs.length === 0) emptied.push(h.k);
    }
    for (const k of emptied) {
      this.byKey.delete(k);
      this.ordered.remove(k);
    }
  }
}
