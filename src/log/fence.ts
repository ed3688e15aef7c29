/**
 * Linearizable reads: learn the committed marks (revision, compaction, lease stamp) with one
 * primary-key read of meta. The reads that arrive in one event-loop turn share one fence read,
 * started after that turn (and after the read in flight, if any): a read never shares one that
 * started before it arrived, which could miss a write acknowledged in between.
 */
import type { Dialect } from '../dialect/dialect';
import { MARKS, marksFrom, type Marks } from './meta';

export class Fence {
  private inFlight: Promise<Marks> | null = null;
  /** The next fence read, not started yet: every read that arrives until it starts joins it. */
  private next: Promise<Marks> | null = null;

  constructor(
    private readonly dialect: Dialect,
    /** Shown every marks read, and when it was sent (the solo lease ends when its row no longer names this instance). */
    private readonly seen: (marks: Marks, sentAt: number) => void = () => undefined,
  ) {}

  committed(): Promise<Marks> {
    if (!this.next) {
      const before = this.inFlight?.catch(() => undefined);
      const turn = new Promise<void>((r) => setImmediate(r));
      // With no read in flight there is nothing to wait for after the turn: one promise hop fewer.
      this.next = (before ? turn.then(() => before) : turn).then(() => this.start());
    }
    return this.next;
  }

  /** The marks as committed now, read on their own (not shared with other readers). */
  async read(): Promise<Marks> {
    const sentAt = performance.now();
    const marks = marksFrom(await this.dialect.readMeta(MARKS));
    this.seen(marks, sentAt);
    return marks;
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
