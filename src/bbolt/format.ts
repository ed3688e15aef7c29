/**
 * bbolt's on-disk page format (go.etcd.io/bbolt, file format version 2), little-endian as on every
 * platform etcd ships for. A page starts with a 16-byte header; leaf and branch pages follow it with
 * fixed-size elements and then the keys and values they point at; a page whose content is larger
 * than one page continues into `overflow` contiguous pages that have no header of their own.
 */

export const DEFAULT_PAGE_SIZE = 4096;
export const MAGIC = 0xed0cdaed;
export const VERSION = 2;

export const PAGE_HEADER_SIZE = 16;
export const LEAF_ELEMENT_SIZE = 16;
export const BRANCH_ELEMENT_SIZE = 16;
/** A bucket's header, as stored in its parent's leaf value: root page id, sequence. */
export const BUCKET_HEADER_SIZE = 16;
/** The meta fields after the page header: magic … txid, then the checksum of those 56 bytes. */
export const META_CHECKSUMMED_SIZE = 56;
export const META_SIZE = 64;

export const PageFlag = {
  Branch: 0x01,
  Leaf: 0x02,
  Meta: 0x04,
  Freelist: 0x10,
} as const;

/** A leaf element whose value is a bucket (header, and the inline page if its root is 0). */
export const BUCKET_LEAF_FLAG = 0x01;

/** bbolt writes a bucket inline in its parent when its one leaf fits in a quarter page. */
export const maxInlineBucketSize = (pageSize: number): number => pageSize / 4;

/** bbolt's limit; longer keys are refused when written. */
export const MAX_KEY_SIZE = 32768;

export interface PageHeader {
  id: number;
  flags: number;
  count: number;
  overflow: number;
}

const TWO_32 = 2 ** 32;

/** Writes a page id or another u64 that fits a JS number. */
export function writeU64(buf: Buffer, offset: number, n: number): void {
  buf.writeUInt32LE(n % TWO_32, offset);
  buf.writeUInt32LE(Math.floor(n / TWO_32), offset + 4);
}

/** Reads a u64 that must fit a JS number (page ids, txids); larger ones are refused. */
export function readU64(buf: Buffer, offset: number): number {
  const hi = buf.readUInt32LE(offset + 4);
  if (hi >= 2 ** 21) throw new Error(`bbolt: 64-bit value at offset ${offset} is beyond 2^53`);
  return hi * TWO_32 + buf.readUInt32LE(offset);
}

export function writePageHeader(buf: Buffer, offset: number, h: PageHeader): void {
  writeU64(buf, offset, h.id);
  buf.writeUInt16LE(h.flags, offset + 8);
  buf.writeUInt16LE(h.count, offset + 10);
  buf.writeUInt32LE(h.overflow, offset + 12);
}

export function readPageHeader(buf: Buffer, offset = 0): PageHeader {
  return {
    id: readU64(buf, offset),
    flags: buf.readUInt16LE(offset + 8),
    count: buf.readUInt16LE(offset + 10),
    overflow: buf.readUInt32LE(offset + 12),
  };
}
