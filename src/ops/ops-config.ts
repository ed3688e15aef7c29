/** The operations flags (compaction, quota, logging, start-up wait): raw strings and their parsed form. */
import { ConfigError } from '../config-error';
import { parseAutoCompaction, type AutoCompaction, type RawCompactionOptions } from './compaction-config';

export type { AutoCompaction } from './compaction-config';

export interface RawOpsOptions extends RawCompactionOptions {
  quotaBackendBytes?: string;
  logFormat?: string;
  slowRequestThreshold?: string;
  slowSqlThreshold?: string;
  datastoreConnectTimeout?: string;
}

type LogFormat = 'json' | 'text';

const OPS_DEFAULTS = {
  logFormat: 'json',
  // etcd's warn-apply duration.
  slowRequestThreshold: '100ms',
  // kine's --slow-sql-threshold.
  slowSqlThreshold: '1s',
  // How long start-up waits for the database (kine and k3s retry for minutes).
  datastoreConnectTimeout: '2m',
} as const;

/** etcd's DefaultQuotaBytes: 2 GiB (what --quota-backend-bytes 0 means). */
const DEFAULT_QUOTA_BYTES = 2 * 1024 * 1024 * 1024;

export interface OpsOptions {
  autoCompaction: AutoCompaction;
  /** The space quota in bytes; 0 or less: none (etcd: a negative quota disables it). */
  quotaBackendBytes: number;
  logFormat: LogFormat;
  /** 0: never log. */
  slowRequestMs: number;
  /** 0: never log. */
  slowSqlMs: number;
  /** How long start-up retries an unreachable database. */
  datastoreConnectTimeoutMs: number;
}

type DurationParser = (s: string, flag: string) => number;

export function parseOpsOptions(raw: RawOpsOptions, parseDuration: DurationParser): OpsOptions {
  return {
    autoCompaction: parseAutoCompaction(raw, parseDuration),
    quotaBackendBytes: parseQuota(raw.quotaBackendBytes ?? '0'),
    logFormat: parseLogFormat(raw.logFormat ?? OPS_DEFAULTS.logFormat),
    slowRequestMs: orZero(raw.slowRequestThreshold ?? OPS_DEFAULTS.slowRequestThreshold, 'slow-request-threshold', parseDuration),
    slowSqlMs: orZero(raw.slowSqlThreshold ?? OPS_DEFAULTS.slowSqlThreshold, 'slow-sql-threshold', parseDuration),
    datastoreConnectTimeoutMs: orZero(
      raw.datastoreConnectTimeout ?? OPS_DEFAULTS.datastoreConnectTimeout,
      'datastore-connect-timeout',
      parseDuration,
    ),
  };
}

function parseLogFormat(s: string): LogFormat {
  if (s !== 'json' && s !== 'text') throw new ConfigError(`invalid --log-format "${s}": expected "json" or "text"`);
  return s;
}

/** A duration where 0 (or kine's ≤0) means off. */
function orZero(s: string, flag: string, parseDuration: DurationParser): number {
  if (/^-?0+(\.0+)?[a-zµ]*$/.test(s.trim()) || s.trim().startsWith('-')) return 0;
  return parseDuration(s, flag);
}

function parseQuota(s: string): number {
  const n = Number(s);
  if (!/^-?\d+$/.test(s.trim()) || !Number.isSafeInteger(n))
    throw new ConfigError(`invalid --quota-backend-bytes "${s}": expected a number of bytes`);
  // etcd: 0 is the default quota, a negative value turns the quota off.
  return n === 0 ? DEFAULT_QUOTA_BYTES : n < 0 ? 0 : n;
}
