/**
 * The tailer: decides when to look for what other instances committed. It wakes on the database's
 * notification where there is one (PostgreSQL LISTEN/NOTIFY) and polls the marks otherwise; a poll
 * is one primary-key read. Linearizable reads do not wait for it: they read the marks themselves
 * and bring memory up to them through `syncTo`.
 */
import type { Logger } from 'pino';
import type { Dialect } from '../dialect/dialect';
import type { Fence } from './fence';
import type { Follower } from './follower';
import type { Marks } from './meta';

/** With notifications, a slow poll only guards against a notification lost to a reconnect. */
const NOTIFIED_POLL_MS = 1000;

export class Tailer {
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private failing = false;

  constructor(
    private readonly dialect: Dialect,
    private readonly fence: Fence,
    private readonly follower: Follower,
    private readonly log: Logger,
    private readonly pollIntervalMs: number,
    /** While this holds (this instance's solo lease), no other instance can commit: nothing to look for. */
    private readonly idle: () => boolean = () => false,
  ) {}

  async start(): Promise<void> {
    const notified = this.dialect.capabilities.notifications;
    if (notified) await this.dialect.listen(() => this.poke());
    this.timer = setInterval(() => this.poke(), notified ? NOTIFIED_POLL_MS : this.pollIntervalMs);
    this.timer.unref();
  }

  /** Stops polling and waits for a pass in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.pass?.catch(() => undefined);
  }

  /** Something may have changed: run a pass now, or one more after the pass in progress. */
  poke(): void {
    if (this.stopped) return;
    if (this.pass) {
      this.again = true;
      return;
    }
    this.pass = this.run().finally(() => {
      this.pass = null;
      if (this.again) {
        this.again = false;
        this.poke();
      }
    });
  }

  /** Brings memory up to `marks` (read by the caller after its request arrived). */
  syncTo(marks: Marks): Promise<void> {
    if (!this.follower.behind(marks)) return Promise.resolve();
    return this.follower.exclusive(async () => {
      if (this.follower.behind(marks)) await this.follower.advance(this.dialect, marks, () => this.fence.read());
    });
  }

  private async run(): Promise<void> {
    if (this.idle()) return;
    try {
      await this.syncTo(await this.fence.read());
      if (this.failing) this.log.info('log tail recovered');
      this.failing = false;
    } catch (e) {
      // Logged once per outage; the next tick tries again.
      if (!this.failing) this.log.error({ error: (e as Error)?.message ?? String(e) }, 'log tail failed; retrying');
      this.failing = true;
    }
  }
}
