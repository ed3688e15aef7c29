/**
 * Leaf and branch nodes to and from pages. A leaf element is (flags, pos, ksize, vsize), a branch
 * element (pos, ksize, child page id); `pos` counts from the element itself to its key, and the
 * value follows the key. The same encoding is an inline bucket's page, stored inside a value.
 */
import {
  BRANCH_ELEMENT_SIZE,
  LEAF_ELEMENT_SIZE,
  PAGE_HEADER_SIZE,
  PageFlag,
  readPageHeader,
  readU64,
  writePageHeader,
  writeU64,
} from './format';

export interface LeafItem {
  key: Buffer;
  value: Buffer;
  /** BUCKET_LEAF_FLAG when the value is a bucket. */
  flags: number;
}

export interface BranchItem {
  /** The first key of the child's subtree. */
  key: Buffer;
  pgid: number;
}

export const leafItemSize = (key: Buffer, value: Buffer): number => LEAF_ELEMENT_SIZE + key.length + value.length;
export const branchItemSize = (key: Buffer): number => BRANCH_ELEMENT_SIZE + key.length;

const MAX_COUNT = 0xffff;

/**
 * Allocates a node's buffer: `pageSize` rounds it up to whole pages (the excess pages counted as
 * overflow); 0 keeps it exact, as an inline bucket's page is.
 */
function nodeBuffer(contentSize: number, pageSize: number, id: number, flags: number, count: number): Buffer {
  if (count >= MAX_COUNT) throw new Error(`bbolt: ${count} elements do not fit one page header`);
  const pages = pageSize > 0 ? Math.max(1, Math.ceil(contentSize / pageSize)) : 1;
  const buf = Buffer.alloc(pageSize > 0 ? pages * pageSize : contentSize);
  writePageHeader(buf, 0, { id, flags, count, overflow: pages - 1 });
  return buf;
}

export function encodeLeaf(items: readonly LeafItem[], id: number, pageSize: number): Buffer {
  let size = PAGE_HEADER_SIZE;
  for (const it of items) size += leafItemSize(it.key, it.value);
  const buf = nodeBuffer(size, pageSize, id, PageFlag.Leaf, items.length);
  let data = PAGE_HEADER_SIZE + items.length * LEAF_ELEMENT_SIZE;
  items.forEach((it, i) => {
    const elem = PAGE_HEADER_SIZE + i * LEAF_ELEMENT_SIZE;
    buf.writeUInt32LE(it.flags, elem);
    buf.writeUInt32LE(data - elem, elem + 4);
    buf.writeUInt32LE(it.key.length, elem + 8);
    buf.writeUInt32LE(it.value.length, elem + 12);
    data += it.key.copy(buf, data);
    data += it.value.copy(buf, data);
  });
  return buf;
}

export function encodeBranch(items: readonly BranchItem[], id: number, pageSize: number): Buffer {
  let size = PAGE_HEADER_SIZE;
  for (const it of items) size += branchItemSize(it.key);
  const buf = nodeBuffer(size, pageSize, id, PageFlag.Branch, items.length);
  let data = PAGE_HEADER_SIZE + items.length * BRANCH_ELEMENT_SIZE;
  items.forEach((it, i) => {
    const elem = PAGE_HEADER_SIZE + i * BRANCH_ELEMENT_SIZE;
    buf.writeUInt32LE(data - elem, elem);
    buf.writeUInt32LE(it.key.length, elem + 4);
    writeU64(buf, elem + 8, it.pgid);
    data += it.key.copy(buf, data);
  });
  return buf;
}

function checkSpan(page: Buffer, start: number, len: number): void {
  if (start + len > page.length) throw new Error('bbolt: element points past the end of its page');
}

/** A leaf page's (or inline page's) items, as views into `page`. */
export function decodeLeaf(page: Buffer): LeafItem[] {
  const { count } = readPageHeader(page);
  const out: LeafItem[] = [];
  for (let i = 0; i < count; i++) {
    const elem = PAGE_HEADER_SIZE + i * LEAF_ELEMENT_SIZE;
    const flags = page.readUInt32LE(elem);
    const start = elem + page.readUInt32LE(elem + 4);
    const ksize = page.readUInt32LE(elem + 8);
    const vsize = page.readUInt32LE(elem + 12);
    checkSpan(page, start, ksize + vsize);
    out.push({ flags, key: page.subarray(start, start + ksize), value: page.subarray(start + ksize, start + ksize + vsize) });
  }
  return out;
}

export function decodeBranch(page: Buffer): BranchItem[] {
  const { count } = readPageHeader(page);
  const out: BranchItem[] = [];
  for (let i = 0; i < count; i++) {
    const elem = PAGE_HEADER_SIZE + i * BRANCH_ELEMENT_SIZE;
    const start = elem + page.readUInt32LE(elem);
    const ksize = page.readUInt32LE(elem + 4);
    checkSpan(page, start, ksize);
    out.push({ key: page.subarray(start, start + ksize), pgid: readU64(page, elem + 8) });
  }
  return out;
}
