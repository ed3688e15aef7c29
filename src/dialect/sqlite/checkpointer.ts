/**
 * WAL checkpoints on a worker thread. SQLite checkpoints by itself inside the COMMIT that takes the
 * WAL past its threshold, and better-sqlite3 runs that COMMIT on the event loop: copying the WAL
 * into the database and syncing both held every request for tens to hundreds of milliseconds,
 * most often during compaction and large txns. The worker's own connection checkpoints instead
 * (PASSIVE: it never waits for the writer or for readers), and the writer's automatic checkpoint
 * stays, at a larger threshold, for when the worker falls behind.
 */
import { Worker } from 'node:worker_threads';
import { modulePath } from '../load-module';

/** How often the worker checkpoints: the WAL stays a few megabytes at the fastest write rates. */
const EVERY_MS = 100;
/**
 * The writer's own automatic checkpoint, in pages (SQLite's default is 1,000). Under sustained
 * writes the WAL seldom restarts behind PASSIVE checkpoints (a commit lands before the worker is
 * done), so it grows to this: then the writer's checkpoint copies what the worker has not yet
 * (its last 100 ms or so) and the WAL starts over. 16 MiB of WAL at most.
 */
export const BACKSTOP_PAGES = 4_000;

interface Setup {
  module: string;
  file: string;
  busyTimeoutMs: number;
  everyMs: number;
}

/** The worker's body, run from its source text: it may use only what it requires itself. */
function checkpointLoop(): void {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { parentPort, workerData } = require('node:worker_threads') as typeof import('node:worker_threads');
  const setup = workerData as Setup;
  const Database = require(setup.module) as typeof import('better-sqlite3');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const db = new Database(setup.file, { timeout: setup.busyTimeoutMs, fileMustExist: true });
  let failing = '';
  const timer = setInterval(() => {
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
      failing = '';
    } catch (e) {
      // Tried again at the next tick, and the writer's backstop still runs: said once per failure.
      const message = (e as Error).message;
      if (message !== failing) parentPort?.postMessage({ error: message });
      failing = message;
    }
  }, setup.everyMs);
  parentPort?.on('message', () => {
    clearInterval(timer);
    db.close();
    parentPort?.close();
  });
}

export class Checkpointer {
  private readonly worker: Worker;
  private readonly exited: Promise<void>;

  constructor(file: string, busyTimeoutMs: number, onError: (message: string) => void) {
    const workerData: Setup = { module: modulePath('better-sqlite3'), file, busyTimeoutMs, everyMs: EVERY_MS };
    this.worker = new Worker(`(${checkpointLoop.toString()})()`, { eval: true, workerData });
    this.worker.on('message', (m: { error?: string }) => m.error && onError(m.error));
    this.worker.on('error', (e) => onError(e.message));
    // Never what keeps the process up.
    this.worker.unref();
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
  }

  /** Closes the worker's connection and waits for the thread to end. */
  async stop(): Promise<void> {
    // Held again: a process with nothing else left would otherwise exit before the thread ends.
    this.worker.ref();
    this.worker.postMessage('stop');
    await this.exited;
  }
}
