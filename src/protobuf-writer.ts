/**
 * Protobuf wire primitives for the hand-written encoders (mvcc's KeyValue bytes, rpc's hot
 * responses): varints, int64s and the size and write of one field. Output follows proto3 as etcd
 * (Go) sends it: a field of value zero is left out. A leaf: imports nothing.
 */
export const WIRE_VARINT = 0;
export const WIRE_LEN = 2;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

export type Int64 = number | bigint;

export function varintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/**
 * Varint bytes of int64 values outside the safe non-negative numbers (lease IDs, watch_id -1,
 * negative values), as the unsigned 64-bit two's complement protobuf puts on the wire: computed
 * with BigInt once per distinct value.
 */
const slowVarints = new Map<Int64, Buffer>();
const SLOW_VARINTS_MAX = 4096;
function slowVarint(v: Int64): Buffer {
  let buf = slowVarints.get(v);
  if (buf) return buf;
  const bytes: number[] = [];
  let b = BigInt.asUintN(64, BigInt(v));
  while (b >= 0x80n) {
    bytes.push(Number(b & 0x7fn) | 0x80);
    b >>= 7n;
  }
  bytes.push(Number(b));
  buf = Buffer.from(bytes);
  if (slowVarints.size >= SLOW_VARINTS_MAX) slowVarints.clear();
  slowVarints.set(v, buf);
  return buf;
}

/** A bigint that fits the fast path becomes a number; anything else stays as it is. */
export const narrow = (v: Int64): Int64 => (typeof v === 'bigint' && v >= 0n && v <= MAX_SAFE ? Number(v) : v);
const isFast = (v: Int64): v is number => typeof v === 'number' && v >= 0 && v <= Number.MAX_SAFE_INTEGER;
const int64Size = (v: Int64): number => (isFast(v) ? varintSize(v) : slowVarint(v).length);

export class Writer {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  varint(v: number): void {
    const buf = this.buf;
    while (v >= 0x80) {
      buf[this.pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    buf[this.pos++] = v;
  }

  int64(v: Int64): void {
    if (isFast(v)) return this.varint(v);
    this.raw(slowVarint(v));
  }

  tag(field: number, wire: number): void {
    this.buf[this.pos++] = (field << 3) | wire;
  }

  raw(b: Uint8Array): void {
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  bytes(b: Uint8Array): void {
    this.varint(b.length);
    this.raw(b);
  }
}

// --- size and write per field; a field of value zero is skipped in both -------------------------

export const int64FieldSize = (v: Int64): number => (v === 0 || v === 0n ? 0 : 1 + int64Size(v));
export const bytesFieldSize = (b: Uint8Array | undefined): number => (b && b.length > 0 ? 1 + varintSize(b.length) + b.length : 0);
export const boolFieldSize = (v: boolean | undefined): number => (v ? 2 : 0);
export const msgFieldSize = (size: number): number => 1 + varintSize(size) + size;

export function writeInt64Field(w: Writer, field: number, v: Int64): void {
  if (v === 0 || v === 0n) return;
  w.tag(field, WIRE_VARINT);
  w.int64(v);
}
export function writeBytesField(w: Writer, field: number, b: Uint8Array | undefined): void {
  if (!b || b.length === 0) return;
  w.tag(field, WIRE_LEN);
  w.bytes(b);
}
export function writeBoolField(w: Writer, field: number, v: boolean | undefined): void {
  if (!v) return;
  w.tag(field, WIRE_VARINT);
  w.varint(1);
}

/** A field's complete bytes (tag and value), or nothing for a zero value. */
export function int64FieldBytes(field: number, v: Int64): Buffer {
  const w = new Writer(Buffer.alloc(int64FieldSize(v)));
  writeInt64Field(w, field, v);
  return w.buf;
}
