/**
 * Start-up waits for the database as kine does: each failed attempt is retried with back-off
 * until --datastore-connect-timeout; each distinct reason is logged once, not every attempt. A
 * stop signal during the wait ends it at once (the caller exits 0).
 */
import type { Logger } from 'pino';

export class StartAborted extends Error {
  override name = 'StartAborted';
  constructor() {
    super('start-up stopped while waiting for the database');
  }
}

interface WaitOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  log: Logger;
  /** Whether a failure may pass with time (the server is not up yet), or is final (bad password, newer schema). */
  retryable(e: unknown): boolean;
  firstDelayMs?: number;
  maxDelayMs?: number;
}

export async function withConnectWait<T>(attempt: () => Promise<T>, o: WaitOptions): Promise<T> {
  const started = Date.now();
  const seen = new Set<string>();
  let delay = o.firstDelayMs ?? 250;
  for (let n = 1; ; n++) {
    if (o.signal?.aborted) throw new StartAborted();
    try {
      const out = await attempt();
      if (n > 1) o.log.info({ attempts: n, waitedMs: Date.now() - started }, 'database reachable; starting');
      return out;
    } catch (e) {
      const reason = (e as Error)?.message ?? String(e);
      const waited = Date.now() - started;
      if (!o.retryable(e) || waited + delay > o.timeoutMs) {
        if (n > 1) o.log.error({ attempts: n, waitedMs: waited, reason }, 'gave up waiting for the database');
        throw e;
      }
      if (!seen.has(reason)) {
        seen.add(reason);
        o.log.warn({ reason, attempt: n, timeoutMs: o.timeoutMs }, 'database not reachable yet; retrying');
      }
      await sleep(delay, o.signal);
      delay = Math.min(delay * 2, o.maxDelayMs ?? 5000);
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener('abort', abort);
      resolve();
    }
    function abort() {
      clearTimeout(timer);
      reject(new StartAborted());
    }
    signal?.addEventListener('abort', abort, { once: true });
  });
}
