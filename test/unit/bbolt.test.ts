import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { fnv1a64 } from '../../src/bbolt/fnv64';
import { BoltReader } from '../../src/bbolt/reader';
import { writeBolt } from '../../src/bbolt/writer';
import { asInput, fileContents, hexContents, readAll, type Contents } from '../helpers/bolt-fixtures';

const dir = mkdtempSync(path.join(tmpdir(), 'strata-bbolt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = () => path.join(dir, `f${n++}.db`);
const b = (s: string) => Buffer.from(s);

describe('FNV-1a 64 (the meta checksum)', () => {
  it('matches the published test vectors', () => {
    expect(fnv1a64(b(''))).toBe(0xcbf29ce484222325n);
    expect(fnv1a64(b('a'))).toBe(0xaf63dc4c8601ec8cn);
    expect(fnv1a64(b('foobar'))).toBe(0x85944171f73967e8n);
  });
});

describe('bbolt writer and reader', () => {
  it('read back exactly what was written, for random buckets (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fileContents(6, 120), async (contents) => {
        const p = file();
        const res = await writeBolt(p, asInput(contents));
        expect(readFileSync(p).length).toBe(res.size);
        expect(hexContents(await readAll(p))).toEqual(hexContents(contents));
        rmSync(p);
      }),
      { numRuns: 60 },
    );
  });

  it('builds trees three levels deep and reads them back in order', async () => {
    const entries: [Buffer, Buffer][] = [];
    for (let i = 0; i < 150_000; i++) entries.push([b(`key/${String(i).padStart(7, '0')}`), b(`value ${i}`)]);
    const p = file();
    await writeBolt(p, [{ name: b('big'), entries }]);
    const back = await readAll(p);
    expect(back).toHaveLength(1);
    expect(back[0].entries.length).toBe(entries.length);
    back[0].entries.forEach(([k, v], i) => {
      if (!k.equals(entries[i][0]) || !v.equals(entries[i][1])) throw new Error(`entry ${i} differs`);
    });
    const r = await BoltReader.open(p);
    const root = (await r.bucket('big'))!;
    const rootPage = await r.page(root.root);
    const firstChild = await r.page(rootPage.readUInt32LE(16 + 8));
    expect(rootPage.readUInt16LE(8)).toBe(0x01); // branch
    expect(firstChild.readUInt16LE(8)).toBe(0x01); // branch again: three levels
    await r.close();
  });

  it('inlines a bucket exactly when bbolt would (its leaf within a quarter page)', async () => {
    // 16 (page header) + 16 (element) + 1 (key) + v bytes: 1024 fits, 1025 does not.
    const p = file();
    await writeBolt(p, [
      { name: b('a'), entries: [[b('k'), Buffer.alloc(1024 - 33)]] },
      { name: b('b'), entries: [[b('k'), Buffer.alloc(1025 - 33)]] },
      { name: b('c'), entries: [] },
    ]);
    const r = await BoltReader.open(p);
    expect((await r.bucket('a'))!.root).toBe(0);
    expect((await r.bucket('b'))!.root).toBeGreaterThan(2);
    expect((await r.bucket('c'))!.root).toBe(0);
    await r.close();
    expect((await readAll(p)).map((c) => c.entries.length)).toEqual([1, 1, 0]);
  });

  it('writes an empty file bbolt can open (no buckets)', async () => {
    const p = file();
    const res = await writeBolt(p, []);
    expect(res.pages).toBe(4); // meta, meta, freelist, the root bucket's empty leaf
    expect(await readAll(p)).toEqual([]);
  });

  it('uses the other meta page when one is damaged, and refuses a file with neither', async () => {
    const contents: Contents[] = [{ name: b('x'), entries: [[b('k'), b('v')]] }];
    const p = file();
    await writeBolt(p, contents);
    const buf = readFileSync(p);
    for (const page of [0, 1]) {
      const damaged = Buffer.from(buf);
      damaged[page * 4096 + 16 + 20] ^= 0xff; // inside the meta, covered by the checksum
      const q = file();
      writeFileSync(q, damaged);
      expect(hexContents(await readAll(q))).toEqual(hexContents(contents));
    }
    const both = Buffer.from(buf);
    both[16 + 20] ^= 0xff;
    both[4096 + 16 + 20] ^= 0xff;
    const q = file();
    writeFileSync(q, both);
    await expect(BoltReader.open(q)).rejects.toThrow('bbolt: meta page checksum mismatch');
  });

  it('ignores bytes after the last page (etcd appends a SHA-256 to a snapshot)', async () => {
    const contents: Contents[] = [{ name: b('x'), entries: [[b('k'), b('v')]] }];
    const p = file();
    await writeBolt(p, contents);
    writeFileSync(p, Buffer.concat([readFileSync(p), Buffer.alloc(32, 0xab)]));
    expect(hexContents(await readAll(p))).toEqual(hexContents(contents));
  });

  it('refuses keys out of order, repeated or empty, and bucket names out of order', async () => {
    const one = (entries: [Buffer, Buffer][]) => writeBolt(file(), [{ name: b('x'), entries }]);
    await expect(
      one([
        [b('b'), b('')],
        [b('a'), b('')],
      ]),
    ).rejects.toThrow('not strictly increasing');
    await expect(
      one([
        [b('a'), b('')],
        [b('a'), b('')],
      ]),
    ).rejects.toThrow('not strictly increasing');
    await expect(one([[b(''), b('')]])).rejects.toThrow('empty key');
    await expect(
      writeBolt(file(), [
        { name: b('b'), entries: [] },
        { name: b('a'), entries: [] },
      ]),
    ).rejects.toThrow('bucket (root) are not strictly increasing');
  });
});
