import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { parseCli } from '../../src/cli';
import { ConfigError, parseConfig } from '../../src/config';
import { othersLease, SoloLease } from '../../src/log/solo';

const silent = pino({ level: 'silent' });
const PG = 'postgres://u@h/db';
const MYSQL = 'mysql://root@tcp(127.0.0.1:3306)/db';

describe('--solo-reads', () => {
  it('defaults to on where it can take effect; on and off are taken; anything else is a configuration error', () => {
    expect(parseConfig({ endpoint: PG }).soloReads).toEqual({ on: undefined, quietMs: 30_000 });
    expect(parseConfig({ endpoint: MYSQL, soloReads: 'ON' }).soloReads.on).toBe(true);
    expect(parseConfig({ endpoint: 'sqlite://./x.db', soloReads: 'off' }).soloReads.on).toBe(false);
    expect(() => parseConfig({ endpoint: PG, soloReads: 'yes' })).toThrow(ConfigError);
  });

  it('on where it cannot take effect is a start-up error: SQLite, Galera, distributed SQL, --writer-election=on', () => {
    for (const endpoint of ['sqlite://./x.db', 'galera://root@tcp(h:3306)/db', 'cockroachdb://root@h/db', 'tidb://root@tcp(h:4000)/db']) {
      expect(() => parseConfig({ endpoint, soloReads: 'on' }), endpoint).toThrow(/needs a PostgreSQL, MySQL or MariaDB endpoint/);
    }
    expect(() => parseConfig({ endpoint: MYSQL, soloReads: 'on', writerElection: 'on' })).toThrow(/--writer-election=on/);
    expect(parseConfig({ endpoint: MYSQL, writerElection: 'on' }).soloReads.on).toBeUndefined();
  });

  it('is a flag and an environment variable, with its quiet period', () => {
    const r = parseCli(['--endpoint', PG, '--solo-reads', 'off', '--solo-reads-quiet-period', '5s'], {}, '0.0.0');
    expect(r.kind === 'run' && r.config.soloReads).toEqual({ on: false, quietMs: 5000 });
    const e = parseCli(['--endpoint', 'sqlite://./x.db'], { STRATA_SOLO_READS: 'on' }, '0.0.0');
    expect(e.kind).toBe('exit');
  });
});

describe('solo lease under the fence', () => {
  const lease = (quietMs = 0) =>
    new SoloLease('me', { enabled: true, ttlMs: 2000, quietMs, startupWatchMs: quietMs }, silent, () => Promise.resolve());

  it("another instance's standing lease is revoked and waited out; an ended one is cleared by the commit", () => {
    expect(othersLease('', 'me', 1000)).toBeUndefined();
    expect(othersLease('me:5000:0', 'me', 1000)).toBeUndefined();
    expect(othersLease('it:5000:0', 'me', 1000)).toEqual({ kind: 'wait', write: 'it:5000:1', waitMs: 4000 });
    expect(othersLease('it:5000:1', 'me', 1000)).toEqual({ kind: 'wait', write: undefined, waitMs: 4000 });
    expect(othersLease('it:5000:1', 'me', 5000)).toEqual({ kind: 'commit', write: '' });
    expect(othersLease('it:5000:0', 'me', 6000)).toEqual({ kind: 'commit', write: '' });
  });

  it('is taken only when wanted, caught up and quiet, with a validity short of its end by the margin', () => {
    const solo = lease();
    // No linearizable read asked for it yet.
    expect(solo.underFence('', 1000, 0, true)).toEqual({ kind: 'commit', write: undefined });
    expect(solo.serves(true)).toBe(false);
    expect(solo.underFence('', 1000, 0, false)).toEqual({ kind: 'commit', write: undefined });
    const startedAt = performance.now();
    const turn = solo.underFence('', 1000, startedAt, true);
    expect(turn).toEqual({ kind: 'commit', write: 'me:3000:0', validUntil: startedAt + 2000 - 300 });
    solo.committed(turn);
    expect(solo.holding).toBe(true);
    expect(solo.serves(true)).toBe(true);
    // A batch of its own in flight: the fence is read.
    expect(solo.serves(false)).toBe(false);
  });

  it('is not taken before the quiet period; ends at once on a revoke, on another instance at work, or on a row that no longer names it', () => {
    const solo = lease(60_000);
    solo.serves(true);
    expect(solo.underFence('', 1000, performance.now(), true).write).toBeUndefined();
    const fresh = lease();
    fresh.serves(true);
    fresh.committed(fresh.underFence('', 1000, performance.now(), true));
    expect(fresh.holding).toBe(true);
    expect(fresh.underFence('me:3000:1', 1500, performance.now(), true)).toEqual({ kind: 'commit' });
    expect(fresh.holding).toBe(false);
    const again = lease();
    again.serves(true);
    again.committed(again.underFence('', 1000, performance.now(), true));
    again.observe('', performance.now());
    expect(again.holding).toBe(false);
    const third = lease();
    third.serves(true);
    third.committed(third.underFence('', 1000, performance.now(), true));
    third.sawForeign('test');
    expect(third.holding).toBe(false);
    // However short the flag, the quiet period is two TTLs: the revoker commits before the lease is taken again.
    third.serves(true);
    expect(third.underFence('', 2000, performance.now(), true)).toEqual({ kind: 'commit', write: undefined });
  });
});
