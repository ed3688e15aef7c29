/**
 * Writes a bbolt file from buckets whose keys arrive in order, without holding the file in memory:
 * pages go to disk as they fill, the root bucket (one entry per bucket) is written after the
 * buckets, and the freelist and both meta pages, reserved at the start, last. Real bbolt opens the
 * result as it would one of its own (test/bbolt-check runs its consistency check on such files).
 */
import { open } from 'node:fs/promises';
import { BUCKET_LEAF_FLAG, DEFAULT_PAGE_SIZE, PageFlag, writePageHeader } from './format';
import { encodeMetaPage } from './meta';
import { BucketWriter } from './bucket-writer';
import { PageSink } from './page-sink';

export type Entry = readonly [key: Buffer, value: Buffer];

export interface BucketInput {
  name: Buffer;
  /** The bucket's key/value pairs, keys strictly increasing in byte order. */
  entries: AsyncIterable<Entry> | Iterable<Entry>;
}

export interface WriteOptions {
  pageSize?: number;
}

export interface WriteResult {
  /** Bytes written: the high-water mark times the page size. */
  size: number;
  pages: number;
}

const META_PAGES = 2;
const FREELIST_PAGE = 2;
/** bbolt's first txid on the two meta pages would be 0 and 1; any pair that differs by one works. */
const TXID = 2;

/** Writes `buckets` (names strictly increasing) as a new bbolt file at `path`, replacing it. */
export async function writeBolt(
  path: string,
  buckets: AsyncIterable<BucketInput> | Iterable<BucketInput>,
  opts: WriteOptions = {},
): Promise<WriteResult> {
  const pageSize = opts.pageSize ?? DEFAULT_PAGE_SIZE;
  const file = await open(path, 'w+');
  try {
    const sink = new PageSink(file, pageSize, FREELIST_PAGE + 1);
    const root = new BucketWriter(sink, '(root)', false);
    for await (const bucket of buckets) {
      const label = JSON.stringify(bucket.name.toString('latin1'));
      const writer = new BucketWriter(sink, label);
      for await (const [key, value] of bucket.entries) {
        writer.add(key, value);
        if (sink.needsFlush) await sink.flush();
      }
      root.add(bucket.name, writer.finishValue(), BUCKET_LEAF_FLAG);
      if (sink.needsFlush) await sink.flush();
    }
    const rootPgid = root.finish().root;
    await sink.flush();
    const freelist = Buffer.alloc(pageSize);
    writePageHeader(freelist, 0, { id: FREELIST_PAGE, flags: PageFlag.Freelist, count: 0, overflow: 0 });
    await sink.writeAt(FREELIST_PAGE, freelist);
    const pgid = sink.nextId;
    for (let i = 0; i < META_PAGES; i++) {
      const meta = { pageSize, flags: 0, root: { root: rootPgid, sequence: 0n }, freelist: FREELIST_PAGE, pgid, txid: TXID + i };
      await sink.writeAt(meta.txid % 2, encodeMetaPage(meta));
    }
    await file.sync();
    return { size: pgid * pageSize, pages: pgid };
  } finally {
    await file.close();
  }
}
