/**
 * Physical compaction: deletes the rows a compaction made unreachable, in windows of revisions,
 * each its own short transaction, so writers never wait long. Progress is kept in meta so a
 * restart resumes where it stopped.
 */
import type { Logger } from 'pino';
import type { Dialect } from '../dialect/dialect';
import { retryDelayMs, sleep } from './backoff';
import { META } from './meta';

/**
 * Log rows per window, adapted to keep each window near TARGET_MS: on SQLite a window blocks the
 * event loop, elsewhere it holds row locks. Counted in rows, not revisions: a revision holds one
 * row or hundreds (a txn), and a window sized on a run of single-row revisions would swallow the
 * next run of txns whole (a million rows in one statement after a load of a million keys).
 */
const FIRST_WINDOW = 1;
const MAX_WINDOW = 100_000;
/**
 * Where a window holds the event loop (SQLite): a row whose predecessor is deleted costs tens of
 * microseconds, one that has none (a key's first version) under one, so windows grown on a run of
 * first versions took 100-400 ms at the first run of overwrites. This many stay near 50 ms there.
 */
const MAX_BLOCKING_WINDOW = 2048;
const TARGET_MS = 10;
/** A compaction that takes longer than this reports its progress this often. */
const PROGRESS_EVERY_MS = 5000;
/**
 * How long a window that lost a conflict is tried again: another instance compacting the same rows
 * (a deadlock, or on Galera a lost certification) is no reason to give up the compaction.
 */
const WINDOW_RETRY_MS = 7_000;

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
      const t0 = performance.now();
      const upTo = await this.windowEnd(this.done, window);
      deleted += await this.window(this.done, upTo);
      const took = performance.now() - t0;
      window = nextWindow(window, took, this.dialect.capabilities.blocksEventLoop ? MAX_BLOCKING_WINDOW : MAX_WINDOW);
      this.done = upTo;
      if (Date.now() - lastReport >= PROGRESS_EVERY_MS) {
        lastReport = Date.now();
        this.log.info({ from, at: this.done, to: this.target, deleted, ms: lastReport - started }, 'compacting log rows');
      }
      await this.between(took);
    }
    if (this.done > from) this.log.info({ from, to: this.done, deleted, ms: Date.now() - started }, 'compacted log rows');
    if (deleted > 0 && !this.stopped) {
      // The compaction itself has committed; space not reclaimed now is reclaimed after the next one.
      await this.dialect.reclaim().catch((e: unknown) => this.log.warn({ err: e }, 'reclaiming compacted space failed'));
    }
  }

  /**
   * Lets queued requests in between windows. Where a window held the event loop (SQLite), the
   * loop stays free as long again: a request takes several turns of the loop (read, write queue,
   * commit, answer), and with a window in front of every turn each one waited for several windows.
   */
  private between(windowMs: number): Promise<void> {
    if (this.dialect.capabilities.blocksEventLoop) return new Promise((r) => setTimeout(r, windowMs));
    return new Promise((r) => setImmediate(r));
  }

  /** The last revision of a window after `after` holding at most `rows` rows, or one revision. */
  private async windowEnd(after: number, rows: number): Promise<number> {
    const next = await this.dialect.revisionAfterRows(after, rows);
    if (next === undefined || next > this.target) return this.target;
    // (after, next - 1] holds at most `rows` rows; a revision that alone holds more is its own window.
    return next - 1 > after ? next - 1 : next;
  }

  private async window(after: number, upTo: number): Promise<number> {
    const deadline = Date.now() + WINDOW_RETRY_MS;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.dialect.compactWindow(after, upTo, META.compactDone);
      } catch (e) {
        if (!this.dialect.isTransient(e) || Date.now() >= deadline) throw e;
        this.log.debug({ error: (e as Error).message, attempt: attempt + 1 }, 'compaction window failed; retrying');
        await sleep(retryDelayMs(attempt));
      }
    }
  }
}

/** Halves the window after a slow one, doubles it after a quick one, up to `max`. */
export function nextWindow(window: number, ms: number, max = MAX_WINDOW): number {
  if (ms > 2 * TARGET_MS) return Math.max(1, Math.floor(window / 2));
  if (ms < TARGET_MS / 2) return Math.min(max, window * 2);
  return Math.min(max, window);
}
