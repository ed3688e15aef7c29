/** strata's configuration: the type and a pure parser from flag/env strings. */
import { ConfigError } from './config-error';
import { parseEndpoint, type Endpoint } from './endpoint';
import { parseDatastoreTls } from './datastore-tls-config';
import { parseAdvertiseUrls, parseClientUrls, parseMetricsUrls, parsePeerUrls, type ListenAddress, type ListenUrl } from './listen-urls';
import { parseOpsOptions, type OpsOptions, type RawOpsOptions } from './ops/ops-config';
import { parseServerTls, type ServerTls, type ServerTlsRaw } from './server-tls-config';
import type { Bounds } from './rpc/limits';
import { parseAuth, type AuthOptions } from './auth-config';
import { parseDuration, parsePositiveInt } from './config-values';
import { parseWriterElection, type WriterElectionMode } from './writer-election-config';
import { parseSoloReads, type SoloReadsOptions } from './solo-reads-config';

type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

export type { ListenAddress, ListenUrl } from './listen-urls';
export { parseListenAddress, parseListenUrls } from './listen-urls';
export type { ServerTls, TlsMinVersion } from './server-tls-config';

export type { Endpoint, MysqlEndpoint, PostgresEndpoint, SqliteEndpoint, SqliteSync } from './endpoint';
export { parseEndpoint } from './endpoint';
export { ConfigError } from './config-error';
export { parseDuration } from './config-values';
export { JWT_SIGN_METHODS, parseAuthToken } from './auth-config';
export type { AuthOptions, JwtSignMethod, JwtTokenOptions, TokenOptions } from './auth-config';

/** TLS to the database server (k3s's --datastore-cafile/-certfile/-keyfile, kine's --skip-verify). */
export interface DatastoreTls {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  skipVerify: boolean;
}

/** How strata uses the database server: connections, TLS and how it follows other instances. */
export interface DatastoreOptions {
  tls: DatastoreTls;
  /** Most connections open at once (pool size). */
  maxOpenConnections: number;
  /** An idle connection is closed after this long. */
  connectionMaxIdleMs: number;
  /** How often the log is polled for other instances' writes where the database cannot notify. */
  pollIntervalMs: number;
  /** --datastore-pipelined-commits: a batch is sent while the one ahead is in flight (PostgreSQL, MySQL). */
  pipelinedCommits?: boolean;
}

export interface Config {
  /** --listen-client-urls: every address clients connect to, TLS or plaintext. */
  listen: ListenUrl[];
  /** --advertise-client-urls as given; undefined: derived from the bound listen URLs. */
  advertiseClientUrls?: string[];
  /** --initial-advertise-peer-urls: what MemberList reports as peerURLs (no peer traffic exists). */
  peerUrls: string[];
  /** --listen-metrics-urls: /metrics and /health alone, in plaintext. */
  metricsListen: ListenAddress[];
  /** Client-facing TLS; undefined when every listen URL is plaintext. */
  tls?: ServerTls;
  endpoint: Endpoint;
  datastore: DatastoreOptions;
  logLevel: LogLevel;
  /** The etcd version strata reports (Status.version, /version). */
  emulatedEtcdVersion: string;
  watchProgressNotifyIntervalMs: number;
  maxRequestBytes: number;
  maxTxnOps: number;
  /** The member name MemberList reports. */
  name: string;
  auth: AuthOptions;
  /** Day-two operation: auto compaction, quota, logging, start-up wait (src/ops/ops-config.ts). */
  ops: OpsOptions;
  /** Resource bounds: streams, watches, the gateway body timeout, gRPC keepalive (src/rpc/limits.ts). */
  bounds: Bounds;
  /** --writer-election: one elected instance commits the others' writes (src/rpc/forward). */
  writerElection: WriterElectionMode;
  /** --solo-reads, --solo-reads-quiet-period: linearizable reads from memory on a lone instance (src/log/solo.ts). */
  soloReads: SoloReadsOptions;
}

/** Raw option strings as they come from flags or STRATA_* variables. */
export interface RawOptions extends ServerTlsRaw, RawOpsOptions {
  listenClientUrls?: string;
  /** strata's older name of --listen-client-urls. */
  listenAddress?: string;
  advertiseClientUrls?: string;
  initialAdvertisePeerUrls?: string;
  listenMetricsUrls?: string;
  endpoint?: string;
  logLevel?: string;
  emulatedEtcdVersion?: string;
  watchProgressNotifyInterval?: string;
  maxRequestBytes?: string;
  maxTxnOps?: string;
  name?: string;
  /** Refused: it meant the database CA (kine) and the client CA (etcd 3.3). */
  caFile?: string;
  datastoreCafile?: string;
  datastoreCertfile?: string;
  datastoreKeyfile?: string;
  skipVerify?: boolean;
  datastoreMaxOpenConnections?: string;
  datastoreConnectionMaxIdleTime?: string;
  pollInterval?: string;
  datastorePipelinedCommits?: boolean;
  // Authentication (etcd's flags).
  authToken?: string;
  authTokenTtl?: string;
  bcryptCost?: string;
  // Resource bounds (docs/compatibility.md): etcd's flag names where etcd has the bound.
  maxConcurrentStreams?: string;
  maxStreams?: string;
  maxWatchesPerStream?: string;
  gatewayReadTimeout?: string;
  grpcKeepaliveInterval?: string;
  grpcKeepaliveTimeout?: string;
  writerElection?: string;
  soloReads?: string;
  soloReadsQuietPeriod?: string;
}

