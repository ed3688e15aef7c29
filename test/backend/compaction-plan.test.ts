/**
 * A compaction window on PostgreSQL is bounded by its revisions whatever the planner knows: on a
 * bulk-loaded log never analysed (this machine runs with autovacuum off), after ANALYZE, and in
 * the generic plan of the prepared statement, each window's statements probe the primary key
 * and never scan, sort or hash the whole table — which made a window take seconds at 2M rows.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEndpoint } from '../../src/config';
import { prepared } from '../../src/dialect/postgres/statements';
import type { Store } from '../../src/mvcc/store';
import { noBackendReason, skippedSuite, testBackend } from '../helpers/targets';
import { dialectFor, storeOn } from './helpers';

/** Keys written once, then each overwritten once in txns of 100: the scale benchmark's shape. */
const KEYS = 300_000;
const WHOLE_TABLE = ['Seq Scan', 'Sort', 'Hash', 'Hash Join', 'Merge Join'];

interface PlanNode {
  'Node Type': string;
  Plans?: PlanNode[];
}

function nodeTypes(n: PlanNode): string[] {
  return [n['Node Type'], ...(n.Plans ?? []).flatMap(nodeTypes)];
}

const backend = testBackend('postgres');
if (!backend) skippedSuite('compaction plans on PostgreSQL', noBackendReason(['postgres']));
else
  describe('compaction plans on PostgreSQL', () => {
    let dir = '';
    let store: Store;
    let c: pg.Client;
    beforeAll(async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'strata-compact-plan-'));
      const url = backend.endpoint(dir);
      store = storeOn(dialectFor(parseEndpoint(url)));
      await store.open();
      c = new pg.Client({ connectionString: url.replace(/^postgres:/, 'postgresql:') });
      await c.connect();
      await c.query('ALTER TABLE log SET (autovacuum_enabled = false)');
      const row = (rev: string, sub: string, prev: string) =>
        `SELECT ${rev}, ${sub}, convert_to('/k/' || lpad(i::text, 8, '0'), 'UTF8'), i, ${prev}, 1, 0, decode(repeat(md5(i::text), 16), 'hex'), false
           FROM generate_series(1, ${KEYS}) i`;
      await c.query(`INSERT INTO log ${row('100 + i', '0', '0')}`);
      await c.query(`INSERT INTO log ${row(`${100 + KEYS + 1} + (i - 1) / 100`, '(i - 1) % 100', '100 + i')}`);
    }, 60_000);
    afterAll(async () => {
      await c?.end();
      await store?.close();
      backend.drop(dir);
      rmSync(dir, { recursive: true, force: true });
    });

    /** The node types of each window statement's plan, custom and generic, for a window among the overwrites. */
    async function plans(): Promise<Record<string, string[]>> {
      const after = 100 + KEYS + 10;
      const out: Record<string, string[]> = {};
      await c.query('BEGIN');
      try {
        for (const name of ['compactPredecessors', 'compactTombstones'] as const) {
          await c.query(`PREPARE ${name}(bigint, bigint) AS ${prepared(name, []).text}`);
          for (const mode of ['force_custom_plan', 'force_generic_plan']) {
            await c.query(`SET LOCAL plan_cache_mode = ${mode}`);
            const r = await c.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
              `EXPLAIN (FORMAT JSON) EXECUTE ${name}(${after}, ${after + 10})`,
            );
            out[`${name} ${mode}`] = nodeTypes(r.rows[0]['QUERY PLAN'][0].Plan);
          }
        }
      } finally {
        await c.query('ROLLBACK');
        await c.query('DEALLOCATE ALL');
      }
      return out;
    }

    function expectBounded(found: Record<string, string[]>): void {
      expect(Object.keys(found)).toHaveLength(4);
      for (const [statement, types] of Object.entries(found)) {
        expect(
          types.filter((t) => WHOLE_TABLE.includes(t)),
          `${statement}: ${types.join(', ')}`,
        ).toEqual([]);
        expect(
          types.some((t) => t.includes('Index')),
          `${statement} probes the primary key: ${types.join(', ')}`,
        ).toBe(true);
      }
    }

    it('without statistics, each window probes the primary key only', async () => {
      const r = await c.query<{ analysed: boolean }>(
        `SELECT last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL AS analysed
           FROM pg_stat_user_tables WHERE relname = 'log' AND schemaname = current_schema()`,
      );
      expect(r.rows[0].analysed).toBe(false);
      expectBounded(await plans());
    });

    it('after ANALYZE, too', async () => {
      await c.query('ANALYZE log');
      expectBounded(await plans());
    });
  });
