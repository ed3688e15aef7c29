// `strata import` end to end, on every backend: a real etcd's history (puts, txns, deletes, leases,
// a compaction) saved with `etcdctl snapshot save`, imported with --from-snapshot and, from the
// live etcd, with --from-etcd; the strata started on it serves every retained revision as etcd
// does, with etcd's HashKV; its own snapshot holds the same key bucket byte for byte and restores
// into an etcd identical to the first (etcd → strata → etcd). A store that is not empty is refused
// without --force.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BoltReader } from '../../src/bbolt/reader';
import { b, createClient, type EtcdClient } from '../helpers/client';
import { expectGrpcError } from '../helpers/grpc-error';
import { ETCDCTL_BIN, ETCD_BIN, STRATA_BIN, haveTool, startEtcd, startStrata, type Server } from '../helpers/servers';
import { leaseState, phaseOne, phaseTwo, rangeAll, revision } from '../helpers/snapshot-history';
import { ctl, hashAt, restoreAndStart } from '../helpers/etcd-restore';
import { forEachBackend, skippedSuite } from '../helpers/targets';

const haveEtcd = haveTool(ETCD_BIN, 'etcd') && haveTool(ETCDCTL_BIN, 'etcdctl');

function strataImport(args: string[]): { code: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [STRATA_BIN, 'import', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stderr: r.stderr };
}

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

if (!haveEtcd) skippedSuite('strata import', 'etcd and etcdctl are needed');
else
  describe('strata import from etcd', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'strata-import-'));
    const etcdSnapshot = path.join(dir, 'etcd.snapshot');
    let etcd: Server;
    let ce: EtcdClient;
    let compactAt: number;
    let rev: number;
    const served = new Map<number, string[]>();
    const hashes: string[] = [];
    let leases: string[];

    beforeAll(async () => {
      etcd = await startEtcd();
      ce = createClient(etcd.address);
      await phaseOne(ce);
      compactAt = await revision(ce);
      await ce.kv.Compact({ revision: compactAt, physical: true });
      await phaseTwo(ce);
      rev = await revision(ce);
      for (let r = compactAt; r <= rev; r++) served.set(r, await rangeAll(ce, r));
      for (let r = compactAt + 1; r <= rev; r++) hashes.push(await hashAt(ce, r));
      leases = await leaseState(ce);
      ctl(['--endpoints', etcd.address, 'snapshot', 'save', etcdSnapshot]);
    }, 60_000);

    afterAll(async () => {
      ce?.close();
      await etcd?.stop();
      etcd?.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    let round = 0;
    /** Starts strata on an imported store and checks it serves what etcd served. */
    async function expectSameAsEtcd(endpoint: string, dataDir: string): Promise<void> {
      const s = await startStrata({ endpoint, dataDir });
      const cs = createClient(s.address);
      try {
        expect(await revision(cs)).toBe(rev);
        for (let r = compactAt; r <= rev; r++) expect({ r, kvs: await rangeAll(cs, r) }).toEqual({ r, kvs: served.get(r) });
        await expectGrpcError(
          cs.kv.Range({ key: b('a'), revision: compactAt - 1 }),
          grpc.status.OUT_OF_RANGE,
          'etcdserver: mvcc: required revision has been compacted',
        );
        expect(await leaseState(cs)).toEqual(leases);
        const mine: string[] = [];
        for (let r = compactAt + 1; r <= rev; r++) mine.push(await hashAt(cs, r));
        expect(mine).toEqual(hashes);

        // And back: strata's snapshot holds etcd's key and lease buckets byte for byte, and
        // restores into an etcd that serves the same store.
        const back = path.join(dir, `back-${round++}.snapshot`);
        ctl(['--endpoints', s.address, 'snapshot', 'save', back]);
        expect(await bucketHex(back, 'key')).toEqual(await bucketHex(etcdSnapshot, 'key'));
        expect(await bucketHex(back, 'lease')).toEqual(await bucketHex(etcdSnapshot, 'lease'));
        const again = await restoreAndStart(back, dir);
        const ca = createClient(again.address);
        try {
          for (let r = compactAt; r <= rev; r++) expect({ r, kvs: await rangeAll(ca, r) }).toEqual({ r, kvs: served.get(r) });
          expect(await leaseState(ca)).toEqual(leases);
          expect(await hashAt(ca, rev)).toBe(hashes[hashes.length - 1]);
        } finally {
          ca.close();
          await again.stop();
        }
        // The imported store goes on from etcd's revision.
        const put = await cs.kv.Put({ key: b('after-import'), value: b('1') });
        expect(Number(put.header.revision)).toBe(rev + 1);
      } finally {
        cs.close();
        expect(await s.stop()).toBe(0);
      }
    }

    forEachBackend('import', (backend) => {
      const dataDir = mkdtempSync(path.join(tmpdir(), 'strata-import-db-'));
      const endpoint = backend.endpoint(dataDir);
      afterAll(() => {
        backend.drop(dataDir);
        rmSync(dataDir, { recursive: true, force: true });
      });

      it('--from-snapshot: etcd → strata → etcd, identical', async () => {
        const r = strataImport(['--endpoint', endpoint, '--from-snapshot', etcdSnapshot]);
        expect(r.stderr).toContain(`revision ${rev}, compact revision ${compactAt}`);
        expect(r.code).toBe(0);
        await expectSameAsEtcd(endpoint, dataDir);
      }, 90_000);

      it('refuses a store that is not empty, and replaces it with --force (from the live etcd)', async () => {
        const refused = strataImport(['--endpoint', endpoint, '--from-snapshot', etcdSnapshot]);
        expect(refused.code).toBe(1);
        expect(refused.stderr).toContain('the store is not empty');
        expect(refused.stderr).toContain('--force');
        const r = strataImport(['--endpoint', endpoint, '--from-etcd', `http://${etcd.address}`, '--force']);
        expect(r.stderr).toContain(`imported`);
        expect(r.code).toBe(0);
        await expectSameAsEtcd(endpoint, dataDir);
      }, 90_000);
    });

    it('refuses a snapshot whose digest does not match', () => {
      const bad = path.join(dir, 'bad.snapshot');
      const bytes = readFileSync(etcdSnapshot);
      bytes[bytes.length - 1] ^= 0xff;
      writeFileSync(bad, bytes);
      const r = strataImport(['--endpoint', `sqlite://${path.join(dir, 'bad.db')}`, '--from-snapshot', bad]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("the snapshot's SHA-256 does not match");
    });
  });
