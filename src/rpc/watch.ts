/** etcd's Watch service: one bidirectional stream carrying many watches. */
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { StreamSink } from './calls';
import { decodeWatchCreate, encodeWatch } from './codec';
import type { RpcContext } from './context';
import type { Wire } from './proto';

export interface WatchSession {
  /** One WatchRequest (create, cancel or progress). */
  handle(w: Wire): void;
  /** The sink has room again after write() returned false. */
  drained(): void;
  /** Ends the stream: its watchers are removed and the sink is ended. */
  close(): void;
}

/** A watch stream over any transport: the gRPC service and the JSON gateway both use it. */
export function openWatchSession(ctx: RpcContext, sink: StreamSink, log: Logger): WatchSession {
  const stream = ctx.store.openWatch({ send: (r) => sink.write(encodeWatch(r, ctx.identity)) });
  let done = false;
  const handle = {
    kind: 'watch' as const,
    end: () => {
      if (done) return;
      done = true;
      stream.close();
      ctx.streams.delete(handle);
      sink.end();
    },
  };
  ctx.streams.add(handle);
  return {
    handle: (w) => {
      if (done) return;
      try {
        switch (w.request_union) {
          case 'create_request':
            stream.create(decodeWatchCreate(w.create_request as Wire));
            break;
          case 'cancel_request':
            stream.cancel(Number((w.cancel_request as Wire).watch_id ?? 0));
            break;
          case 'progress_request':
            stream.requestProgress();
            break;
          default:
          // etcd ignores requests it does not understand and keeps the stream.
        }
      } catch (e) {
        log.warn({ err: e }, 'bad watch request');
      }
    },
    drained: () => stream.drained(),
    close: handle.end,
  };
}

export function watchService(ctx: RpcContext): grpc.UntypedServiceImplementation {
  const Watch: grpc.handleBidiStreamingCall<Wire, Wire> = (call) => {
    const log = ctx.log.child({ component: 'watch-stream', peer: call.getPeer() });
    const session = openWatchSession(
      ctx,
      { write: (w) => call.write(w), end: () => call.end(), error: () => call.end() },
      log,
    );
    call.on('drain', () => session.drained());
    call.on('data', (w: Wire) => session.handle(w));
    // A client that half-closes ends the stream, as etcd's gRPC watch does.
    call.on('end', session.close);
    call.on('error', () => session.close());
    call.on('cancelled', () => session.close());
    call.on('close', () => session.close());
  };
  return { Watch };
}
