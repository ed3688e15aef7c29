/**
 * etcd's auth management (server/auth/store.go and authApplierV3): each change runs inside a write
 * job, after the admin check, against the auth state under the fence; the reads (UserGet, RoleGet,
 * the lists, AuthStatus) run after a linearizable fence. Errors are etcd's, in etcd's order.
 */
import { Errors } from '../../errors';
import type { AuthPermissionRow, AuthRoleRow, AuthUserRow, Batch } from '../../log/types';

/** A role's permission as the auth API shows it (the log's row shape). */
export type RolePermission = AuthPermissionRow;
import { MAX_AUTH_NAME_BYTES } from '../../limits';
import type { AuthGuard } from './auth-guard';
import { ROOT, type AuthState } from './auth-state';
import { isValidPermissionRange } from './key-permissions';
import type { Credentials } from './types';

/** A password as the store keeps it: a bcrypt hash (made by the caller, off the write path), or none. */
export type StoredPassword = { hash: string } | { noPassword: true };

export interface AuthStatus {
  enabled: boolean;
  authRevision: number;
}

export class AuthAdmin {
  constructor(
    private readonly state: AuthState,
    private readonly guard: AuthGuard,
  ) {}

  enable(b: Batch, who: Credentials): void {
    this.guard.requireAdmin(who);
    const s = this.state;
    if (s.enabled) return;
    const root = s.user(ROOT);
    if (!root) throw Errors.rootUserNotExist();
    if (!s.isRoot(root)) throw Errors.rootRoleNotExist();
    // Enabling does not move etcd's auth revision; the revision it happened at voids older tokens.
    s.setMarks(b, { ...s.marks, enabledAt: s.revision });
  }

  disable(b: Batch, who: Credentials): void {
    this.guard.requireAdmin(who);
    const s = this.state;
    if (!s.enabled) return;
    s.setMarks(b, { revision: s.revision + 1, enabledAt: 0 });
  }

  status(who: Credentials): AuthStatus {
    this.guard.requireAdmin(who);
    return { enabled: this.state.enabled, authRevision: this.state.revision };
  }

  userAdd(b: Batch, who: Credentials, name: string, password: StoredPassword): void {
    this.guard.requireAdmin(who);
    if (name.length === 0) throw Errors.userEmpty();
    checkName(name);
    if (this.state.user(name)) throw Errors.userAlreadyExist();
    const noPassword = 'noPassword' in password;
    this.state.putUser(b, { name, password: noPassword ? '' : password.hash, noPassword, roles: [] });
    this.state.bumpRevision(b);
  }

  userDelete(b: Batch, who: Credentials, name: string): void {
    this.guard.requireAdmin(who);
    if (this.state.enabled && name === ROOT) throw Errors.invalidAuthMgmt();
    if (!this.state.user(name)) throw Errors.userNotFound();
    this.state.deleteUser(b, name);
    this.state.bumpRevision(b);
  }

  /** A user without a password keeps none, whatever is given (etcd ignores it). */
  userChangePassword(b: Batch, who: Credentials, name: string, hash: string): void {
    this.guard.requireAdmin(who);
    const u = this.user(name);
    this.state.putUser(b, { ...u, password: u.noPassword ? '' : hash });
    this.state.bumpRevision(b);
  }

  userGrantRole(b: Batch, who: Credentials, name: string, role: string): void {
    this.guard.requireAdmin(who);
    const u = this.user(name);
    // The root role need not exist as a role to be granted.
    if (role !== ROOT && !this.state.role(role)) throw Errors.roleNotFound();
    if (u.roles.includes(role)) return;
    this.state.putUser(b, { ...u, roles: [...u.roles, role].sort() });
    this.state.bumpRevision(b);
  }

  userRevokeRole(b: Batch, who: Credentials, name: string, role: string): void {
    this.guard.requireAdmin(who);
    if (this.state.enabled && name === ROOT && role === ROOT) throw Errors.invalidAuthMgmt();
    const u = this.user(name);
    if (!u.roles.includes(role)) throw Errors.roleNotGranted();
    this.state.putUser(b, { ...u, roles: u.roles.filter((r) => r !== role) });
    this.state.bumpRevision(b);
  }

  /** A user may read itself; everyone else needs the root role. */
  userGet(who: Credentials, name: string): string[] {
    const info = this.guard.requireUser(who);
    if (info && info.user !== name && !this.guard.isAdmin(info)) this.guard.requireAdmin(who);
    return [...this.user(name).roles];
  }

