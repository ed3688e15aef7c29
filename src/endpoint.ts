/**
 * Datastore endpoint strings, as users already write them for kine and k3s:
 *   sqlite://./db/state.db?_synchronous=FULL
 *   postgres://user:pass@host:5432/db?sslmode=verify-full   (also postgresql://)
 *   mysql://user:pass@tcp(host:3306)/db?tls=true             (go-sql-driver form, k3s)
 *   mysql://user:pass@host:3306/db
 * Several hosts, tried in order, the first live one taking new connections (libpq's form):
 *   postgres://user@h1:5432,h2:5432/db?target_session_attrs=read-write
 *   mysql://user:pass@h1:3306,h2:3307/db       mysql://user:pass@tcp(h1:3306,h2:3307)/db
 * Schemes naming an engine that speaks one of the two protocols, with that engine's rules
 * (dialect/rules.ts): cockroachdb:// and yugabytedb:// (PostgreSQL), tidb:// and galera:// (MySQL).
 * Pure parsing: nothing here connects. Passwords stay inside the parsed value; `redactEndpoint`
 * gives the form that may be logged.
 */
import { ConfigError } from './config-error';
import type { Engine } from './dialect/rules';

export type SqliteSync = 'OFF' | 'NORMAL' | 'FULL' | 'EXTRA';
export interface SqliteEndpoint {
  kind: 'sqlite';
  path: string;
  synchronous: SqliteSync;
  busyTimeoutMs: number;
}

export interface HostPort {
  host: string;
  port: number;
}

/**
 * Which hosts may take connections: any that answers (libpq's default), or only one that accepts
 * writes (read-write: `transaction_read_only` off; primary: not in recovery). strata writes, so
 * libpq's read-only, standby and prefer-standby are refused.
 */
export type TargetSessionAttrs = 'any' | 'read-write' | 'primary';

/** Connection facts shared by the two server databases. */
export interface ServerEndpoint {
  /** The engine behind the scheme: whose rules apply. */
  engine: Engine;
  /** The first host; `hosts` holds every one, in the endpoint's order. */
  host: string;
  port: number;
  hosts: HostPort[];
  targetSessionAttrs: TargetSessionAttrs;
  /** A unix socket instead of host:port. */
  socketPath?: string;
  user: string;
  password: string;
  database: string;
  /** TLS asked for by the endpoint itself; the --ca-file/--cert-file/--key-file flags add to it. */
  tls: 'disable' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';
  /** Parameters passed through to the driver (libpq-style for PostgreSQL). */
  params: Record<string, string>;
}
export interface PostgresEndpoint extends ServerEndpoint {
  kind: 'postgres';
}
export interface MysqlEndpoint extends ServerEndpoint {
  kind: 'mysql';
}
export type Endpoint = SqliteEndpoint | PostgresEndpoint | MysqlEndpoint;

/** kine's default database name, so a k3s endpoint without one lands where kine's would. */
const DEFAULT_DATABASE = 'kubernetes';

const SYNC_MODES: readonly SqliteSync[] = ['OFF', 'NORMAL', 'FULL', 'EXTRA'];

/** The server schemes: the protocol each speaks, its engine, its usual port and superuser. */
const SERVER_SCHEMES: Record<string, { kind: 'postgres' | 'mysql'; engine: Engine; port: number; user: string }> = {
  postgres: { kind: 'postgres', engine: 'postgres', port: 5432, user: 'postgres' },
  postgresql: { kind: 'postgres', engine: 'postgres', port: 5432, user: 'postgres' },
  cockroachdb: { kind: 'postgres', engine: 'cockroachdb', port: 26257, user: 'root' },
  yugabytedb: { kind: 'postgres', engine: 'yugabytedb', port: 5433, user: 'yugabyte' },
  mysql: { kind: 'mysql', engine: 'mysql', port: 3306, user: 'root' },
  galera: { kind: 'mysql', engine: 'galera', port: 3306, user: 'root' },
  tidb: { kind: 'mysql', engine: 'tidb', port: 4000, user: 'root' },
};

