/** Watch stream requests to mvcc watch operations, and watch responses back. */
import type { Event, WatchCreate, WatchResponse } from '../../mvcc/types';
import type * as pb from '../messages';
import { header, int, type HeaderIdentity } from './header';
import { encodeKv } from './kv';

/** What one WatchRequest asks of the stream. */
type WatchOp =
  | { kind: 'create'; create: WatchCreate }
  | { kind: 'cancel'; watchId: number }
  | { kind: 'progress' }
  /** A request with no member set: etcd ignores it and keeps the stream. */
  | { kind: 'none' };

function decodeWatchCreate(m: pb.WatchCreateRequest): WatchCreate {
  return {
    key: m.key,
    range_end: m.range_end,
    start_revision: int(m.start_revision),
    progress_notify: m.progress_notify,
    filters: m.filters,
    prev_kv: m.prev_kv,
    watch_id: int(m.watch_id),
    fragment: m.fragment,
  };
}

export function decodeWatchRequest(m: pb.WatchRequest): WatchOp {
  if (m.request_union === 'create_request' && m.create_request) return { kind: 'create', create: decodeWatchCreate(m.create_request) };
  if (m.request_union === 'cancel_request' && m.cancel_request) return { kind: 'cancel', watchId: int(m.cancel_request.watch_id) };
  if (m.request_union === 'progress_request') return { kind: 'progress' };
  return { kind: 'none' };
}

/** One message per event, so an event fanned out to many watchers is converted once. */
const eventMessages = new WeakMap<Event, pb.Event>();
function encodeEvent(e: Event): pb.Event {
  let m = eventMessages.get(e);
  if (!m) {
    m = { type: e.type, kv: encodeKv(e.kv), prev_kv: e.prev_kv ? encodeKv(e.prev_kv) : undefined };
    eventMessages.set(e, m);
  }
  return m;
}

/** `fragment` is set on the parts of a split response (rpc/watch-fragment.ts). */
export function encodeWatch(r: WatchResponse & { fragment?: boolean }, id: HeaderIdentity): pb.WatchResponse {
  return {
    header: header(id, r.revision),
    watch_id: r.watch_id,
    created: r.created ?? false,
    canceled: r.canceled ?? false,
    compact_revision: r.compact_revision ?? 0,
    cancel_reason: r.cancel_reason ?? '',
    fragment: r.fragment ?? false,
    events: r.events.map(encodeEvent),
  };
}
