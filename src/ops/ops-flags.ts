/** The operations flags, as commander options with STRATA_* environment fallbacks. */
import { Option } from 'commander';

function opt(flags: string, description: string, env: string): Option {
  return new Option(flags, description).env(env);
}

export function opsFlags(): Option[] {
  return [
    // Auto compaction, in etcd's words and in kine's.
    opt(
      '--auto-compaction-mode <mode>',
      'periodic (keep --auto-compaction-retention of history) or revision (keep that many revisions) (default "periodic")',
      'STRATA_AUTO_COMPACTION_MODE',
    ),
    opt(
      '--auto-compaction-retention <value>',
      'periodic: a duration (5m, 1h) or hours (1); revision: a revision count; 0 disables (default "5m")',
      'STRATA_AUTO_COMPACTION_RETENTION',
    ),
    opt(
      '--compact-interval <duration>',
      'kine: compact this often keeping --compact-min-retain revisions; 0 disables',
      'STRATA_COMPACT_INTERVAL',
    ),
    opt('--compact-min-retain <n>', 'kine: revisions every compaction keeps (default 1000)', 'STRATA_COMPACT_MIN_RETAIN'),
    opt(
      '--quota-backend-bytes <bytes>',
      'database size that raises the NOSPACE alarm; 0 is the default (2 GiB), negative disables',
      'STRATA_QUOTA_BACKEND_BYTES',
    ),
    opt('--log-format <format>', 'json (one JSON object a line) or text (plain lines) (default "json")', 'STRATA_LOG_FORMAT'),
    opt(
      '--slow-request-threshold <duration>',
      'warn about every request slower than this; 0 disables (default "100ms")',
      'STRATA_SLOW_REQUEST_THRESHOLD',
    ),
    opt(
      '--slow-sql-threshold <duration>',
      'warn about every SQL call slower than this; 0 disables (default "1s")',
      'STRATA_SLOW_SQL_THRESHOLD',
    ),
    opt(
      '--datastore-connect-timeout <duration>',
      'how long start-up waits for an unreachable database, with back-off (default "2m")',
      'STRATA_DATASTORE_CONNECT_TIMEOUT',
    ),
  ];
}
