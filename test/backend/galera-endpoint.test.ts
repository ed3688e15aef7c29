/**
 * A galera:// endpoint is MySQL's with one demand: the server must be a Galera node. Against the
 * plain MariaDB it refuses to open, before it creates the database; the Galera suite (e2e/galera.test.ts)
 * runs everything else through galera:// endpoints.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { expect, test } from 'vitest';
import { parseEndpoint } from '../../src/config';
import { MysqlDialect } from '../../src/dialect/mysql/dialect';
import { databaseFor, forEachBackend, mysqlArgs } from '../helpers/targets';
import { log, OPTS } from './helpers';

forEachBackend(
  'galera:// endpoint',
  (backend) => {
    test('on a server that is not a Galera node, open fails, says why and creates nothing', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'strata-galera-endpoint-'));
      const endpoint = parseEndpoint(backend.endpoint(dir).replace(/^mysql:/, 'galera:'));
      expect(endpoint).toMatchObject({ kind: 'mysql', engine: 'galera' });
      const dialect = new MysqlDialect(endpoint as Extract<typeof endpoint, { kind: 'mysql' }>, OPTS, log);
      try {
        await expect(dialect.open({ announce: [] })).rejects.toThrow(/not a Galera node \(wsrep_on is OFF\); use mysql:\/\//);
        const shown = spawnSync('mysql', [...mysqlArgs(), '-N', '-e', `SHOW DATABASES LIKE '${databaseFor(dir)}'`], { encoding: 'utf8' });
        expect(shown.status, shown.stderr).toBe(0);
        expect(shown.stdout.trim(), 'the database was not created').toBe('');
      } finally {
        await dialect.close();
        backend.drop(dir);
        rmSync(dir, { recursive: true, force: true });
      }
    });
  },
  ['mysql'],
);
