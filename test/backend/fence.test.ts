/**
 * The fence of linearizable reads on each real database: the reads of one event-loop turn share
 * one read of the marks, and a read that arrives once that read has started gets a later one, so
 * it sees every write acknowledged before it arrived.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseEndpoint } from '../../src/config';
import type { Dialect } from '../../src/dialect/dialect';
import { Fence } from '../../src/log/fence';
import { MARKS, META } from '../../src/log/meta';
import { openSchema } from '../../src/log/schema';
import { forEachBackend } from '../helpers/targets';
import { dialectFor } from './helpers';

forEachBackend('fence', (backend) => {
  let dir = '';
  let dialect: Dialect;
  let reads = 0;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'strata-fence-'));
    dialect = dialectFor(parseEndpoint(backend.endpoint(dir)));
    await openSchema(dialect);
    const real = dialect.readMeta.bind(dialect);
    dialect.readMeta = (names) => {
      reads++;
      return real(names);
    };
  });
  afterAll(async () => {
    await dialect?.close();
    backend.drop(dir);
    rmSync(dir, { recursive: true, force: true });
  });

  const bump = async (revision: number): Promise<void> => {
    await dialect.write(async (tx) => {
      await tx.lockMeta(MARKS);
      await tx.setMeta({ [META.revision]: String(revision) });
    });
  };

  it('the reads of one turn share one read of the marks', async () => {
    const fence = new Fence(dialect);
    await bump(10);
    const before = reads;
    const marks = await Promise.all(Array.from({ length: 20 }, () => fence.committed()));
    expect(reads - before).toBe(1);
    expect(marks.every((m) => m.revision === 10)).toBe(true);
  });

  it('a read that arrives after the shared read started waits for the next one and sees a write made meanwhile', async () => {
    const fence = new Fence(dialect);
    await bump(20);
    const before = reads;
    const first = fence.committed();
    // Let the first read start (it waits for the end of this turn), then commit and read again.
    await new Promise<void>((r) => setImmediate(r));
    await bump(21);
    const second = fence.committed();
    expect((await first).revision).toBeGreaterThanOrEqual(20);
    expect((await second).revision).toBe(21);
    expect(reads - before).toBe(2);
  });
});
