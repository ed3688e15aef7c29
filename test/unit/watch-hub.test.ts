/**
 * The watch hub and its streams over a real revision index: live delivery, replay from history,
 * backpressure, compaction, progress and duplicate ids — everything a stream's sink receives.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { EventType, type WatchCreate, type WatchResponse } from '../../src/mvcc/types';
import { WatchHub } from '../../src/mvcc/watch/watch-hub';
import { b, Harness, putReq } from './helpers';

const quiet = pino({ level: 'silent' });

function create(key: string, extra: Partial<WatchCreate> = {}): WatchCreate {
  return {
    key: b(key),
    range_end: b(''),
    start_revision: 0,
    progress_notify: false,
    filters: [],
    prev_kv: false,
    watch_id: 0,
    fragment: false,
    ...extra,
  };
}

/** A sink that records every response; `full` makes it report a full buffer. */
class Sink {
  readonly got: WatchResponse[] = [];
  full = false;
  send(r: WatchResponse): boolean {
    this.got.push(r);
    return !this.full;
  }
  events(watchId: number): Array<[string, EventType, number, string | undefined]> {
    return this.got
      .filter((r) => r.watch_id === watchId)
      .flatMap((r) =>
        r.events.map(
          (e) =>
            [e.kv.key.toString(), e.type, e.kv.mod_revision, e.prev_kv?.value.toString()] as [
              string,
              EventType,
              number,
              string | undefined,
            ],
        ),
      );
  }
}

/** Lets scheduled flushes and replays run. */
async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

let hubs: WatchHub[] = [];
afterEach(() => {
  for (const h of hubs) h.stop();
  hubs = [];
});

function setup(): { h: Harness; hub: WatchHub } {
  const feed: { hub?: WatchHub } = {};
  const h = new Harness((changes, prev) => feed.hub?.notify(changes, prev));
  const hub = (feed.hub = new WatchHub(h.index, quiet, 60_000));
  hubs.push(hub);
  return { h, hub };
}

