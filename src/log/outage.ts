/**
 * Database outages in the log: one warning when the database stops answering, a summary at most
 * every `summaryMs` while it stays away, one line when it is back — never a stack per retry.
 */
import type { Logger } from 'pino';

export class Outage {
  private since: number | undefined;
  private failures = 0;
  private lastSummary = 0;
  private lastReason = '';
  /** Outages that ended since start. */
  recoveries = 0;

  constructor(
    private readonly log: Logger,
    readonly isOutage: (e: unknown) => boolean,
    private readonly summaryMs = 30_000,
  ) {}

  /** Whether the database is unreachable now (the last call failed for a connection reason). */
  get down(): boolean {
    return this.since !== undefined;
  }

  failed(e: unknown): void {
    const reason = (e as Error)?.message ?? String(e);
    const now = Date.now();
    this.failures++;
    if (this.since === undefined) {
      this.since = now;
      this.lastSummary = now;
      this.lastReason = reason;
      this.log.warn({ reason }, 'database unreachable');
      return;
    }
    if (now - this.lastSummary >= this.summaryMs) {
      this.lastSummary = now;
      this.log.warn({ failures: this.failures, downForMs: now - this.since, reason }, 'database still unreachable');
    }
    this.lastReason = reason;
  }

  succeeded(): void {
    if (this.since === undefined) return;
    this.log.warn({ downForMs: Date.now() - this.since, failures: this.failures, lastReason: this.lastReason }, 'database reachable again');
    this.since = undefined;
    this.failures = 0;
    this.recoveries++;
  }
}
