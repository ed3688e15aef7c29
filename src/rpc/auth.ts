/**
 * etcd's Auth service. Passwords are hashed and checked here, off the event loop and before the
 * write job (as etcd hashes in its API layer, before raft); every change is a write job judged
 * under the fence, every read follows the fence. Neither a password nor a token is ever logged.
 */
import { Errors } from '../errors';
import type { AuthAdmin, StoredPassword } from '../mvcc/auth/auth-admin';
import type { Credentials } from '../mvcc/auth/types';
import type { Header } from '../mvcc/types';
import { BCRYPT_MAX_PASSWORD_BYTES } from './auth/passwords';
import type { UnaryMethod } from './calls';
import {
  decodePermission,
  encodeAuthenticate,
  encodeAuthHeader,
  encodeAuthStatus,
  encodeRoleGet,
  encodeRoleList,
  encodeUserGet,
  encodeUserList,
  type AuthenticateResult,
  type AuthStatusResult,
  type NamesResult,
  type RoleGetResult,
} from './codec/auth';
import type { RpcContext } from './context';
import type * as pb from './messages';

/** Authenticate tries again when auth changed while bcrypt ran (etcd's loop does the same). */
const AUTHENTICATE_ATTEMPTS = 5;

type HeaderMethod<Req> = UnaryMethod<Req, Header, { header: pb.ResponseHeader }>;

export function authCalls(ctx: RpcContext) {
  const { store, identity } = ctx;
  const { passwords, tokens } = ctx.auth;

  /** A change made in a write job; the answer carries the store's revision. */
  const change = <Req>(
    fn: (a: AuthAdmin, b: Parameters<Parameters<typeof store.authWrite>[0]>[1], m: Req, who: Credentials) => void,
  ): HeaderMethod<Req> => ({
    run: (m, _size, who) =>
      store.authWrite((a, b) => {
        fn(a, b, m, who);
        return { revision: b.revision };
      }),
    encode: (r) => encodeAuthHeader(r, identity),
  });

  /** A password hashed as etcd's API layer does, after the cheap checks that need no hash. */
  const hashed = async (password: string, who: Credentials): Promise<string> => {
    if (Buffer.byteLength(password, 'utf8') > BCRYPT_MAX_PASSWORD_BYTES) throw Errors.passwordTooLong();
    // Callers who may not add users are turned away before bcrypt's cost (the job checks again).
    store.guard.requireAdmin(who);
    return passwords.hash(password);
  };

  const AuthStatus: UnaryMethod<unknown, AuthStatusResult, pb.AuthStatusResponse> = {
    run: (_m, _size, who) => store.authRead((a) => ({ ...a.status(who), revision: store.revision })),
    encode: (r) => encodeAuthStatus(r, identity),
  };

  const Authenticate: UnaryMethod<pb.AuthenticateRequest, AuthenticateResult, pb.AuthenticateResponse> = {
    run: async (m) => {
      for (let attempt = 1; ; attempt++) {
        const { hash, revision } = await store.authRead((a) => a.passwordOf(m.name));
        if (!(await passwords.compare(m.password, hash))) throw Errors.authFailed();
        const subject = await store.authRead((a) => a.tokenSubject(m.name));
        if (subject.revision === revision || attempt === AUTHENTICATE_ATTEMPTS) {
          return { revision: store.revision, token: await tokens.issue({ user: m.name, ...subject }) };
        }
      }
    },
    encode: (r) => encodeAuthenticate(r, identity),
  };

  const UserAdd: HeaderMethod<pb.AuthUserAddRequest> = {
    run: async (m, _size, who) => {
      const password: StoredPassword = m.options?.no_password ? { noPassword: true } : { hash: await hashed(m.password, who) };
      return store.authWrite((a, b) => {
        a.userAdd(b, who, m.name, password);
        return { revision: b.revision };
      });
    },
    encode: (r) => encodeAuthHeader(r, identity),
  };

  const UserChangePassword: HeaderMethod<pb.AuthUserChangePasswordRequest> = {
    run: async (m, _size, who) => {
      // etcd hashes only a password given; an empty one leaves a user nobody can log in as.
      const hash = m.password !== '' ? await hashed(m.password, who) : '';
      return store.authWrite((a, b) => {
        a.userChangePassword(b, who, m.name, hash);
        return { revision: b.revision };
      });
    },
    encode: (r) => encodeAuthHeader(r, identity),
  };

  const names = <Req>(read: (a: AuthAdmin, m: Req, who: Credentials) => string[]): UnaryMethod<Req, NamesResult, object> => ({
    run: (m, _size, who) => store.authRead((a) => ({ names: read(a, m, who), revision: store.revision })),
    encode: (r) => ({ header: encodeAuthHeader(r, identity).header, names: r.names }),
  });

  const UserGet: UnaryMethod<pb.AuthUserGetRequest, NamesResult, pb.AuthUserGetResponse> = {
    ...names<pb.AuthUserGetRequest>((a, m, who) => a.userGet(who, m.name)),
    encode: (r) => encodeUserGet(r, identity),
  };
  const UserList: UnaryMethod<unknown, NamesResult, pb.AuthUserListResponse> = {
    ...names<unknown>((a, _m, who) => a.userList(who)),
    encode: (r) => encodeUserList(r, identity),
  };
  const RoleList: UnaryMethod<unknown, NamesResult, pb.AuthRoleListResponse> = {
    ...names<unknown>((a, _m, who) => a.roleList(who)),
    encode: (r) => encodeRoleList(r, identity),
  };
  const RoleGet: UnaryMethod<pb.AuthRoleGetRequest, RoleGetResult, pb.AuthRoleGetResponse> = {
    run: (m, _size, who) => store.authRead((a) => ({ permissions: a.roleGet(who, m.role), revision: store.revision })),
    encode: (r) => encodeRoleGet(r, identity),
  };

  return {
    AuthEnable: change<unknown>((a, b, _m, who) => a.enable(b, who)),
    AuthDisable: change<unknown>((a, b, _m, who) => a.disable(b, who)),
    AuthStatus,
    Authenticate,
    UserAdd,
    UserGet,
    UserList,
    UserDelete: change<pb.AuthUserDeleteRequest>((a, b, m, who) => a.userDelete(b, who, m.name)),
    UserChangePassword,
    UserGrantRole: change<pb.AuthUserGrantRoleRequest>((a, b, m, who) => a.userGrantRole(b, who, m.user, m.role)),
    UserRevokeRole: change<pb.AuthUserRevokeRoleRequest>((a, b, m, who) => a.userRevokeRole(b, who, m.name, m.role)),
    RoleAdd: change<pb.AuthRoleAddRequest>((a, b, m, who) => a.roleAdd(b, who, m.name)),
    RoleGet,
    RoleList,
    RoleDelete: change<pb.AuthRoleDeleteRequest>((a, b, m, who) => a.roleDelete(b, who, m.role)),
    RoleGrantPermission: change<pb.AuthRoleGrantPermissionRequest>((a, b, m, who) =>
      a.roleGrantPermission(b, who, m.name, decodePermission(m.perm)),
    ),
    RoleRevokePermission: change<pb.AuthRoleRevokePermissionRequest>((a, b, m, who) =>
      a.roleRevokePermission(b, who, m.role, m.key, m.range_end),
    ),
  };
}
