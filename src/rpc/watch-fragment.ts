/**
 * etcd's watch `fragment`: for a watcher created with it, a response of at least etcd's limit
 * (--max-request-bytes plus its 512 KiB gRPC allowance, protobuf size with the header) with two
 * events or more is split, as etcd's
 * watch server's sendFragments splits it: each part takes events while it stays under the limit
 * (at least one event each), every part but the last says fragment=true, and the client's library
 * joins them again.
 */
import type { Event, WatchResponse } from '../mvcc/types';
import { watchEventFieldSize, type FastWatchResponse } from './fast-encode';

/** The encoded size of a response (with no events, to measure everything but them). */
type ResponseSize = (r: FastWatchResponse) => number;

export function fragments(r: WatchResponse, maxBytes: number, sizeOf: ResponseSize): FastWatchResponse[] {
  if (r.events.length < 2) return [r];
  const sizes = r.events.map(watchEventFieldSize);
  const empty: FastWatchResponse = { ...r, events: [] };
  let whole = sizeOf(empty);
  for (const s of sizes) whole += s;
  if (whole < maxBytes) return [r];
  const base = sizeOf({ ...empty, fragment: true });
  const out: FastWatchResponse[] = [];
  for (let i = 0; i < r.events.length;) {
    const events: Event[] = [];
    let size = base;
    for (; i < r.events.length; i++) {
      if (events.length > 0 && size + sizes[i] >= maxBytes) break;
      events.push(r.events[i]);
      size += sizes[i];
    }
    out.push({ ...r, events, fragment: i < r.events.length });
  }
  return out;
}
