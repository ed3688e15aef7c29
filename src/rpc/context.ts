/** What every service handler needs: the store, limits, identity for headers, and a logger. */
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { Store } from '../mvcc/store';
import type { Passwords } from './auth/passwords';
import type { TokenProvider } from './auth/tokens';
import type { HeaderIdentity } from './codec/header';
import type { Limits } from './limits';

/** Authentication's moving parts the rpc layer holds: tokens, password hashing, certificate users. */
export interface RpcAuth {
  tokens: TokenProvider;
  passwords: Passwords;
  /**
   * --client-cert-auth: with no token, a verified client certificate's Common Name is the user on
   * gRPC, and the gateway refuses a certificate with one (etcd's behaviour on both).
   */
  clientCertAuth: boolean;
}

export interface RpcContext {
  store: Store;
  log: Logger;
  limits: Limits;
  /** Identity fields of response headers (cluster and member id, raft term). */
  identity: HeaderIdentity;
  version: string;
  memberName: string;
  /** URLs clients reach this member on. */
  clientUrls: string[];
  /** What MemberList reports as the member's peer URLs. */
  peerUrls: string[];
  auth: RpcAuth;
  /** Unary requests slower than this are logged (etcd's warn-apply duration); 0: never. */
  slowRequestMs?: number;
  /** The elected writer's internal service for forwarded writes (gRPC only), where election is on. */
  writerService?: { definition: grpc.ServiceDefinition; implementation: grpc.UntypedServiceImplementation };
  /** Long-lived streams (gRPC and gateway), ended on shutdown; the kind feeds /metrics. */
  streams: Set<{ kind: 'watch' | 'keepalive' | 'lock' | 'election'; end(): void }>;
}
