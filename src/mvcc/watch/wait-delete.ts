/**
 * Waiting for a key's deletion, as etcd's concurrency package waits (a watch of the one key from a
 * revision on, ended by its first DELETE event). Lock and Election block on it; it rides the same
 * hub as client watches, so a deletion by another instance on the database wakes it as well.
 */
import { Errors } from '../../errors';
import type { WatchResponse } from '../types';
import type { WatchHub } from './watch-hub';

/** DELETE events only: a watcher filters out PUTs (etcd's NOPUT filter is 0). */
const NO_PUT = [0];

/**
 * Resolves at the first deletion of `key` at `fromRev` or later (at once if it is in the history
 * already). Rejects with etcd's compacted error if that history is gone, and with `signal`'s reason
 * when it aborts.
 */
export function waitDeleted(hub: WatchHub, key: Buffer, fromRev: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    let done = false;
    const settle = (err?: unknown): void => {
      if (done) return;
      done = true;
      signal.removeEventListener('abort', onAbort);
      // The stream may still be delivering this response: close it once the call stack unwinds.
      queueMicrotask(() => stream.close());
      if (err === undefined) resolve();
      else reject(err as Error);
    };
    const onAbort = (): void => settle(signal.reason);
    const stream = hub.open({
      send: (r: WatchResponse) => {
        if (r.compact_revision) settle(Errors.compacted());
        else if (r.events.length > 0) settle();
        return true;
      },
    });
    signal.addEventListener('abort', onAbort);
    stream.create({
      key,
      range_end: Buffer.alloc(0),
      start_revision: fromRev,
      progress_notify: false,
      filters: NO_PUT,
      prev_kv: false,
      watch_id: 0,
      fragment: false,
    });
  });
}
