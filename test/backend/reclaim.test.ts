/**
 * After a compaction deletes rows, PostgreSQL's space is made reusable by strata itself (a VACUUM
 * of its tables): this machine's PostgreSQL runs with autovacuum off, as some operators do, and a
 * client that never stops writing would otherwise grow the database forever.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEndpoint } from '../../src/config';
import type { Dialect } from '../../src/dialect/dialect';
import type { Store } from '../../src/mvcc/store';
import { noBackendReason, skippedSuite, testBackend } from '../helpers/targets';
import { dialectFor, put, storeOn } from './helpers';

const backend = testBackend('postgres');
if (!backend) skippedSuite('compaction reclaims PostgreSQL space', noBackendReason(['postgres']));
else
  describe('compaction reclaims PostgreSQL space', () => {
    let dir = '';
    let url = '';
    let dialect: Dialect;
    let store: Store;
    beforeAll(async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'strata-reclaim-'));
      url = backend.endpoint(dir);
      dialect = dialectFor(parseEndpoint(url));
      store = storeOn(dialect);
      await store.open();
    });
    afterAll(async () => {
      await store?.close();
      backend.drop(dir);
      rmSync(dir, { recursive: true, force: true });
    });

    /** Vacuums of the log table so far, and the dead rows it holds now. */
    async function logStats(): Promise<{ vacuums: number; dead: number }> {
      const c = new pg.Client({ connectionString: url.replace(/^postgres:/, 'postgresql:') });
      await c.connect();
      try {
        const r = await c.query<{ vacuums: string; dead: string }>(
          `SELECT vacuum_count + autovacuum_count AS vacuums, n_dead_tup AS dead
             FROM pg_stat_user_tables WHERE relname = 'log' AND schemaname = current_schema()`,
        );
        return { vacuums: Number(r.rows[0].vacuums), dead: Number(r.rows[0].dead) };
      } finally {
        await c.end();
      }
    }

    it('a physical compaction that deleted rows vacuums the log table', async () => {
      for (let i = 0; i < 300; i++) await store.put(put('k', `v${i}`));
      const before = await logStats();
      await store.compact({ revision: store.revision, physical: true });
      const after = await logStats();
      expect(after.vacuums).toBeGreaterThan(before.vacuums);
      // 299 superseded versions were deleted; none is left dead after the vacuum.
      expect(after.dead).toBe(0);
    });
  });