export const DEFAULTS = {
  listenClientUrls: 'http://127.0.0.1:2379',
  // etcd's default.
  initialAdvertisePeerUrls: 'http://localhost:2380',
  endpoint: 'sqlite://./db/state.db',
  logLevel: 'info',
  // ≥ 3.5.13 so kube-apiserver turns on RequestWatchProgress (etcd-clients.md §1.5).
  emulatedEtcdVersion: '3.5.21',
  watchProgressNotifyInterval: '5s',
  maxRequestBytes: String(1.5 * 1024 * 1024),
  maxTxnOps: '128',
  name: 'strata',
  datastoreMaxOpenConnections: '10',
  datastoreConnectionMaxIdleTime: '2m',
  pollInterval: '20ms',
  authToken: 'simple',
  authTokenTtl: '300',
  bcryptCost: '10',
  // etcd: math.MaxUint32, i.e. no bound; 0 means none for strata's own bounds too.
  maxConcurrentStreams: '4294967295',
  maxStreams: '0',
  maxWatchesPerStream: '0',
  gatewayReadTimeout: '60s',
  grpcKeepaliveInterval: '2h',
  grpcKeepaliveTimeout: '20s',
  writerElection: 'off',
  soloReadsQuietPeriod: '30s',
} as const;

export function parseConfig(raw: RawOptions): Config {
  const listen = parseClientUrls(raw.listenClientUrls, raw.listenAddress, DEFAULTS.listenClientUrls);
  const endpoint = parseEndpoint(raw.endpoint || DEFAULTS.endpoint);
  return {
    listen,
    advertiseClientUrls: raw.advertiseClientUrls ? parseAdvertiseUrls(raw.advertiseClientUrls) : undefined,
    peerUrls: parsePeerUrls(raw.initialAdvertisePeerUrls || DEFAULTS.initialAdvertisePeerUrls),
    metricsListen: parseMetricsUrls(raw.listenMetricsUrls),
    tls: parseServerTls(raw, listen),
    endpoint,
    datastore: {
      tls: parseDatastoreTls(raw, endpoint),
      maxOpenConnections: parsePositiveInt(
        raw.datastoreMaxOpenConnections ?? DEFAULTS.datastoreMaxOpenConnections,
        'datastore-max-open-connections',
      ),
      connectionMaxIdleMs: parseDuration(
        raw.datastoreConnectionMaxIdleTime ?? DEFAULTS.datastoreConnectionMaxIdleTime,
        'datastore-connection-max-idle-time',
      ),
      pollIntervalMs: parseDuration(raw.pollInterval ?? DEFAULTS.pollInterval, 'poll-interval'),
      ...(raw.datastorePipelinedCommits ? { pipelinedCommits: true } : {}),
    },
    logLevel: parseLogLevel(raw.logLevel ?? DEFAULTS.logLevel),
    emulatedEtcdVersion: parseVersion(raw.emulatedEtcdVersion ?? DEFAULTS.emulatedEtcdVersion),
    watchProgressNotifyIntervalMs: parseDuration(
      raw.watchProgressNotifyInterval ?? DEFAULTS.watchProgressNotifyInterval,
      'watch-progress-notify-interval',
    ),
    maxRequestBytes: parsePositiveInt(raw.maxRequestBytes ?? DEFAULTS.maxRequestBytes, 'max-request-bytes'),
    maxTxnOps: parsePositiveInt(raw.maxTxnOps ?? DEFAULTS.maxTxnOps, 'max-txn-ops'),
    name: raw.name || DEFAULTS.name,
    auth: parseAuth(raw.authToken ?? DEFAULTS.authToken, raw.authTokenTtl ?? DEFAULTS.authTokenTtl, raw.bcryptCost ?? DEFAULTS.bcryptCost),
    ops: parseOpsOptions(raw, parseDuration),
    bounds: parseBounds(raw),
    writerElection: parseWriterElection(raw.writerElection ?? DEFAULTS.writerElection, endpoint),
    soloReads: {
      on: parseSoloReads(raw.soloReads, endpoint, parseWriterElection(raw.writerElection ?? DEFAULTS.writerElection, endpoint)),
      quietMs: parseDuration(raw.soloReadsQuietPeriod ?? DEFAULTS.soloReadsQuietPeriod, 'solo-reads-quiet-period'),
    },
  };
}

function parseBounds(raw: RawOptions): Bounds {
  const count = (v: string, flag: string): number => (v === '0' ? 0 : parsePositiveInt(v, flag));
  const duration = (v: string, flag: string): number => (v === '0' ? 0 : parseDuration(v, flag));
  return {
    maxConcurrentStreams: count(raw.maxConcurrentStreams ?? DEFAULTS.maxConcurrentStreams, 'max-concurrent-streams'),
    maxStreams: count(raw.maxStreams ?? DEFAULTS.maxStreams, 'max-streams'),
    maxWatchesPerStream: count(raw.maxWatchesPerStream ?? DEFAULTS.maxWatchesPerStream, 'max-watches-per-stream'),
    gatewayReadTimeoutMs: duration(raw.gatewayReadTimeout ?? DEFAULTS.gatewayReadTimeout, 'gateway-read-timeout'),
    keepaliveIntervalMs: duration(raw.grpcKeepaliveInterval ?? DEFAULTS.grpcKeepaliveInterval, 'grpc-keepalive-interval'),
    keepaliveTimeoutMs: parseDuration(raw.grpcKeepaliveTimeout ?? DEFAULTS.grpcKeepaliveTimeout, 'grpc-keepalive-timeout'),
  };
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