  userList(who: Credentials): string[] {
    this.guard.requireAdmin(who);
    return this.state.userNames();
  }

  roleAdd(b: Batch, who: Credentials, name: string): void {
    this.guard.requireAdmin(who);
    if (name.length === 0) throw Errors.roleEmpty();
    checkName(name);
    if (this.state.role(name)) throw Errors.roleAlreadyExist();
    this.state.putRole(b, { name, permissions: [] });
    this.state.bumpRevision(b);
  }

  /** A user may read the roles it has; everyone else needs the root role. */
  roleGet(who: Credentials, name: string): AuthPermissionRow[] {
    const info = this.guard.requireUser(who);
    if (info && !this.guard.isAdmin(info) && !this.state.user(info.user)?.roles.includes(name)) this.guard.requireAdmin(who);
    return [...this.role(name).permissions];
  }

  roleList(who: Credentials): string[] {
    this.guard.requireAdmin(who);
    return this.state.roleNames();
  }

  roleDelete(b: Batch, who: Credentials, name: string): void {
    this.guard.requireAdmin(who);
    if (this.state.enabled && name === ROOT) throw Errors.invalidAuthMgmt();
    this.role(name);
    this.state.deleteRole(b, name);
    for (const u of this.state.allUsers()) {
      if (u.roles.includes(name)) this.state.putUser(b, { ...u, roles: u.roles.filter((r) => r !== name) });
    }
    this.state.bumpRevision(b);
  }

  /** Grants a permission, or changes the type of the one on the same key and range end. */
  roleGrantPermission(b: Batch, who: Credentials, name: string, perm: AuthPermissionRow | undefined): void {
    this.guard.requireAdmin(who);
    if (!perm) throw Errors.permissionNotGiven();
    if (!isValidPermissionRange(perm.key, perm.rangeEnd)) throw Errors.invalidAuthMgmt();
    const r = this.role(name);
    // As etcd looks: only the first permission on a key at least perm's is compared.
    const idx = r.permissions.findIndex((p) => Buffer.compare(p.key, perm.key) >= 0);
    const at = idx >= 0 ? r.permissions[idx] : undefined;
    const permissions =
      at && at.key.equals(perm.key) && at.rangeEnd.equals(perm.rangeEnd)
        ? r.permissions.map((p, i) => (i === idx ? { ...p, permType: perm.permType } : p))
        : [...r.permissions, perm].sort((x, y) => Buffer.compare(x.key, y.key));
    this.state.putRole(b, { ...r, permissions });
    this.state.bumpRevision(b);
  }

  roleRevokePermission(b: Batch, who: Credentials, name: string, key: Buffer, rangeEnd: Buffer): void {
    this.guard.requireAdmin(who);
    const r = this.role(name);
    const permissions = r.permissions.filter((p) => !p.key.equals(key) || !p.rangeEnd.equals(rangeEnd));
    if (permissions.length === r.permissions.length) throw Errors.permissionNotGranted();
    this.state.putRole(b, { ...r, permissions });
    this.state.bumpRevision(b);
  }

  /**
   * What Authenticate checks a password against (etcd's CheckPassword): the user's hash and the
   * auth revision it was read at, so the caller can tell whether it changed while bcrypt ran.
   */
  passwordOf(name: string): { hash: string; revision: number } {
    const s = this.state;
    if (!s.enabled) throw Errors.authNotEnabled();
    const u = s.user(name);
    if (!u) throw Errors.authFailed();
    if (u.noPassword) throw Errors.noPasswordUser();
    return { hash: u.password, revision: s.revision };
  }

  /** The credentials a simple token issued now stands for; fails as Authenticate does once the user is gone. */
  tokenSubject(name: string): { fingerprint: string; revision: number } {
    const s = this.state;
    if (!s.enabled) throw Errors.authNotEnabled();
    const u = s.user(name);
    if (!u || u.noPassword) throw Errors.authFailed();
    return { fingerprint: s.fingerprint(u), revision: s.revision };
  }

  private user(name: string): AuthUserRow {
    const u = this.state.user(name);
    if (!u) throw Errors.userNotFound();
    return u;
  }

  private role(name: string): AuthRoleRow {
    const r = this.state.role(name);
    if (!r) throw Errors.roleNotFound();
    return r;
  }
}

function checkName(name: string): void {
  if (Buffer.byteLength(name, 'utf8') > MAX_AUTH_NAME_BYTES) throw Errors.authNameTooLong(MAX_AUTH_NAME_BYTES);
}
