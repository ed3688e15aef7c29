/**
 * The wait before another attempt of a transaction that lost a conflict: random up to base × 2^attempt,
 * at most the cap ("full jitter"), so instances that lost to each other do not collide again in
 * step, and a loser is back soon.
 */
const RETRY_BASE_MS = 5;
const RETRY_CAP_MS = 250;

export function retryDelayMs(attempt: number): number {
  return Math.random() * Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** attempt);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
