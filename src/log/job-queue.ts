/**
 * The writer's queue of jobs waiting for a batch, in arrival order, with jobs that did not commit
 * put back at its head; the writer can wait for the next arrival (to send a batch behind the one in
 * flight).
 */
import { ETCD_REQUEST_TIMEOUT_MS } from '../limits';
import type { Job } from './batch';
import type { Pending } from './flight';

/** Jobs in one batch, at most. */
const MAX_BATCH = 1024;

/** A job as it waits: its caller's deadline (Date.now() clock) if it set one, etcd's timeout otherwise. */
export function pendingJob(
  job: Job<unknown>,
  deadline: number | undefined,
  resolve: (v: unknown) => void,
  reject: (e: unknown) => void,
): Pending {
  const timeout = Date.now() + ETCD_REQUEST_TIMEOUT_MS;
  return { job, deadline: deadline ?? timeout, outageDeadline: Math.min(deadline ?? timeout, timeout), resolve, reject };
}

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

  /** Takes out the queued jobs whose time is up at `at` by `until`. */
  expire(until: (p: Pending) => number, at: number): Pending[] {
    const gone = this.items.filter((p) => until(p) <= at);
    if (gone.length > 0) this.items = this.items.filter((p) => until(p) > at);
    return gone;
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
