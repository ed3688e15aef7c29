/**
 * Hand-written protobuf encoders for the hot responses (Range, Put, Watch), over the same Wire
 * objects the codec builds. protobufjs's generic path first converts every field of every message
 * (fromObject, int64 strings to Longs) and then walks it by reflection; for a 10,000-key Range that
 * was most of the request's CPU. Field numbers are etcd's (proto/rpc.proto, proto/kv.proto).
 * Encoded watch events are cached per event object, so an event fanned out to many watchers is
 * encoded once. Output follows proto3: zero values are left out.
 */
import type { Wire } from './proto';

type Int64 = number | string | bigint | undefined | null;

const WIRE_VARINT = 0;
const WIRE_LEN = 2;

/** An int64/uint64 as the unsigned 64-bit value protobuf puts on the wire (two's complement). */
function u64(v: Int64): bigint {
  if (v === undefined || v === null || v === '') return 0n;
  return BigInt.asUintN(64, BigInt(v));
}

function isZero(v: Int64): boolean {
  return v === undefined || v === null || v === 0 || v === '' || v === '0' || v === 0n;
}

function varintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/**
 * Varint bytes of int64 values given as strings or negative numbers (the cluster and member ids of
 * every header, lease ids, watch_id -1): computed with BigInt once per distinct value.
 */
