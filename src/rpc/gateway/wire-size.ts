/**
 * Protobuf encoded sizes, for the size a JSON request would have had over gRPC (etcd's request
 * limit is checked against it). Canonical proto3: what a Go client puts on the wire.
 */
import { varintSize } from '../../protobuf-writer';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Bytes of an int64/uint64 varint: negatives take ten (two's complement in 64 bits). */
export function int64Size(v: bigint): number {
  if (v >= 0n && v <= MAX_SAFE) return varintSize(Number(v));
  let u = BigInt.asUintN(64, v);
  let n = 1;
  while (u >= 0x80n) {
    u >>= 7n;
    n++;
  }
  return n;
}

/** Bytes of an int32 (or enum) varint: negatives are sign-extended to ten bytes. */
export const int32Size = (v: number): number => (v < 0 ? 10 : varintSize(v));

/** Bytes of a field's tag. */
export const tagSize = (field: number): number => varintSize(field * 8);
