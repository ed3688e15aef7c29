/**
 * etcd's auth store in memory: users, roles, the auth revision and whether auth is on, mirrored in
 * the auth tables and marks. Local changes happen only inside write jobs, each paired with an undo
 * and written to the batch; other instances' changes arrive as whole snapshots.
 */
import { createHash } from 'node:crypto';
import type { AuthMarks, AuthRoleRow, AuthSnapshot, AuthUserRow, Batch } from '../../log/types';
import { KeyPermissions } from './key-permissions';

export const ROOT = 'root';

/** What a user was when a simple token was issued to it: a token outlives no password change. */
function passwordFingerprint(u: AuthUserRow): string {
  return createHash('sha256').update(`${u.name}\0${u.password}`).digest('base64url').slice(0, 16);
}

export class AuthState {
  marks: AuthMarks = { revision: 1, enabledAt: 0 };
  private users = new Map<string, AuthUserRow>();
  private roles = new Map<string, AuthRoleRow>();
  /** Each user's merged permissions, built on first use after a change (etcd's rangePermCache). */
  private perms = new Map<string, KeyPermissions>();
  private fingerprints = new Map<string, string>();

  get enabled(): boolean {
    return this.marks.enabledAt !== 0;
  }

  get revision(): number {
    return this.marks.revision;
  }

  user(name: string): AuthUserRow | undefined {
    return this.users.get(name);
  }

  role(name: string): AuthRoleRow | undefined {
    return this.roles.get(name);
  }

  /** In byte order of the name, as etcd's bucket lists them. */
  userNames(): string[] {
    return byteOrder([...this.users.keys()]);
  }

  roleNames(): string[] {
    return byteOrder([...this.roles.keys()]);
  }

  allUsers(): AuthUserRow[] {
    return [...this.users.values()];
  }

  /** etcd's hasRootRole. */
  isRoot(u: AuthUserRow): boolean {
    return u.roles.includes(ROOT);
  }

  permissions(u: AuthUserRow): KeyPermissions {
    let p = this.perms.get(u.name);
    if (!p) {
      p = new KeyPermissions(u.roles.flatMap((r) => this.roles.get(r)?.permissions ?? []));
      this.perms.set(u.name, p);
    }
    return p;
  }

  fingerprint(u: AuthUserRow): string {
    let f = this.fingerprints.get(u.name);
    if (f === undefined) {
      f = passwordFingerprint(u);
      this.fingerprints.set(u.name, f);
    }
    return f;
  }

  /** The database's users and roles replace memory's (start-up, another instance's change). */
  restore(s: AuthSnapshot): void {
    this.users = new Map(s.users.map((u) => [u.name, u]));
    this.roles = new Map(s.roles.map((r) => [r.name, r]));
    this.marks = s.marks;
    this.changed();
  }

  putUser(b: Batch, u: AuthUserRow): void {
    this.undoable(b, () => this.users.set(u.name, u));
    b.putAuthUser(u);
  }

  deleteUser(b: Batch, name: string): void {
    this.undoable(b, () => this.users.delete(name));
    b.deleteAuthUser(name);
  }

  putRole(b: Batch, r: AuthRoleRow): void {
    this.undoable(b, () => this.roles.set(r.name, r));
    b.putAuthRole(r);
  }

  deleteRole(b: Batch, name: string): void {
    this.undoable(b, () => this.roles.delete(name));
    b.deleteAuthRole(name);
  }

  setMarks(b: Batch, marks: AuthMarks): void {
    this.undoable(b, () => (this.marks = marks));
    b.markAuth(marks);
  }

  /** etcd's commitRevision: every change of a user or a role moves the auth revision. */
  bumpRevision(b: Batch): void {
    this.setMarks(b, { ...this.marks, revision: this.marks.revision + 1 });
  }

  /** Runs a change with an undo that puts back every map and mark as they were. */
  private undoable(b: Batch, change: () => void): void {
    const before = { users: new Map(this.users), roles: new Map(this.roles), marks: this.marks };
    b.onUndo(() => {
      this.users = before.users;
      this.roles = before.roles;
      this.marks = before.marks;
      this.changed();
    });
    change();
    this.changed();
  }

  private changed(): void {
    this.perms.clear();
    this.fingerprints.clear();
  }
}

function byteOrder(names: string[]): string[] {
  return names.sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
}
