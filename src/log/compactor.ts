/**
 * Physical compaction: deletes the rows a compaction made unreachable, in windows of revisions,
 * each its own short transaction, so writers never wait long. Progress is kept in meta so a
 * restart resumes where it stopped.
 */
import type { Logger } from 'pino';
import type { Dialect } from '../dialect/dialect';
import { META } from './meta';

/**
 * Revisions per window, adapted to keep each window near TARGET_MS: on SQLite a window blocks the
 * event loop, elsewhere it holds row locks, and a revision may hold one row or hundreds (a txn).
 */
const FIRST_WINDOW = 1;
const MAX_WINDOW = 100_000;
const TARGET_MS = 10;
/** A compaction that takes longer than this reports its progress this often. */
const PROGRESS_EVERY_MS = 5000;

export class Compactor {
  /** Revision up to which rows have been deleted. */
  private done = 0;
  private target = 0;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly dialect: Dialect,
    private readonly log: Logger,
  ) {}

  async init(): Promise<void> {
    this.done = Number((await this.dialect.getMeta(META.compactDone)) ?? '0');
  }

  /** Stops after the window in progress; what is left resumes at the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running?.catch(() => undefined);
  }

  /** Asks for rows up to `rev` to be removed; resolves when they are. */
  compactTo(rev: number): Promise<void> {
    this.target = Math.max(this.target, rev);
    if (!this.running) {
      this.running = this.run().finally(() => (this.running = null));
      return this.running;
    }
    // A run is under way; chain one more pass for the new target.
    return this.running.then(() => this.compactTo(rev));
  }

  private async run(): Promise<void> {
    const started = Date.now();
    let deleted = 0;
    const from = this.done;
    let lastReport = started;
    let window = FIRST_WINDOW;
    while (this.done < this.target && !this.stopped) {
      const upTo = Math.min(this.target, this.done + window);
      const t0 = performance.now();
      deleted += await this.dialect.compactWindow(this.done, upTo, META.compactDone);
      window = nextWindow(window, performance.now() - t0);
      this.done = upTo;
      if (Date.now() - lastReport >= PROGRESS_EVERY_MS) {
        lastReport = Date.now();
        this.log.info({ from, at: this.done, to: this.target, deleted, ms: lastReport - started }, 'compacting log rows');
      }
      // Let queued requests in between windows.
      await new Promise((r) => setImmediate(r));
    }
    if (this.done > from) this.log.info({ from, to: this.done, deleted, ms: Date.now() - started }, 'compacted log rows');
    if (deleted > 0 && !this.stopped) {
      // The compaction itself has committed; space not reclaimed now is reclaimed after the next one.
      await this.dialect.reclaim().catch((e: unknown) => this.log.warn({ err: e }, 'reclaiming compacted space failed'));
    }
  }
}

/** Halves the window after a slow one, doubles it after a quick one. */
export function nextWindow(window: number, ms: number): number {
  if (ms > 2 * TARGET_MS) return Math.max(1, Math.floor(window / 2));
  if (ms < TARGET_MS / 2) return Math.min(MAX_WINDOW, window * 2);
  return window;
}
