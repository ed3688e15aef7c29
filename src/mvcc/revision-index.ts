/**
 * The in-memory revision index: every key (in byte order) with its versions since the last
 * compaction. Reads at any retained revision, txn compares and watch replay are answered here. A
 * version is the log row that wrote it. Versions above `revision` belong to a batch still being
 * committed and are invisible to reads.
 */
import type { LogRow } from '../log/types';
import type { KeyRange } from './key-range';
import { KeyHistory } from './key-history';
import { Version } from './kv-bytes';
import { OrderedKeys } from './ordered-keys';
import { Slabs } from './slabs';

/** A new version of a key and the version it follows (a tombstone, or none, for a create). */
export interface Change {
  readonly h: KeyHistory;
  readonly row: Version;
  readonly prev: Version | undefined;
}

/** The version a change follows, if the key was live before it. */
export function livePrev(c: Change): Version | undefined {
  return c.prev && !c.prev.deleted ? c.prev : undefined;
}

/**
 * A bulk load built beside the index: rows in revision order, in as many calls as they come in;
 * `RevisionIndex.install` swaps it in.
 */
export class IndexLoad {
  readonly byKey = new Map<string, KeyHistory>();
  /** The bytes of the versions loaded. */
  readonly slabs = new Slabs();

  add(rows: Iterable<LogRow>): void {
    const byKey = this.byKey;
    for (const row of rows) {
      const k = row.key.toString('latin1');
      const v = new Version(row, this.slabs);
      const h = byKey.get(k);
      if (h) h.push(v);
      else byKey.set(k, new KeyHistory(k, v));
    }
  }
}

export class RevisionIndex {
  private byKey = new Map<string, KeyHistory>();
  private ordered = new OrderedKeys<KeyHistory>();
  /** The bytes of every version. */
  private slabs = new Slabs();
  /** The last committed revision: reads at "now" read here. */
  revision = 1;
  /** Revisions below this have been compacted away; -1 (as etcd) before the first compaction. */
  compactRevision = -1;
  /** Bumped when the index is rebuilt: a trim of the old one stops. */
  private epoch = 0;

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

  /**
   * Appends a version of key `k` (binary string of `row.key`), copied from `row`: the change's
   * `row` is the version as stored. Undone by `revert`.
   */
  append(k: string, row: LogRow): Change {
    const v = new Version(row, this.slabs);
    let h = this.byKey.get(k);
    if (!h) {
      h = new KeyHistory(k, v);
      this.byKey.set(k, h);
      this.ordered.insert(h, this.isLive);
      return { h, row: v, prev: undefined };
    }
    const prev = h.latest();
    h.push(v);
    return { h, row: v, prev };
  }

  /** Takes back the latest append of a batch that failed to commit (undo runs newest first). */
  revert(c: Change): void {
    c.h.pop()?.release(this.slabs);
    if (c.h.count === 0) {
      this.byKey.delete(c.h.k);
      this.ordered.remove(c.h.k);
    }
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
   * Live keys in range at `rev`. At the committed revision, from the per-chunk live counts; at an
   * older committed one (the later pages of a paged list), from per-chunk counts kept for it; above
   * the committed revision (a write txn's own writes), by a walk, since that state may still change.
   */
  countAt(r: KeyRange, rev: number): number {
    if (rev === this.revision) return this.countLive(r);
    if (r.end === undefined) return this.byKey.get(r.start)?.at(rev) ? 1 : 0;
    if (r.end !== null && r.end <= r.start) return 0;
    const liveAt = (h: KeyHistory): boolean => h.at(rev) !== undefined;
    if (rev < this.revision) return this.ordered.countPinned(r.start, r.end, rev, liveAt);
    let n = 0;
    this.ordered.forEach(r.start, r.end, (h) => void (liveAt(h) && n++));
    return n;
  }

  /** Makes `changes` (already appended) visible: the committed revision moves to `upTo`. */
  commitTo(changes: readonly Change[], upTo: number): void {
    for (const c of changes) {
      const wasLive = livePrev(c) !== undefined;
      if (wasLive === c.row.deleted) this.ordered.addLive(c.h.k, wasLive ? -1 : 1);
    }
    this.revision = upTo;
  }

  /** Forgets everything, before a reload from the database. */
  reset(): void {
    this.epoch++;
    this.byKey.clear();
    this.ordered = new OrderedKeys<KeyHistory>();
    this.slabs = new Slabs();
    this.revision = 1;
    this.compactRevision = -1;
  }

  /** Replaces every key by a finished bulk load; liveness is counted by `recountLive`. */
  install(l: IndexLoad): void {
    this.epoch++;
    this.byKey = l.byKey;
    this.slabs = l.slabs;
    const all = [...l.byKey.values()].sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
    this.ordered = OrderedKeys.fromSorted(all);
  }

  /** Compacts at `rev` in one go (start-up, a reload). */
  compact(rev: number): void {
    const trim = this.trim(rev);
    while (!trim.step(Infinity));
  }

  /**
   * The same compaction in steps, for a serving store. `compactRevision` moves at once: reads and
   * watches below it are refused from then on, so the versions not trimmed yet are never read.
   */
  trim(rev: number): IndexTrim {
    this.compactRevision = Math.max(this.compactRevision, rev);
    const epoch = this.epoch;
    return new IndexTrim(rev, this.byKey, this.ordered, this.slabs, () => this.epoch === epoch);
  }
}

/**
 * Drops what compaction at `rev` makes unreachable: per key, every version older than the one
 * visible at `rev`, and that one too if it is a tombstone; a key left with none goes. Walks the
 * keys with one iterator across steps (a Map's iterator sees deletes and later inserts). The
 * versions kept move out of slabs that are mostly dead by then, so those can be freed.
 */
export class IndexTrim {
  private readonly keys: Iterator<KeyHistory>;

  constructor(
    private readonly rev: number,
    private readonly byKey: Map<string, KeyHistory>,
    private readonly ordered: OrderedKeys<KeyHistory>,
    private readonly slabs: Slabs,
    private readonly current: () => boolean,
  ) {
    this.keys = byKey.values();
  }

  /** Trims up to `maxKeys` more keys; true once every key is done (or the index was rebuilt). */
  step(maxKeys: number): boolean {
    if (!this.current()) return true;
    for (let n = 0; n < maxKeys; n++) {
      const next = this.keys.next();
      if (next.done) return true;
      const h = next.value;
      let drop = h.firstFrom(this.rev + 1) - 1; // the version visible at rev, kept unless a tombstone
      if (drop >= 0 && h.nth(drop).deleted) drop++;
      if (drop > 0) for (const v of h.dropOldest(drop)) v.release(this.slabs);
      const left = h.count;
      if (left === 0) {
        this.byKey.delete(h.k);
        this.ordered.remove(h.k);
      }
      for (let i = 0; i < left; i++) h.nth(i).compact(this.slabs);
    }
    return false;
  }
}
