/** etcd's Lease methods, and the keepalive stream over any transport. */
import type {
  LeaseGrantResponse,
  LeaseKeepAliveResponse,
  LeaseLeasesResponse,
  LeaseRevokeResponse,
  LeaseTimeToLiveResponse,
} from '../mvcc/types';
import { TrackedStream, type Caller, type StreamMethod, type UnaryMethod } from './calls';
import {
  decodeLeaseGrant,
  decodeLeaseId,
  decodeLeaseTimeToLive,
  encodeLeaseGrant,
  encodeLeaseKeepAlive,
  encodeLeaseLeases,
  encodeLeaseRevoke,
  encodeLeaseTimeToLive,
} from './codec/lease';
import type { RpcContext } from './context';
import type * as pb from './messages';

export function leaseCalls(ctx: RpcContext) {
  const { store, identity } = ctx;
  const LeaseGrant: UnaryMethod<pb.LeaseGrantRequest, LeaseGrantResponse, pb.LeaseGrantResponse> = {
    run: async (m, _size, who) => {
      const { id, ttl } = decodeLeaseGrant(m);
      return store.lease.grant(id, ttl, who);
    },
    encode: (r) => encodeLeaseGrant(r, identity),
  };
  const LeaseRevoke: UnaryMethod<pb.LeaseRevokeRequest, LeaseRevokeResponse, pb.LeaseRevokeResponse> = {
    run: async (m, _size, who) => store.lease.revoke(decodeLeaseId(m), who),
    encode: (r) => encodeLeaseRevoke(r, identity),
  };
  const LeaseTimeToLive: UnaryMethod<pb.LeaseTimeToLiveRequest, LeaseTimeToLiveResponse, pb.LeaseTimeToLiveResponse> = {
    run: async (m, _size, who) => {
      const { id, keys } = decodeLeaseTimeToLive(m);
      return store.lease.timeToLive(id, keys, who);
    },
    encode: (r) => encodeLeaseTimeToLive(r, identity),
  };
  const LeaseLeases: UnaryMethod<unknown, LeaseLeasesResponse, pb.LeaseLeasesResponse> = {
    run: async (_m, _size, who) => store.lease.leases(who),
    encode: (r) => encodeLeaseLeases(r, identity),
  };
  return { LeaseGrant, LeaseRevoke, LeaseTimeToLive, LeaseLeases };
}

/** LeaseKeepAlive: each request renews one lease; answers go out in request order. */
export function keepAliveStream(
  ctx: RpcContext,
): StreamMethod<pb.LeaseKeepAliveRequest, LeaseKeepAliveResponse, pb.LeaseKeepAliveResponse> {
  const { store, identity } = ctx;
  const renew = async (m: pb.LeaseKeepAliveRequest, caller: Caller) => store.lease.keepAlive(decodeLeaseId(m), await caller());
  return {
    open(sink, _log, caller) {
      let chain: Promise<void> = Promise.resolve();
      const tracked = new TrackedStream(ctx, 'keepalive', () => sink.end());
      return {
        handle: (m) => {
          chain = chain.then(() =>
            renew(m, caller).then(
              (r) => {
                if (!tracked.ended) sink.write(r);
              },
              (e: unknown) => {
                if (tracked.drop()) sink.error(e);
              },
            ),
          );
        },
        // Keepalive answers are small and one per request: there is nothing to hold back.
        drained: () => undefined,
        finish: () => void chain.then(() => tracked.end()),
        close: () => tracked.end(),
      };
    },
    encode: (r) => encodeLeaseKeepAlive(r, identity),
  };
}
