/**
 * strata's SQL metrics (kine has kine_sql_total / kine_sql_time_seconds) and etcd's backend commit
 * histogram, fed by the log's observer. Children per statement kind are bound on first use.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import type { LogObserver } from '../log/types';

type Child = { inc(n?: number): void };
type Obs = { observe(v: number): void };

/** 1 ms to 8 s, doubling: etcd's commit buckets, also used for SQL calls. */
const EXP_BUCKETS = Array.from({ length: 14 }, (_, i) => 0.001 * 2 ** i);

export class SqlMetrics implements LogObserver {
  private readonly total: Counter<'kind'>;
  private readonly errors: Counter<'kind'>;
  private readonly duration: Histogram<'kind'>;
  private readonly kinds = new Map<string, { total: Child; errors: Child; duration: Obs }>();
  private readonly commitSeconds: Obs;
  private readonly walFsync: Obs;
  private readonly batchJobs: Obs;
  private readonly retries: Child;
  private readonly proposals: Child;

  constructor(registry: Registry) {
    const registers = [registry];
    this.total = new Counter({ name: 'strata_sql_total', help: 'SQL calls by kind', labelNames: ['kind'], registers });
    this.errors = new Counter({ name: 'strata_sql_errors_total', help: 'SQL calls that failed, by kind', labelNames: ['kind'], registers });
    this.duration = new Histogram({
      name: 'strata_sql_duration_seconds',
      help: 'Duration of SQL calls by kind (a write is its whole transaction)',
      labelNames: ['kind'],
      buckets: EXP_BUCKETS,
      registers,
    });
    this.commitSeconds = new Histogram({
      name: 'etcd_disk_backend_commit_duration_seconds',
      help: 'The latency distributions of commit called by backend (strata: one write batch transaction).',
      buckets: EXP_BUCKETS,
      registers,
    });
    // etcd's fsync alert reads the WAL histogram; strata's durable write is the same commit.
    this.walFsync = new Histogram({
      name: 'etcd_disk_wal_fsync_duration_seconds',
      help: 'The latency distributions of fsync called by WAL (strata: one write batch transaction).',
      buckets: EXP_BUCKETS,
      registers,
    });
    this.batchJobs = new Histogram({
      name: 'strata_group_commit_batch_size',
      help: 'Write jobs committed by one SQL transaction (group commit)',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
      registers,
    });
    this.retries = new Counter({ name: 'strata_sql_retries_total', help: 'Write batches retried after a transient failure', registers });
    this.proposals = new Counter({
      name: 'strata_write_batches_total',
      help: 'Write batches committed',
      registers,
    });
  }

  sql(kind: string, seconds: number, failed: boolean): void {
    let k = this.kinds.get(kind);
    if (!k) {
      k = { total: this.total.labels(kind), errors: this.errors.labels(kind), duration: this.duration.labels(kind) };
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
