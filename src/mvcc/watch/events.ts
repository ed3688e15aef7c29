/**
 * The one event builder: a version and the live version before it make one etcd event, the same
 * way for live delivery and for replay from history.
 */
import type { LogRow } from '../../log/types';
import { inRange } from '../key-range';
import { toKeyValue } from '../range';
import type { KeyHistory } from '../key-history';
import type { RevisionIndex } from '../revision-index';
import { EventType, type Event, type KeyValue } from '../types';
import type { Watcher } from './watcher';

const EMPTY = Buffer.alloc(0);

/** A DELETE event's kv, as etcd sends it: only the key and the revision of the delete. */
function deletedKv(row: LogRow): KeyValue {
  return { key: row.key, create_revision: 0, mod_revision: row.revision, version: 0, value: EMPTY, lease: 0n };
}

/**
 * The event `row` makes; `prev` is the key's version before it (anything but a live version means
 * none). prev_kv is what etcd reads at revision - 1: the previous live version, never for a create.
 */
export function eventOf(row: LogRow, prev: LogRow | undefined, withPrev: boolean): Event {
  const before = withPrev && prev && !prev.deleted ? toKeyValue(prev) : undefined;
  if (row.deleted) return { type: EventType.DELETE, kv: deletedKv(row), prev_kv: before };
  return { type: EventType.PUT, kv: toKeyValue(row), prev_kv: row.createRevision === row.revision ? undefined : before };
}

/** An event of one revision, built once and shared by every watcher it goes to. */
export interface SharedEvent {
  /** The key as a binary string, for range checks. */
  k: string;
  ev: Event;
  /** The event without prev_kv, made once for every watcher that did not ask for it. */
  bare?: Event;
}

export function forWatcher(e: SharedEvent, w: Watcher): Event {
  if (w.prevKv || !e.ev.prev_kv) return e.ev;
  return (e.bare ??= { type: e.ev.type, kv: e.ev.kv });
}

/** The watcher's events in revisions [from, to] from the index history, ordered by (revision, sub). */
export function historyEvents(index: RevisionIndex, w: Watcher, from: number, to: number): Event[] {
  const found: Array<{ row: LogRow; ev: Event }> = [];
  for (const h of index.histories(w.range)) collect(h, w, from, to, index.compactRevision, found);
  found.sort((a, b) => a.row.revision - b.row.revision || a.row.sub - b.row.sub);
  return found.map((f) => f.ev);
}

function collect(h: KeyHistory, w: Watcher, from: number, to: number, compacted: number, out: Array<{ row: LogRow; ev: Event }>): void {
  const n = h.count;
  for (let i = h.firstFrom(from); i < n && h.nth(i).revision <= to; i++) {
    const row = h.nth(i);
    // Compaction drops a tombstone at the compact revision; one a trim has not reached yet is not shown either.
    if (row.deleted && row.revision <= compacted) continue;
    if (!w.wants(row.deleted ? EventType.DELETE : EventType.PUT)) continue;
    out.push({ row, ev: eventOf(row, i > 0 ? h.nth(i - 1) : undefined, w.prevKv) });
  }
}

/** Whether a shared event is for this watcher (its range and filters). */
export function matches(e: SharedEvent, w: Watcher): boolean {
  return inRange(w.range, e.k) && w.wants(e.ev.type);
}
