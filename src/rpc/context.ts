/** What every service handler needs: the store, limits, identity for headers, and a logger. */
import type { Logger } from 'pino';
import type { Store } from '../mvcc/store';
import type { HeaderIdentity } from './codec/header';
import type { Limits } from './limits';

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
  /** Long-lived streams (gRPC and gateway), ended on shutdown; the kind feeds /metrics. */
  streams: Set<{ kind: 'watch' | 'keepalive'; end(): void }>;
}
