// etcd's split of a large watch response (rpc/watch-fragment.ts), on the exact protobuf sizes the
// gRPC encoder writes: parts stay under the limit, each has at least one event, every part but the
// last says fragment, nothing is lost or reordered, and small or one-event responses go whole.
import { describe, expect, it } from 'vitest';
import { EventType, type Event, type WatchResponse } from '../../src/mvcc/types';
import { fastEncoders } from '../../src/rpc/fast-encode';
import { fragments } from '../../src/rpc/watch-fragment';

const fast = fastEncoders({ cluster_id: '123', member_id: '456', raft_term: 2 });
const sizeOf = (r: WatchResponse & { fragment?: boolean }) => fast.watch(r).length;

const ev = (i: number, valueBytes: number): Event => ({
  type: EventType.PUT,
  kv: {
    key: Buffer.from(`k${i}`),
    create_revision: 10 + i,
    mod_revision: 10 + i,
    version: 1,
    value: Buffer.alloc(valueBytes, 1),
    lease: 0n,
  },
});
const resp = (events: Event[]): WatchResponse => ({ revision: 99, watch_id: 3, events });

describe('watch fragments', () => {
  it('splits a response over the limit into parts under it, fragment on all but the last', () => {
    const events = Array.from({ length: 50 }, (_, i) => ev(i, 100 + i));
    const max = 1000;
    const parts = fragments(resp(events), max, sizeOf);
    expect(parts.length).toBeGreaterThan(5);
    expect(parts.flatMap((p) => p.events)).toEqual(events);
    expect(parts.map((p) => p.fragment)).toEqual([...parts.slice(1).map(() => true), false]);
    for (const p of parts) {
      expect(p.events.length).toBeGreaterThan(0);
      // Each part is under the limit (measured with fragment set, as etcd measures it)...
      expect(sizeOf({ ...p, fragment: true })).toBeLessThan(max);
      expect(p.watch_id).toBe(3);
      expect(p.revision).toBe(99);
    }
    // ...and as full as it may be: one more event would have reached it.
    for (let i = 0; i < parts.length - 1; i++) {
      const next = parts[i + 1].events[0];
      expect(sizeOf({ ...parts[i], events: [...parts[i].events, next], fragment: true })).toBeGreaterThanOrEqual(max);
    }
  });

  it('an event larger than the limit goes in a part of its own', () => {
    const events = [ev(0, 10), ev(1, 5000), ev(2, 10)];
    const parts = fragments(resp(events), 1000, sizeOf);
    expect(parts.map((p) => p.events.map((e) => e.kv.key.toString()))).toEqual([['k0'], ['k1'], ['k2']]);
    expect(parts.map((p) => p.fragment)).toEqual([true, true, false]);
  });

  it('leaves a response whole below the limit, with one event, or with none', () => {
    const small = resp([ev(0, 10), ev(1, 10)]);
    expect(fragments(small, 1000, sizeOf)).toEqual([small]);
    const one = resp([ev(0, 5000)]);
    expect(fragments(one, 1000, sizeOf)).toEqual([one]);
    const none = resp([]);
    expect(fragments(none, 10, sizeOf)).toEqual([none]);
  });
});
