/**
 * Keys in byte order. Keys are "binary strings" (latin1: one char per byte), so JavaScript's string
 * comparison is etcd's byte order. Stored as sorted chunks so an insert moves at most one chunk.
 */
const MAX_CHUNK = 512;
/** Pinned revisions whose per-chunk counts are kept (a paged list reads all its pages at one). */
const PINNED_MAX = 16;

export interface Keyed {
  readonly k: string;
}

export class OrderedKeys<T extends Keyed> {
  private chunks: T[][] = [];
  /** Per chunk, how many of its items are "live" (the owner's notion; see `addLive`). */
  private live: number[] = [];
  private count = 0;
  /**
   * Per pinned (committed, older) revision, the live count of whole chunks at it. The owner's items
   * change only above its committed revision, so a count at a committed revision stays true until a
   * split moves items between chunks; a split forgets the chunk it cut.
   */
  private readonly pinned = new Map<number, WeakMap<T[], number>>();

  get size(): number {
    return this.count;
  }

  /** Builds from items already sorted by key (startup). */
  static fromSorted<T extends Keyed>(items: T[]): OrderedKeys<T> {
    const o = new OrderedKeys<T>();
    for (let i = 0; i < items.length; i += MAX_CHUNK / 2) o.chunks.push(items.slice(i, i + MAX_CHUNK / 2));
    o.live = o.chunks.map(() => 0);
    o.count = items.length;
    return o;
  }

  /** Index of the first chunk whose last key is >= k (or the last chunk). */
  private chunkFor(k: string): number {
    const cs = this.chunks;
    let lo = 0;
    let hi = cs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const c = cs[mid];
      if (c[c.length - 1].k < k) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private static lowerBound<T extends Keyed>(c: T[], k: string): number {
    let lo = 0;
    let hi = c.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (c[mid].k < k) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Inserts an item that is not live; `isLive` recounts the halves when a chunk splits. */
  insert(item: T, isLive: (item: T) => boolean): void {
    this.count++;
    if (this.chunks.length === 0) {
      this.chunks.push([item]);
      this.live.push(0);
      return;
    }
    const ci = this.chunkFor(item.k);
    const c = this.chunks[ci];
    c.splice(OrderedKeys.lowerBound(c, item.k), 0, item);
    if (c.length > MAX_CHUNK) {
      const upper = c.splice(MAX_CHUNK / 2);
      for (const memo of this.pinned.values()) memo.delete(c);
      this.chunks.splice(ci + 1, 0, upper);
      const upperLive = countIf(upper, isLive);
      this.live.splice(ci + 1, 0, upperLive);
      this.live[ci] -= upperLive;
    }
  }

  /** Removes an item that is not live. */
  remove(k: string): void {
    if (this.chunks.length === 0) return;
    const ci = this.chunkFor(k);
    const c = this.chunks[ci];
    const i = OrderedKeys.lowerBound(c, k);
    if (i < c.length && c[i].k === k) {
      c.splice(i, 1);
      this.count--;
      if (c.length === 0) {
        this.chunks.splice(ci, 1);
        this.live.splice(ci, 1);
      }
    }
  }

  /** The item with key `k` became live (+1) or stopped being live (-1). */
  addLive(k: string, delta: number): void {
    if (this.chunks.length > 0) this.live[this.chunkFor(k)] += delta;
  }

  /** Recounts every chunk (after a bulk load, once liveness can be judged). */
  recountLive(isLive: (item: T) => boolean): void {
    this.live = this.chunks.map((c) => countIf(c, isLive));
  }

  /**
   * Live items with start <= k < end (`end` null: no bound): whole chunks by their count, only the
   * chunks at the edges item by item.
   */
  countLive(start: string, end: string | null, isLive: (item: T) => boolean): number {
    return this.countBy(start, end, isLive, (ci) => this.live[ci]);
  }

  /**
   * The same count at `rev`, a committed revision older than the owner's current one: whole chunks
   * are counted once per revision and remembered, so the pages of a list at `rev` share them.
   */
  countPinned(start: string, end: string | null, rev: number, isLiveAt: (item: T) => boolean): number {
    let memo = this.pinned.get(rev);
    if (!memo) {
      if (this.pinned.size >= PINNED_MAX) this.pinned.delete(this.pinned.keys().next().value as number);
      memo = new WeakMap();
      this.pinned.set(rev, memo);
    }
    const known = memo;
    return this.countBy(start, end, isLiveAt, (ci) => {
      const c = this.chunks[ci];
      let n = known.get(c);
      if (n === undefined) known.set(c, (n = countIf(c, isLiveAt)));
      return n;
    });
  }

  /** Live items in [start, end): `whole` counts a chunk inside the range, the edge chunks item by item. */
  private countBy(start: string, end: string | null, isLive: (item: T) => boolean, whole: (ci: number) => number): number {
    const chunks = this.chunks;
    if (chunks.length === 0) return 0;
    let n = 0;
    for (let ci = this.chunkFor(start); ci < chunks.length; ci++) {
      const c = chunks[ci];
      if (end !== null && c[0].k >= end) break;
      if (c[0].k >= start && (end === null || c[c.length - 1].k < end)) {
        n += whole(ci);
        continue;
      }
      for (const item of c) if (item.k >= start && (end === null || item.k < end) && isLive(item)) n++;
    }
    return n;
  }

  /** Items with start <= k < end, in order; `end` null means no upper bound. */
  *range(start: string, end: string | null): Generator<T> {
    if (this.chunks.length === 0) return;
    let ci = this.chunkFor(start);
    let i = OrderedKeys.lowerBound(this.chunks[ci], start);
    for (; ci < this.chunks.length; ci++, i = 0) {
      const c = this.chunks[ci];
      for (; i < c.length; i++) {
        if (end !== null && c[i].k >= end) return;
        yield c[i];
      }
    }
  }

  /**
   * The same walk as `range` without a generator (several times faster on hot paths such as
   * counting a 10,000-key prefix): `fn` returns false to stop early.
   */
  forEach(start: string, end: string | null, fn: (item: T) => boolean | void): void {
    if (this.chunks.length === 0) return;
    const chunks = this.chunks;
    let ci = this.chunkFor(start);
    let i = OrderedKeys.lowerBound(chunks[ci], start);
    for (; ci < chunks.length; ci++, i = 0) {
      const c = chunks[ci];
      // Only the chunk holding `end` needs per-key comparisons against it.
      const last = c[c.length - 1].k;
      const bounded = end !== null && last >= end;
      for (; i < c.length; i++) {
        if (bounded && c[i].k >= (end as string)) return;
        if (fn(c[i]) === false) return;
      }
    }
  }
}

function countIf<T>(items: T[], pred: (item: T) => boolean): number {
  let n = 0;
  for (const item of items) if (pred(item)) n++;
  return n;
}
