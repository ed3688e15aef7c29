/**
 * The log importer on every backend: a source that fails half way leaves the store exactly as it
 * was (one transaction: never half an import), progress is reported while rows are written, and a
 * complete import serves the source's revisions, versions and leases.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { parseEndpoint } from '../../src/config';
import type { LogRow } from '../../src/log/types';
import { importLog, type ImportSource } from '../../src/log/importer';
import { forEachBackend } from '../helpers/targets';
import { dialectFor, range, storeOn } from './helpers';

const ROWS = 5000;

/** One put per revision from 2, key k<i % 100>; fails after `failAfter` rows if given. */
function source(failAfter?: number): ImportSource {
  return {
    description: 'generated',
    revision: ROWS + 1,
    compactRevision: -1,
    async *rows(): AsyncGenerator<LogRow> {
      const versions = new Map<string, { v: number; created: number; last: number }>();
      for (let i = 0; i < ROWS; i++) {
        if (failAfter !== undefined && i === failAfter) throw new Error('source failed');
        const key = `k${String(i % 100).padStart(3, '0')}`;
        const rev = i + 2;
        const prev = versions.get(key);
        const v = { v: (prev?.v ?? 0) + 1, created: prev?.created ?? rev, last: rev };
        versions.set(key, v);
        yield {
          revision: rev,
          sub: 0,
          key: Buffer.from(key),
          createRevision: v.created,
          prevRevision: prev?.last ?? 0,
          version: v.v,
          lease: key === 'k007' ? 77n : 0n,
          value: Buffer.from(`v${i}`),
          deleted: false,
        };
      }
    },
    async *leases() {
      yield { id: 77n, ttl: 600 };
    },
  };
}

forEachBackend('log import', (backend) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'strata-import-log-'));
  afterAll(() => {
    backend.drop(dir);
    rmSync(dir, { recursive: true, force: true });
  });
  const dialect = () => dialectFor(parseEndpoint(backend.endpoint(dir)));

  it('is all or nothing, reports progress, and then serves the source as it was', async () => {
    const d1 = dialect();
    try {
      await expect(importLog(d1, source(4000), { force: false, progress: () => undefined })).rejects.toThrow('source failed');
    } finally {
      await d1.close();
    }
    const d2 = dialect();
    const progress: number[] = [];
    try {
      const r = await importLog(d2, source(), { force: false, progress: (p) => progress.push(p.rows), progressMs: 0 });
      expect(r).toEqual({ rows: ROWS, leases: 1, revision: ROWS + 1, compactRevision: -1 });
    } finally {
      await d2.close();
    }
    expect(progress.length).toBeGreaterThan(0);
    const store = storeOn(dialect());
    await store.open();
    try {
      expect(store.revision).toBe(ROWS + 1);
      const kv = (await store.range(range('k007'))).kvs[0];
      expect(kv).toMatchObject({ version: ROWS / 100, lease: 77n, mod_revision: ROWS - 93 + 2 });
      expect(kv.value.toString()).toBe(`v${ROWS - 93}`);
      expect((await store.lease.timeToLive(77n, true)).grantedTTL).toBe(600);
      // (The second import above was not refused: the failed one had left nothing.) Now the store is not empty.
      const d3 = dialect();
      try {
        await expect(importLog(d3, source(), { force: false, progress: () => undefined })).rejects.toThrow('the store is not empty');
      } finally {
        await d3.close();
      }
    } finally {
      await store.close();
    }
  }, 60_000);
});
