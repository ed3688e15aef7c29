/**
 * Watches, fed from the applied log. Every watcher has `nextRev`, the first revision it has not
 * seen. A watcher whose stream is keeping up gets each committed revision as it is applied
 * (synced); one that starts in the past, or whose stream's buffer is full, catches up from the
 * index history in chunks (unsynced) and rejoins. Nothing is sent twice or skipped: both paths
 * advance `nextRev` past exactly what they sent. A watcher whose history was compacted away gets
 * etcd's compacted response and is removed.
 */
import type { Logger } from 'pino';
import type { LogRow } from '../dialect/dialect';
import { WATCH_DUPLICATE_ID } from '../errors';
import { inRange, keyRange, type KeyHistory, type KeyRange, type RevisionIndex, type Version } from './index';
import { toKeyValue } from './range';
import { EventType, type Event, type KeyValue, type WatchCreate, type WatchResponse, type WatchSink, type WatchStream as WatchStreamApi } from './types';

/** Revisions a catch-up reads at once, so one slow watcher cannot stall the process. */
const CATCH_UP_REVS = 1000;
const NO_EVENTS: Event[] = [];

class Watcher {
  /** Events were sent since the last progress tick. */
  sentEvents = false;
  catchingUp = false;
  constructor(
    readonly id: number,
    readonly range: KeyRange,
    readonly noPut: boolean,
    readonly noDelete: boolean,
    readonly prevKv: boolean,
    readonly progressNotify: boolean,
    public nextRev: number,
  ) {}

  wants(e: Event): boolean {
    return e.type === EventType.PUT ? !this.noPut : !this.noDelete;
  }
}

export class WatchStream implements WatchStreamApi {
  readonly watchers = new Map<number, Watcher>();
  private nextId = 0;
  private blocked = false;
  private progressPending = false;
  /**
   * Live events not yet sent, per watcher: revisions committed before the stream's next flush go
   * out in one response per watcher (a revision is never split), so a busy process sends fewer,
   * larger messages instead of falling behind.
   */
  private pending = new Map<Watcher, { revision: number; events: Event[] }>();
  private flushScheduled = false;
  closed = false;

  constructor(
    private readonly hub: WatchHub,
    private readonly sink: WatchSink,
  ) {}

  /** Creates a watcher; answers `created` (or created+canceled) before any of its events. */
  create(req: WatchCreate): void {
    const current = this.hub.index.revision;
    let id = req.watch_id;
    if (id !== 0 && this.watchers.has(id)) {
      this.send({ revision: current, watch_id: -1, created: true, canceled: true, cancel_reason: WATCH_DUPLICATE_ID, events: NO_EVENTS });
      return;
    }
    if (id === 0) {
      while (this.watchers.has(this.nextId)) this.nextId++;
      id = this.nextId++;
    }
    // An empty key means the smallest key, "\0" (etcd's watch server does the same).
    const key = req.key.length === 0 ? Buffer.from([0]) : req.key;
    const w = new Watcher(
      id,
      keyRange(key, req.range_end),
      req.filters.includes(0),
      req.filters.includes(1),
      req.prev_kv,
      req.progress_notify,
      req.start_revision === 0 ? current + 1 : req.start_revision,
    );
    this.watchers.set(id, w);
    this.send({ revision: current, watch_id: id, created: true, events: NO_EVENTS });
    if (w.nextRev <= current) this.hub.scheduleCatchUp(this, w);
  }

  cancel(id: number): void {
    if (!this.watchers.delete(id)) return;
    this.send({ revision: this.hub.index.revision, watch_id: id, canceled: true, events: NO_EVENTS });
  }

  /** RequestProgress: answered with watch_id -1 once every watcher of the stream is synced. */
  requestProgress(): void {
    this.progressPending = true;
    this.maybeSendProgress();
  }

  isSynced(w: Watcher): boolean {
    return !this.blocked && !w.catchingUp && w.nextRev > this.hub.index.revision;
  }

  maybeSendProgress(): void {
    if (!this.progressPending) return;
    for (const w of this.watchers.values()) if (!this.isSynced(w)) return;
    this.progressPending = false;
    this.send({ revision: this.hub.index.revision, watch_id: -1, events: NO_EVENTS });
  }

  /** The sink's buffer has room again: catch up whatever was held back. */
  drained(): void {
    if (!this.blocked || this.closed) return;
    this.blocked = false;
    for (const w of this.watchers.values()) if (w.nextRev <= this.hub.index.revision) this.hub.scheduleCatchUp(this, w);
    this.maybeSendProgress();
  }

