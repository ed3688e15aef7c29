/**
 * strata's SQL metrics (kine has kine_sql_total / kine_sql_time_seconds) and etcd's backend commit
 * histogram, fed by the log's observer. Children per statement kind are bound on first use.
 */
import type { LogObserver } from '../log/types';
import type { CounterChild as Child, FastCounter, FastHistogram, FastMetrics, HistogramChild as Obs } from './fast-metrics';

/** 1 ms to 8 s, doubling: etcd's commit buckets, also used for SQL calls. */
const EXP_BUCKETS = Array.from({ length: 14 }, (_, i) => 0.001 * 2 ** i);

export class SqlMetrics implements LogObserver {
  private readonly total: FastCounter;
  private readonly errors: FastCounter;
  private readonly duration: FastHistogram;
  private readonly kinds = new Map<string, { total: Child; errors: Child; duration: Obs }>();
  private readonly commitSeconds: Obs;
  private readonly walFsync: Obs;
  private readonly batchJobs: Obs;
  private readonly retries: Child;
  private readonly proposals: Child;

  constructor(fast: FastMetrics) {
    this.total = fast.counter('strata_sql_total', 'SQL calls by kind', ['kind']);
    this.errors = fast.counter('strata_sql_errors_total', 'SQL calls that failed, by kind', ['kind']);
    this.duration = fast.histogram(
      'strata_sql_duration_seconds',
      'Duration of SQL calls by kind (a write is its whole transaction)',
      EXP_BUCKETS,
      ['kind'],
    );
    this.commitSeconds = fast
      .histogram(
        'etcd_disk_backend_commit_duration_seconds',
        'The latency distributions of commit called by backend (strata: one write batch transaction).',
        EXP_BUCKETS,
      )
      .child();
    // etcd's fsync alert reads the WAL histogram; strata's durable write is the same commit.
    this.walFsync = fast
      .histogram(
        'etcd_disk_wal_fsync_duration_seconds',
        'The latency distributions of fsync called by WAL (strata: one write batch transaction).',
        EXP_BUCKETS,
      )
      .child();
    this.batchJobs = fast
      .histogram(
        'strata_group_commit_batch_size',
        'Write jobs committed by one SQL transaction (group commit)',
        [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
      )
      .child();
    this.retries = fast.counter('strata_sql_retries_total', 'Write batches retried after a transient failure').child();
    this.proposals = fast.counter('strata_write_batches_total', 'Write batches committed').child();
  }

  sql(kind: string, seconds: number, failed: boolean): void {
    let k = this.kinds.get(kind);
    if (!k) {
      k = { total: this.total.child(kind), errors: this.errors.child(kind), duration: this.duration.child(kind) };
      this.kinds.set(kind, k);
    }
    k.total.inc();
    if (failed) k.errors.inc();
    k.duration.observe(seconds);
  }

  commit(seconds: number, jobs: number): void {
    this.commitSeconds.observe(seconds);
    this.walFsync.observe(seconds);
    this.batchJobs.observe(jobs);
    this.proposals.inc();
  }

  retry(): void {
    this.retries.inc();
  }
}
