// HashKV computed from strata's log rows equals what real etcd answers for the same history, at
// every revision: before any compaction, after one (from rows strata's compactor has already
// deleted, and from the full history as if it had not run yet), when every key is deleted (etcd
// then hashes what compaction left at or below the compact revision), and after a second one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogRow } from '../../src/log/types';
import { hashKV } from '../../src/snapshot/hash-kv';
import { b, createClient, type EtcdClient } from '../helpers/client';
import { waitFor } from '../helpers/ports';
import { ETCD_BIN, haveTool, startEtcd, startStrata, type Server } from '../helpers/servers';
import { phaseOne, phaseTwo, readStrataLog, revision } from '../helpers/snapshot-history';

const haveEtcd = haveTool(ETCD_BIN, 'etcd');

describe.skipIf(!haveEtcd)('HashKV: strata rows against real etcd', () => {
  let etcd: Server;
  let strata: Server;
  let ce: EtcdClient;
  let cs: EtcdClient;
  const both = async (fn: (c: EtcdClient) => Promise<unknown>) => {
    for (const c of [ce, cs]) await fn(c);
  };
  const etcdHash = async (rev: number) => {
    const r = await ce.maintenance.HashKV({ revision: rev });
    return { hash: Number(r.hash), compactRevision: Number(r.compact_revision) };
  };
  /** Waits for strata's compactor, then its rows and marks. */
  const compactedLog = async (at: number) => {
    await waitFor(async () => (await readStrataLog(strata.dataDir)).compactDone >= at, 10_000, 'strata physical compaction');
    const log = await readStrataLog(strata.dataDir);
    expect(log.compactRevision).toBe(at);
    return log;
  };
  /** etcd's and strata's hashes at each revision in [from, to]. */
  const compare = async (rows: LogRow[], from: number, to: number, compactRevision: number) => {
    const got: string[] = [];
    const want: string[] = [];
    for (let r = from; r <= to; r++) {
      want.push(`${r}: ${(await etcdHash(r)).hash}`);
      got.push(`${r}: ${await hashKV(() => rows, r, compactRevision)}`);
    }
    expect(got).toEqual(want);
  };

  beforeAll(async () => {
    [etcd, strata] = await Promise.all([startEtcd(), startStrata()]);
    ce = createClient(etcd.address);
    cs = createClient(strata.address);
  });

  afterAll(async () => {
    ce?.close();
    cs?.close();
    for (const s of [etcd, strata]) {
      if (!s) continue;
      await s.stop();
      s.cleanup();
    }
  });

  it('agrees at every revision, through two compactions and a keyspace emptied in between', async () => {
    expect((await etcdHash(0)).hash).toBe(await hashKV(() => [], 1, -1)); // the empty store
    await both(phaseOne);
    const c1 = await revision(ce);
    expect(await revision(cs)).toBe(c1);
    const before = await readStrataLog(strata.dataDir);
    await compare(before.rows, 1, c1, -1);
    expect((await etcdHash(0)).hash).toBe(await hashKV(() => before.rows, c1, -1));

    await both((c) => c.kv.Compact({ revision: c1, physical: true }));
    await both(phaseTwo);
    const r2 = await revision(ce);
    const afterFirst = await compactedLog(c1);
    expect(afterFirst.rows.length).toBeLessThan(before.rows.length + (r2 - c1) * 100);
    expect((await etcdHash(r2)).compactRevision).toBe(c1);
    await compare(afterFirst.rows, c1 + 1, r2, c1);
    // The same hashes from the rows as they were before strata's compactor deleted any.
    const full = [...before.rows, ...afterFirst.rows.filter((r) => r.revision > c1)];
    await compare(full, c1 + 1, r2, c1);

    // Every key deleted: at the last revision etcd's keep set is empty and nothing is skipped.
    await both((c) => c.kv.DeleteRange({ key: b('\u0000'), range_end: b('\u0000') }));
    const r3 = await revision(ce);
    const emptied = await readStrataLog(strata.dataDir);
    await compare(emptied.rows, r3 - 1, r3, c1);

    await both((c) => c.kv.Compact({ revision: r3, physical: true }));
    await both((c) => c.kv.Put({ key: b('z'), value: b('last') }));
    await both((c) => c.kv.Put({ key: b('z'), value: b('really last') }));
    const r4 = await revision(ce);
    const afterSecond = await compactedLog(r3);
    await compare(afterSecond.rows, r3 + 1, r4, r3);
  });
});
