/** etcd's Watch stream (one stream carrying many watches) over any transport. */
import { cancelReasonOf, Code, EtcdError, Errors, WATCH_LIMIT_REACHED } from '../errors';
import type { Credentials } from '../mvcc/auth/types';
import type { WatchCreate, WatchResponse } from '../mvcc/types';
import { TrackedStream, type StreamMethod } from './calls';
import { decodeWatchRequest, encodeWatch } from './codec/watch';
import { fastEncoders, type FastWatchResponse } from './fast-encode';
import { receiveLimit } from './limits';
import { fragments } from './watch-fragment';
import type { RpcContext } from './context';
import type * as pb from './messages';

export function watchStream(ctx: RpcContext): StreamMethod<pb.WatchRequest, WatchResponse, pb.WatchResponse> {
  const fast = fastEncoders(ctx.identity);
  const sizeOf = (r: FastWatchResponse): number => fast.watch(r).length;
  return {
    open(sink, log, caller) {
      /** Watchers created with `fragment`, whose large responses are split as etcd splits them. */
      const fragmented = new Set<number>();
      let creating: WatchCreate | undefined;
      const send = (r: WatchResponse): boolean => {
        if (creating && r.created) {
          // A create is answered at once, so its `created` response names the new watcher's id.
          if (creating.fragment && !r.canceled) fragmented.add(r.watch_id);
          creating = undefined;
        } else if (r.canceled) {
          fragmented.delete(r.watch_id);
        }
        if (!fragmented.has(r.watch_id)) return sink.write(r);
        let room = true;
        for (const part of fragments(r, receiveLimit(ctx.limits), sizeOf)) room = sink.write(part) && room;
        return room;
      };
      const stream = ctx.store.openWatch({ send });
      /** A create the caller may not make is answered created+canceled, as etcd's watch server does. */
      const create = (req: WatchCreate, who: Credentials): void => {
        const denied = watchDenial(ctx, req, who);
        creating = req;
        const max = ctx.limits.bounds?.maxWatchesPerStream ?? 0;
        if (denied) stream.refuse(denied);
        else if (max > 0 && stream.held.watchers >= max) stream.refuse(WATCH_LIMIT_REACHED);
        else stream.create(req);
        creating = undefined;
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
