/**
 * etcd's Election.Observe as concurrency.Election.observe runs it: the current leader's value, then
 * every new value the leader proclaims; when the leader key goes, the next leader (or, with none,
 * the first key put under the prefix). As in etcd, a failure ends the stream quietly (status OK).
 */
import type { Credentials } from '../mvcc/auth/types';
import { EventType, type KeyValue, type WatchResponse } from '../mvcc/types';
import { TrackedStream, type StreamMethod } from './calls';
import { header } from './codec/header';
import { encodeKv } from './codec/kv';
import { firstCreated, prefixEnd, prefixOf } from './concurrency/recipes';
import type { RpcContext } from './context';
import type { LeaderResult } from './election';
import type * as pb from './messages';

const EMPTY = Buffer.alloc(0);

/** One watch of the store read as a queue of responses with events; undefined once it has ended. */
class WatchQueue {
  private readonly queued: WatchResponse[] = [];
  private waiter: ((r: WatchResponse | undefined) => void) | undefined;
  private ended = false;
  private readonly stream;
  private readonly onAbort = (): void => this.end();

  constructor(
    ctx: RpcContext,
    key: Buffer,
    rangeEnd: Buffer,
    fromRev: number,
    private readonly signal: AbortSignal,
  ) {
    this.stream = ctx.store.openWatch({
      send: (r) => {
        // A compacted or canceled watch ends it, as the client's watch channel closes.
        if (r.canceled || r.compact_revision) this.end();
        else if (r.events.length > 0) this.push(r);
        return true;
      },
    });
    signal.addEventListener('abort', this.onAbort);
    const f = { progress_notify: false, filters: [], prev_kv: false, watch_id: 0, fragment: false };
    this.stream.create({ key, range_end: rangeEnd, start_revision: fromRev, ...f });
  }

  next(): Promise<WatchResponse | undefined> {
    const r = this.queued.shift();
    if (r || this.ended) return Promise.resolve(r);
    return new Promise((resolve) => (this.waiter = resolve));
  }

  close(): void {
    this.end();
    this.signal.removeEventListener('abort', this.onAbort);
    this.stream.close();
  }

  private push(r: WatchResponse): void {
    const w = this.waiter;
    this.waiter = undefined;
    if (w) w(r);
    else this.queued.push(r);
  }

  private end(): void {
    this.ended = true;
    const w = this.waiter;
    this.waiter = undefined;
    w?.(undefined);
  }
}

async function observe(
  ctx: RpcContext,
  name: Buffer,
  who: Credentials,
  signal: AbortSignal,
  send: (r: LeaderResult) => void,
): Promise<void> {
  const prefix = prefixOf(name);
  while (!signal.aborted) {
    const r = await ctx.store.range(firstCreated(prefix), who);
    let leader: KeyValue | undefined = r.kvs[0];
    let revision = r.header.revision;
    if (!leader) {
      // No leader yet: the first put under the prefix is one (a delete alone would make it spin).
      const w = new WatchQueue(ctx, prefix, prefixEnd(prefix), revision, signal);
      try {
        while (!leader) {
          const wr = await w.next();
          if (!wr) return;
          leader = wr.events.find((e) => e.type === EventType.PUT)?.kv;
        }
      } finally {
        w.close();
      }
      revision = leader.mod_revision;
    }
    send({ revision, kv: leader });
    const w = new WatchQueue(ctx, leader.key, EMPTY, revision + 1, signal);
    try {
      let deleted = false;
      while (!deleted) {
        const wr = await w.next();
        if (!wr) return;
        for (const e of wr.events) {
          if (e.type === EventType.DELETE) {
            deleted = true;
            break;
          }
          send({ revision: wr.revision, kv: e.kv });
        }
      }
    } finally {
      w.close();
    }
  }
}

/** A server stream: the one request names the election; the stream lasts until the caller leaves. */
export function observeStream(ctx: RpcContext): StreamMethod<pb.LeaderRequest, LeaderResult, pb.LeaderResponse> {
  return {
    open(sink, log, caller) {
      const ac = new AbortController();
      const tracked = new TrackedStream(ctx, 'election', () => {
        ac.abort();
        sink.end();
      });
      let started = false;
      const start = async (m: pb.LeaderRequest): Promise<void> => {
        const who = await caller();
        await observe(ctx, m.name, who, ac.signal, (r) => {
          if (!tracked.ended) sink.write(r);
        });
      };
      return {
        handle: (m) => {
          if (started) return;
          started = true;
          start(m).then(
            () => tracked.end(),
            (e: unknown) => {
              log.debug({ err: e }, 'election observe ended');
              tracked.end();
            },
          );
        },
        // Leader changes are few and small: nothing to hold back.
        drained: () => undefined,
        // The caller's one request is all it sends; the stream goes on until it leaves.
        finish: () => undefined,
        close: () => {
          if (tracked.drop()) ac.abort();
        },
      };
    },
    encode: (r) => ({ header: header(ctx.identity, r.revision), kv: encodeKv(r.kv) }),
  };
}
