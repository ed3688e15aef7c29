// A strata history written out as an etcd snapshot, judged by real etcd: `etcdctl snapshot status`
// reads it, its key and lease buckets are byte-identical to etcd's own snapshot of the same history,
// `etcdctl snapshot restore` turns it into a data dir, and an etcd started there serves what strata
// served: every key at every retained revision, the compaction, the leases.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BoltReader } from '../../src/bbolt/reader';
import type { EtcdBackendInput } from '../../src/snapshot/backend-writer';
import { snapshotStatus } from '../../src/snapshot/status';
import { writeSnapshotFile } from '../../src/snapshot/snapshot-file';
import { b, createClient, type EtcdClient } from '../helpers/client';
import { freePort, waitFor } from '../helpers/ports';
import { ETCDCTL_BIN, ETCD_BIN, etcdctl, haveTool, startEtcd, startStrata, type Server } from '../helpers/servers';
import { boltCheck, buildBboltCheck } from '../helpers/bbolt-check';
import { leaseState, phaseOne, phaseTwo, rangeAll, readStrataLog, revision, type StrataLog } from '../helpers/snapshot-history';

const haveEtcd = haveTool(ETCD_BIN, 'etcd') && haveTool(ETCDCTL_BIN, 'etcdctl');

function ctl(args: string[]): string {
  const r = spawnSync(ETCDCTL_BIN, args, { env: { ...process.env, ETCDCTL_API: '3' }, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`etcdctl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** A bucket's pairs as hex, read with strata's bbolt reader. */
async function bucketHex(file: string, name: string): Promise<string[]> {
  const r = await BoltReader.open(file);
  try {
    const ref = await r.bucket(name);
    const out: string[] = [];
    if (ref) for await (const e of r.entries(ref)) out.push(`${e.key.toString('hex')}=${e.value.toString('hex')}`);
    return out;
  } finally {
    await r.close();
  }
}

describe.skipIf(!haveEtcd)('strata history → etcd snapshot → real etcd', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'strata-snapshot-e2e-'));
  const snapshot = path.join(dir, 'strata.snapshot');
  let etcd: Server;
  let strata: Server;
  let restored: Server | undefined;
  let ce: EtcdClient;
  let cs: EtcdClient;
  let compactAt: number;
  let rev: number;
  let log: StrataLog;
  /** Every row strata wrote, as if its compactor had not run yet. */
  let uncompacted: StrataLog;
  /** What strata served: every key at each revision from the compaction on, and its leases. */
  const served = new Map<number, string[]>();
  let leases: string[];
  const snapshotInput = (l: StrataLog): EtcdBackendInput => ({
    revision: l.revision,
    compactRevision: l.compactRevision,
    rows: () => l.rows,
    leases: l.leases,
    member: { id: l.memberId, name: 'default', peerURLs: [], clientURLs: [strata.url] },
    serverVersion: '3.5.21',
    term: 1,
  });

  beforeAll(async () => {
    [etcd, strata] = await Promise.all([startEtcd(), startStrata()]);
    ce = createClient(etcd.address);
    cs = createClient(strata.address);
    for (const c of [ce, cs]) await phaseOne(c);
    compactAt = await revision(cs);
    expect(await revision(ce)).toBe(compactAt);
    const before = await readStrataLog(strata.dataDir);
    for (const c of [ce, cs]) await c.kv.Compact({ revision: compactAt, physical: true });
    for (const c of [ce, cs]) await phaseTwo(c);
    rev = await revision(cs);
    expect(await revision(ce)).toBe(rev);
    for (let r = compactAt; r <= rev; r++) served.set(r, await rangeAll(cs, r));
    leases = await leaseState(cs);
    await waitFor(async () => (await readStrataLog(strata.dataDir)).compactDone >= compactAt, 10_000, 'strata physical compaction');
    log = await readStrataLog(strata.dataDir);
    expect(log.revision).toBe(rev);
    expect(log.compactRevision).toBe(compactAt);
    uncompacted = { ...log, rows: [...before.rows, ...log.rows.filter((r) => r.revision > compactAt)] };
    expect(uncompacted.rows.length).toBeGreaterThan(log.rows.length);
    await writeSnapshotFile(snapshot, snapshotInput(log));
  }, 120_000);

  afterAll(async () => {
    ce?.close();
    cs?.close();
    for (const s of [etcd, strata, restored]) {
      if (!s) continue;
      await s.stop();
      s.cleanup();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('is a bbolt file real bbolt checks clean', () => {
    const bin = buildBboltCheck();
    if (!bin) return;
    const dump = boltCheck(bin, snapshot, { pairs: false });
    expect(dump.errors).toEqual([]);
    expect(dump.buckets.map((x) => Buffer.from(x.name, 'hex').toString())).toEqual([
      'alarm',
      'auth',
      'authRoles',
      'authUsers',
      'cluster',
      'key',
      'lease',
      'members',
      'members_removed',
      'meta',
    ]);
  });

  it('etcdctl snapshot status reads it: the revision, the pairs, the hash strata computes', async () => {
    const status = JSON.parse(ctl(['snapshot', 'status', snapshot, '-w', 'json']));
    expect(status).toEqual(await snapshotStatus(snapshot));
    expect(status.revision).toBe(rev);
  });

  it("holds the same key and lease buckets, byte for byte, as etcd's own snapshot of the same history", async () => {
    const theirs = path.join(dir, 'etcd.snapshot');
    ctl(['--endpoints', etcd.address, 'snapshot', 'save', theirs]);
    expect(await bucketHex(snapshot, 'key')).toEqual(await bucketHex(theirs, 'key'));
    expect(await bucketHex(snapshot, 'lease')).toEqual(await bucketHex(theirs, 'lease'));
    const meta = (f: string) => bucketHex(f, 'meta').then((m) => m.filter((e) => /^(66|73)/.test(e))); // finished…/scheduled…
    expect(await meta(snapshot)).toEqual(await meta(theirs));
    // And etcdctl agrees on both: the same revision; strata's meta bucket has one key more (3.5's term).
    const mine = JSON.parse(ctl(['snapshot', 'status', snapshot, '-w', 'json']));
    const etcds = JSON.parse(ctl(['snapshot', 'status', theirs, '-w', 'json']));
    expect(mine.revision).toBe(etcds.revision);
    expect(mine.totalKey).toBe(etcds.totalKey + 1);
  });

  it('keeps exactly the rows compaction leaves, whether or not strata has deleted the others yet', async () => {
    const other = path.join(dir, 'uncompacted.snapshot');
    await writeSnapshotFile(other, snapshotInput(uncompacted));
    const keys = await bucketHex(snapshot, 'key');
    expect(keys.length).toBeGreaterThan(2000);
    expect(await bucketHex(other, 'key')).toEqual(keys);
  });

  it('restores into a data dir on which real etcd serves what strata served', async () => {
    const dataDir = path.join(dir, 'restored');
    const [cport, pport] = [await freePort(), await freePort()];
    const peer = `http://127.0.0.1:${pport}`;
    ctl([
      'snapshot',
      'restore',
      snapshot,
      '--data-dir',
      dataDir,
      '--name',
      'default',
      '--initial-cluster',
      `default=${peer}`,
      '--initial-advertise-peer-urls',
      peer,
    ]);
    restored = await startEtcd({ dataDir, ports: [cport, pport] });
    const cr = createClient(restored.address);
    try {
      expect(await revision(cr)).toBe(rev);
      // Reads at the compact revision itself still work (etcd refuses only those below it).
      for (let r = compactAt; r <= rev; r++) expect({ r, kvs: await rangeAll(cr, r) }).toEqual({ r, kvs: served.get(r) });
      expect(await rangeAll(cr)).toEqual(served.get(rev));
      await expect(cr.kv.Range({ key: b('a'), revision: compactAt - 1 })).rejects.toThrow(
        'etcdserver: mvcc: required revision has been compacted',
      );
      expect(await leaseState(cr)).toEqual(leases);
      // The restored member goes on from strata's revision.
      const put = await cr.kv.Put({ key: b('after-restore'), value: b('1') });
      expect(Number(put.header.revision)).toBe(rev + 1);
      expect(etcdctl(restored.address, ['endpoint', 'health']).code).toBe(0);
    } finally {
      cr.close();
    }
  });
});
