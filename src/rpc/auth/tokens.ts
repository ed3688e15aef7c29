/**
 * Auth tokens (etcd's TokenProvider): what Authenticate hands out and what every later request
 * carries in its `token` metadata (gRPC) or `Authorization` header (the gateway). A provider checks
 * what it can alone — signature, format, expiry — and says who the token stands for; whether that
 * user is still in force is the store's decision (mvcc/auth/auth-guard.ts).
 */
import type { Credentials } from '../../mvcc/auth/types';

/** What a token is issued for: the user, its password fingerprint and the auth revision now. */
export interface TokenSubject {
  user: string;
  fingerprint: string;
  revision: number;
}

export interface TokenProvider {
  issue(subject: TokenSubject): Promise<string>;
  /** Who a token stands for; `invalid` for one that is not ours or has expired. */
  resolve(token: string): Credentials | Promise<Credentials>;
  stop(): void;
}

/** What a request presented: a token, and the verified client certificate's Common Name. */
export interface PresentedCredentials {
  token: string | undefined;
  commonName: string | undefined;
}

/**
 * etcd's AuthInfoFromCtx: a token first (a `Bearer ` prefix is dropped, as etcd 3.5.33 does); with
 * none, the certificate's Common Name when --client-cert-auth is on.
 */
export function credentialsOf(p: PresentedCredentials, tokens: TokenProvider, clientCertAuth: boolean): Credentials | Promise<Credentials> {
  if (p.token !== undefined) return tokens.resolve(p.token.startsWith('Bearer ') ? p.token.slice('Bearer '.length) : p.token);
  if (clientCertAuth && p.commonName) return { kind: 'cert', user: p.commonName };
  return { kind: 'none' };
}
