/**
 * One writer elected through the database: every instance claims the lease row each RENEW_MS
 * (the holder renews it, the others take it only once it expired by the database clock) and
 * learns who holds it. An instance counts itself the writer only until its lease would end
 * (measured from before its claim was sent, less a margin), so it stops calling itself the
 * writer before another can take over. Two instances that both think they write are only slow:
 * every commit still goes through the fence.
 *
 * The timing against Galera's eviction (5 s here: evs.inactive_timeout): a writer that dies is
 * replaced within TTL_MS + RENEW_MS = 4 s of its last renewal, sooner than the cluster itself
 * resumes after losing a node, so a node's death stalls survivors for the eviction and not more;
 * a writer instance killed outright is not waited for at all (its callers fall back at once).
 */
import type { Logger } from 'pino';
import type { WriterLeaseCalls } from '../../mvcc/store';

export const RENEW_MS = 1000;
export const TTL_MS = 3000;
/** A writer stops counting itself the writer this long before its lease ends (clock drift, a slow claim). */
const MARGIN_MS = 500;

export interface Holder {
  owner: string;
  address: string;
}

export class WriterElection {
  /** The holder as last read, and until when (performance.now()) that reading holds. */
  private holder: (Holder & { until: number }) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private claiming: Promise<void> | undefined;
  private failing = false;
  private stopped = false;

  private address = '';

  constructor(
    private readonly lease: WriterLeaseCalls,
    readonly id: string,
    private readonly log: Logger,
  ) {}

  /**
   * Claims once advertising `address` (so the writer is known before the first write is routed)
   * and then every RENEW_MS.
   */
  async start(address: string): Promise<void> {
    this.address = address;
    await this.claim();
    this.timer = setInterval(() => this.nudge(), RENEW_MS);
    this.timer.unref();
  }

  /** Whether this instance holds the lease now. */
  isWriter(): boolean {
    const h = this.holder;
    return h !== undefined && h.owner === this.id && performance.now() < h.until;
  }

  /** Another instance holding the lease now, or undefined (this one, nobody, or not known). */
  writer(): Holder | undefined {
    const h = this.holder;
    if (!h || h.owner === this.id || h.owner === '' || performance.now() >= h.until) return undefined;
    return { owner: h.owner, address: h.address };
  }

  /** Claims now (the writer seemed gone), unless a claim is already on its way. */
  nudge(): void {
    if (!this.claiming && !this.stopped) void this.claim();
  }

  /** Stops claiming and, if this instance holds the lease, ends it so a successor need not wait. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.claiming;
    if (this.holder?.owner === this.id) {
      this.holder = undefined;
      await this.lease.release(this.id).catch(() => undefined);
    }
  }

  private claim(): Promise<void> {
    const run = async (): Promise<void> => {
      const sent = performance.now();
      try {
        const l = await this.lease.claim(this.id, this.address, TTL_MS);
        const was = this.holder?.owner;
        const mine = l.owner === this.id;
        this.holder = { owner: l.owner, address: l.address, until: sent + l.remainingMs - (mine ? MARGIN_MS : 0) };
        if (was !== l.owner) this.log.info({ writer: l.owner, address: l.address, self: mine }, 'writer lease holder');
        if (this.failing) this.log.info('writer lease claims recovered');
        this.failing = false;
      } catch (e) {
        // The old reading stays good until it runs out by itself.
        if (!this.failing) this.log.warn({ error: (e as Error)?.message ?? String(e) }, 'writer lease claim failed; retrying');
        this.failing = true;
      }
    };
    this.claiming = run().finally(() => (this.claiming = undefined));
    return this.claiming;
  }
}
