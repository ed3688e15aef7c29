/** etcd's Watch stream (one stream carrying many watches) over any transport. */
import type { WatchResponse } from '../mvcc/types';
import { TrackedStream, type StreamMethod } from './calls';
import { decodeWatchRequest, encodeWatch } from './codec/watch';
import type { RpcContext } from './context';
import type * as pb from './messages';

export function watchStream(ctx: RpcContext): StreamMethod<pb.WatchRequest, WatchResponse, pb.WatchResponse> {
  return {
    open(sink, log) {
      const stream = ctx.store.openWatch({ send: (r) => sink.write(r) });
      const tracked = new TrackedStream(ctx, 'watch', () => {
        stream.close();
        sink.end();
      });
      return {
        handle: (m) => {
          if (tracked.ended) return;
          try {
            const op = decodeWatchRequest(m);
            switch (op.kind) {
              case 'create':
                return stream.create(op.create);
              case 'cancel':
                return stream.cancel(op.watchId);
              case 'progress':
                return stream.requestProgress();
              case 'none':
              // etcd ignores requests it does not understand and keeps the stream.
            }
          } catch (e) {
            log.warn({ err: e }, 'bad watch request');
          }
        },
        drained: () => stream.drained(),
        // A client that half-closes ends the stream, as etcd's gRPC watch does.
        finish: () => tracked.end(),
        close: () => tracked.end(),
      };
    },
    encode: (r) => encodeWatch(r, ctx.identity),
  };
}
