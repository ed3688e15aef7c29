/**
 * Log rows read back exactly as written, through every read of the log (start-up chunks, the
 * tailer's windows, a consistent read): a lease id needing all 64 bits, no lease, a tombstone,
 * binary keys and an empty value.
 */
import { expect, it } from 'vitest';
import type { LogRow } from '../../src/dialect/dialect';
import { MARKS, marksFrom, META } from '../../src/log/meta';
import { forEachBackend } from '../helpers/targets';
import { storePerSuite } from './helpers';

/** Past every sub of a revision (the column is a 32-bit integer). */
const LAST_SUB = 2 ** 31 - 1;

forEachBackend('log rows', (backend) => {
  const fx = storePerSuite(backend, 'logrows');

  it('come back field for field from loadRows, rowsAfter and a consistent read', async () => {
    const from = marksFrom(await fx.dialect.readMeta(MARKS)).revision;
    const rows: LogRow[] = [
      {
        revision: from + 1,
        sub: 0,
        key: Buffer.from([0, 255, 10]),
        createRevision: from + 1,
        prevRevision: 0,
        version: 1,
        lease: 2n ** 62n + 7n,
        value: Buffer.from('v'),
        deleted: false,
      },
      {
        revision: from + 1,
        sub: 1,
        key: Buffer.from('b'),
        createRevision: from + 1,
        prevRevision: 0,
        version: 1,
        lease: 0n,
        value: Buffer.alloc(0),
        deleted: false,
      },
      {
        revision: from + 2,
        sub: 0,
        key: Buffer.from('b'),
        createRevision: from + 1,
        prevRevision: from + 1,
        version: 0,
        lease: 0n,
        value: Buffer.alloc(0),
        deleted: true,
      },
      {
        revision: from + 3,
        sub: 0,
        key: Buffer.from('c'),
        createRevision: from + 3,
        prevRevision: 0,
        version: 1,
        lease: 2n ** 63n - 1n,
        value: Buffer.alloc(300, 1),
        deleted: false,
      },
    ];
    await fx.dialect.write(async (tx) => {
      await tx.lockMeta(MARKS);
      await tx.insertRows(rows);
      await tx.setMeta({ [META.revision]: String(from + 3) });
    });
    const plain = (rs: LogRow[]) => rs.filter((r) => r.revision > from).map((r) => ({ ...r, key: [...r.key], value: [...r.value] }));
    const want = plain(rows);
    expect(plain(await fx.dialect.rowsAfter(from, from + 3))).toEqual(want);
    // Chunks of one row walk the keyset through a revision with two subs.
    const chunked: LogRow[] = [];
    for (let after = { rev: from, sub: LAST_SUB }; ;) {
      const [r] = await fx.dialect.loadRows(after.rev, after.sub, 1);
      if (!r) break;
      chunked.push(r);
      after = { rev: r.revision, sub: r.sub };
    }
    expect(plain(chunked)).toEqual(want);
    expect(plain(await fx.dialect.readConsistent((c) => c.loadRows(from, LAST_SUB, 10)))).toEqual(want);
    for (const r of chunked) expect(typeof r.lease).toBe('bigint');
  });
});
