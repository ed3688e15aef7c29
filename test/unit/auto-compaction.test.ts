import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseConfig, parseDuration } from '../../src/config';
import { Errors } from '../../src/errors';
import { AutoCompactor, type AutoCompactionPolicy } from '../../src/mvcc/auto-compactor';
import { parseAutoCompaction } from '../../src/ops/compaction-config';

const parse = (raw: Parameters<typeof parseAutoCompaction>[0]) => parseAutoCompaction(raw, parseDuration);

describe('auto compaction flags', () => {
  it('is on by default: periodic, keeping five minutes', () => {
    expect(parseConfig({}).ops.autoCompaction).toEqual({ mode: 'periodic', retentionMs: 300_000 });
  });

  it("parses etcd's retention: bare hours or a duration (periodic), a count (revision); 0 disables", () => {
    expect(parse({ autoCompactionMode: 'periodic', autoCompactionRetention: '1' })).toEqual({ mode: 'periodic', retentionMs: 3_600_000 });
    expect(parse({ autoCompactionRetention: '1h30m' })).toEqual({ mode: 'periodic', retentionMs: 5_400_000 });
    expect(parse({ autoCompactionMode: 'periodic', autoCompactionRetention: '10m' })).toEqual({ mode: 'periodic', retentionMs: 600_000 });
    expect(parse({ autoCompactionMode: 'revision', autoCompactionRetention: '1000' })).toEqual({
      mode: 'revision',
      retention: 1000,
      intervalMs: 300_000,
    });
    expect(parse({ autoCompactionRetention: '0' })).toEqual({ mode: 'off' });
    expect(parse({ autoCompactionMode: 'revision', autoCompactionRetention: '0' })).toEqual({ mode: 'off' });
    // etcd's own default: a mode without a retention is off.
    expect(parse({ autoCompactionMode: 'periodic' })).toEqual({ mode: 'off' });
  });

  it("accepts kine's --compact-interval and --compact-min-retain (revision mode); interval 0 disables", () => {
    expect(parse({ compactInterval: '5m' })).toEqual({ mode: 'revision', retention: 1000, intervalMs: 300_000 });
    expect(parse({ compactInterval: '30s', compactMinRetain: '50' })).toEqual({ mode: 'revision', retention: 50, intervalMs: 30_000 });
    expect(parse({ compactInterval: '0' })).toEqual({ mode: 'off' });
    expect(parse({ compactInterval: '0s' })).toEqual({ mode: 'off' });
    expect(parse({ autoCompactionMode: 'revision', autoCompactionRetention: '7', compactInterval: '1s' })).toEqual({
      mode: 'revision',
      retention: 7,
      intervalMs: 1000,
    });
  });

  it('refuses what cannot take effect', () => {
    for (const raw of [
      { autoCompactionMode: 'hourly', autoCompactionRetention: '1' },
      { autoCompactionRetention: '-1' },
      { autoCompactionRetention: 'soon' },
      { autoCompactionMode: 'revision', autoCompactionRetention: '1h' },
      { autoCompactionMode: 'periodic', autoCompactionRetention: '1h', compactInterval: '1m' },
      { autoCompactionRetention: '1h', compactMinRetain: '10' },
      { compactMinRetain: 'x' },
    ]) {
      expect(() => parse(raw), JSON.stringify(raw)).toThrow(/invalid|cannot|applies/);
    }
  });
});

describe('auto compactor (etcd v3compactor rules, on a fake clock)', () => {
  let rev = 0;
  let compactRev = 0;
  let calls: number[] = [];
  let fail: Error | undefined;
  let c: AutoCompactor | undefined;
  const start = (policy: AutoCompactionPolicy) => {
    c = new AutoCompactor(policy, {
      revision: () => rev,
      compactRevision: () => compactRev,
      compact: (r) => {
        calls.push(r);
        if (fail) return Promise.reject(fail);
        compactRev = r;
        return Promise.resolve();
      },
      log: pino({ level: 'silent' }),
    });
    c.start();
  };
  beforeEach(() => {
    vi.useFakeTimers();
    rev = 1;
    compactRev = 0;
    calls = [];
    fail = undefined;
  });
  afterEach(async () => {
    await c?.stop();
    vi.useRealTimers();
  });
  /** Advances the clock in sample steps, writing `perStep` revisions in each. */
  const run = async (ms: number, stepMs: number, perStep: number) => {
    for (let t = 0; t < ms; t += stepMs) {
      rev += perStep;
      await vi.advanceTimersByTimeAsync(stepMs);
    }
  };

  it('periodic: samples every retention/10 and compacts to the revision of one retention ago', async () => {
    start({ mode: 'periodic', retentionMs: 10_000 });
    // 10 revisions per second: the first compaction waits one retention (10 s).
    await run(9_000, 1000, 10);
    expect(calls).toEqual([]);
    await run(1_000, 1000, 10);
    expect(calls).toHaveLength(1);
    // The oldest of 11 samples, one per second: the revision of 10 s ago (the first sample).
    expect(calls[0]).toBe(1);
    await run(10_000, 1000, 10);
    expect(calls).toHaveLength(2);
    expect(rev - calls[1]).toBeGreaterThanOrEqual(100);
    expect(rev - calls[1]).toBeLessThanOrEqual(110);
  });

  it('periodic over an hour: compacts hourly, keeping the full retention', async () => {
    start({ mode: 'periodic', retentionMs: 2 * 3_600_000 });
    // Samples every 6 minutes; 21 of them span two hours.
    await run(2 * 3_600_000 - 360_000, 360_000, 1);
    expect(calls.length).toBe(0);
    await run(360_000, 360_000, 1);
    expect(calls.length).toBe(1);
    await run(3_600_000, 360_000, 1);
    expect(calls.length).toBe(2);
    expect(rev - calls[1]).toBeGreaterThanOrEqual(20);
  });

  it('revision: every interval compacts to current − retention, never twice at one revision', async () => {
    start({ mode: 'revision', retention: 5, intervalMs: 1000 });
    rev = 3;
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toEqual([]);
    rev = 20;
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toEqual([15]);
    await vi.advanceTimersByTimeAsync(3000);
    expect(calls).toEqual([15]);
    rev = 30;
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toEqual([15, 25]);
  });

  it('coexists with client compactions: a target at or below the compact revision is skipped, "compacted" is success', async () => {
    start({ mode: 'revision', retention: 5, intervalMs: 1000 });
    rev = 20;
    compactRev = 18; // kube-apiserver compacted further already
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toEqual([]);
    rev = 40;
    fail = Errors.compacted(); // another instance won the race
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toEqual([35]);
    // Counted as done: not retried at the same revision.
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toEqual([35]);
  });

  it('retries a failed compaction at the next sample', async () => {
    start({ mode: 'revision', retention: 1, intervalMs: 1000 });
    rev = 10;
    fail = Errors.timeout();
    await vi.advanceTimersByTimeAsync(1000);
    fail = undefined;
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toEqual([9, 9]);
    expect(compactRev).toBe(9);
  });
});
