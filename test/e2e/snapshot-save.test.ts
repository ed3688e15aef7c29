// Backups and hashes as operators take them, on every backend: `etcdctl snapshot save` against a
// strata with history, deletes, leases and a compaction; `etcdctl snapshot status` on the file;
// `etcdctl snapshot restore` and a real etcd started on it serving what strata served, key by key
// at every retained revision; a snapshot taken while writes go on holds one revision exactly; and
// HashKV equal to real etcd's after the same history, on every instance on one database.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snapshotStatus } from '../../src/snapshot/status';
import { b, createClient, type EtcdClient } from '../helpers/client';
import { expectGrpcError } from '../helpers/grpc-error';
import { ETCDCTL_BIN, ETCD_BIN, etcdctl, haveTool, startEtcd, startStrata, type Server } from '../helpers/servers';
import { leaseState, phaseOne, phaseTwo, rangeAll, revision } from '../helpers/snapshot-history';
import { ctl, hashAt, restoreAndStart } from '../helpers/etcd-restore';
import { forEachBackend, skippedSuite } from '../helpers/targets';
import * as grpc from '@grpc/grpc-js';

const haveEtcd = haveTool(ETCD_BIN, 'etcd') && haveTool(ETCDCTL_BIN, 'etcdctl');
const env = { ...process.env, ETCDCTL_API: '3' };

/** `etcdctl snapshot save`, not waiting for it (so writes can run meanwhile). */
function saveAsync(address: string, file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(ETCDCTL_BIN, ['--endpoints', address, 'snapshot', 'save', file], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`snapshot save failed: ${err}`))));
  });
}

