/**
 * Pipelining: while one batch's commit request is in flight, the next batch is evaluated against
 * memory with the first one's changes in it and sent on another connection, its fence guard
 * expecting the fence rows as the first leaves them — its marks and this writer's stamp, which only
 * the first writes (fenced-commit.ts). The database serialises the two: the second waits for the
 * first's fence lock, then sees its values. Batches settle strictly in order: the second is
 * answered after the first, and only once its own request committed. If the first does not commit
 * (or nobody can tell), the second cannot have committed on top of it, whatever it was told, so it
 * is taken back: its changes undone (before the first's: its versions sit on top of them) and its
 * jobs queued again, to be evaluated on the state that did happen. A batch is only ever sent
 * behind the oldest in flight: two in flight at most.
 */
import type { Logger } from 'pino';
import { CommitUnknownError, type Dialect, type Shortcut } from '../dialect/dialect';
import { EtcdError } from '../errors';
import type { Job } from './batch';
import type { Evaluated } from './fenced-commit';
import type { Readback } from './readback';
import type { LogObserver } from './types';

export interface Pending {
  job: Job<unknown>;
  /**
   * Until when (Date.now() clock) a batch that lost a conflict (certification, serialization,
   * deadlock) is retried for this job: the caller's own deadline, or etcd's request timeout after
   * the job arrived when the caller set none.
   */
  deadline: number;
  /**
   * Until when a database that cannot be reached is retried for this job: etcd's request timeout
   * after it arrived (an outage answers "request timed out" as etcd's does), or the caller's
   * deadline if sooner.
   */
  outageDeadline: number;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

/** One batch on its way to the database. */
export interface Flight {
  pending: Pending[];
  readonly stamp: string;
  /** Its evaluation while its one request is in flight and may commit: a batch may be sent behind it. */
  open: Evaluated | undefined;
  /** The batch sent behind it, until that one is taken back. */
  next: Behind | undefined;
  /** Settles once the batch committed and its callers were answered, or it failed or was taken back. */
  done: Promise<void>;
}

/** What a flight needs of the writer. */
export interface FlightHost {
  readonly dialect: Dialect;
  readonly readback: Readback;
  readonly log: Logger;
  readonly observer?: LogObserver;
  /** The batch committed: memory follows and its callers are answered. */
  finish(pending: Pending[], ev: Evaluated): void;
  fail(pending: Pending[], failure: unknown): void;
  /** Jobs that did not commit go first in the queue, to be evaluated again. */
  requeue(pending: Pending[]): void;
  /** Memory is no longer known to match the fence rows: the next batch reads them under the fence. */
  forget(): void;
}

/** What became of one request: committed, refused by its guard (no failure), or failed. */
interface Sent {
  landed: boolean;
  failure?: unknown;
}

/** The guard found other fence rows than expected: nothing was written. */
class FenceMoved extends Error {
  override name = 'FenceMoved';
}

/** A batch sent behind `ahead`, evaluated as `shortcut`. */
export class Behind implements Flight {
  open: Evaluated | undefined;
  next: Behind | undefined;
  readonly ev: Evaluated;
  readonly sent: Promise<Sent>;
  readonly done: Promise<void>;

  constructor(
    private readonly host: FlightHost,
    ahead: Flight,
    public pending: Pending[],
    readonly stamp: string,
    shortcut: Shortcut<Evaluated>,
  ) {
    this.ev = shortcut.result;
    this.open = this.ev;
    this.sent = this.send(shortcut);
    this.done = this.land(ahead, shortcut);
  }

  private async send(shortcut: Shortcut<Evaluated>): Promise<Sent> {
    const started = performance.now();
    try {
      // A batch is only sent behind another where the dialect has the method.
      const landed = (await this.host.dialect.commitFenced?.(shortcut.changes)) === true;
      if (landed) this.host.observer?.commit((performance.now() - started) / 1000, this.pending.length);
      else this.open = undefined;
      return { landed };
    } catch (e) {
      this.open = undefined;
      return { landed: false, failure: e };
    }
  }

  private async land(ahead: Flight, shortcut: Shortcut<Evaluated>): Promise<void> {
    let sent = await this.sent;
    await ahead.done.catch(() => undefined);
    // The batch ahead did not commit and took this one back.
    if (ahead.next !== this) return;
    // Two connections keep no order: refused, this request may have reached the fence before the
    // one ahead did. That one has committed now, so memory is where this batch expects the fence
    // rows to be: the same request goes once more, and is refused again only if they moved.
    if (!sent.landed && sent.failure === undefined) sent = await this.send(shortcut);
    let failure: unknown = sent.landed ? undefined : (sent.failure ?? new FenceMoved('the fence rows moved'));
    failure = await settleUnknown(this.host, this, this.ev, failure);
    if (failure === undefined) return this.host.finish(this.pending, this.ev);
    this.open = undefined;
    await takeBackBehind(this.host, this, failure);
    this.ev.state.undoAll();
    this.host.forget();
    if (failure instanceof EtcdError) return this.host.fail(this.pending, failure);
    this.host.log.debug(
      { error: (failure as Error)?.message, jobs: this.pending.length },
      'pipelined batch did not commit; evaluating again',
    );
    this.host.requeue(this.pending);
  }
}

/**
 * Resolves a CommitUnknownError: undefined when the batch landed — proven at once if the batch
 * sent behind it landed, for that one expected its stamp — else read back. Any other failure is
 * returned as it is.
 */
export async function settleUnknown(host: FlightHost, f: Flight, ev: Evaluated | undefined, failure: unknown): Promise<unknown> {
  if (!(failure instanceof CommitUnknownError) || !ev) return failure;
  if (f.next && (await f.next.sent).landed) return undefined;
  return host.readback.resolve(ev, f.stamp, failure);
}

/**
 * `f` did not commit, or nobody can tell (`failure` an EtcdError): the batch sent behind it is
 * taken back, its changes undone before any of f's are. It expected f's stamp, so it did not
 * commit unless f did: its jobs run again — or, where f's outcome is unknown and its own request
 * was lost too, they fail as f's do.
 */
export async function takeBackBehind(host: FlightHost, f: Flight, failure: unknown): Promise<void> {
  const next = f.next;
  if (!next) return;
  next.open = undefined;
  const sent = await next.sent;
  f.next = undefined;
  next.ev.state.undoAll();
  if (failure instanceof EtcdError && sent.failure instanceof CommitUnknownError) host.fail(next.pending, failure);
  else host.requeue(next.pending);
}
