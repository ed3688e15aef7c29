/**
 * The solo lease: while one instance holds it, no other instance commits, so that instance answers
 * linearizable reads from memory with no SQL (the leader-lease argument). It lives in one fence row
 * (`solo_lease`: owner, until by the database clock, revoked), read and written only by
 * transactions that hold the fence, and compared by every one-request commit.
 *
 * - Taken or renewed under the fence, only when memory holds every commit up to then and this
 *   instance has seen nothing from another one for the quiet period (so two instances do not take
 *   it in turns). Its local validity starts before the lock statement was sent and ends a margin
 *   (clock drift) before `until`; only a committed renewal extends it.
 * - Any other instance that finds it held sets `revoked`, commits that, and commits nothing more
 *   until the database clock has passed `until`; it clears an expired lease in the batch it commits,
 *   so the holder can never renew past a commit it did not see.
 */
import type { Logger } from 'pino';

export interface SoloOptions {
  /** Whether this instance takes the lease (every instance respects it regardless). */
  enabled: boolean;
  /** The lease's length by the database clock. */
  ttlMs: number;
  /** How long this instance must have seen nothing from another one before it takes the lease. */
  quietMs: number;
  /**
   * How long a new instance watches for the others first (shorter than the quiet period: it has
   * seen nothing yet, and any instance at work shows itself within a few polls).
   */
  startupWatchMs: number;
}

/** The engines whose locks are the whole cluster's (not Galera's node-local ones), where no commit can pass the lease's row. */
export const SOLO_ENGINES: readonly string[] = ['postgres', 'mysql', 'mariadb'];

export const SOLO_TTL_MS = 2000;
export const SOLO_QUIET_MS = 30_000;

/**
 * Whether an instance on `engine` takes the solo lease: where --solo-reads can take effect, unless
 * it is off; on where it cannot is a start-up error.
 */
export function soloReadsOn(engine: string, flags: { on?: boolean; writerElection?: boolean }): boolean {
  const capable = SOLO_ENGINES.includes(engine) && !flags.writerElection;
  if (flags.on === true && !capable) {
    throw new Error(`--solo-reads=on cannot take effect on ${engine}${flags.writerElection ? ' with --writer-election' : ''}`);
  }
  return (flags.on ?? true) && capable;
}

/** A new instance's watch for the others: a second, or a few polls where they are slower. */
export function startupWatchMs(pollIntervalMs: number): number {
  return Math.max(1000, 3 * pollIntervalMs);
}
/** The lease is renewed only while linearizable reads come: an idle instance writes nothing. */
const WANTED_MS = 10_000;

interface SoloValue {
  owner: string;
  untilMs: number;
  revoked: boolean;
}

function parse(value: string): SoloValue | undefined {
  const [owner, until, revoked] = value.split(':');
  if (!owner || until === undefined) return undefined;
  return { owner, untilMs: Number(until), revoked: revoked === '1' };
}

function format(v: SoloValue): string {
  return `${v.owner}:${v.untilMs}:${v.revoked ? '1' : '0'}`;
}

/**
 * What a batch under the fence does about the lease: commit its jobs (writing the lease row when
 * `write` is set), or — another instance holds it — commit nothing but `write` (the revoke) and
 * run again once `waitMs` have passed.
 */
export type SoloTurn = { kind: 'commit'; write?: string; validUntil?: number } | { kind: 'wait'; write?: string; waitMs: number };

/**
 * What a commit by `owner` must do about the lease row `value` when it is another instance's:
 * while it stands (by the database clock `nowMs`), revoke it and wait it out; once it has ended,
 * clear it in the same commit. Undefined when it is free or `owner`'s.
 */
export function othersLease(value: string, owner: string, nowMs: number): SoloTurn | undefined {
  const v = parse(value);
  if (!v || v.owner === owner) return undefined;
  if (v.untilMs > nowMs) return { kind: 'wait', write: v.revoked ? undefined : format({ ...v, revoked: true }), waitMs: v.untilMs - nowMs };
  // Ended: cleared with this commit, so its holder can never renew it past a commit it did not see.
  return { kind: 'commit', write: '' };
}

export class SoloLease {
  /** performance.now() until which reads may be answered from memory alone. */
  private validUntil = 0;
  private held = false;
  /** When the lease was last taken (a read sent before may not show it yet). */
  private takenAt = 0;
  /** When this instance last saw another one at work (rows, a lease of its own, a revoke). */
  private foreignAt: number;
  private readAt = -Infinity;
  private requesting = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly quietMs: number;

