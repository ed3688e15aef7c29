/** etcd's Lease service. IDs travel as int64 strings; the store keeps them as bigint. */
import type * as grpc from '@grpc/grpc-js';
import { header } from './codec';
import type { RpcContext } from './context';
import type { Wire } from './proto';
import { toServiceError, unary } from './status';

const id = (w: Wire): bigint => BigInt((w.ID as string | undefined) || '0');

export function leaseCalls(ctx: RpcContext) {
  const { store, identity } = ctx;
  return {
    LeaseGrant: async (w: Wire) => {
      const r = await store.leaseGrant(id(w), Number(w.TTL ?? 0));
      return { header: header(identity, r.header), ID: r.ID.toString(), TTL: r.TTL, error: '' };
    },
    LeaseRevoke: async (w: Wire) => ({ header: header(identity, (await store.leaseRevoke(id(w))).header) }),
    LeaseTimeToLive: async (w: Wire) => {
      const r = await store.leaseTimeToLive(id(w), !!w.keys);
      return { header: header(identity, r.header), ID: r.ID.toString(), TTL: r.TTL, grantedTTL: r.grantedTTL, keys: r.keys };
    },
    LeaseLeases: async () => {
      const r = await store.leaseLeases();
      return { header: header(identity, r.header), leases: r.leases.map((l) => ({ ID: l.toString() })) };
    },
    LeaseKeepAlive: async (w: Wire) => {
      const r = await store.leaseKeepAlive(id(w));
      return { header: header(identity, r.header), ID: r.ID.toString(), TTL: r.TTL };
    },
  };
}

export function leaseService(ctx: RpcContext): grpc.UntypedServiceImplementation {
  const calls = leaseCalls(ctx);
  const LeaseKeepAlive: grpc.handleBidiStreamingCall<Wire, Wire> = (call) => {
    // Answers go out in request order; the stream ends once the client is done and all are answered.
    let chain: Promise<void> = Promise.resolve();
    let done = false;
    const handle = {
      end: () => {
        if (done) return;
        done = true;
        ctx.streams.delete(handle);
        call.end();
      },
    };
    ctx.streams.add(handle);
    call.on('data', (w: Wire) => {
      chain = chain.then(() =>
        calls.LeaseKeepAlive(w).then(
          (res) => {
            if (!done) call.write(res);
          },
          (e: unknown) => {
            if (!done) {
              done = true;
              ctx.streams.delete(handle);
              call.emit('error', toServiceError(e, ctx.log));
            }
          },
        ),
      );
    });
    call.on('end', () => void chain.then(handle.end));
    call.on('cancelled', handle.end);
    call.on('error', handle.end);
  };
  return {
    LeaseGrant: unary<Wire, Wire>(ctx.log, calls.LeaseGrant),
    LeaseRevoke: unary<Wire, Wire>(ctx.log, calls.LeaseRevoke),
    LeaseTimeToLive: unary<Wire, Wire>(ctx.log, calls.LeaseTimeToLive),
    LeaseLeases: unary<Wire, Wire>(ctx.log, calls.LeaseLeases),
    LeaseKeepAlive,
  };
}
