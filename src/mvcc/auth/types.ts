/** Who a request says it is, as the rpc layer read it, and who etcd's auth store takes it for. */

/**
 * A request's credentials after the rpc layer checked what it could on its own (a token's
 * signature, format and expiry). Whether they name a user in force is decided against the auth
 * state the request is judged by (see AuthGuard).
 */
export type Credentials =
  | { kind: 'none' }
  /** A token was sent but is not one of ours, or has expired. */
  | { kind: 'invalid' }
  /** A simple token: the user, what its password was, and the auth revision it was issued at. */
  | { kind: 'simple'; user: string; fingerprint: string; revision: number }
  /** A JSON Web Token: the user and the auth revision it carries. */
  | { kind: 'jwt'; user: string; revision: number }
  /** No token, and a verified client certificate whose Common Name is the user. */
  | { kind: 'cert'; user: string };

export const NO_CREDENTIALS: Credentials = { kind: 'none' };

/** etcd's AuthInfo: the user a request acts as, and the auth revision it was judged at. */
export interface AuthInfo {
  user: string;
  revision: number;
}