export function parseEndpoint(s: string): Endpoint {
  const idx = s.indexOf('://');
  if (idx <= 0) {
    throw new ConfigError(`invalid datastore endpoint "${redact(s)}": expected a URI such as sqlite://./db/state.db`);
  }
  const scheme = s.slice(0, idx).toLowerCase();
  const rest = s.slice(idx + 3);
  if (scheme === 'sqlite') return parseSqlite(rest, s);
  const server = SERVER_SCHEMES[scheme];
  if (!Object.hasOwn(SERVER_SCHEMES, scheme)) {
    throw new ConfigError(`invalid datastore endpoint "${redact(s)}": unknown scheme "${scheme}"`);
  }
  const parsed = parseServer(rest, s, server);
  return server.kind === 'postgres' ? { kind: 'postgres', ...parsed } : { kind: 'mysql', ...parsed };
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

/**
 * `user:pass@host:port/db?params`, `user:pass@tcp(host:port)/db?params` or
 * `user:pass@unix(/path.sock)/db`. The password may hold any character but '@' unescaped; the
 * last '@' before the host part separates it, as libpq and go-sql-driver both allow.
 */
function parseServer(rest: string, whole: string, scheme: (typeof SERVER_SCHEMES)[string]): ServerEndpoint {
  const flavour = scheme.kind;
  const bad = (why: string) => new ConfigError(`invalid datastore endpoint "${redact(whole)}": ${why}`);
  const q = rest.indexOf('?');
  const params = Object.fromEntries(new URLSearchParams(q >= 0 ? rest.slice(q + 1) : ''));
  const beforeQuery = q >= 0 ? rest.slice(0, q) : rest;
  const wrappedAt = beforeQuery.search(/@(tcp|unix)\(/);
  // Database names cannot hold '@', so the last one ends the user info, whatever the password holds.
  const at = wrappedAt >= 0 ? wrappedAt : beforeQuery.lastIndexOf('@');
  const userinfo = at >= 0 ? beforeQuery.slice(0, at) : '';
  const hostAndPath = at >= 0 ? beforeQuery.slice(at + 1) : beforeQuery;
  const colon = userinfo.indexOf(':');
  const user = decode(colon >= 0 ? userinfo.slice(0, colon) : userinfo, bad);
  const password = decode(colon >= 0 ? userinfo.slice(colon + 1) : '', bad);

  let hostPart: string;
  let path: string;
  let socketPath: string | undefined;
  const wrapped = /^(tcp|unix)\(([^)]*)\)(.*)$/.exec(hostAndPath);
  if (wrapped) {
    if (wrapped[1] === 'unix') socketPath = wrapped[2];
    hostPart = wrapped[1] === 'tcp' ? wrapped[2] : '';
    path = wrapped[3];
  } else {
    const slash = hostAndPath.indexOf('/');
    hostPart = slash >= 0 ? hostAndPath.slice(0, slash) : hostAndPath;
    path = slash >= 0 ? hostAndPath.slice(slash) : '';
  }
  const hosts = parseHosts(hostPart, params, scheme.port, bad);
  const { host, port } = hosts[0];
  if (path && !path.startsWith('/')) throw bad(`expected "/database" after the host, got "${path}"`);
  const database = decode(path.replace(/^\//, ''), bad) || params.dbname || DEFAULT_DATABASE;
  if (!/^[A-Za-z0-9_$-]{1,63}$/.test(database)) {
    throw bad(`database name "${database}" must be 1-63 letters, digits, '_', '$' or '-'`);
  }
  if (host.startsWith('/')) socketPath = host;
  if (socketPath && hosts.length > 1) throw bad('a unix socket cannot be one of several hosts');
  return {
    engine: scheme.engine,
    host,
    port,
    hosts,
    targetSessionAttrs: sessionAttrs(params.target_session_attrs, bad),
    socketPath,
    user: user || params.user || scheme.user,
    password,
    // kine lower-cases PostgreSQL database names; an unquoted name in SQL means the same.
    database: flavour === 'postgres' ? database.toLowerCase() : database,
    tls: flavour === 'postgres' ? pgTls(params.sslmode, bad) : mysqlTls(params.tls, bad),
    params,
  };
}

/**
 * `h1:5432,h2,[::1]:5433`; a host without a port takes the `port` parameter (one for all, or a
 * comma list matching the hosts, as libpq) or the scheme's port. An empty host part takes the
 * `host` parameter, or 127.0.0.1.
 */
function parseHosts(hostPart: string, params: Record<string, string>, defaultPort: number, bad: (why: string) => ConfigError): HostPort[] {
  const parts = (hostPart || params.host || '').split(',');
  const ports = (params.port ?? '').split(',').filter((p) => p !== '');
  if (ports.length > 1 && ports.length !== parts.length) throw bad(`${ports.length} ports given for ${parts.length} hosts`);
  const seen = new Set<string>();
  return parts.map((part, i) => {
    const hp = /^(\[[0-9a-fA-F:.]+\]|[^:]*)(?::(\d{1,5}))?$/.exec(part);
    if (!hp) throw bad(`cannot read host and port from "${part}"`);
    if (!hp[1] && parts.length > 1) throw bad(`empty host in "${hostPart}"`);
    const host = hp[1].replace(/^\[|\]$/g, '') || '127.0.0.1';
    const port = Number(hp[2] ?? ports[ports.length > 1 ? i : 0] ?? defaultPort);
    if (!Number.isInteger(port) || port <= 0 || port > 65535) throw bad('port must be 1-65535');
    const key = `${host}:${port}`;
    if (seen.has(key)) throw bad(`host ${key} is named twice`);
    seen.add(key);
    return { host, port };
  });
}

function sessionAttrs(raw: string | undefined, bad: (why: string) => ConfigError): TargetSessionAttrs {
  const v = raw ?? 'any';
  if (v === 'any' || v === 'read-write' || v === 'primary') return v;
  throw bad(`target_session_attrs must be any, read-write or primary (strata writes; "${v}" cannot take writes)`);
}

function decode(s: string, bad: (why: string) => ConfigError): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw bad('bad percent-encoding');
  }
}

function pgTls(mode: string | undefined, bad: (why: string) => ConfigError): ServerEndpoint['tls'] {
  const m = mode ?? 'prefer';
  if (m === 'allow') return 'prefer';
  if (['disable', 'prefer', 'require', 'verify-ca', 'verify-full'].includes(m)) return m as ServerEndpoint['tls'];
  throw bad(`sslmode must be disable, allow, prefer, require, verify-ca or verify-full`);
}

/** go-sql-driver's tls parameter: true, false, skip-verify, preferred. */
function mysqlTls(mode: string | undefined, bad: (why: string) => ConfigError): ServerEndpoint['tls'] {
  switch (mode ?? 'false') {
    case 'false':
      return 'disable';
    case 'preferred':
      return 'prefer';
    case 'skip-verify':
      return 'require';
    case 'true':
      return 'verify-full';
    default:
      throw bad('tls must be true, false, skip-verify or preferred');
  }
}

/** The endpoint with any password replaced, for logs and error messages. */
export function redact(s: string): string {
  return s.replace(/^([a-z]+:\/\/[^:@/]*:)[^@]*@/i, '$1***@');
}

/** host:port as logs and metric labels show it (never the user or password). */
export function hostLabel(h: HostPort): string {
  return h.host.includes(':') ? `[${h.host}]:${h.port}` : `${h.host}:${h.port}`;
}

/** A loggable description of a parsed endpoint. */
export function describeEndpoint(e: Endpoint): string {
  if (e.kind === 'sqlite') return `sqlite://${e.path}`;
  const where = e.socketPath ? `unix(${e.socketPath})` : e.hosts.map(hostLabel).join(',');
  const scheme = e.engine === 'mariadb' ? 'mysql' : e.engine;
  return `${scheme}://${e.user}@${where}/${e.database}`;
}