if (!haveEtcd) skippedSuite('snapshot save, restore and HashKV', 'etcd and etcdctl are needed');
else
  describe('snapshot save, restore and HashKV against real etcd', () => {
    let reference: Server;
    let ce: EtcdClient;
    let compactAt: number;
    let rev: number;
    /** etcd's HashKV at every revision after the compaction, and at 0. */
    const etcdHashes: string[] = [];

    beforeAll(async () => {
      reference = await startEtcd();
      ce = createClient(reference.address);
      await phaseOne(ce);
      compactAt = await revision(ce);
      await ce.kv.Compact({ revision: compactAt, physical: true });
      await phaseTwo(ce);
      rev = await revision(ce);
      for (let r = compactAt + 1; r <= rev; r++) etcdHashes.push(await hashAt(ce, r));
    }, 60_000);

    afterAll(async () => {
      ce?.close();
      await reference?.stop();
      reference?.cleanup();
    });

    forEachBackend('a strata with history', (backend) => {
      const dir = mkdtempSync(path.join(tmpdir(), 'strata-snapshot-save-'));
      let strata: Server;
      let second: Server;
      let cs: EtcdClient;
      let c2: EtcdClient;
      const served = new Map<number, string[]>();
      let leases: string[];

      beforeAll(async () => {
        strata = await startStrata({ endpoint: (d) => backend.endpoint(d), onCleanup: (d) => backend.drop(d) });
        cs = createClient(strata.address);
        await phaseOne(cs);
        expect(await revision(cs)).toBe(compactAt);
        await cs.kv.Compact({ revision: compactAt, physical: true });
        await phaseTwo(cs);
        expect(await revision(cs)).toBe(rev);
        for (let r = compactAt; r <= rev; r++) served.set(r, await rangeAll(cs, r));
        leases = await leaseState(cs);
        second = await startStrata({ endpoint: backend.endpoint(strata.dataDir) });
        c2 = createClient(second.address);
      }, 90_000);

      afterAll(async () => {
        cs?.close();
        c2?.close();
        for (const s of [second, strata]) {
          if (!s) continue;
          await s.stop();
        }
        strata?.cleanup();
        rmSync(dir, { recursive: true, force: true });
      });

      it('etcdctl saves a snapshot that snapshot status reads, which restores into an etcd serving the same store', async () => {
        const file = path.join(dir, 'strata.snapshot');
        ctl(['--endpoints', strata.address, 'snapshot', 'save', file]);
        const status = JSON.parse(ctl(['snapshot', 'status', file, '-w', 'json']));
        expect(status).toEqual(await snapshotStatus(file));
        expect(status.revision).toBe(rev);
        const restored = await restoreAndStart(file, dir);
        const cr = createClient(restored.address);
        try {
          expect(await revision(cr)).toBe(rev);
          for (let r = compactAt; r <= rev; r++) expect({ r, kvs: await rangeAll(cr, r) }).toEqual({ r, kvs: served.get(r) });
          await expectGrpcError(
            cr.kv.Range({ key: b('a'), revision: compactAt - 1 }),
            grpc.status.OUT_OF_RANGE,
            'etcdserver: mvcc: required revision has been compacted',
          );
          expect(await leaseState(cr)).toEqual(leases);
          // The restored etcd's HashKV is strata's (the same history from the compaction on).
          expect(await hashAt(cr, rev)).toBe(await hashAt(cs, rev));
        } finally {
          cr.close();
          await restored.stop();
        }
      }, 60_000);

      it('a snapshot taken while writes go on holds exactly the store at its revision', async () => {
        const file = path.join(dir, 'busy.snapshot');
        const before = await revision(cs);
        let writing = true;
        const writes = (async () => {
          let i = 0;
          while (writing) await cs.kv.Put({ key: b(`/busy/${i % 50}`), value: b(`v${i++}`) });
          return i;
        })();
        await saveAsync(strata.address, file);
        writing = false;
        const written = await writes;
        const after = await revision(cs);
        expect(written).toBeGreaterThan(0);
        const at = (await snapshotStatus(file)).revision;
        expect(at).toBeGreaterThanOrEqual(before);
        expect(at).toBeLessThanOrEqual(after);
        const restored = await restoreAndStart(file, dir);
        const cr = createClient(restored.address);
        try {
          expect(await revision(cr)).toBe(at);
          expect(await rangeAll(cr)).toEqual(await rangeAll(cs, at));
        } finally {
          cr.close();
          await restored.stop();
        }
      }, 60_000);

      it("HashKV is etcd's at every revision, on both instances, and through etcdctl endpoint hashkv", async () => {
        const mine: string[] = [];
        const theirs: string[] = [];
        for (let r = compactAt + 1; r <= rev; r++) {
          mine.push(await hashAt(cs, r));
          theirs.push(await hashAt(c2, r));
        }
        expect(mine).toEqual(etcdHashes);
        expect(theirs).toEqual(etcdHashes);
        for (const r of [compactAt, compactAt - 1]) {
          await expectGrpcError(
            cs.maintenance.HashKV({ revision: r }),
            grpc.status.OUT_OF_RANGE,
            'etcdserver: mvcc: required revision has been compacted',
          );
        }
        const now = await revision(cs);
        await expectGrpcError(
          cs.maintenance.HashKV({ revision: now + 1 }),
          grpc.status.OUT_OF_RANGE,
          'etcdserver: mvcc: required revision is a future revision',
        );
        const viaCtl = JSON.parse(etcdctl(strata.address, ['endpoint', 'hashkv', '-w', 'json']).stdout);
        expect(viaCtl[0].HashKV.hash).toBe(Number((await cs.maintenance.HashKV({ revision: 0 })).hash));
        expect(viaCtl[0].HashKV.header.revision).toBe(now);
      });

      it('Hash is the same on every instance on one database and moves with each write', async () => {
        const h1 = Number((await cs.maintenance.Hash({})).hash);
        expect(Number((await c2.maintenance.Hash({})).hash)).toBe(h1);
        await cs.kv.Put({ key: b('hash-moves'), value: b('1') });
        const h2 = await cs.maintenance.Hash({});
        expect(Number(h2.hash)).not.toBe(h1);
        expect(Number((await c2.maintenance.Hash({})).hash)).toBe(Number(h2.hash));
      });
    });
  });