  get isBlocked(): boolean {
    return this.blocked;
  }

  /** Sends a response after everything pending, so responses keep their order. */
  send(resp: WatchResponse): void {
    if (this.closed) return;
    this.flush();
    if (!this.sink.send(resp)) this.blocked = true;
  }

  private flush(): void {
    if (this.pending.size === 0) return;
    const pending = this.pending;
    this.pending = new Map();
    // nextRev already moved past these events: they go out even if the sink fills up meanwhile.
    for (const [w, p] of pending) {
      if (this.closed) return;
      if (!this.sink.send({ revision: p.revision, watch_id: w.id, events: p.events })) this.blocked = true;
    }
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /** Delivers one committed revision's events to the synced watchers of this stream. */
  deliver(rev: number, events: KeyedEvent[], prev: number): void {
    if (this.blocked) return;
    for (const w of this.watchers.values()) {
      // Only a watcher that has seen everything before this revision takes it live.
      if (w.catchingUp || w.nextRev > rev || w.nextRev <= prev) continue;
      const mine: Event[] = [];
      for (const e of events) if (inRange(w.range, e.k) && w.wants(e.ev)) mine.push(w.prevKv ? e.ev : (e.bare ??= stripPrev(e.ev)));
      w.nextRev = rev + 1;
      if (mine.length > 0) {
        w.sentEvents = true;
        const p = this.pending.get(w);
        if (p) {
          p.revision = rev;
          for (const e of mine) p.events.push(e);
        } else {
          this.pending.set(w, { revision: rev, events: mine });
        }
        this.scheduleFlush();
      }
    }
  }

  /** Periodic progress for watchers that asked for it and heard nothing this interval. */
  progressTick(): void {
    if (this.blocked) return;
    for (const w of this.watchers.values()) {
      if (w.progressNotify && !w.sentEvents && this.isSynced(w)) {
        this.send({ revision: this.hub.index.revision, watch_id: w.id, events: NO_EVENTS });
      }
      w.sentEvents = false;
    }
  }

  close(): void {
    this.closed = true;
    this.pending.clear();
    this.watchers.clear();
    this.hub.streams.delete(this);
  }
}

const EMPTY = Buffer.alloc(0);

/** A DELETE event's kv, as etcd sends it: only the key and the revision of the delete. */
function deletedKv(key: Buffer, rev: number): KeyValue {
  return { key, create_revision: 0, mod_revision: rev, version: 0, value: EMPTY, lease: 0n };
}

/** An event with its key as a binary string, computed once for all watchers. */
interface KeyedEvent {
  k: string;
  ev: Event;
  /** The event without prev_kv, made once for every watcher that did not ask for it. */
  bare?: Event;
}

function stripPrev(e: Event): Event {
  return e.prev_kv ? { type: e.type, kv: e.kv } : e;
}

export class WatchHub {
  readonly streams = new Set<WatchStream>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly index: RevisionIndex,
    private readonly log: Logger,
    progressIntervalMs: number,
  ) {
    this.timer = setInterval(() => {
      for (const s of this.streams) s.progressTick();
    }, progressIntervalMs);
    this.timer.unref();
  }

  open(sink: WatchSink): WatchStream {
    const s = new WatchStream(this, sink);
    this.streams.add(s);
    return s;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    for (const s of [...this.streams]) s.close();
  }

  /**
   * Called once rows up to `upTo` are applied to the index (`prev` was the revision before).
   * Events are built once per revision and shared by every watcher.
   */
  notify(rows: LogRow[], prev: number): void {
    if (this.streams.size > 0) {
      let i = 0;
      while (i < rows.length) {
        const rev = rows[i].revision;
        const events: KeyedEvent[] = [];
        for (; i < rows.length && rows[i].revision === rev; i++) {
          const k = rows[i].key.toString('latin1');
          events.push({ k, ev: this.rowEvent(rows[i], k) });
        }
        for (const s of this.streams) s.deliver(rev, events, prev);
        prev = rev;
      }
    }
    for (const s of this.streams) s.maybeSendProgress();
  }

  /** After compaction: watchers that still need compacted history are told and dropped. */
  compacted(): void {
    for (const s of this.streams) {
      for (const w of [...s.watchers.values()]) if (!w.catchingUp && w.nextRev < this.index.compactRevision) this.cancelCompacted(s, w);
    }
  }

