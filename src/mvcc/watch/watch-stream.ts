/**
 * One client watch stream and its watchers. A watcher whose stream is keeping up gets each
 * committed revision as it is applied (synced); one that starts in the past, or whose stream's
 * buffer is full, replays from the index history in chunks (unsynced) and rejoins. A watcher whose
 * history was compacted away gets etcd's compacted response and is removed.
 */
import type { Logger } from 'pino';
import { WATCH_DUPLICATE_ID } from '../../errors';
import { keyRange } from '../key-range';
import type { RevisionIndex } from '../revision-index';
import type { Event, WatchCreate, WatchResponse, WatchSink, WatchStream as WatchStreamApi } from '../types';
import { forWatcher, historyEvents, matches, type SharedEvent } from './events';
import { Watcher } from './watcher';

/** Revisions a replay reads at once, so one slow watcher cannot stall the process. */
const REPLAY_REVS = 1000;
const NO_EVENTS: Event[] = [];

export class WatchStream implements WatchStreamApi {
  private readonly watchers = new Map<number, Watcher>();

  get watcherCount(): number {
    return this.watchers.size;
  }
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
  private closed = false;

  constructor(
    private readonly index: RevisionIndex,
    private readonly sink: WatchSink,
    private readonly log: Logger,
    private readonly onClose: (s: WatchStream) => void,
  ) {}

  /** Watchers and undelivered event batches the stream holds. */
  get held(): { watchers: number; pending: number } {
    return { watchers: this.watchers.size, pending: this.pending.size };
  }

  create(req: WatchCreate): void {
    const current = this.index.revision;
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
    if (w.nextRev <= current) this.scheduleReplay(w);
  }

  refuse(reason: string): void {
    this.send({ revision: this.index.revision, watch_id: -1, created: true, canceled: true, cancel_reason: reason, events: NO_EVENTS });
  }

  cancel(id: number): void {
    if (!this.watchers.delete(id)) return;
    this.send({ revision: this.index.revision, watch_id: id, canceled: true, events: NO_EVENTS });
  }

  requestProgress(): void {
    this.progressPending = true;
    this.maybeSendProgress();
  }

  drained(): void {
    if (!this.blocked || this.closed) return;
    this.blocked = false;
    for (const w of this.watchers.values()) if (w.nextRev <= this.index.revision) this.scheduleReplay(w);
    this.maybeSendProgress();
  }

  close(): void {
    this.closed = true;
    this.pending.clear();
    this.watchers.clear();
    this.onClose(this);
  }

  /** Delivers one committed revision's events (`prev` was the revision before it) to synced watchers. */
  deliver(rev: number, events: SharedEvent[], prev: number): void {
    if (this.blocked) return;
    for (const w of this.watchers.values()) {
      // Only a watcher that has seen everything before this revision takes it live.
      if (w.replaying || w.nextRev > rev || w.nextRev <= prev) continue;
      const mine: Event[] = [];
      for (const e of events) if (matches(e, w)) mine.push(forWatcher(e, w));
      w.nextRev = rev + 1;
      if (mine.length === 0) continue;
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

  /** Periodic progress for watchers that asked for it and heard nothing this interval. */
  progressTick(): void {
    if (this.blocked) return;
    for (const w of this.watchers.values()) {
      if (w.progressNotify && !w.sentEvents && this.isSynced(w)) {
        this.send({ revision: this.index.revision, watch_id: w.id, events: NO_EVENTS });
      }
      w.sentEvents = false;
    }
  }

  /** Answers a pending RequestProgress once every watcher is synced (watch_id -1, as etcd). */
  maybeSendProgress(): void {
    if (!this.progressPending) return;
    for (const w of this.watchers.values()) if (!this.isSynced(w)) return;
    this.progressPending = false;
    this.send({ revision: this.index.revision, watch_id: -1, events: NO_EVENTS });
  }

  /** After a compaction: watchers that still need compacted history are told and dropped. */
  compacted(): void {
    for (const w of [...this.watchers.values()]) if (!w.replaying && w.nextRev < this.index.compactRevision) this.cancelCompacted(w);
  }

  /**
   * After the index was rebuilt from the database: a watcher that still needed compacted revisions
   * gets etcd's compacted cancel; every other one behind the index replays from the new history.
   */
  reloaded(): void {
    for (const w of [...this.watchers.values()]) {
      if (w.nextRev < this.index.compactRevision) this.cancelCompacted(w);
      else if (w.nextRev <= this.index.revision) this.scheduleReplay(w);
    }
    this.maybeSendProgress();
  }

  private isSynced(w: Watcher): boolean {
    return !this.blocked && !w.replaying && w.nextRev > this.index.revision;
  }

  private cancelCompacted(w: Watcher): void {
    this.watchers.delete(w.id);
    // etcd's watchable store sends this response without a revision, so its header says 0.
    this.send({ revision: 0, watch_id: w.id, canceled: true, compact_revision: this.index.compactRevision, events: NO_EVENTS });
  }

  private scheduleReplay(w: Watcher): void {
    if (w.replaying) return;
    w.replaying = true;
    setImmediate(() => this.replay(w));
  }

  /** Sends history from w.nextRev in chunks until the watcher reaches the applied revision. */
  private replay(w: Watcher): void {
    w.replaying = false;
    if (this.closed || this.watchers.get(w.id) !== w) return;
    if (w.nextRev < this.index.compactRevision) return this.cancelCompacted(w);
    if (this.blocked) return; // drained() resumes it
    const current = this.index.revision;
    const to = Math.min(current, w.nextRev + REPLAY_REVS - 1);
    const events = historyEvents(this.index, w, w.nextRev, to);
    if (events.length > 0) this.log.debug({ watchId: w.id, from: w.nextRev, to, events: events.length }, 'watch replay');
    w.nextRev = to + 1;
    if (events.length > 0) {
      w.sentEvents = true;
      this.send({ revision: current, watch_id: w.id, events });
    }
    if (w.nextRev <= this.index.revision) {
      if (!this.blocked) this.scheduleReplay(w);
    } else {
      this.maybeSendProgress();
    }
  }

  /** Sends a response after everything pending, so responses keep their order. */
  private send(resp: WatchResponse): void {
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
}
