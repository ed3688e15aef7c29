/** Auth messages ⇄ what mvcc's auth store takes and answers. */
import type { AuthStatus, RolePermission } from '../../mvcc/auth/auth-admin';
import type { Header } from '../../mvcc/types';
import type * as pb from '../messages';
import { header, type HeaderIdentity } from './header';

/** What most auth answers are: a header at the store's revision. */
export function encodeAuthHeader(r: Header, id: HeaderIdentity): { header: pb.ResponseHeader } {
  return { header: header(id, r.revision) };
}

export function decodePermission(m: pb.AuthRoleGrantPermissionRequest['perm']): RolePermission | undefined {
  if (!m) return undefined;
  return { permType: m.permType, key: m.key, rangeEnd: m.range_end };
}

export interface AuthenticateResult extends Header {
  token: string;
}

export function encodeAuthenticate(r: AuthenticateResult, id: HeaderIdentity): pb.AuthenticateResponse {
  return { header: header(id, r.revision), token: r.token };
}

export interface AuthStatusResult extends Header, AuthStatus {}

export function encodeAuthStatus(r: AuthStatusResult, id: HeaderIdentity): pb.AuthStatusResponse {
  return { header: header(id, r.revision), enabled: r.enabled, authRevision: r.authRevision };
}

export interface NamesResult extends Header {
  names: string[];
}

export function encodeUserGet(r: NamesResult, id: HeaderIdentity): pb.AuthUserGetResponse {
  return { header: header(id, r.revision), roles: r.names };
}

export function encodeUserList(r: NamesResult, id: HeaderIdentity): pb.AuthUserListResponse {
  return { header: header(id, r.revision), users: r.names };
}

export function encodeRoleList(r: NamesResult, id: HeaderIdentity): pb.AuthRoleListResponse {
  return { header: header(id, r.revision), roles: r.names };
}

export interface RoleGetResult extends Header {
  permissions: RolePermission[];
}

export function encodeRoleGet(r: RoleGetResult, id: HeaderIdentity): pb.AuthRoleGetResponse {
  return {
    header: header(id, r.revision),
    // A type etcd does not know is kept as given, as protobuf keeps an unknown enum value.
    perm: r.permissions.map((p) => ({ permType: p.permType as 0 | 1 | 2, key: p.key, range_end: p.rangeEnd })),
  };
}
