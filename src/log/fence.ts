/**
 * Linearizable reads: learn the committed revision with one primary-key read of the fence row,
 * shared by every read that arrives while no read is in flight. A read that arrives while a fence
 * read is already in flight waits for the next one, which starts after it arrived — sharing the
 * earlier one could miss a write acknowledged in between.
 */
import type { Dialect } from '../dialect/dialect';

export class Fence {
  private inFlight: Promise<number> | null = null;
  private next: Promise<number> | null = null;

  constructor(private readonly dialect: Dialect) {}

  committedRevision(): Promise<number> {
    if (!this.inFlight) return this.start();
    if (!this.next) {
      this.next = this.inFlight.then(
        () => this.start(),
        () => this.start(),
      );
    }
    return this.next;
  }

  private start(): Promise<number> {
    this.next = null;
    const p = this.dialect.readFence().finally(() => {
      if (this.inFlight === p) this.inFlight = null;
    });
    this.inFlight = p;
    return p;
  }
}
