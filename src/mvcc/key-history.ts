/**
 * One key's versions in the revision index, oldest first, with the reads every path needs: the
 * version visible at a revision and the first version from one.
 */
import type { Version } from './kv-bytes';

/** Up to this many versions a key's array is copied to its exact size on append, not grown by half. */
const EXACT_VERSIONS = 8;

export class KeyHistory {
  /**
   * The versions, oldest first. Most keys have one: it is held without an array (an array is two
   * more objects per key for every major GC to trace); a short array is kept at its exact size.
   */
  private vs: Version | Version[];
  constructor(
    readonly k: string,
    first: Version,
  ) {
    this.vs = first;
  }

  /** How many versions the key has. */
  get count(): number {
    const vs = this.vs;
    return Array.isArray(vs) ? vs.length : 1;
  }

  /** The `i`-th version, oldest first (i < count). */
  nth(i: number): Version {
    const vs = this.vs;
    return Array.isArray(vs) ? vs[i] : vs;
  }

  /** A copy of the versions, oldest first. */
  get versions(): Version[] {
    const vs = this.vs;
    return Array.isArray(vs) ? vs.slice() : [vs];
  }

  latest(): Version | undefined {
    const vs = this.vs;
    return Array.isArray(vs) ? vs[vs.length - 1] : vs;
  }

  push(v: Version): void {
    const vs = this.vs;
    if (!Array.isArray(vs)) this.vs = [vs, v];
    else if (vs.length < EXACT_VERSIONS) this.vs = vs.concat(v);
    else vs.push(v);
  }

  /** Takes back the newest version. */
  pop(): Version | undefined {
    const vs = this.vs;
    if (Array.isArray(vs)) return vs.pop();
    this.vs = [];
    return vs;
  }

  /** Drops the `n` oldest versions, returned oldest first. */
  dropOldest(n: number): Version[] {
    const vs = this.vs;
    if (Array.isArray(vs)) {
      const gone = vs.splice(0, n);
      if (vs.length === 1) this.vs = vs[0];
      return gone;
    }
    this.vs = [];
    return [vs];
  }

  /** The version visible at `rev`, or undefined if the key did not exist then. */
  at(rev: number): Version | undefined {
    const vs = this.vs;
    if (!Array.isArray(vs)) return vs.revision <= rev && !vs.deleted ? vs : undefined;
    for (let i = vs.length - 1; i >= 0; i--) {
      const v = vs[i];
      if (v.revision <= rev) return v.deleted ? undefined : v;
    }
    return undefined;
  }

  /** Index of the first version with revision >= rev. */
  firstFrom(rev: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.nth(mid).revision < rev) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
