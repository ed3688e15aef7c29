/**
 * Watches, fed from the applied log: every committed revision — local or another instance's —
 * reaches the hub once, in revision order; its events are built once and fanned out to every
 * stream. Streams replay what they missed from the index history on their own.
 */
import type { Logger } from 'pino';
import { livePrev, type Change, type RevisionIndex } from '../revision-index';
import type { WatchSink } from '../types';
import { eventOf, type SharedEvent } from './events';
import { WatchStream } from './watch-stream';

export class WatchHub {
  private readonly streams = new Set<WatchStream>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly index: RevisionIndex,
    private readonly log: Logger,
    progressIntervalMs: number,
  ) {
    this.timer = setInterval(() => {
      for (const s of this.streams) s.progressTick();
    }, progressIntervalMs);
    this.timer.unref();
  }

  /** Streams open now (a closed stream holds nothing here). */
  get openStreams(): number {
    return this.streams.size;
  }

  open(sink: WatchSink): WatchStream {
    const s = new WatchStream(this.index, sink, this.log, (closed) => this.streams.delete(closed));
    this.streams.add(s);
    return s;
  }

  stop(): void {
    clearInterval(this.timer);
    for (const s of [...this.streams]) s.close();
  }

  /**
   * Called once `changes` are applied to the index (`prev` was the revision before them), in
   * revision order; one revision's events are built once and shared by every watcher.
   */
  notify(changes: readonly Change[], prev: number): void {
    if (this.streams.size > 0) {
      for (let i = 0; i < changes.length;) {
        const rev = changes[i].row.revision;
        const events: SharedEvent[] = [];
        for (; i < changes.length && changes[i].row.revision === rev; i++) {
          const c = changes[i];
          events.push({ k: c.h.k, ev: eventOf(c.row, livePrev(c), true) });
        }
        for (const s of this.streams) s.deliver(rev, events, prev);
        prev = rev;
      }
    }
    for (const s of this.streams) s.maybeSendProgress();
  }

  /** Open streams and their watchers (etcd_debugging_mvcc_watch_stream_total / watcher_total). */
  counts(): { streams: number; watchers: number } {
    let watchers = 0;
    for (const s of this.streams) watchers += s.watcherCount;
    return { streams: this.streams.size, watchers };
  }

  compacted(): void {
    for (const s of this.streams) s.compacted();
  }

  reloaded(): void {
    for (const s of this.streams) s.reloaded();
  }
}
