/**
 * One history, written the same way to real etcd and to strata, for the snapshot and HashKV tests:
 * puts, overwrites, a multi-op txn (sub-revisions), deletes and re-creates, leases with fixed ids
 * (so both sides hold identical bytes), a revoke, a value larger than a bbolt page, and a couple of
 * thousand keys (a key bucket several pages deep). The compaction sits between the two phases.
 */
import * as path from 'node:path';
import { SqliteDialect } from '../../src/dialect/sqlite/dialect';
import { parseEndpoint, type SqliteEndpoint } from '../../src/endpoint';
import type { LeaseRow, LogRow } from '../../src/log/types';
import { b, type EtcdClient, type Msg } from './client';

export const LEASE_A = 0x1234n;
export const LEASE_B = 0x5678n;
export const LEASE_C = 0x3f0000000000abcdn;

const put = (key: string, value: string | Buffer, lease = 0n) => ({
  request_put: { key: b(key), value: Buffer.from(value), lease: lease.toString() },
});
const del = (key: string, rangeEnd?: string) => ({
  request_delete_range: { key: b(key), ...(rangeEnd ? { range_end: b(rangeEnd) } : {}) },
});

/** Up to the compaction. */
export async function phaseOne(c: EtcdClient): Promise<void> {
  await c.kv.Put({ key: b('a'), value: b('1') });
  await c.kv.Put({ key: b('b'), value: b('2') });
  await c.kv.Put({ key: b('a'), value: b('3') });
  await c.kv.Txn({ success: [put('c', 'x'), put('d', 'y'), del('b')] });
  await c.lease.LeaseGrant({ ID: LEASE_A.toString(), TTL: 300 });
  await c.kv.Put({ key: b('e'), value: b('leased'), lease: LEASE_A.toString() });
  await c.kv.Put({ key: b('f'), value: b('leased too'), lease: LEASE_A.toString() });
  await c.kv.DeleteRange({ key: b('a') });
  await c.kv.Put({ key: b('a'), value: b('again') });
  await c.lease.LeaseGrant({ ID: LEASE_B.toString(), TTL: 600 });
  await c.kv.Put({ key: b('g'), value: b('on B'), lease: LEASE_B.toString() });
  await c.kv.Put({ key: b('h'), value: Buffer.alloc(20_000, 'h') });
  for (let t = 0; t < 10; t++) {
    const ops = [];
    for (let i = 0; i < 100; i++) ops.push(put(`/registry/k${String(t * 100 + i).padStart(5, '0')}`, `v${t}.${i}`));
    await c.kv.Txn({ success: ops });
  }
  await c.kv.Put({ key: b('/registry/k00007'), value: b('overwritten') });
  await c.kv.DeleteRange({ key: b('/registry/k00010'), range_end: b('/registry/k00020') });
}

/** After the compaction. */
export async function phaseTwo(c: EtcdClient): Promise<void> {
  await c.kv.Put({ key: b('c'), value: b('x2') });
  await c.kv.DeleteRange({ key: b('d') });
  await c.kv.Put({ key: b('e'), value: b('no longer leased') });
  await c.lease.LeaseRevoke({ ID: LEASE_B.toString() });
  await c.lease.LeaseGrant({ ID: LEASE_C.toString(), TTL: 900 });
  await c.kv.Txn({
    success: [put('i', 'on C', LEASE_C), put('/registry/k00500', 'in a txn'), del('/registry/k00600', '/registry/k00610')],
  });
  for (let t = 10; t < 20; t++) {
    const ops = [];
    for (let i = 0; i < 100; i++) ops.push(put(`/registry/k${String(t * 100 + i).padStart(5, '0')}`, `w${t}.${i}`.repeat(1 + (i % 7))));
    await c.kv.Txn({ success: ops });
  }
  await c.kv.Put({ key: b('h'), value: b('small now') });
}

export async function revision(c: EtcdClient): Promise<number> {
  const r = await c.kv.Range({ key: b('\u0000no such key') });
  return Number(r.header.revision);
}

/** Every key at `rev` (0: now), as comparable strings. */
export async function rangeAll(c: EtcdClient, rev = 0): Promise<string[]> {
  const r = await c.kv.Range({ key: b('\u0000'), range_end: b('\u0000'), revision: rev });
  return r.kvs.map(
    (kv: Msg) =>
      `${Buffer.from(kv.key).toString('hex')} = ${Buffer.from(kv.value).toString('hex')} create ${kv.create_revision} mod ${kv.mod_revision} version ${kv.version} lease ${kv.lease}`,
  );
}

/** The leases with their granted TTL and keys, as comparable strings. */
export async function leaseState(c: EtcdClient): Promise<string[]> {
  const r = await c.lease.LeaseLeases({});
  const out: string[] = [];
  for (const l of r.leases as Msg[]) {
    const t = await c.lease.LeaseTimeToLive({ ID: l.ID, keys: true });
    out.push(
      `${l.ID} granted ${t.grantedTTL} keys ${(t.keys as Buffer[])
        .map((k) => Buffer.from(k).toString())
        .sort()
        .join(',')}`,
    );
  }
  return out.sort();
}

export interface StrataLog {
  revision: number;
  compactRevision: number;
  compactDone: number;
  memberId: bigint;
  rows: LogRow[];
  leases: LeaseRow[];
}

/** Reads strata's SQLite log as the snapshot will: every row, the leases, the marks. */
export async function readStrataLog(dataDir: string): Promise<StrataLog> {
  const d = new SqliteDialect(parseEndpoint(`sqlite://${path.join(dataDir, 'state.db')}`) as SqliteEndpoint);
  await d.open();
  try {
    const meta = await d.readMeta(['revision', 'compact_revision', 'compact_done', 'member_id']);
    const rows: LogRow[] = [];
    for (;;) {
      const last = rows[rows.length - 1];
      const page = await d.loadRows(last?.revision ?? 0, last?.sub ?? -1, 1000);
      rows.push(...page);
      if (page.length < 1000) break;
    }
    return {
      revision: Number(meta.get('revision')),
      compactRevision: Number(meta.get('compact_revision')),
      compactDone: Number(meta.get('compact_done') ?? '0'),
      memberId: BigInt(meta.get('member_id')!),
      rows,
      leases: await d.loadLeases(),
    };
  } finally {
    await d.close();
  }
}
