// Reading real etcd's backend: a `snapshot save` file and the data dir's member/snap/db, written by
// etcd 3.4 after a history with txns, deletes, leases and a compaction. The rows read back are the
// rows strata wrote for the same history (less what compaction removed, and prev_revision only
// where etcd still holds that row), every revision etcd serves can be rebuilt from them, and the
// revision, compaction and leases are etcd's.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogRow } from '../../src/log/types';
import { EtcdBackendReader } from '../../src/snapshot/backend-reader';
import type { LeaseRecord } from '../../src/snapshot/key-value';
import { createClient, type EtcdClient, type Msg } from '../helpers/client';
import { waitFor } from '../helpers/ports';
import { ETCDCTL_BIN, ETCD_BIN, haveTool, startEtcd, startStrata, type Server } from '../helpers/servers';
import { phaseOne, phaseTwo, rangeAll, readStrataLog, revision } from '../helpers/snapshot-history';

const haveEtcd = haveTool(ETCD_BIN, 'etcd') && haveTool(ETCDCTL_BIN, 'etcdctl');

interface Read {
  revision: number;
  compactRevision: number;
  rows: LogRow[];
  leases: LeaseRecord[];
}

async function readBackend(file: string): Promise<Read> {
  const r = await EtcdBackendReader.open(file);
  try {
    const rows: LogRow[] = [];
    for await (const row of r.rows()) rows.push(row);
    const leases: LeaseRecord[] = [];
    for await (const l of r.leases()) leases.push(l);
    return { revision: r.revision, compactRevision: r.compactRevision, rows, leases };
  } finally {
    await r.close();
  }
}

/** Every key at `rev` rebuilt from rows, in the form rangeAll prints. */
function stateAt(rows: LogRow[], rev: number): string[] {
  const live = new Map<string, LogRow>();
  for (const r of rows) {
    if (r.revision > rev) break;
    if (r.deleted) live.delete(r.key.toString('hex'));
    else live.set(r.key.toString('hex'), r);
  }
  return [...live.entries()]
    .sort(([a], [b]) => Buffer.compare(Buffer.from(a, 'hex'), Buffer.from(b, 'hex')))
    .map(
      ([k, r]) => `${k} = ${r.value.toString('hex')} create ${r.createRevision} mod ${r.revision} version ${r.version} lease ${r.lease}`,
    );
}

describe.skipIf(!haveEtcd)('reading real etcd backends', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'strata-read-etcd-'));
  let etcd: Server;
  let strata: Server;
  let ce: EtcdClient;
  let compactAt: number;
  let rev: number;
  const served = new Map<number, string[]>();
  let leases: Msg[];
  let strataRows: LogRow[];
  let fromSnapshot: Read;

  beforeAll(async () => {
    [etcd, strata] = await Promise.all([startEtcd(), startStrata()]);
    ce = createClient(etcd.address);
    const cs = createClient(strata.address);
    for (const c of [ce, cs]) await phaseOne(c);
    compactAt = await revision(ce);
    for (const c of [ce, cs]) await c.kv.Compact({ revision: compactAt, physical: true });
    for (const c of [ce, cs]) await phaseTwo(c);
    rev = await revision(ce);
    for (let r = compactAt; r <= rev; r++) served.set(r, await rangeAll(ce, r));
    leases = [];
    for (const l of (await ce.lease.LeaseLeases({})).leases as Msg[]) leases.push(await ce.lease.LeaseTimeToLive({ ID: l.ID }));
    cs.close();
    await waitFor(async () => (await readStrataLog(strata.dataDir)).compactDone >= compactAt, 10_000, 'strata physical compaction');
    strataRows = (await readStrataLog(strata.dataDir)).rows;
    const file = path.join(dir, 'etcd.snapshot');
    const r = spawnSync(ETCDCTL_BIN, ['--endpoints', etcd.address, 'snapshot', 'save', file], {
      env: { ...process.env, ETCDCTL_API: '3' },
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`snapshot save failed: ${r.stderr}`);
    fromSnapshot = await readBackend(file);
  }, 120_000);

  afterAll(async () => {
    ce?.close();
    for (const s of [etcd, strata]) {
      if (!s) continue;
      await s.stop();
      s.cleanup();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it("gives etcd's revision, compaction and leases", () => {
    expect(fromSnapshot.revision).toBe(rev);
    expect(fromSnapshot.compactRevision).toBe(compactAt);
    const want = leases
      .map((l) => ({ id: BigInt(l.ID), ttl: Number(l.grantedTTL), remainingTtl: 0 }))
      .sort((a, b) => (a.id < b.id ? -1 : 1));
    expect(fromSnapshot.leases).toEqual(want);
    expect(want.length).toBe(2);
  });

  it('gives the rows strata wrote for the same history', () => {
    const held = new Set(fromSnapshot.rows.map((r) => `${r.key.toString('hex')}@${r.revision}`));
    const expected = strataRows.map((r) => ({
      ...r,
      prevRevision: held.has(`${r.key.toString('hex')}@${r.prevRevision}`) ? r.prevRevision : 0,
    }));
    expect(fromSnapshot.rows.length).toBe(expected.length);
    fromSnapshot.rows.forEach((row, i) => expect(row).toEqual(expected[i]));
  });

  it('rebuilds every key at every revision etcd still serves', () => {
    for (let r = compactAt; r <= rev; r++) expect({ r, kvs: stateAt(fromSnapshot.rows, r) }).toEqual({ r, kvs: served.get(r) });
  });

  it("reads a stopped member's data dir (member/snap/db) the same way", async () => {
    await etcd.stop();
    const fromDataDir = await readBackend(path.join(etcd.dataDir, 'member', 'snap', 'db'));
    expect(fromDataDir.revision).toBe(rev);
    expect(fromDataDir.compactRevision).toBe(compactAt);
    expect(fromDataDir.leases).toEqual(fromSnapshot.leases);
    expect(fromDataDir.rows).toEqual(fromSnapshot.rows);
  });
});
