/**
 * The log follower over a real SQLite file: what another instance committed (rows, lease changes,
 * a compaction) reaches memory in order — leases first, rows in revision windows, the compaction
 * last — and falling behind a compaction means a reload, never a row-by-row catch-up.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseEndpoint, type SqliteEndpoint } from '../../src/config';
import { SqliteDialect } from '../../src/dialect/sqlite/dialect';
import { Follower } from '../../src/log/follower';
import { MARKS, marksFrom, META, type Marks } from '../../src/log/meta';
import { openSchema } from '../../src/log/schema';
import type { AuthSnapshot, LeaseRow, LogFollower, LogRow, SnapshotBuild } from '../../src/log/types';

/** Memory as the follower sees it: records every call, in order. */
class Recorder implements LogFollower {
  applied = 1;
  compacted = -1;
  calls: string[] = [];
  appliedRevision(): number {
    return this.applied;
  }
  compactRevision(): number {
    return this.compacted;
  }
  applyRemote(rows: LogRow[], upTo: number): void {
    this.calls.push(`rows ${rows.map((r) => r.revision).join(',')} upTo ${upTo}`);
    this.applied = upTo;
  }
  syncLeases(leases: LeaseRow[]): void {
    this.calls.push(`leases ${leases.map((l) => l.id).join(',')}`);
  }
  syncAuth(auth: AuthSnapshot): void {
    this.calls.push(`auth ${auth.marks.revision}`);
  }
  compactRemote(revision: number): void {
    this.calls.push(`compact ${revision}`);
    this.compacted = revision;
  }
  rebuild(): SnapshotBuild {
    return { add: () => undefined, finish: (s) => void this.calls.push(`restore ${s.revision}`) };
  }
}

const row = (revision: number): LogRow => ({
  revision,
  sub: 0,
  key: Buffer.from(`k${revision}`),
  createRevision: revision,
  prevRevision: 0,
  version: 1,
  lease: 0n,
  value: Buffer.from('v'),
  deleted: false,
});

describe('follower', () => {
  let dir: string;
  let dialect: SqliteDialect;
  const marks = async (): Promise<Marks> => marksFrom(await dialect.readMeta(MARKS));
  /** What another instance's batch would commit: rows up to `upTo`, leases and marks. */
  const commit = (upTo: number, extra: Record<string, string> = {}, leases: LeaseRow[] = []) =>
    dialect.write(async (tx) => {
      const from = marksFrom((await tx.lockMeta(MARKS)).values).revision;
      const rows = [];
      for (let r = from + 1; r <= upTo; r++) rows.push(row(r));
      if (rows.length > 0) await tx.insertRows(rows);
      if (leases.length > 0) await tx.upsertLeases(leases);
      await tx.setMeta({ [META.revision]: String(upTo), ...extra });
    });

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'strata-follower-'));
    dialect = new SqliteDialect(parseEndpoint(`sqlite://${path.join(dir, 'state.db')}`) as SqliteEndpoint);
    await openSchema(dialect);
  });
  afterEach(async () => {
    await dialect.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies leases first, then rows in windows of 1,000 revisions, then the compaction', async () => {
    const memory = new Recorder();
    const f = new Follower(memory, async () => void memory.calls.push('reload'));
    f.leaseStamp = '0';
    f.authMarks = { revision: 1, enabledAt: 0 };
    await commit(2500, { [META.leaseStamp]: 'other.1', [META.compactRevision]: '1' }, [{ id: 9n, ttl: 10, expiresAt: 1 }]);
    const m = await marks();
    expect(f.behind(m)).toBe(true);
    await f.exclusive(() => f.advance(dialect, m));
    const counted = memory.calls.map((c) => c.replace(/^rows ([\d,]+) /, (_, revs: string) => `${revs.split(',').length} rows `));
    expect(counted).toEqual(['leases 9', '1000 rows upTo 1001', '1000 rows upTo 2001', '499 rows upTo 2500', 'compact 1']);
    expect(f.leaseStamp).toBe('other.1');
    expect(f.behind(m)).toBe(false);
  });

  it('a lease change alone (no new revision) is followed through the lease stamp', async () => {
    const memory = new Recorder();
    const f = new Follower(memory, async () => void memory.calls.push('reload'));
    f.leaseStamp = '0';
    f.authMarks = { revision: 1, enabledAt: 0 };
    expect(f.behind(await marks())).toBe(false);
    await commit(1, { [META.leaseStamp]: 'other.2' }, [{ id: 4n, ttl: 5, expiresAt: 1 }]);
    const m = await marks();
    expect(f.behind(m)).toBe(true);
    await f.exclusive(() => f.advance(dialect, m));
    expect(memory.calls).toEqual(['leases 4']);
  });

  it('an auth change alone (no new revision) is followed through the auth marks, before any row', async () => {
    const memory = new Recorder();
    const f = new Follower(memory, async () => void memory.calls.push('reload'));
    f.leaseStamp = '0';
    f.authMarks = { revision: 1, enabledAt: 0 };
    await commit(1, { [META.authRevision]: '2' });
    const m = await marks();
    expect(m.auth).toEqual({ revision: 2, enabledAt: 0 });
    expect(f.behind(m)).toBe(true);
    await f.exclusive(() => f.advance(dialect, m));
    expect(memory.calls).toEqual(['auth 2']);
    expect(f.behind(m)).toBe(false);
    await commit(3, { [META.authEnabled]: '2' });
    const m2 = await marks();
    await f.exclusive(() => f.advance(dialect, m2));
    expect(memory.calls).toEqual(['auth 2', 'auth 2', 'rows 2,3 upTo 3']);
    expect(f.authMarks).toEqual({ revision: 2, enabledAt: 2 });
  });

  it('reloads instead of following rows when the compaction is past what memory applied', async () => {
    const memory = new Recorder();
    const reloads: Marks[] = [];
    const f = new Follower(memory, async (at) => void reloads.push(at));
    f.leaseStamp = '0';
    f.authMarks = { revision: 1, enabledAt: 0 };
    await commit(10, { [META.compactRevision]: '8' });
    const m = await marks();
    await f.exclusive(() => f.advance(dialect, m));
    expect(reloads.map((r) => r.compactRevision)).toEqual([8]);
    expect(memory.calls).toEqual([]);
  });

  it('reloads when a compaction commits between reading the marks and reading the rows', async () => {
    const memory = new Recorder();
    const reloads: Marks[] = [];
    const f = new Follower(memory, async (at) => void reloads.push(at));
    f.leaseStamp = '0';
    f.authMarks = { revision: 1, enabledAt: 0 };
    await commit(10);
    const before = await marks();
    const recheck = async () => {
      await commit(12, { [META.compactRevision]: '11' });
      return marks();
    };
    await f.exclusive(() => f.advance(dialect, before, recheck));
    expect(reloads.map((r) => [r.revision, r.compactRevision])).toEqual([[12, 11]]);
    expect(memory.calls).toEqual([]);
  });

  it('runs exclusive sections one at a time, in order, also after one fails', async () => {
    const f = new Follower(new Recorder(), async () => undefined);
    const order: string[] = [];
    const slow = f.exclusive(async () => {
      await new Promise((r) => setTimeout(r, 20));
      order.push('first');
      throw new Error('boom');
    });
    const next = f.exclusive(async () => void order.push('second'));
    await expect(slow).rejects.toThrow('boom');
    await next;
    expect(order).toEqual(['first', 'second']);
  });
});
