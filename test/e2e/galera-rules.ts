/**
 * A plain mysql:// endpoint on a Galera node is recognised by @@wsrep_on and takes Galera's rules:
 * causal reads on every pooled connection, 1047 retried only with its WSREP message, and a write
 * batch cap from the node's own wsrep_max_ws_size. Run by galera.test.ts.
 */
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { expect, test } from 'vitest';
import { parseEndpoint } from '../../src/config';
import { MysqlDialect } from '../../src/dialect/mysql/dialect';
import { batchByteCap } from '../../src/dialect/rules';
import { log, OPTS } from '../backend/helpers';
import { forEachBackend, useGalera } from '../helpers/targets';

forEachBackend(
  'mysql:// on a Galera node',
  (backend) => {
    test("takes Galera's rules, with the node's wsrep_max_ws_size as the transaction cap", async () => {
      await backend.ready?.();
      const g = await useGalera();
      const WS_MAX = 8 << 20;
      const database = `strata_galera_rules_${process.pid}`;
      const before = g.sql(1, 'SELECT @@global.wsrep_max_ws_size');
      g.sql(1, `SET GLOBAL wsrep_max_ws_size = ${WS_MAX}`);
      const endpoint = parseEndpoint(`${g.base(1)}/${database}`);
      if (endpoint.kind !== 'mysql') throw new Error('expected a MySQL endpoint');
      const dialect = new MysqlDialect(endpoint, OPTS, log);
      try {
        await dialect.open({ announce: [] });
        expect(dialect.capabilities).toMatchObject({ engine: 'galera', locking: 'node-local-certification', maxTxnBytes: WS_MAX });
        expect(batchByteCap(dialect.capabilities)).toBe(WS_MAX / 4);
        const notReady = Object.assign(new Error('WSREP has not yet prepared node for application use'), { errno: 1047 });
        const unknownCommand = Object.assign(new Error('Unknown command'), { errno: 1047 });
        expect([dialect.isTransient(notReady), dialect.isTransient(unknownCommand)]).toEqual([true, false]);
        const duplicate = Object.assign(new Error("Duplicate entry '3487-0' for key 'PRIMARY'"), { errno: 1062 });
        expect(dialect.isTransient(duplicate), 'a revision another node took first').toBe(true);
        const pool = (dialect as unknown as { driver: { pool: Pool } }).driver.pool;
        const [rows] = await pool.query<Array<{ wait: unknown } & RowDataPacket>>('SELECT @@session.wsrep_sync_wait AS wait');
        expect(Number(rows[0].wait), 'causal reads on a pooled connection').toBe(1);
      } finally {
        await dialect.close();
        g.sql(1, `SET GLOBAL wsrep_max_ws_size = ${before}`);
        g.sql(0, `DROP DATABASE IF EXISTS \`${database}\``);
      }
    }, 60_000);
  },
  ['galera'],
);
