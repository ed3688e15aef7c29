/**
 * The one place permissions are decided (etcd's authApplierV3 and the API-layer checks of
 * v3_server.go and v3rpc, as in etcd 3.5.33). Every check reads the auth state at the moment it is
 * called: the store calls it inside a write job (under the fence, after other instances' auth
 * changes were applied) for writes, after the fence for linearizable reads, and on local state for
 * serializable reads and watches. A null AuthInfo means auth is off: everything is allowed.
 */
import { Errors } from '../../errors';
import type { LeaseTable } from '../lease-table';
import type { DeleteRangeRequest, PutRequest, RequestOp, TxnRequest } from '../types';
import type { AuthState } from './auth-state';
import type { Access } from './key-permissions';
import type { AuthInfo, Credentials } from './types';

const EMPTY = Buffer.alloc(0);

export class AuthGuard {
  constructor(
    private readonly state: AuthState,
    private readonly leases: LeaseTable,
  ) {}

  /**
   * etcd's AuthInfoFromCtx: null while auth is off (credentials are then ignored), else who the
   * credentials name, or undefined when there are none.
   */
  identify(who: Credentials): AuthInfo | null | undefined {
    const s = this.state;
    if (!s.enabled) return null;
    switch (who.kind) {
      case 'none':
        return undefined;
      case 'invalid':
        throw Errors.invalidAuthToken();
      case 'simple': {
        // A simple token dies with its user, its password and the auth session it was issued in.
        const u = s.user(who.user);
        if (!u || s.fingerprint(u) !== who.fingerprint || who.revision < s.marks.enabledAt) throw Errors.invalidAuthToken();
        return { user: who.user, revision: s.revision };
      }
      case 'jwt':
        return { user: who.user, revision: who.revision };
      case 'cert':
        return { user: who.user, revision: s.revision };
    }
  }

  /** etcd's requireAuthInfo: with auth on, the request must name a user. */
  requireUser(who: Credentials): AuthInfo | null {
    const info = this.identify(who);
    if (info === undefined) throw Errors.userEmpty();
    return info;
  }

  /** etcd's IsAdminPermitted: the user exists and has the root role. */
  requireAdmin(who: Credentials): void {
    const info = this.requireUser(who);
    if (info) this.checkAdmin(info);
  }

  isAdmin(info: AuthInfo): boolean {
    const u = this.state.user(info.user);
    return !!u && this.state.isRoot(u);
  }

  checkRange(who: Credentials, key: Buffer, rangeEnd: Buffer): void {
    this.permitted(this.identify(who), key, rangeEnd, 'read');
  }

  checkPut(who: Credentials, req: PutRequest): void {
    this.checkPutAs(this.identify(who), req);
  }

  checkDeleteRange(who: Credentials, req: DeleteRangeRequest): void {
    const info = this.identify(who);
    this.permitted(info, req.key, req.range_end, 'write');
    if (req.prev_kv) this.permitted(info, req.key, req.range_end, 'read');
  }

  /** etcd's checkTxnAuth: every compare and every op of both branches, nested txns too. */
  checkTxn(who: Credentials, req: TxnRequest): void {
    this.checkTxnAs(this.identify(who), req);
  }

  /** LeaseRevoke and a put with a lease: a non-admin user must be able to write every key it holds. */
  checkLeaseKeys(who: Credentials, id: bigint, access: Access): void {
    const info = this.requireUser(who);
    this.checkLeaseKeysAs(info, id, access);
  }

  /** LeaseLeases: a non-admin user must be able to read every key of every lease. */
  checkAllLeaseKeys(who: Credentials): void {
    const info = this.requireUser(who);
    if (!info || this.isAdmin(info)) return;
    for (const l of this.leases.all()) for (const k of l.keys) this.permitted(info, Buffer.from(k, 'latin1'), EMPTY, 'read');
  }

  private checkPutAs(info: AuthInfo | null | undefined, req: PutRequest): void {
    this.permitted(info, req.key, EMPTY, 'write');
    if (req.lease !== 0n) this.checkLeaseKeysAs(info, req.lease, 'write');
    if (req.prev_kv) this.permitted(info, req.key, EMPTY, 'read');
  }

  private checkTxnAs(info: AuthInfo | null | undefined, req: TxnRequest): void {
    for (const c of req.compare) this.permitted(info, c.key, c.range_end, 'read');
    for (const op of req.success) this.checkOpAs(info, op);
    for (const op of req.failure) this.checkOpAs(info, op);
  }

  private checkOpAs(info: AuthInfo | null | undefined, op: RequestOp): void {
    switch (op.kind) {
      case 'range':
        return this.permitted(info, op.range.key, op.range.range_end, 'read');
      case 'put':
        return this.checkPutAs(info, op.put);
      case 'delete_range':
        if (op.delete_range.prev_kv) this.permitted(info, op.delete_range.key, op.delete_range.range_end, 'read');
        return this.permitted(info, op.delete_range.key, op.delete_range.range_end, 'write');
      case 'txn':
        return this.checkTxnAs(info, op.txn);
      case 'empty':
        return;
    }
  }

  private checkLeaseKeysAs(info: AuthInfo | null | undefined, id: bigint, access: Access): void {
    if (info === null) return;
    const lease = this.leases.get(id);
    if (!lease) return;
    // Admin first: etcd's early return (and an admin without credentials does not exist).
    if (info && this.isAdmin(info)) return;
    for (const k of lease.keys) this.permitted(info, Buffer.from(k, 'latin1'), EMPTY, access);
  }

  /** etcd's IsAdminPermitted on a known AuthInfo. */
  private checkAdmin(info: AuthInfo): void {
    const u = this.state.user(info.user);
    if (!u) throw Errors.userNotFound();
    if (!this.state.isRoot(u)) throw Errors.permissionDenied();
  }

  /** etcd's isOpPermitted. */
  private permitted(info: AuthInfo | null | undefined, key: Buffer, rangeEnd: Buffer, access: Access): void {
    if (info === null) return;
    if (info === undefined) throw Errors.userEmpty();
    if (info.revision < this.state.revision) throw Errors.authOldRevision();
    const u = this.state.user(info.user);
    if (!u) throw Errors.permissionDenied();
    if (this.state.isRoot(u)) return;
    if (!this.state.permissions(u).permits(access, key, rangeEnd)) throw Errors.permissionDenied();
  }
}
