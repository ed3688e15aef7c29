/** etcd's Watch service: one bidirectional stream carrying many watches. */
import type * as grpc from '@grpc/grpc-js';
import { decodeWatchCreate, encodeWatch } from './codec';
import type { RpcContext } from './context';
import type { Wire } from './proto';

export function watchService(ctx: RpcContext): grpc.UntypedServiceImplementation {
  const Watch: grpc.handleBidiStreamingCall<Wire, Wire> = (call) => {
    const log = ctx.log.child({ component: 'watch-stream', peer: call.getPeer() });
    const stream = ctx.store.openWatch({ send: (r) => call.write(encodeWatch(r, ctx.identity)) });
    let done = false;
    const handle = {
      end: () => {
        if (done) return;
        done = true;
        stream.close();
        ctx.streams.delete(handle);
        call.end();
      },
    };
    ctx.streams.add(handle);
    call.on('drain', () => stream.drained());
    call.on('data', (w: Wire) => {
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
    });
    // A client that half-closes ends the stream, as etcd's gRPC watch does.
    call.on('end', handle.end);
    call.on('error', () => handle.end());
    call.on('cancelled', () => handle.end());
    call.on('close', () => handle.end());
  };
  return { Watch };
}
