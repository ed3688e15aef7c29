/**
 * The gateway's paths, as etcd 3.5's rpc.proto, v3lock.proto and v3election.proto bind them (google.api.http), with etcd's legacy
 * aliases under /v3/kv/lease/. Every route is a POST with the request message as the JSON body.
 */
import { posix } from 'node:path';
import type { ServiceName } from '../proto';

type RouteKind = 'unary' | 'stream' | 'snapshot';

export interface Route {
  service: ServiceName;
  method: string;
  kind: RouteKind;
  /**
   * A stream that lasts until the client leaves rather than until its request body ends: clients
   * commonly send one watch request as the whole body and read events for as long as they like.
   */
  outlivesBody?: boolean;
}

const r = (service: ServiceName, method: string, kind: RouteKind = 'unary'): Route => ({ service, method, kind });

const ROUTES: Record<string, Route> = {
  '/v3/kv/range': r('KV', 'Range'),
  '/v3/kv/put': r('KV', 'Put'),
  '/v3/kv/deleterange': r('KV', 'DeleteRange'),
  '/v3/kv/txn': r('KV', 'Txn'),
  '/v3/kv/compaction': r('KV', 'Compact'),
  '/v3/watch': { ...r('Watch', 'Watch', 'stream'), outlivesBody: true },
  '/v3/lease/grant': r('Lease', 'LeaseGrant'),
  '/v3/lease/revoke': r('Lease', 'LeaseRevoke'),
  '/v3/kv/lease/revoke': r('Lease', 'LeaseRevoke'),
  '/v3/lease/keepalive': r('Lease', 'LeaseKeepAlive', 'stream'),
  '/v3/lease/timetolive': r('Lease', 'LeaseTimeToLive'),
  '/v3/kv/lease/timetolive': r('Lease', 'LeaseTimeToLive'),
  '/v3/lease/leases': r('Lease', 'LeaseLeases'),
  '/v3/kv/lease/leases': r('Lease', 'LeaseLeases'),
  '/v3/cluster/member/add': r('Cluster', 'MemberAdd'),
  '/v3/cluster/member/remove': r('Cluster', 'MemberRemove'),
  '/v3/cluster/member/update': r('Cluster', 'MemberUpdate'),
  '/v3/cluster/member/list': r('Cluster', 'MemberList'),
  '/v3/cluster/member/promote': r('Cluster', 'MemberPromote'),
  '/v3/maintenance/alarm': r('Maintenance', 'Alarm'),
  '/v3/maintenance/status': r('Maintenance', 'Status'),
  '/v3/maintenance/defragment': r('Maintenance', 'Defragment'),
  // etcd 3.5 binds Hash and HashKV both to /hash (Hash wins); /hashkv is where later etcd puts HashKV.
  '/v3/maintenance/hash': r('Maintenance', 'Hash'),
  '/v3/maintenance/hashkv': r('Maintenance', 'HashKV'),
  '/v3/maintenance/snapshot': r('Maintenance', 'Snapshot', 'snapshot'),
  '/v3/maintenance/transfer-leadership': r('Maintenance', 'MoveLeader'),
  '/v3/auth/enable': r('Auth', 'AuthEnable'),
  '/v3/auth/disable': r('Auth', 'AuthDisable'),
  '/v3/auth/status': r('Auth', 'AuthStatus'),
  '/v3/auth/authenticate': r('Auth', 'Authenticate'),
  '/v3/auth/user/add': r('Auth', 'UserAdd'),
  '/v3/auth/user/get': r('Auth', 'UserGet'),
  '/v3/auth/user/list': r('Auth', 'UserList'),
  '/v3/auth/user/delete': r('Auth', 'UserDelete'),
  '/v3/auth/user/changepw': r('Auth', 'UserChangePassword'),
  '/v3/auth/user/grant': r('Auth', 'UserGrantRole'),
  '/v3/auth/user/revoke': r('Auth', 'UserRevokeRole'),
  '/v3/auth/role/add': r('Auth', 'RoleAdd'),
  '/v3/auth/role/get': r('Auth', 'RoleGet'),
  '/v3/auth/role/list': r('Auth', 'RoleList'),
  '/v3/auth/role/delete': r('Auth', 'RoleDelete'),
  '/v3/auth/role/grant': r('Auth', 'RoleGrantPermission'),
  '/v3/auth/role/revoke': r('Auth', 'RoleRevokePermission'),
  '/v3/lock/lock': r('Lock', 'Lock'),
  '/v3/lock/unlock': r('Lock', 'Unlock'),
  '/v3/election/campaign': r('Election', 'Campaign'),
  '/v3/election/proclaim': r('Election', 'Proclaim'),
  '/v3/election/leader': r('Election', 'Leader'),
  '/v3/election/observe': { ...r('Election', 'Observe', 'stream'), outlivesBody: true },
  '/v3/election/resign': r('Election', 'Resign'),
};

/** Paths etcd's gateway serves for RPCs strata's protos do not carry (etcd 3.5's Downgrade): answered UNIMPLEMENTED, as gRPC answers them. */
export const UNSERVED: Record<string, string> = {
  '/v3/maintenance/downgrade': 'Maintenance Downgrade',
};

/** etcd rewrites /v3beta/ to /v3/ before routing (embed/serve.go). */
export function gatewayPath(path: string): string {
  return path.startsWith('/v3beta/') ? `/v3/${path.slice('/v3beta/'.length)}` : path;
}

export function findRoute(path: string): Route | undefined {
  return Object.prototype.hasOwnProperty.call(ROUTES, path) ? ROUTES[path] : undefined;
}

/**
 * Where Go's ServeMux sends a request whose path is not clean (`..`, `.`, `//`): the cleaned path
 * (a trailing slash kept, /v3beta/ as etcd rewrites it, the query kept), answered with a 301.
 * Undefined when the raw request target is clean.
 */
export function uncleanRedirect(rawUrl: string): string | undefined {
  const q = rawUrl.indexOf('?');
  const raw = q < 0 ? rawUrl : rawUrl.slice(0, q);
  if (!raw.startsWith('/')) return undefined;
  const clean = posix.normalize(raw);
  if (clean === raw) return undefined;
  return gatewayPath(clean) + (q < 0 ? '' : rawUrl.slice(q));
}
