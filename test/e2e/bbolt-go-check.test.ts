// Real bbolt judges the files strata's bbolt writer produces: its consistency check, its own
// reading of every pair (ForEach and a Get through the branch pages), and a write transaction on
// the file followed by the check again (etcd's restore writes to the snapshot it is given).
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBolt, type Entry } from '../../src/bbolt/writer';
import { asInput, fileContents, type Contents } from '../helpers/bolt-fixtures';
import { boltCheck, buildBboltCheck } from '../helpers/bbolt-check';

const bin = buildBboltCheck();
const dir = mkdtempSync(path.join(tmpdir(), 'strata-bbolt-go-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = () => path.join(dir, `f${n++}.db`);

/** The checker's digest of a bucket: SHA-256 over (key length, value length, key, value) per pair. */
function digest(entries: readonly Entry[]): string {
  const h = createHash('sha256');
  const len = Buffer.alloc(8);
  for (const [k, v] of entries) {
    len.writeUInt32BE(k.length, 0);
    len.writeUInt32BE(v.length, 4);
    h.update(len).update(k).update(v);
  }
  return h.digest('hex');
}

const expected = (cs: Contents[]) => cs.map((c) => ({ name: c.name.toString('hex'), count: c.entries.length, digest: digest(c.entries) }));

describe.skipIf(!bin)('bbolt files checked by go.etcd.io/bbolt', () => {
  let check: string;
  beforeAll(() => {
    check = bin!;
  });

  it('accepts random contents and reads back every pair (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fileContents(5, 200), async (contents) => {
        const p = file();
        await writeBolt(p, asInput(contents));
        const dump = boltCheck(check, p, { pairs: true });
        expect(dump.errors).toEqual([]);
        expect(dump.pageSize).toBe(4096);
        expect(dump.buckets.map(({ name, count, digest: d }) => ({ name, count, digest: d }))).toEqual(expected(contents));
        expect(dump.buckets.map((x) => x.pairs ?? [])).toEqual(
          contents.map((c) => c.entries.map(([k, v]) => [k.toString('hex'), v.toString('hex')])),
        );
        rmSync(p);
      }),
      { numRuns: 25 },
    );
  });

  it('accepts a deep tree with overflow pages, and stays consistent after bbolt writes to it', async () => {
    const entries: Entry[] = [];
    for (let i = 0; i < 60_000; i++) {
      const v = i % 997 === 0 ? Buffer.alloc(9000 + i, i % 251) : Buffer.from(`v${i}`.repeat(1 + (i % 40)));
      entries.push([Buffer.from(`/registry/pods/ns-${i % 50}/pod-${String(i).padStart(6, '0')}`), v]);
    }
    entries.sort((a, b) => Buffer.compare(a[0], b[0]));
    const contents: Contents[] = [
      { name: Buffer.from('empty'), entries: [] },
      { name: Buffer.from('key'), entries },
      { name: Buffer.from('small'), entries: [[Buffer.from('a'), Buffer.from('b')]] },
    ];
    const p = file();
    await writeBolt(p, asInput(contents));
    const dump = boltCheck(check, p, { pairs: false });
    expect(dump.errors).toEqual([]);
    expect(dump.buckets.map(({ name, count, digest: d }) => ({ name, count, digest: d }))).toEqual(expected(contents));
    expect(dump.buckets.map((x) => [x.inline, x.depth])).toEqual([
      [true, 1],
      [false, 3],
      [true, 1],
    ]);
    expect(dump.freePages).toBe(0);

    const mutated = boltCheck(check, p, { pairs: false, mutate: true });
    expect(mutated.errors).toEqual([]);
    const marker = (name: Buffer): Entry => [Buffer.from('~bbolt-check'), name];
    expect(mutated.buckets.map(({ name, count, digest: d }) => ({ name, count, digest: d }))).toEqual(
      expected(contents.map((c) => ({ name: c.name, entries: [...c.entries.slice(1), marker(c.name)] }))),
    );
  });
});