  /**
   * After the index was rebuilt from the database (this instance fell behind a compaction): a
   * watcher that still needed compacted revisions gets etcd's compacted cancel; every other one
   * behind the index catches up from the rebuilt history.
   */
  reloaded(): void {
    for (const s of this.streams) {
      for (const w of [...s.watchers.values()]) {
        if (w.nextRev < this.index.compactRevision) this.cancelCompacted(s, w);
        else if (w.nextRev <= this.index.revision) this.scheduleCatchUp(s, w);
      }
      s.maybeSendProgress();
    }
  }

  private cancelCompacted(s: WatchStream, w: Watcher): void {
    s.watchers.delete(w.id);
    // etcd's watchable store sends this response without a revision, so its header says 0.
    s.send({ revision: 0, watch_id: w.id, canceled: true, compact_revision: this.index.compactRevision, events: NO_EVENTS });
  }

  private rowEvent(row: LogRow, k: string): Event {
    if (row.deleted) {
      const kv = deletedKv(row.key, row.revision);
      return { type: EventType.DELETE, kv, prev_kv: this.prevOf(this.index.get(k), row.revision, row.sub, k) };
    }
    const kv = {
      key: row.key,
      create_revision: row.createRevision,
      mod_revision: row.revision,
      version: row.version,
      value: row.value,
      lease: row.lease,
    };
    const isCreate = row.createRevision === row.revision;
    return { type: EventType.PUT, kv, prev_kv: isCreate ? undefined : this.prevOf(this.index.get(k), row.revision, row.sub, k) };
  }

  /** The key's live version just before (rev, sub), as etcd reads prev_kv at rev-1. */
  private prevOf(h: KeyHistory | undefined, rev: number, sub: number, k: string): Event['prev_kv'] {
    if (!h) return undefined;
    const vs = h.versions;
    for (let i = vs.length - 1; i >= 0; i--) {
      const v = vs[i];
      if (v.main < rev || (v.main === rev && v.sub < sub)) return v.deleted ? undefined : toKeyValue(h.key, v);
    }
    return undefined;
  }

  scheduleCatchUp(s: WatchStream, w: Watcher): void {
    if (w.catchingUp) return;
    w.catchingUp = true;
    setImmediate(() => this.catchUp(s, w));
  }

  /** Sends history from w.nextRev in chunks until the watcher reaches the applied revision. */
  private catchUp(s: WatchStream, w: Watcher): void {
    w.catchingUp = false;
    if (s.closed || s.watchers.get(w.id) !== w) return;
    if (w.nextRev < this.index.compactRevision) {
      this.cancelCompacted(s, w);
      return;
    }
    if (s.isBlocked) return; // drained() resumes it
    const current = this.index.revision;
    const to = Math.min(current, w.nextRev + CATCH_UP_REVS - 1);
    const events = this.history(w, w.nextRev, to);
    w.nextRev = to + 1;
    if (events.length > 0) {
      w.sentEvents = true;
      s.send({ revision: current, watch_id: w.id, events });
    }
    if (w.nextRev <= this.index.revision) {
      if (!s.isBlocked) this.scheduleCatchUp(s, w);
    } else {
      s.maybeSendProgress();
    }
  }

  /** Events in [from, to] for the watcher's range, ordered by (revision, sub). */
  private history(w: Watcher, from: number, to: number): Event[] {
    const found: Array<{ v: Version; ev: Event }> = [];
    for (const h of this.index.histories(w.range)) {
      const vs = h.versions;
      for (let i = h.firstFrom(from); i < vs.length && vs[i].main <= to; i++) {
        const v = vs[i];
        const type = v.deleted ? EventType.DELETE : EventType.PUT;
        if (type === EventType.PUT ? w.noPut : w.noDelete) continue;
        const before = i > 0 && !vs[i - 1].deleted ? vs[i - 1] : undefined;
        const kv = v.deleted ? deletedKv(h.key, v.main) : toKeyValue(h.key, v);
        const isCreate = !v.deleted && v.createRevision === v.main;
        const prev_kv = w.prevKv && !isCreate && before ? toKeyValue(h.key, before) : undefined;
        found.push({ v, ev: { type, kv, prev_kv } });
      }
    }
    found.sort((a, b) => a.v.main - b.v.main || a.v.sub - b.v.sub);
    if (found.length > 0) this.log.debug({ watchId: w.id, from, to, events: found.length }, 'watch catch-up');
    return found.map((f) => f.ev);
  }
}
