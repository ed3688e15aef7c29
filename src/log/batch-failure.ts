/**
 * A write batch that failed for good: each caller is told what etcd would say — the error itself
 * when it is etcd's, "request timed out" when the database was unreachable or the failure was
 * worth retrying, else an internal storage error.
 */
import type { Logger } from 'pino';
import { CommitUnknownError, type Dialect } from '../dialect/dialect';
import { EtcdError, Errors } from '../errors';
import type { Pending } from './flight';

/** Fails every job of `batch` with what a client is told about `failure`. */
export function failJobs(dialect: Dialect, log: Logger, batch: readonly Pending[], failure: unknown): void {
  const transient = failure instanceof CommitUnknownError || dialect.isTransient(failure);
  const err =
    failure instanceof EtcdError
      ? failure
      : dialect.isUnreachable(failure) || transient
        ? Errors.timeout()
        : Errors.internal(`storage error: ${(failure as Error)?.message ?? String(failure)}`);
  if (failure instanceof EtcdError || transient) {
    log.warn({ error: (failure as Error)?.message, jobs: batch.length }, 'write batch failed; rolled back');
  } else {
    log.error({ err: failure, jobs: batch.length }, 'write batch failed; rolled back');
  }
  for (const p of batch) p.reject(err);
}