describe('watch hub', () => {
  it('keeps nothing of a closed stream, however many watches it had', async () => {
    const { h, hub } = setup();
    const sink = new Sink();
    const s = hub.open(sink);
    for (let i = 0; i < 10_000; i++) s.create(create(`k${i}`));
    h.run((w) => w.put(putReq('k1', 'x')));
    expect(s.held.watchers).toBe(10_000);
    expect(s.held.pending).toBe(1);
    expect(hub.openStreams).toBe(1);
    s.close();
    expect(s.held).toEqual({ watchers: 0, pending: 0 });
    expect(hub.openStreams).toBe(0);
    // Nothing scheduled before the close reaches the closed stream's sink.
    const before = sink.got.length;
    h.run((w) => w.put(putReq('k2', 'y')));
    await settle();
    expect(sink.got.length).toBe(before);
  });

  it('delivers live events in range, once each, with prev_kv only to watchers that asked', async () => {
    const { h, hub } = setup();
    const sink = new Sink();
    const s = hub.open(sink);
    s.create(create('a', { range_end: b('b'), prev_kv: true }));
    s.create(create('a', { range_end: b('b') }));
    expect(sink.got.map((r) => [r.watch_id, r.created, r.revision])).toEqual([
      [0, true, 1],
      [1, true, 1],
    ]);
    h.run((w) => w.put(putReq('a1', 'x')));
    h.run((w) => w.put(putReq('zz', 'outside')));
    h.run((w) => w.put(putReq('a1', 'y')));
    h.run((w) => w.deleteRange({ key: b('a1'), range_end: b(''), prev_kv: false }));
    await settle();
    expect(sink.events(0)).toEqual([
      ['a1', EventType.PUT, 2, undefined],
      ['a1', EventType.PUT, 4, 'x'],
      ['a1', EventType.DELETE, 5, 'y'],
    ]);
    expect(sink.events(1)).toEqual([
      ['a1', EventType.PUT, 2, undefined],
      ['a1', EventType.PUT, 4, undefined],
      ['a1', EventType.DELETE, 5, undefined],
    ]);
  });

  it('replays from a past revision with the same events live delivery made, then goes on live', async () => {
    const { h, hub } = setup();
    for (let i = 0; i < 5; i++) h.run((w) => w.put(putReq('k', `v${i}`)));
    h.run((w) => w.deleteRange({ key: b('k'), range_end: b(''), prev_kv: false }));
    const live = new Sink();
    hub.open(live).create(create('k', { prev_kv: true }));
    const past = new Sink();
    const s = hub.open(past);
    s.create(create('k', { prev_kv: true, start_revision: 3 }));
    await settle();
    expect(past.events(0)).toEqual([
      ['k', EventType.PUT, 3, 'v0'],
      ['k', EventType.PUT, 4, 'v1'],
      ['k', EventType.PUT, 5, 'v2'],
      ['k', EventType.PUT, 6, 'v3'],
      ['k', EventType.DELETE, 7, 'v4'],
    ]);
    h.run((w) => w.put(putReq('k', 'again')));
    await settle();
    expect(past.events(0).slice(5)).toEqual([['k', EventType.PUT, 8, undefined]]);
    expect(live.events(0)).toEqual([['k', EventType.PUT, 8, undefined]]);
  });

  it('a full sink holds the watcher back; after drained() it catches up without a gap or a repeat', async () => {
    const { h, hub } = setup();
    const sink = new Sink();
    const s = hub.open(sink);
    s.create(create('k'));
    sink.full = true;
    h.run((w) => w.put(putReq('k', '1')));
    await settle();
    for (let i = 2; i <= 6; i++) h.run((w) => w.put(putReq('k', String(i))));
    await settle();
    sink.full = false;
    s.drained();
    await settle();
    expect(sink.events(0).map((e) => e[2])).toEqual([2, 3, 4, 5, 6, 7]);
  });

  it('filters drop PUT or DELETE events', async () => {
    const { h, hub } = setup();
    const sink = new Sink();
    const s = hub.open(sink);
    s.create(create('k', { filters: [0] }));
    s.create(create('k', { filters: [1] }));
    h.run((w) => w.put(putReq('k', '1')));
    h.run((w) => w.deleteRange({ key: b('k'), range_end: b(''), prev_kv: false }));
    await settle();
    expect(sink.events(0).map((e) => e[1])).toEqual([EventType.DELETE]);
    expect(sink.events(1).map((e) => e[1])).toEqual([EventType.PUT]);
  });

  it('a watcher behind a compaction gets the compacted cancel with header revision 0', async () => {
    const { h, hub } = setup();
    for (let i = 0; i < 4; i++) h.run((w) => w.put(putReq('k', String(i))));
    const sink = new Sink();
    const s = hub.open(sink);
    sink.full = true;
    s.create(create('k', { start_revision: 2 }));
    h.index.compact(4);
    hub.compacted();
    sink.full = false;
    s.drained();
    await settle();
    const cancel = sink.got.find((r) => r.canceled);
    expect(cancel).toEqual({ revision: 0, watch_id: 0, canceled: true, compact_revision: 4, events: [] });
  });

  it('answers RequestProgress with watch_id -1 once every watcher is synced', async () => {
    const { h, hub } = setup();
    for (let i = 0; i < 3; i++) h.run((w) => w.put(putReq('k', String(i))));
    const sink = new Sink();
    const s = hub.open(sink);
    s.create(create('k', { start_revision: 2 }));
    s.requestProgress();
    expect(sink.got.some((r) => r.watch_id === -1)).toBe(false);
    await settle();
    const progress = sink.got.filter((r) => r.watch_id === -1);
    expect(progress).toEqual([{ revision: 4, watch_id: -1, events: [] }]);
    // It comes after the replayed events, never before.
    expect(sink.got.indexOf(progress[0])).toBeGreaterThan(sink.got.findIndex((r) => r.events.length > 0));
  });

  it('refuses a duplicate watch id and cancels by id', () => {
    const { hub } = setup();
    const sink = new Sink();
    const s = hub.open(sink);
    s.create(create('k', { watch_id: 7 }));
    s.create(create('k', { watch_id: 7 }));
    s.cancel(7);
    s.cancel(7);
    expect(sink.got).toEqual([
      { revision: 1, watch_id: 7, created: true, events: [] },
      {
        revision: 1,
        watch_id: -1,
        created: true,
        canceled: true,
        cancel_reason: 'mvcc: duplicate watch ID provided on the WatchStream',
        events: [],
      },
      { revision: 1, watch_id: 7, canceled: true, events: [] },
    ]);
  });

  it('a closed stream gets nothing more', async () => {
    const { h, hub } = setup();
    const sink = new Sink();
    const s = hub.open(sink);
    s.create(create('k'));
    s.close();
    h.run((w) => w.put(putReq('k', '1')));
    await settle();
    expect(sink.got).toHaveLength(1);
  });
});
