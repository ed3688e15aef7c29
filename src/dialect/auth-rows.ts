/**
 * Users and roles as the auth tables store them, the same on every database: the name as UTF-8
 * bytes (the primary key, compared bytewise like etcd's bucket keys) and the rest as one JSON
 * value (bytes of keys and range ends in base64). Auth state is small and always read whole.
 */
import type { AuthPermissionRow, AuthRoleRow, AuthRows, AuthUserRow } from './dialect';

/** One stored row of auth_user or auth_role. */
interface RawAuthRow {
  name: Buffer;
  value: Buffer | string;
}

/** Both tables in one statement (one snapshot, even outside a transaction): `kind` 0 users, 1 roles. */
export const LOAD_AUTH = 'SELECT 0 AS kind, name, value FROM auth_user UNION ALL SELECT 1 AS kind, name, value FROM auth_role';

export interface RawAuthRowOfKind extends RawAuthRow {
  kind: number | bigint | string;
}

export function toAuthRows(rows: readonly RawAuthRowOfKind[]): AuthRows {
  const out: AuthRows = { users: [], roles: [] };
  for (const r of rows) {
    if (Number(r.kind) === 0) out.users.push(decodeUser(r));
    else out.roles.push(decodeRole(r));
  }
  return out;
}

interface StoredUser {
  password: string;
  noPassword: boolean;
  roles: string[];
}

interface StoredRole {
  permissions: Array<{ permType: number; key: string; rangeEnd: string }>;
}

export const authName = (name: string): Buffer => Buffer.from(name, 'utf8');

const text = (v: Buffer | string): string => (typeof v === 'string' ? v : v.toString('utf8'));

export function encodeUser(u: AuthUserRow): Buffer {
  const stored: StoredUser = { password: u.password, noPassword: u.noPassword, roles: u.roles };
  return Buffer.from(JSON.stringify(stored), 'utf8');
}

function decodeUser(r: RawAuthRow): AuthUserRow {
  const v = JSON.parse(text(r.value)) as StoredUser;
  return { name: r.name.toString('utf8'), password: v.password, noPassword: v.noPassword, roles: v.roles };
}

export function encodeRole(r: AuthRoleRow): Buffer {
  const stored: StoredRole = {
    permissions: r.permissions.map((p) => ({
      permType: p.permType,
      key: p.key.toString('base64'),
      rangeEnd: p.rangeEnd.toString('base64'),
    })),
  };
  return Buffer.from(JSON.stringify(stored), 'utf8');
}

function decodeRole(r: RawAuthRow): AuthRoleRow {
  const v = JSON.parse(text(r.value)) as StoredRole;
  const permissions: AuthPermissionRow[] = v.permissions.map((p) => ({
    permType: p.permType,
    key: Buffer.from(p.key, 'base64'),
    rangeEnd: Buffer.from(p.rangeEnd, 'base64'),
  }));
  return { name: r.name.toString('utf8'), permissions };
}
