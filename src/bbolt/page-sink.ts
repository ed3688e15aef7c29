/**
 * Where the writer's pages go: page ids are handed out in order and pages are written in the same
 * order, so they are buffered and appended to the file in large sequential writes; only the few
 * pages written last (meta, freelist) are written at their place.
 */
import type { FileHandle } from 'node:fs/promises';

/** Buffered bytes beyond which the writer should flush before going on. */
const FLUSH_AT = 1 << 20;

export class PageSink {
  private chunks: Buffer[] = [];
  private pending = 0;
  private next: number;
  /** The page id at which the buffered chunks start in the file. */
  private flushedTo: number;

  constructor(
    private readonly file: FileHandle,
    readonly pageSize: number,
    firstId: number,
  ) {
    this.next = firstId;
    this.flushedTo = firstId;
  }

  /** The id the next appended page gets; also the high-water mark once writing is done. */
  get nextId(): number {
    return this.next;
  }

  get needsFlush(): boolean {
    return this.pending >= FLUSH_AT;
  }

  /** Appends a node encoded for page `id` (which must be `nextId`), spanning whole pages. */
  append(id: number, buf: Buffer): void {
    if (id !== this.next) throw new Error(`bbolt writer: page ${id} appended out of order (next is ${this.next})`);
    if (buf.length % this.pageSize !== 0) throw new Error('bbolt writer: a node must span whole pages');
    this.next += buf.length / this.pageSize;
    this.chunks.push(buf);
    this.pending += buf.length;
  }

  async flush(): Promise<void> {
    let position = this.flushedTo * this.pageSize;
    const chunks = this.chunks;
    this.chunks = [];
    this.pending = 0;
    this.flushedTo = this.next;
    // writev takes a bounded number of buffers per call (IOV_MAX).
    for (let i = 0; i < chunks.length; i += 512) {
      const part = chunks.slice(i, i + 512);
      const { bytesWritten } = await this.file.writev(part, position);
      const expected = part.reduce((n, b) => n + b.length, 0);
      if (bytesWritten !== expected) throw new Error(`bbolt writer: short write (${bytesWritten} of ${expected} bytes)`);
      position += bytesWritten;
    }
  }

  /** Writes a page outside the appended run (meta and freelist pages, reserved at the start). */
  async writeAt(id: number, page: Buffer): Promise<void> {
    const { bytesWritten } = await this.file.write(page, 0, page.length, id * this.pageSize);
    if (bytesWritten !== page.length) throw new Error(`bbolt writer: short write of page ${id}`);
  }
}
