/**
 * Two strata processes on one SQLite file (not a deployment we recommend: SQLite is the
 * single-instance backend) must still be exact: a linearizable read through one sees a write just
 * made through the other. This checks the SQLite fence shortcut (PRAGMA data_version tells another
 * process's commit from our own).
 */
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { b, createClient, s, type EtcdClient } from '../helpers/client';
import { startStrata, type Server } from '../helpers/servers';
import { noBackendReason, skippedSuite, testBackend } from '../helpers/targets';

const SUITE = 'two processes on one SQLite file';

if (!testBackend('sqlite')) skippedSuite(SUITE, noBackendReason(['sqlite']));
else
  describe(SUITE, () => {
    let a: Server;
    let bSrv: Server;
    let ca: EtcdClient;
    let cb: EtcdClient;

    beforeAll(async () => {
      a = await startStrata();
      bSrv = await startStrata({ endpoint: `sqlite://${path.join(a.dataDir, 'state.db')}` });
      ca = createClient(a.address);
      cb = createClient(bSrv.address);
    });
    afterAll(async () => {
      ca?.close();
      cb?.close();
      await bSrv?.stop();
      await a?.stop();
      bSrv?.cleanup();
      a?.cleanup();
    });

    it('a write through either process is read at once through the other', async () => {
      for (let i = 0; i < 60; i++) {
        const [writer, reader] = i % 2 === 0 ? [ca, cb] : [cb, ca];
        const put = await writer.kv.Put({ key: b('shared'), value: b(`v${i}`) });
        const got = await reader.kv.Range({ key: b('shared') });
        expect(s(got.kvs[0].value), `read ${i}`).toBe(`v${i}`);
        expect(Number(got.kvs[0].mod_revision)).toBe(Number(put.header.revision));
        expect(Number(got.kvs[0].version)).toBe(i + 1);
      }
    });
  });
