/** strata's configuration: the type and a pure parser from flag/env strings. */

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

export type ListenAddress = { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };

export type SqliteSync = 'OFF' | 'NORMAL' | 'FULL' | 'EXTRA';
export interface SqliteEndpoint {
  kind: 'sqlite';
  path: string;
  synchronous: SqliteSync;
  busyTimeoutMs: number;
}
export type Endpoint = SqliteEndpoint;

export interface Config {
  listen: ListenAddress;
  endpoint: Endpoint;
  logLevel: LogLevel;
  /** The etcd version strata reports (Status.version, /version). */
  emulatedEtcdVersion: string;
  watchProgressNotifyIntervalMs: number;
  maxRequestBytes: number;
  maxTxnOps: number;
  /** The member name MemberList reports. */
  name: string;
}

/** Raw option strings as they come from flags or STRATA_* variables. */
export interface RawOptions {
  listenAddress?: string;
  endpoint?: string;
  logLevel?: string;
  emulatedEtcdVersion?: string;
  watchProgressNotifyInterval?: string;
  maxRequestBytes?: string;
  maxTxnOps?: string;
  name?: string;
}

export const DEFAULTS = {
  listenAddress: '127.0.0.1:2379',
  endpoint: 'sqlite://./db/state.db',
  logLevel: 'info',
  // ≥ 3.5.13 so kube-apiserver turns on RequestWatchProgress (etcd-clients.md §1.5).
  emulatedEtcdVersion: '3.5.21',
  watchProgressNotifyInterval: '5s',
  maxRequestBytes: String(1.5 * 1024 * 1024),
  maxTxnOps: '128',
  name: 'strata',
} as const;

/** A configuration mistake: reported as one line, exit code 2. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function parseConfig(raw: RawOptions): Config {
  return {
    listen: parseListenAddress(raw.listenAddress ?? DEFAULTS.listenAddress),
    endpoint: parseEndpoint(raw.endpoint || DEFAULTS.endpoint),
    logLevel: parseLogLevel(raw.logLevel ?? DEFAULTS.logLevel),
    emulatedEtcdVersion: parseVersion(raw.emulatedEtcdVersion ?? DEFAULTS.emulatedEtcdVersion),
    watchProgressNotifyIntervalMs: parseDuration(
      raw.watchProgressNotifyInterval ?? DEFAULTS.watchProgressNotifyInterval,
      'watch-progress-notify-interval',
    ),
    maxRequestBytes: parsePositiveInt(raw.maxRequestBytes ?? DEFAULTS.maxRequestBytes, 'max-request-bytes'),
    maxTxnOps: parsePositiveInt(raw.maxTxnOps ?? DEFAULTS.maxTxnOps, 'max-txn-ops'),
    name: raw.name || DEFAULTS.name,
  };
}

export function parseListenAddress(s: string): ListenAddress {
  if (s.startsWith('unix://')) {
    const path = s.slice('unix://'.length);
    if (!path) throw new ConfigError(`invalid listen address "${s}": unix:// needs a socket path`);
    return { kind: 'unix', path };
  }
  const hostPort = s.replace(/^https?:\/\//, '').replace(/\/$/, '');
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:/\s]*):(\d{1,5})$/.exec(hostPort);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) {
    throw new ConfigError(`invalid listen address "${s}": expected host:port or unix://path`);
  }
  const host = m[1] === '' ? '0.0.0.0' : m[1].replace(/^\[|\]$/g, '');
  return { kind: 'tcp', host, port };
}

const SYNC_MODES: readonly SqliteSync[] = ['OFF', 'NORMAL', 'FULL', 'EXTRA'];

export function parseEndpoint(s: string): Endpoint {
  const idx = s.indexOf('://');
  if (idx <= 0) {
    throw new ConfigError(
      `invalid datastore endpoint "${s}": expected a URI such as sqlite://./db/state.db`,
    );
  }
  const scheme = s.slice(0, idx).toLowerCase();
  const rest = s.slice(idx + 3);
  switch (scheme) {
    case 'sqlite':
      return parseSqlite(rest, s);
    case 'postgres':
    case 'postgresql':
    case 'mysql':
      throw new ConfigError(`datastore "${scheme}" is not supported yet; use sqlite://`);
    default:
      throw new ConfigError(`invalid datastore endpoint "${s}": unknown scheme "${scheme}"`);
  }
}

function parseSqlite(rest: string, whole: string): SqliteEndpoint {
  const q = rest.indexOf('?');
  const path = decodeURIComponent(q >= 0 ? rest.slice(0, q) : rest);
  if (!path) throw new ConfigError(`invalid datastore endpoint "${whole}": no database file path`);
  const params = new URLSearchParams(q >= 0 ? rest.slice(q + 1) : '');
  // kine's DSN parameters are accepted; those that mean something to us are honoured.
  const syncRaw = (params.get('_synchronous') ?? params.get('_sync') ?? 'NORMAL').toUpperCase();
  const synchronous = /^\d$/.test(syncRaw) ? SYNC_MODES[Number(syncRaw)] : (syncRaw as SqliteSync);
  if (!SYNC_MODES.includes(synchronous)) {
    throw new ConfigError(`invalid datastore endpoint "${whole}": _synchronous must be one of ${SYNC_MODES.join(', ')}`);
  }
  const busy = params.get('_busy_timeout') ?? params.get('_timeout') ?? '30000';
  const busyTimeoutMs = Number(busy);
  if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new ConfigError(`invalid datastore endpoint "${whole}": _busy_timeout must be milliseconds`);
  }
  return { kind: 'sqlite', path, synchronous, busyTimeoutMs };
}

function parseLogLevel(s: string): LogLevel {
  const l = s.toLowerCase() as LogLevel;
  if (!LOG_LEVELS.includes(l)) throw new ConfigError(`invalid log level "${s}": one of ${LOG_LEVELS.join(', ')}`);
  return l;
}

function parseVersion(s: string): string {
  if (!/^\d+\.\d+\.\d+$/.test(s)) throw new ConfigError(`invalid emulated etcd version "${s}": expected X.Y.Z`);
  return s;
}

function parsePositiveInt(s: string, flag: string): number {
  const n = Number(s);
  if (!Number.isSafeInteger(n) || n <= 0) throw new ConfigError(`invalid --${flag} "${s}": expected a positive integer`);
  return n;
}

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go-style durations ("5s", "1m30s", "250ms"); a bare number means seconds. Returns milliseconds. */
export function parseDuration(s: string, flag: string): number {
  const bad = () => new ConfigError(`invalid --${flag} "${s}": expected a duration such as 5s or 500ms`);
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) throw bad();
    total += Number(m[1]) * UNITS[m[2]];
    pos = re.lastIndex;
  }
  if (pos === 0 || total <= 0) throw bad();
  return total;
}