const slowVarints = new Map<Int64, Buffer>();
const SLOW_VARINTS_MAX = 4096;
function slowVarint(v: Int64): Buffer {
  let buf = slowVarints.get(v);
  if (buf) return buf;
  const bytes: number[] = [];
  let b = u64(v);
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

const isFast = (v: Int64): v is number => typeof v === 'number' && v >= 0 && v <= Number.MAX_SAFE_INTEGER;

/** Size of an int64 field's varint; small non-negative numbers take the fast path. */
function int64Size(v: Int64): number {
  return isFast(v) ? varintSize(v) : slowVarint(v).length;
}

class Writer {
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
    const bytes = slowVarint(v);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  tag(field: number, wire: number): void {
    this.buf[this.pos++] = (field << 3) | wire;
  }

  bytes(b: Uint8Array): void {
    this.varint(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
}

// --- size and write per message; a field of value zero is skipped in both -----------------------

const int64FieldSize = (v: Int64): number => (isZero(v) ? 0 : 1 + int64Size(v));
const bytesFieldSize = (b: Uint8Array | undefined): number => (b && b.length > 0 ? 1 + varintSize(b.length) + b.length : 0);
const msgFieldSize = (size: number): number => 1 + varintSize(size) + size;

function writeInt64Field(w: Writer, field: number, v: Int64): void {
  if (isZero(v)) return;
  w.tag(field, WIRE_VARINT);
  w.int64(v);
}
function writeBytesField(w: Writer, field: number, b: Uint8Array | undefined): void {
  if (!b || b.length === 0) return;
  w.tag(field, WIRE_LEN);
  w.bytes(b);
}
function writeBoolField(w: Writer, field: number, v: unknown): void {
  if (!v) return;
  w.tag(field, WIRE_VARINT);
  w.varint(1);
}

function headerSize(h: Wire): number {
  return int64FieldSize(h.cluster_id as Int64) + int64FieldSize(h.member_id as Int64) + int64FieldSize(h.revision as Int64) + int64FieldSize(h.raft_term as Int64);
}
function writeHeader(w: Writer, field: number, h: Wire | undefined, size: number): void {
  if (!h) return;
  w.tag(field, WIRE_LEN);
  w.varint(size);
  writeInt64Field(w, 1, h.cluster_id as Int64);
  writeInt64Field(w, 2, h.member_id as Int64);
  writeInt64Field(w, 3, h.revision as Int64);
  writeInt64Field(w, 4, h.raft_term as Int64);
}

function kvSize(kv: Wire): number {
  return (
    bytesFieldSize(kv.key as Buffer) +
    int64FieldSize(kv.create_revision as Int64) +
    int64FieldSize(kv.mod_revision as Int64) +
    int64FieldSize(kv.version as Int64) +
    bytesFieldSize(kv.value as Buffer) +
    int64FieldSize(kv.lease as Int64)
  );
}
function writeKv(w: Writer, field: number, kv: Wire, size: number): void {
  w.tag(field, WIRE_LEN);
  w.varint(size);
  writeBytesField(w, 1, kv.key as Buffer);
  writeInt64Field(w, 2, kv.create_revision as Int64);
  writeInt64Field(w, 3, kv.mod_revision as Int64);
  writeInt64Field(w, 4, kv.version as Int64);
  writeBytesField(w, 5, kv.value as Buffer);
  writeInt64Field(w, 6, kv.lease as Int64);
}

/** RangeResponse: header = 1, kvs = 2, more = 3, count = 4. */
export function encodeRangeResponse(r: Wire): Buffer {
  const h = r.header as Wire | undefined;
  const kvs = (r.kvs ?? []) as Wire[];
  const hs = h ? headerSize(h) : 0;
  const sizes = new Array<number>(kvs.length);
  let total = h ? msgFieldSize(hs) : 0;
  for (let i = 0; i < kvs.length; i++) total += msgFieldSize((sizes[i] = kvSize(kvs[i])));
  total += (r.more ? 2 : 0) + int64FieldSize(r.count as Int64);
  const w = new Writer(Buffer.allocUnsafe(total));
  writeHeader(w, 1, h, hs);
  for (let i = 0; i < kvs.length; i++) writeKv(w, 2, kvs[i], sizes[i]);
  writeBoolField(w, 3, r.more);
  writeInt64Field(w, 4, r.count as Int64);
  return w.buf;
}

/** PutResponse: header = 1, prev_kv = 2. */
export function encodePutResponse(r: Wire): Buffer {
  const h = r.header as Wire | undefined;
  const prev = r.prev_kv as Wire | undefined;
  const hs = h ? headerSize(h) : 0;
  const ps = prev ? kvSize(prev) : 0;
  const w = new Writer(Buffer.allocUnsafe((h ? msgFieldSize(hs) : 0) + (prev ? msgFieldSize(ps) : 0)));
  writeHeader(w, 1, h, hs);
  if (prev) writeKv(w, 2, prev, ps);
  return w.buf;
}

/** Event (type = 1, kv = 2, prev_kv = 3) as a complete message, cached per event object. */
const eventCache = new WeakMap<Wire, Buffer>();
function encodedEvent(e: Wire): Buffer {
  let buf = eventCache.get(e);
  if (buf) return buf;
  const kv = e.kv as Wire | undefined;
  const prev = e.prev_kv as Wire | undefined;
  const ks = kv ? kvSize(kv) : 0;
  const ps = prev ? kvSize(prev) : 0;
  const type = Number(e.type ?? 0);
  const w = new Writer(Buffer.allocUnsafe((type !== 0 ? 2 : 0) + (kv ? msgFieldSize(ks) : 0) + (prev ? msgFieldSize(ps) : 0)));
  if (type !== 0) {
    w.tag(1, WIRE_VARINT);
    w.varint(type);
  }
  if (kv) writeKv(w, 2, kv, ks);
  if (prev) writeKv(w, 3, prev, ps);
  buf = w.buf;
  eventCache.set(e, buf);
  return buf;
}

/** WatchResponse: header = 1, watch_id = 2, created = 3, canceled = 4, compact_revision = 5, cancel_reason = 6, fragment = 7, events = 11. */
export function encodeWatchResponse(r: Wire): Buffer {
  const h = r.header as Wire | undefined;
  const events = ((r.events ?? []) as Wire[]).map(encodedEvent);
  const reason = r.cancel_reason ? Buffer.from(r.cancel_reason as string, 'utf8') : undefined;
  const hs = h ? headerSize(h) : 0;
  let total = (h ? msgFieldSize(hs) : 0) + int64FieldSize(r.watch_id as Int64);
  total += (r.created ? 2 : 0) + (r.canceled ? 2 : 0) + (r.fragment ? 2 : 0);
  total += int64FieldSize(r.compact_revision as Int64) + bytesFieldSize(reason);
  for (const e of events) total += msgFieldSize(e.length);
  const w = new Writer(Buffer.allocUnsafe(total));
  writeHeader(w, 1, h, hs);
  writeInt64Field(w, 2, r.watch_id as Int64);
  writeBoolField(w, 3, r.created);
  writeBoolField(w, 4, r.canceled);
  writeInt64Field(w, 5, r.compact_revision as Int64);
  writeBytesField(w, 6, reason);
  writeBoolField(w, 7, r.fragment);
  for (const e of events) {
    w.tag(11, WIRE_LEN);
    w.bytes(e);
  }
  return w.buf;
}

/** The responses with a hand-written encoder, by service and method. */
export const FAST_ENCODERS: Record<string, Record<string, (r: Wire) => Buffer>> = {
  KV: { Range: encodeRangeResponse, Put: encodePutResponse },
  Watch: { Watch: encodeWatchResponse },
};
