/** FNV-1a, 64 bits: the checksum bbolt keeps in each meta page (Go's hash/fnv New64a). */
const OFFSET_BASIS = 0xcbf29ce484222325n;
const PRIME = 0x100000001b3n;
const MASK = 0xffffffffffffffffn;

export function fnv1a64(data: Uint8Array): bigint {
  let h = OFFSET_BASIS;
  for (const byte of data) h = ((h ^ BigInt(byte)) * PRIME) & MASK;
  return h;
}
