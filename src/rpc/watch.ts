/** etcd's Watch stream (one stream carrying many watches) over any transport. */
import { cancelReasonOf, Code, EtcdError, Errors, WATCH_LIMIT_REACHED } from '../errors';
import type { Credentials } from '../mvcc/auth/types';
import type { WatchCreate, WatchResponse } from '../mvcc/types';
import { TrackedStream, type StreamMethod } from './calls';
import { decodeWatchRequest, encodeWatch } from './codec/watch';
import type { RpcContext } from './context';
import type * as pb from './messages';

export function watchStream(ctx: RpcContext): StreamMethod<pb.WatchRequest, WatchResponse, pb.WatchResponse> {
  return {
    open(sink, log, caller) {
      const stream = ctx.store.openWatch({ send: (r) => sink.write(r) });
      /** A create the caller may not make is answered created+canceled, as etcd's watch server does. */
      const create = (req: WatchCreate, who: Credentials): void => {
        const denied = watchDenial(ctx, req, who);
        const max = ctx.limits.bounds?.maxWatchesPerStream ?? 0;
        if (denied) stream.refuse(denied);
        else if (max > 0 && stream.held.watchers >= max) stream.refuse(WATCH_LIMIT_REACHED);
        else stream.create(req);
      };
      // Requests keep their order while a token is being verified (a JWT's first use is async).
      let queue: Promise<void> | undefined;
      let queued = 0;
      const later = (fn: () => void | Promise<void>): void => {
        const n = ++queued;
        const q: Promise<void> = (queue ?? Promise.resolve())
          .then(() => (tracked.ended ? undefined : fn()))
          .catch((e: unknown) => log.warn({ err: e }, 'watch request failed'))
          .finally(() => {
            if (queued === n) queue = undefined;
          });
        queue = q;
      };
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
              case 'create': {
                const who = queue ? undefined : caller();
                if (who !== undefined && !(who instanceof Promise)) return create(op.create, who);
                return later(async () => create(op.create, await (who ?? caller())));
              }
              case 'cancel':
                return queue ? later(() => stream.cancel(op.watchId)) : stream.cancel(op.watchId);
              case 'progress':
                return queue ? later(() => stream.requestProgress()) : stream.requestProgress();
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

/** The cancel reason of a create the caller may not make (etcd's isWatchPermitted), or undefined. */
function watchDenial(ctx: RpcContext, req: WatchCreate, who: Credentials): string | undefined {
  try {
    ctx.store.guard.checkRange(who, req.key.length === 0 ? Buffer.from([0]) : req.key, req.range_end);
    return undefined;
  } catch (e) {
    const known = e instanceof EtcdError && [Code.Unauthenticated, Code.InvalidArgument].includes(e.code);
    return cancelReasonOf(known ? e : Errors.permissionDenied());
  }
}