  constructor(
    private readonly owner: string,
    private readonly opts: SoloOptions,
    private readonly log: Logger,
    /** Sends a batch through the fence (which takes or renews the lease); resolves when it settled. */
    private readonly request: () => Promise<unknown>,
  ) {
    // At least two TTLs: an instance that revoked this one's lease commits before it can be taken again.
    this.quietMs = Math.max(opts.quietMs, 2 * opts.ttlMs);
    this.foreignAt = performance.now() - this.quietMs + Math.min(this.quietMs, opts.startupWatchMs);
  }

  start(): void {
    if (!this.opts.enabled) return;
    this.timer = setInterval(() => this.tick(), Math.max(1, Math.floor(this.opts.ttlMs / 3)));
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.end('stopped');
  }

  /**
   * Whether a linearizable read arriving now may be answered from memory alone: while the lease
   * holds and no batch of this instance's is in flight (`settled`: one may have committed before
   * memory has it). Reads keep the lease wanted, and ask for it when it is not held.
   */
  serves(settled: boolean): boolean {
    this.readAt = performance.now();
    if (this.readAt < this.validUntil) return settled;
    if (this.opts.enabled && this.quiet()) this.renew();
    return false;
  }

  /** Whether the lease is held now (the metric). */
  get holding(): boolean {
    return performance.now() < this.validUntil;
  }

  /** Whether a batch may commit in one request on fence rows holding `value`: not while another instance's lease stands. */
  mayShortcut(value: string | undefined): boolean {
    const v = parse(value ?? '');
    return !v || (v.owner === this.owner && !v.revoked);
  }

  /**
   * Under the fence: the lease row as locked, the database clock, when this attempt started
   * (performance.now(), before the lock was sent) and whether memory has applied every commit.
   */
  underFence(value: string, nowMs: number, startedAt: number, caughtUp: boolean): SoloTurn {
    const v = parse(value);
    if (v?.revoked || (v && v.owner !== this.owner)) this.sawForeign('another instance holds or revoked the lease');
    const other = othersLease(value, this.owner, nowMs);
    if (other) return other;
    // This instance's own, revoked: the revoker waits it out; once it has ended it is free.
    if (v?.revoked && v.untilMs > nowMs) return { kind: 'commit' };
    // Free, another's or a revoked one that ended (cleared by this batch), or this instance's own.
    const mine = v !== undefined && v.owner === this.owner && !v.revoked;
    const write = v && !mine ? '' : undefined;
    const due = !mine || this.validUntil - performance.now() < (this.opts.ttlMs * 2) / 3;
    if (!this.opts.enabled || !caughtUp || !this.quiet() || !due || !this.wanted()) return { kind: 'commit', write };
    const validUntil = startedAt + this.opts.ttlMs - margin(this.opts.ttlMs);
    return { kind: 'commit', write: format({ owner: this.owner, untilMs: nowMs + this.opts.ttlMs, revoked: false }), validUntil };
  }

  /** A batch committed with this turn. */
  committed(turn: SoloTurn): void {
    if (turn.kind !== 'commit' || turn.validUntil === undefined) return;
    this.validUntil = turn.validUntil;
    if (!this.held) this.takenAt = performance.now();
    if (!this.held) this.log.info({ ttlMs: this.opts.ttlMs }, 'solo lease taken: linearizable reads are answered from memory');
    this.held = true;
  }

  /** The lease row as read outside a write (sent at `sentAt`): anything but this instance's lease ends it. */
  observe(value: string, sentAt: number): void {
    if (!this.held || sentAt < this.takenAt) return;
    const v = parse(value);
    if (!v || v.owner !== this.owner || v.revoked) this.end('the lease row no longer names this instance');
  }

  /** Another instance committed (its rows reached memory): the lease, if held, ends at once. */
  sawForeign(reason: string): void {
    this.foreignAt = performance.now();
    this.end(reason);
  }

  private end(reason: string): void {
    this.validUntil = 0;
    if (this.held) this.log.info({ reason }, 'solo lease lost: linearizable reads read the fence again');
    this.held = false;
  }

  private tick(): void {
    if (this.held && !this.holding) this.end('not renewed in time');
    if (this.quiet() && this.wanted()) this.renew();
  }

  private renew(): void {
    if (this.requesting) return;
    this.requesting = true;
    void this.request()
      .catch(() => undefined)
      .finally(() => (this.requesting = false));
  }

  private quiet(): boolean {
    return performance.now() - this.foreignAt >= this.quietMs;
  }

  private wanted(): boolean {
    return performance.now() - this.readAt < WANTED_MS;
  }
}

/** What the local validity keeps short of the lease, for clocks that run at different rates. */
function margin(ttlMs: number): number {
  return ttlMs * 0.1 + 100;
}
