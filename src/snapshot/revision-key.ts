/**
 * etcd's `key` bucket is keyed by revision: 8-byte big-endian main revision, '_', 8-byte
 * big-endian sub revision (17 bytes), and a trailing 't' on a tombstone, so byte order is
 * (main, sub) order.
 */
const REVISION_KEY_SIZE = 17;
const SEPARATOR = 0x5f; // '_'
const TOMBSTONE = 0x74; // 't'

export interface Revision {
  main: number;
  sub: number;
}

export function encodeRevisionKey(main: number, sub: number, tombstone = false): Buffer {
  const b = Buffer.alloc(REVISION_KEY_SIZE + (tombstone ? 1 : 0));
  b.writeBigUInt64BE(BigInt(main), 0);
  b[8] = SEPARATOR;
  b.writeBigUInt64BE(BigInt(sub), 9);
  if (tombstone) b[REVISION_KEY_SIZE] = TOMBSTONE;
  return b;
}

export function decodeRevisionKey(b: Buffer): Revision & { tombstone: boolean } {
  if (b.length < REVISION_KEY_SIZE || b[8] !== SEPARATOR) throw new Error(`etcd backend: ${b.toString('hex')} is not a revision key`);
  const main = Number(b.readBigUInt64BE(0));
  const sub = Number(b.readBigUInt64BE(9));
  if (!Number.isSafeInteger(main) || !Number.isSafeInteger(sub))
    throw new Error(`etcd backend: revision key ${b.toString('hex')} is beyond 2^53`);
  return { main, sub, tombstone: b.length === REVISION_KEY_SIZE + 1 && b[REVISION_KEY_SIZE] === TOMBSTONE };
}
