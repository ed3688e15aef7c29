/**
 * Auto-compaction flags, in etcd's vocabulary (--auto-compaction-mode, --auto-compaction-retention)
 * with kine's (--compact-interval, --compact-min-retain) accepted too.
 */
import { ConfigError } from '../config-error';

/** What the auto compactor keeps. `off` when retention is 0 (etcd) or the interval is 0 (kine). */
export type AutoCompaction =
  | { mode: 'off' }
  /** Keep `retentionMs` of history; samples and compaction intervals follow etcd's periodic compactor. */
  | { mode: 'periodic'; retentionMs: number }
  /** Keep the newest `retention` revisions, checked every `intervalMs` (etcd: 5 minutes). */
  | { mode: 'revision'; retention: number; intervalMs: number };

export interface RawCompactionOptions {
  autoCompactionMode?: string;
  autoCompactionRetention?: string;
  compactInterval?: string;
  compactMinRetain?: string;
}

/**
 * The default keeps five minutes of history: what kube-apiserver's own compactor keeps (it
 * compacts every 5 minutes to the revision it saw one interval earlier), so a watcher that
 * reconnects within minutes resumes, and a client that never compacts stays bounded.
 */
const COMPACTION_DEFAULTS = { mode: 'periodic', retention: '5m', revisionIntervalMs: 5 * 60_000, kineMinRetain: 1000 } as const;

/** etcd's parseCompactionRetention: a bare integer is hours (periodic) or revisions; else a Go duration. */
export function parseAutoCompaction(raw: RawCompactionOptions, parseDuration: (s: string, flag: string) => number): AutoCompaction {
  const etcdGiven = raw.autoCompactionMode !== undefined || raw.autoCompactionRetention !== undefined;
  if (!etcdGiven && (raw.compactInterval !== undefined || raw.compactMinRetain !== undefined)) return kineStyle(raw, parseDuration);
  if (raw.compactMinRetain !== undefined) {
    throw new ConfigError('--compact-min-retain (kine) cannot be combined with --auto-compaction-mode/--auto-compaction-retention');
  }
  const mode = raw.autoCompactionMode ?? COMPACTION_DEFAULTS.mode;
  if (mode !== 'periodic' && mode !== 'revision') {
    throw new ConfigError(`invalid --auto-compaction-mode "${mode}": expected "periodic" or "revision"`);
  }
  const retention = raw.autoCompactionRetention ?? (raw.autoCompactionMode === undefined ? COMPACTION_DEFAULTS.retention : '0');
  const bad = (why: string) => new ConfigError(`invalid --auto-compaction-retention "${retention}": ${why}`);
  if (mode === 'revision') {
    if (!/^\d+$/.test(retention)) throw bad('revision mode keeps a number of revisions');
    const n = Number(retention);
    if (n === 0) return { mode: 'off' };
    const intervalMs =
      raw.compactInterval === undefined ? COMPACTION_DEFAULTS.revisionIntervalMs : parseDuration(raw.compactInterval, 'compact-interval');
    return { mode: 'revision', retention: n, intervalMs };
  }
  if (raw.compactInterval !== undefined) {
    throw new ConfigError(
      '--compact-interval applies to --auto-compaction-mode revision; periodic mode derives its interval from the retention',
    );
  }
  if (/^\d+$/.test(retention)) {
    const hours = Number(retention);
    return hours === 0 ? { mode: 'off' } : { mode: 'periodic', retentionMs: hours * 3_600_000 };
  }
  let ms: number;
  try {
    ms = parseDuration(retention, 'auto-compaction-retention');
  } catch {
    throw bad('expected hours (e.g. 1) or a duration such as 5m or 1h30m');
  }
  return { mode: 'periodic', retentionMs: ms };
}

/** kine: a compactor every --compact-interval (0 disables it) that keeps --compact-min-retain revisions. */
function kineStyle(raw: RawCompactionOptions, parseDuration: (s: string, flag: string) => number): AutoCompaction {
  const interval = raw.compactInterval ?? '5m';
  if (/^0+(\.0+)?[a-zµ]*$/.test(interval)) return { mode: 'off' };
  const intervalMs = parseDuration(interval, 'compact-interval');
  const retain = raw.compactMinRetain ?? String(COMPACTION_DEFAULTS.kineMinRetain);
  if (!/^\d+$/.test(retain) || Number(retain) === 0) {
    throw new ConfigError(`invalid --compact-min-retain "${retain}": expected a positive number of revisions`);
  }
  return { mode: 'revision', retention: Number(retain), intervalMs };
}
