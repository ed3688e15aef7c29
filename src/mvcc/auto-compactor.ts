/**
 * etcd's auto compactors (server/etcdserver/api/v3compactor), driving this store's Compact.
 *
 * periodic: every retention/10 (capped at 6 minutes: a tenth of an hour) the current revision is
 * sampled; the oldest of the last retention/interval + 1 samples is the revision of `retention`
 * ago. The first compaction waits one full retention, later ones one compaction interval
 * (retention, capped at an hour); a failed one is retried at the next sample.
 * revision: every interval, compact to current − retention.
 *
 * A target at or below the compact revision (kube-apiserver or another instance got there first)
 * is skipped without a write; "required revision has been compacted" from a race counts as done,
 * as it does for etcd.
 */
import type { Logger } from 'pino';
import { EtcdError, Errors } from '../errors';

export type AutoCompactionPolicy = { mode: 'periodic'; retentionMs: number } | { mode: 'revision'; retention: number; intervalMs: number };

interface AutoCompactorDeps {
  revision(): number;
  compactRevision(): number;
  compact(revision: number): Promise<unknown>;
  /** Told of every compaction attempt, for metrics. */
  onResult?(result: 'compacted' | 'skipped' | 'failed'): void;
  log: Logger;
}

const HOUR_MS = 3_600_000;
const RETRY_DIVISOR = 10;

export class AutoCompactor {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private running: Promise<void> | undefined;

  constructor(
    private readonly policy: AutoCompactionPolicy,
    private readonly deps: AutoCompactorDeps,
  ) {}

  start(): void {
    if (this.policy.mode === 'periodic') this.startPeriodic(this.policy.retentionMs);
    else this.startRevision(this.policy.retention, this.policy.intervalMs);
    this.deps.log.info({ policy: this.policy }, 'auto compaction on');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private startPeriodic(periodMs: number): void {
    const compactIntervalMs = Math.min(periodMs, HOUR_MS);
    const retryMs = compactIntervalMs / RETRY_DIVISOR;
    const retentions = Math.floor(periodMs / retryMs) + 1;
    const revs: number[] = [];
    let lastRevision = 0;
    let lastSuccess = Date.now();
    let baseInterval = periodMs;
    const tick = async (): Promise<void> => {
      // revs[0] is the revision of one period ago once the window is full.
      const rev = revs[0];
      if (Date.now() - lastSuccess < baseInterval || rev === lastRevision) return;
      baseInterval = compactIntervalMs;
      if (await this.attempt(rev)) {
        lastSuccess = Date.now();
        lastRevision = rev;
      }
    };
    const sample = (): void => {
      revs.push(this.deps.revision());
      if (revs.length > retentions) revs.shift();
      this.schedule(retryMs, tick, sample);
    };
    sample();
  }

  private startRevision(retention: number, intervalMs: number): void {
    let prev = 0;
    const tick = async (): Promise<void> => {
      const rev = this.deps.revision() - retention;
      if (rev <= 0 || rev === prev) return;
      if (await this.attempt(rev)) prev = rev;
    };
    const again = (): void => this.schedule(intervalMs, tick, again);
    again();
  }

  private schedule(ms: number, tick: () => Promise<void>, next: () => void): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = tick().finally(() => (this.running = undefined));
      void this.running.then(next);
    }, ms);
    this.timer.unref();
  }

  /** True when the log is compacted at or beyond `rev` afterwards. */
  private async attempt(rev: number): Promise<boolean> {
    if (rev <= this.deps.compactRevision()) {
      this.deps.onResult?.('skipped');
      return true;
    }
    const started = Date.now();
    try {
      await this.deps.compact(rev);
      this.deps.onResult?.('compacted');
      this.deps.log.info({ revision: rev, ms: Date.now() - started }, 'auto compaction: compacted');
      return true;
    } catch (e) {
      if (e instanceof EtcdError && e.message === Errors.compacted().message) {
        this.deps.onResult?.('skipped');
        return true;
      }
      this.deps.onResult?.('failed');
      this.deps.log.warn({ revision: rev, error: (e as Error).message }, 'auto compaction failed; retrying later');
      return false;
    }
  }
}
