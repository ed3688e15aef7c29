/**
 * strata's log as etcd's backend and back, over random histories: which rows survive a compaction
 * (against a model), the db read back as the same rows, leases and marks, HashKV independent of
 * whether compacted rows were deleted yet, an interrupted compaction, and the snapshot stream.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { writeBolt } from '../../src/bbolt/writer';
import type { LeaseRow, LogRow } from '../../src/log/types';
import { compactMark } from '../../src/snapshot/backend-layout';
import { EtcdBackendReader } from '../../src/snapshot/backend-reader';
import { writeEtcdBackend, type EtcdBackendInput } from '../../src/snapshot/backend-writer';
import { hashKV } from '../../src/snapshot/hash-kv';
import { keyBucketEntry } from '../../src/snapshot/key-bucket';
import { etcdRetainedRows } from '../../src/snapshot/retention';
import { snapshotStatus } from '../../src/snapshot/status';
import { snapshotChunks } from '../../src/snapshot/snapshot-stream';
import { writeSnapshotFile } from '../../src/snapshot/snapshot-file';
import { historyOps, historyRows, modelRetained } from '../helpers/log-history';

const dir = mkdtempSync(path.join(tmpdir(), 'strata-snapshot-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = () => path.join(dir, `s${n++}.db`);

/** A history and a compaction point in it (-1: never compacted). */
const scenario = historyOps.chain((ops) => {
  const rows = historyRows(ops);
  const top = rows.length ? rows[rows.length - 1].revision : 1;
  return fc.record({
    rows: fc.constant(rows),
    revision: fc.constant(top),
    compact: fc.oneof(fc.constant(-1), fc.integer({ min: 1, max: top })),
  });
});

const collect = async (it: AsyncIterable<LogRow>) => {
  const out: LogRow[] = [];
  for await (const r of it) out.push(r);
  return out;
};

const leasesOf = (rows: LogRow[]): LeaseRow[] =>
  [...new Set(rows.filter((r) => r.lease !== 0n).map((r) => r.lease))].map((id, i) => ({ id, ttl: 60 + i, expiresAt: 0 }));

const input = (rows: LogRow[], revision: number, compactRevision: number): EtcdBackendInput => ({
  revision,
  compactRevision,
  rows: () => rows,
  leases: leasesOf(rows),
  member: { id: 0xfeedn, name: 'default', peerURLs: [], clientURLs: ['http://127.0.0.1:2379'] },
  serverVersion: '3.5.21',
  term: 1,
});

/** What reading etcd's db gives back: prev_revision only where etcd still holds that row. */
function asReadBack(retained: LogRow[]): LogRow[] {
  const held = new Set(retained.map((r) => `${r.key.toString('hex')}@${r.revision}`));
  return retained.map((r) => ({ ...r, prevRevision: held.has(`${r.key.toString('hex')}@${r.prevRevision}`) ? r.prevRevision : 0 }));
}

describe('which rows etcd keeps after a compaction', () => {
  it('matches the model for random histories (property)', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ rows, revision, compact }) => {
        expect(await collect(etcdRetainedRows(() => rows, revision, compact))).toEqual(modelRetained(rows, compact));
      }),
      { numRuns: 300 },
    );
  });

  it('stops at the snapshot revision', async () => {
    const rows = historyRows([[{ kind: 'put', key: 1, value: 1, lease: false }], [{ kind: 'put', key: 1, value: 2, lease: false }]]);
    expect((await collect(etcdRetainedRows(() => rows, 2, -1))).map((r) => r.revision)).toEqual([2]);
  });
});

