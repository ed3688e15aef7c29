/**
 * One bucket's contents on their way into the file: held back while they would still fit inline
 * in the parent (as bbolt stores small buckets), handed to a TreeBuilder as soon as they would not.
 * The result is the bucket's value in its parent's leaf: its header, plus its page when inline.
 */
import { BUCKET_HEADER_SIZE, MAX_KEY_SIZE, PAGE_HEADER_SIZE, maxInlineBucketSize, writeU64 } from './format';
import { encodeLeaf, leafItemSize, type LeafItem } from './node';
import type { PageSink } from './page-sink';
import { TreeBuilder } from './tree-builder';

export class BucketWriter {
  private held: LeafItem[] = [];
  private heldSize = PAGE_HEADER_SIZE;
  private tree: TreeBuilder | undefined;
  private last: Buffer | undefined;

  constructor(
    private readonly sink: PageSink,
    private readonly label: string,
    /** The root bucket must have a page of its own. */
    inline = true,
  ) {
    if (!inline) this.tree = new TreeBuilder(sink);
  }

  add(key: Buffer, value: Buffer, flags = 0): void {
    if (key.length === 0) throw new Error(`bbolt writer: empty key in bucket ${this.label}`);
    if (key.length > MAX_KEY_SIZE) throw new Error(`bbolt writer: key of ${key.length} bytes in bucket ${this.label}`);
    if (this.last && Buffer.compare(this.last, key) >= 0) {
      throw new Error(`bbolt writer: keys of bucket ${this.label} are not strictly increasing at ${key.toString('hex')}`);
    }
    this.last = key;
    const item = { key, value, flags };
    if (this.tree) return this.tree.add(item);
    this.held.push(item);
    this.heldSize += leafItemSize(key, value);
    if (this.heldSize > maxInlineBucketSize(this.sink.pageSize)) {
      this.tree = new TreeBuilder(this.sink);
      for (const it of this.held) this.tree.add(it);
      this.held = [];
    }
  }

  /** Finishes the bucket: its root page id, or 0 and the inline page. */
  finish(): { root: number; inlinePage?: Buffer } {
    if (this.tree) return { root: this.tree.finish() };
    return { root: 0, inlinePage: encodeLeaf(this.held, 0, 0) };
  }

  /** Finishes the bucket and returns its value in the parent (flagged as a bucket there). */
  finishValue(): Buffer {
    const { root, inlinePage } = this.finish();
    const header = Buffer.alloc(BUCKET_HEADER_SIZE);
    writeU64(header, 0, root);
    return inlinePage ? Buffer.concat([header, inlinePage]) : header;
  }
}
