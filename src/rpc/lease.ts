/** etcd's Lease service. IDs travel as int64 strings; the store keeps them as bigint. */
import type * as grpc from '@grpc/grpc-js';
import { serviceFromCalls, type StreamSink } from './calls';
import { header } from './codec';
import type { RpcContext } from './context';
import type { Wire } from './proto';
import { toServiceError } from './status';

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

export interface KeepAliveSession {
  /** One LeaseKeepAliveRequest; answers go out in request order. */
  handle(w: Wire): void;
  /** The client sent its last request: end once every request is answered. */
  finish(): void;
  /** Ends at once (client gone, shutdown). */
  close(): void;
}

/** A keepalive stream over any transport: the gRPC service and the JSON gateway both use it. */
export function openKeepAliveSession(ctx: RpcContext, sink: StreamSink): KeepAliveSession {
  const calls = leaseCalls(ctx);
  let chain: Promise<void> = Promise.resolve();
  let done = false;
  const handle = {
    kind: 'keepalive' as const,
    end: () => {
      if (done) return;
      done = true;
      ctx.streams.delete(handle);
      sink.end();
    },
  };
  ctx.streams.add(handle);
  return {
    handle: (w) => {
      chain = chain.then(() =>
        calls.LeaseKeepAlive(w).then(
          (res) => {
            if (!done) sink.write(res);
          },
          (e: unknown) => {
            if (done) return;
            done = true;
            ctx.streams.delete(handle);
            sink.error(e);
          },
        ),
      );
    },
    finish: () => void chain.then(handle.end),
    close: handle.end,
  };
}

export function leaseService(ctx: RpcContext): grpc.UntypedServiceImplementation {
  const { LeaseKeepAlive: _stream, ...unaryCalls } = leaseCalls(ctx);
  const LeaseKeepAlive: grpc.handleBidiStreamingCall<Wire, Wire> = (call) => {
    const session = openKeepAliveSession(ctx, {
      write: (w) => call.write(w),
      end: () => call.end(),
      error: (e) => call.emit('error', toServiceError(e, ctx.log)),
    });
    call.on('data', (w: Wire) => session.handle(w));
    call.on('end', () => session.finish());
    call.on('cancelled', () => session.close());
    call.on('error', () => session.close());
  };
  return { ...serviceFromCalls(ctx, unaryCalls), LeaseKeepAlive };
}
