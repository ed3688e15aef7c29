/**
 * Reads a bbolt file page by page, on demand: the meta pages first (the valid one with the higher
 * txid wins, as in bbolt), then a bucket's tree depth-first, so its pairs come out in key order
 * while only the pages on the current path are in memory. Trailing bytes past the last page (the
 * SHA-256 etcd appends to a snapshot) are never read.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { BUCKET_HEADER_SIZE, BUCKET_LEAF_FLAG, DEFAULT_PAGE_SIZE, PAGE_HEADER_SIZE, PageFlag, readPageHeader, readU64 } from './format';
import { decodeMetaPage, type BoltMeta } from './meta';
import { decodeBranch, decodeLeaf } from './node';

/** Where a bucket's tree is: its root page, or the page inlined in its parent's value. */
export interface BucketRef {
  root: number;
  inlinePage?: Buffer;
}

export interface BoltEntry {
  key: Buffer;
  value: Buffer;
  /** Set when the value is a nested bucket. */
  bucket?: BucketRef;
}

/** The largest tree bbolt could build; deeper means a cycle in a corrupt file. */
const MAX_DEPTH = 64;

export class BoltReader {
  private constructor(
    private readonly file: FileHandle,
    readonly meta: BoltMeta,
  ) {}

  static async open(path: string): Promise<BoltReader> {
    const file = await open(path, 'r');
    try {
      return new BoltReader(file, await readMeta(file));
    } catch (e) {
      await file.close();
      throw e;
    }
  }

  get pageSize(): number {
    return this.meta.pageSize;
  }

  /** The root bucket, whose entries are the top-level buckets. */
  get root(): BucketRef {
    return { root: this.meta.root.root };
  }

  /** The top-level buckets in name order. */
  async *buckets(): AsyncGenerator<{ name: Buffer; bucket: BucketRef }> {
    for await (const e of this.entries(this.root)) {
      if (e.bucket) yield { name: e.key, bucket: e.bucket };
    }
  }

  /** A top-level bucket by name. */
  async bucket(name: Buffer | string): Promise<BucketRef | undefined> {
    const want = typeof name === 'string' ? Buffer.from(name) : name;
    for await (const b of this.buckets()) if (b.name.equals(want)) return b.bucket;
    return undefined;
  }

  /** A bucket's pairs in key order (nested buckets flagged, not descended into). */
  async *entries(ref: BucketRef): AsyncGenerator<BoltEntry> {
    if (ref.root === 0) {
      if (!ref.inlinePage) throw new Error('bbolt: inline bucket without its page');
      yield* leafEntries(ref.inlinePage);
      return;
    }
    yield* this.walk(ref.root, 0);
  }

  /** A bucket's last pair (the rightmost path down its tree), or undefined when it is empty. */
  async last(ref: BucketRef): Promise<BoltEntry | undefined> {
    let page = ref.root === 0 ? ref.inlinePage : await this.page(ref.root);
    for (let depth = 0; page; depth++) {
      if (depth > MAX_DEPTH) throw new Error('bbolt: tree deeper than any bbolt writes (a cycle?)');
      const { flags } = readPageHeader(page);
      if (!(flags & PageFlag.Branch)) return [...leafEntries(page)].pop();
      const children = decodeBranch(page);
      if (children.length === 0) return undefined;
      page = await this.page(children[children.length - 1].pgid);
    }
    throw new Error('bbolt: inline bucket without its page');
  }

  async close(): Promise<void> {
    await this.file.close();
  }

  private async *walk(pgid: number, depth: number): AsyncGenerator<BoltEntry> {
    if (depth > MAX_DEPTH) throw new Error('bbolt: tree deeper than any bbolt writes (a cycle?)');
    const page = await this.page(pgid);
    const { flags } = readPageHeader(page);
    if (flags & PageFlag.Leaf) {
      yield* leafEntries(page);
    } else if (flags & PageFlag.Branch) {
      for (const child of decodeBranch(page)) yield* this.walk(child.pgid, depth + 1);
    } else {
      throw new Error(`bbolt: page ${pgid} is neither a leaf nor a branch (flags ${flags})`);
    }
  }

  /** Page `pgid` with its overflow pages. */
  async page(pgid: number): Promise<Buffer> {
    if (pgid >= this.meta.pgid) throw new Error(`bbolt: page ${pgid} is past the high-water mark ${this.meta.pgid}`);
    const first = await readAt(this.file, pgid * this.pageSize, this.pageSize);
    const { id, overflow } = readPageHeader(first);
    if (id !== pgid) throw new Error(`bbolt: page ${pgid} claims to be page ${id}`);
    if (overflow === 0) return first;
    if (pgid + overflow >= this.meta.pgid) throw new Error(`bbolt: page ${pgid} overflows past the high-water mark`);
    const rest = await readAt(this.file, (pgid + 1) * this.pageSize, overflow * this.pageSize);
    return Buffer.concat([first, rest]);
  }
}

function* leafEntries(page: Buffer): Generator<BoltEntry> {
  for (const it of decodeLeaf(page)) {
    if (!(it.flags & BUCKET_LEAF_FLAG)) {
      yield { key: it.key, value: it.value };
      continue;
    }
    if (it.value.length < BUCKET_HEADER_SIZE) throw new Error('bbolt: bucket value shorter than its header');
    const root = readU64(it.value, 0);
    const bucket: BucketRef = root === 0 ? { root, inlinePage: it.value.subarray(BUCKET_HEADER_SIZE) } : { root };
    if (root === 0 && bucket.inlinePage!.length < PAGE_HEADER_SIZE) throw new Error('bbolt: inline bucket page is truncated');
    yield { key: it.key, value: it.value, bucket };
  }
}

async function readAt(file: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await file.read(buf, done, length - done, position + done);
    if (bytesRead === 0) throw new Error(`bbolt: file ends inside the page at offset ${position}`);
    done += bytesRead;
  }
  return buf;
}

/** The meta bbolt would use: both copies checked, the higher valid txid taken. */
async function readMeta(file: FileHandle): Promise<BoltMeta> {
  const first = await readAt(file, 0, DEFAULT_PAGE_SIZE).catch(() => {
    throw new Error('bbolt: file is too small to hold a meta page');
  });
  const m0 = decodeMetaPage(first);
  // The second copy sits one page further; without a valid first copy, guess the default size.
  const pageSize = m0 instanceof Error ? DEFAULT_PAGE_SIZE : m0.pageSize;
  const m1 = await readAt(file, pageSize, pageSize).then(decodeMetaPage, (e: Error) => e);
  const valid = [m0, m1].filter((m): m is BoltMeta => !(m instanceof Error));
  if (valid.length === 0) throw m0 as Error;
  return valid.reduce((a, b) => (b.txid > a.txid ? b : a));
}
