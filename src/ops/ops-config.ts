/** The operations flags (compaction, quota, logging, start-up wait): raw strings and their parsed form. */
import { ConfigError } from '../config-error';
import { parseAutoCompaction, type AutoCompaction, type RawCompactionOptions } from './compaction-config';

export type { AutoCompaction } from './compaction-config';

export interface RawOpsOptions extends RawCompactionOptions {
  quotaBackendBytes?: string;
}

/** etcd's DefaultQuotaBytes: 2 GiB (what --quota-backend-bytes 0 means). */
export const DEFAULT_QUOTA_BYTES = 2 * 1024 * 1024 * 1024;

export interface OpsOptions {
  autoCompaction: AutoCompaction;
  /** The space quota in bytes; 0 or less: none (etcd: a negative quota disables it). */
  quotaBackendBytes: number;
}

type DurationParser = (s: string, flag: string) => number;

export function parseOpsOptions(raw: RawOpsOptions, parseDuration: DurationParser): OpsOptions {
  return {
    autoCompaction: parseAutoCompaction(raw, parseDuration),
    quotaBackendBytes: parseQuota(raw.quotaBackendBytes ?? '0'),
  };
}

function parseQuota(s: string): number {
  const n = Number(s);
  if (!/^-?\d+$/.test(s.trim()) || !Number.isSafeInteger(n))
    throw new ConfigError(`invalid --quota-backend-bytes "${s}": expected a number of bytes`);
  // etcd: 0 is the default quota, a negative value turns the quota off.
  return n === 0 ? DEFAULT_QUOTA_BYTES : n < 0 ? 0 : n;
}
