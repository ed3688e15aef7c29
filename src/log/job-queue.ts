/**
 * The writer's queue of jobs waiting for a batch, in arrival order, with jobs that did not commit
 * put back at its head; the writer can wait for the next arrival (to send a batch behind the one in
 * flight).
 */
import type { Pending } from './flight';

/** Jobs in one batch, at most. */
const MAX_BATCH = 1024;

export class JobQueue {
  private items: Pending[] = [];
  private wake: (() => void) | undefined;

  get length(): number {
    return this.items.length;
  }

  push(p: Pending): void {
    this.items.push(p);
    this.wake?.();
  }

  /** The jobs of the next batch, oldest first. */
  take(): Pending[] {
    return this.items.splice(0, MAX_BATCH);
  }

  /** Jobs that did not commit (or did not fit) go first, in their order. */
  putBack(pending: readonly Pending[]): void {
    this.items.unshift(...pending);
  }

  /** Of `batch`, the first `ran` jobs stay; the rest go back to the head of the queue. */
  keep(batch: Pending[], ran: number): Pending[] {
    if (ran < batch.length) this.putBack(batch.slice(ran));
    return batch.slice(0, ran);
  }

  /** Resolves at the next push. */
  arrival(): Promise<void> {
    return new Promise<void>((r) => {
      this.wake = () => {
        this.wake = undefined;
        r();
      };
    });
  }
}
