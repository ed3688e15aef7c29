/**
 * Linearizable reads: learn the committed marks (revision, compaction, lease stamp) with one
 * primary-key read of meta, shared by every read that arrives while no read is in flight. A read
 * that arrives while a fence read is already in flight waits for the next one, which starts after
 * it arrived — sharing the earlier one could miss a write acknowledged in between.
 */
import type { Dialect } from '../dialect/dialect';
import { MARKS, marksFrom, type Marks } from './meta';

export class Fence {
  private inFlight: Promise<Marks> | null = null;
  private next: Promise<Marks> | null = null;

  constructor(private readonly dialect: Dialect) {}

  committed(): Promise<Marks> {
    if (!this.inFlight) return this.start();
    if (!this.next) {
      this.next = this.inFlight.then(
        () => this.start(),
        () => this.start(),
      );
    }
    return this.next;
  }

  /** The marks as committed now, read on their own (not shared with other readers). */
  async read(): Promise<Marks> {
    return marksFrom(await this.dialect.readMeta(MARKS));
  }

  private start(): Promise<Marks> {
    this.next = null;
    const p = this.read().finally(() => {
      if (this.inFlight === p) this.inFlight = null;
    });
    this.inFlight = p;
    return p;
  }
}
