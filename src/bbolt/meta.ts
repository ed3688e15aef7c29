/**
 * The meta page: bbolt keeps two (pages 0 and 1) and uses the valid one with the higher txid, so a
 * torn write of one never loses the file. Its checksum is FNV-1a 64 over the fields before it.
 */
import { fnv1a64 } from './fnv64';
import { MAGIC, META_CHECKSUMMED_SIZE, META_SIZE, PAGE_HEADER_SIZE, PageFlag, VERSION, readU64, writePageHeader, writeU64 } from './format';

export interface BoltMeta {
  pageSize: number;
  flags: number;
  /** The root bucket: the page holding the top-level buckets, and its sequence. */
  root: { root: number; sequence: bigint };
  /** The freelist's page, or undefined when the file keeps none (bbolt's NoFreelistSync). */
  freelist: number | undefined;
  /** The high-water mark: pages below it are in use or free; the file holds pgid pages. */
  pgid: number;
  txid: number;
}

const NO_FREELIST = 0xffffffffffffffffn;

/** A whole meta page (page `txid % 2`) for `meta`. */
export function encodeMetaPage(meta: BoltMeta): Buffer {
  const page = Buffer.alloc(meta.pageSize);
  writePageHeader(page, 0, { id: meta.txid % 2, flags: PageFlag.Meta, count: 0, overflow: 0 });
  const m = page.subarray(PAGE_HEADER_SIZE, PAGE_HEADER_SIZE + META_SIZE);
  m.writeUInt32LE(MAGIC, 0);
  m.writeUInt32LE(VERSION, 4);
  m.writeUInt32LE(meta.pageSize, 8);
  m.writeUInt32LE(meta.flags, 12);
  writeU64(m, 16, meta.root.root);
  m.writeBigUInt64LE(meta.root.sequence, 24);
  if (meta.freelist === undefined) m.writeBigUInt64LE(NO_FREELIST, 32);
  else writeU64(m, 32, meta.freelist);
  writeU64(m, 40, meta.pgid);
  writeU64(m, 48, meta.txid);
  m.writeBigUInt64LE(fnv1a64(m.subarray(0, META_CHECKSUMMED_SIZE)), META_CHECKSUMMED_SIZE);
  return page;
}

/** The meta in a page (header included), or why it is not a valid one. */
export function decodeMetaPage(page: Buffer): BoltMeta | Error {
  if (page.length < PAGE_HEADER_SIZE + META_SIZE) return new Error('bbolt: meta page is truncated');
  const m = page.subarray(PAGE_HEADER_SIZE, PAGE_HEADER_SIZE + META_SIZE);
  if (m.readUInt32LE(0) !== MAGIC) return new Error('bbolt: invalid database (bad magic)');
  if (m.readUInt32LE(4) !== VERSION) return new Error(`bbolt: unsupported file format version ${m.readUInt32LE(4)}`);
  const checksum = m.readBigUInt64LE(META_CHECKSUMMED_SIZE);
  // bbolt accepts a zero checksum (files written before checksums existed).
  if (checksum !== 0n && checksum !== fnv1a64(m.subarray(0, META_CHECKSUMMED_SIZE))) {
    return new Error('bbolt: meta page checksum mismatch');
  }
  const freelist = m.readBigUInt64LE(32);
  return {
    pageSize: m.readUInt32LE(8),
    flags: m.readUInt32LE(12),
    root: { root: readU64(m, 16), sequence: m.readBigUInt64LE(24) },
    freelist: freelist === NO_FREELIST ? undefined : Number(freelist),
    pgid: readU64(m, 40),
    txid: readU64(m, 48),
  };
}
