/**
 * The few protobuf wire rules etcd's stored records need (varint int64 fields and bytes fields),
 * written as gogoproto's generated Marshal writes them: fields in number order, zero values and
 * empty bytes left out, negative int64 as ten-byte two's complement.
 */

const WIRE_VARINT = 0;
const WIRE_BYTES = 2;

export class ProtoWriter {
  private readonly parts: Buffer[] = [];
  private scratch: number[] = [];

  /** An int64 field; 0 is omitted. */
  int64(field: number, v: number | bigint): this {
    if (v === 0 || v === 0n) return this;
    this.tag(field, WIRE_VARINT);
    this.varint(BigInt.asUintN(64, BigInt(v)));
    return this;
  }

  /** A bytes (or string) field; empty is omitted. */
  bytes(field: number, v: Buffer): this {
    if (v.length === 0) return this;
    this.tag(field, WIRE_BYTES);
    this.varint(BigInt(v.length));
    this.flushScratch();
    this.parts.push(v);
    return this;
  }

  finish(): Buffer {
    this.flushScratch();
    return this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts);
  }

  private tag(field: number, wire: number): void {
    this.varint(BigInt(field * 8 + wire));
  }

  private varint(v: bigint): void {
    while (v >= 0x80n) {
      this.scratch.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.scratch.push(Number(v));
  }

  private flushScratch(): void {
    if (this.scratch.length === 0) return;
    this.parts.push(Buffer.from(this.scratch));
    this.scratch = [];
  }
}

export interface ProtoField {
  field: number;
  /** The varint's value for varint fields, as a signed int64. */
  int?: bigint;
  /** The payload for length-delimited fields (a view into the message). */
  bytes?: Buffer;
}

/** The fields of a message in wire order; fixed32/fixed64 fields are skipped. */
export function* readFields(buf: Buffer): Generator<ProtoField> {
  let pos = 0;
  const varint = (): bigint => {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (pos >= buf.length || shift > 63n) throw new Error('protobuf: truncated or overlong varint');
      const byte = buf[pos++];
      v |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return v;
    }
  };
  while (pos < buf.length) {
    const key = varint();
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (wire === WIRE_VARINT) {
      yield { field, int: BigInt.asIntN(64, varint()) };
    } else if (wire === WIRE_BYTES) {
      const len = Number(varint());
      if (pos + len > buf.length) throw new Error('protobuf: field runs past the end of the message');
      yield { field, bytes: buf.subarray(pos, pos + len) };
      pos += len;
    } else if (wire === 1 || wire === 5) {
      pos += wire === 1 ? 8 : 4;
    } else {
      throw new Error(`protobuf: unsupported wire type ${wire}`);
    }
  }
}

/** An int64 field as a JS number, refusing values beyond 2^53 (revisions, versions, TTLs). */
export function safeNumber(v: bigint, what: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) throw new Error(`${what} ${v} is beyond 2^53`);
  return Number(v);
}