describe('the backend db, written and read back', () => {
  it('gives back the retained rows, the leases and the marks (property)', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ rows, revision, compact }) => {
        const p = file();
        await writeEtcdBackend(p, input(rows, revision, compact));
        const r = await EtcdBackendReader.open(p);
        try {
          expect(r.compactRevision).toBe(compact);
          expect(r.revision).toBe(revision);
          expect(await collect(r.rows())).toEqual(asReadBack(modelRetained(rows, compact)));
          const leases = [];
          for await (const l of r.leases()) leases.push(l);
          expect(leases).toEqual(
            leasesOf(rows)
              .map((l) => ({ id: l.id, ttl: l.ttl, remainingTtl: 0 }))
              .sort((a, b) => (a.id < b.id ? -1 : 1)),
          );
        } finally {
          await r.close();
          rmSync(p);
        }
      }),
      { numRuns: 80 },
    );
  });

  it('finishes a compaction the db had only scheduled, as etcd does on start', async () => {
    const rows = historyRows(
      [1, 2, 3, 1, 2, 3].map((key, i) => [{ kind: i === 3 ? ('del' as const) : ('put' as const), key, value: i, lease: false }]),
    );
    const p = file();
    const meta: [Buffer, Buffer][] = [
      [Buffer.from('finishedCompactRev'), compactMark(3)],
      [Buffer.from('scheduledCompactRev'), compactMark(6)],
    ];
    await writeBolt(p, [
      { name: Buffer.from('key'), entries: modelRetained(rows, 3).map(keyBucketEntry) },
      { name: Buffer.from('meta'), entries: meta },
    ]);
    const r = await EtcdBackendReader.open(p);
    expect(r.compactRevision).toBe(6);
    expect(r.revision).toBe(7);
    expect((await collect(r.rows())).map((x) => `${x.key}@${x.revision}`)).toEqual(['key-3@4', 'key-2@6', 'key-3@7']);
    await r.close();
  });

  it('refuses a bbolt file that is not an etcd backend', async () => {
    const p = file();
    await writeBolt(p, [{ name: Buffer.from('other'), entries: [] }]);
    await expect(EtcdBackendReader.open(p)).rejects.toThrow('is not an etcd backend: it has no "meta" bucket');
  });
});

describe('HashKV over rows', () => {
  it('does not depend on whether compacted rows were deleted yet (property)', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ rows, revision, compact }) => {
        const kept = modelRetained(rows, compact);
        for (let r = Math.max(compact, 1); r <= revision; r++) {
          expect(await hashKV(() => kept, r, compact)).toBe(await hashKV(() => rows, r, compact));
        }
      }),
      { numRuns: 150 },
    );
  });

  it('of an empty store is CRC-32C("key")', async () => {
    expect(await hashKV(() => [], 1, -1)).toBe(0x40a4756d); // computed independently (bitwise CRC-32C)
  });
});

describe('snapshot file and stream', () => {
  it("streams the db in etcd's chunks, then its SHA-256; the file is the same bytes", async () => {
    const rows = historyRows([[{ kind: 'put', key: 1, value: 1, lease: true }]]);
    const p = file();
    const { size, dbSize } = await writeSnapshotFile(p, input(rows, 2, -1));
    const bytes = readFileSync(p);
    expect(bytes.length).toBe(size);
    expect(size % 512).toBe(32); // what etcdctl looks for before it trusts the digest
    const db = bytes.subarray(0, dbSize);
    expect(bytes.subarray(dbSize).equals(createHash('sha256').update(db).digest())).toBe(true);

    const dbFile = file();
    await writeEtcdBackend(dbFile, input(rows, 2, -1));
    const chunks = [];
    for await (const c of snapshotChunks(dbFile, 8192)) chunks.push(c);
    const remaining: number[] = [];
    for (let sent = 8192; sent < dbSize + 8192; sent += 8192) remaining.push(Math.max(0, dbSize - sent));
    expect(chunks.map((c) => c.remainingBytes)).toEqual([...remaining, 0]);
    expect(chunks.slice(0, -2).every((c) => c.blob.length === 8192)).toBe(true);
    expect(Buffer.concat(chunks.map((c) => c.blob)).equals(bytes)).toBe(true);

    const st = await snapshotStatus(p);
    expect(st).toMatchObject({ revision: 2, totalSize: dbSize });
    expect(st.totalKey).toBe(7); // auth revision, cluster version, the row, its lease, the member, 2 meta keys
  });
});
