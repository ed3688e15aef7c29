/**
 * Hand-written protobuf encoders for the hot responses (Range, Put, Watch), straight from the mvcc
 * results. protobufjs's generic path first converts every field of every message (fromObject,
 * int64 strings to Longs) and then walks it by reflection; for a 10,000-key Range that was most of
 * the request's CPU. Field numbers are etcd's (proto/rpc.proto, proto/kv.proto). The header's
 * identity fields are encoded once per encoder set; encoded watch events are cached per mvcc Event,
 * so an event fanned out to many watchers is encoded once. Output follows proto3: zero values are
 * left out. This file is a leaf (types from mvcc only) and longer than most: one encoder per
 * message, each with its size pass, reads best in one place.
 */
import type { Event, KeyValue, PutResponse, RangeResponse, WatchResponse } from '../mvcc/types';

/** The identity fields of every top-level header (int64 ids as decimal strings). */
interface FastHeaderIdentity {
  cluster_id: string;
  member_id: string;
  raft_term: number;
}

/** etcd's WatchResponse has a fragment flag (field 7), set on all but the last part of a split response. */
export type FastWatchResponse = WatchResponse & { fragment?: boolean };

interface FastEncoders {
  range(r: RangeResponse): Buffer;
  put(r: PutResponse): Buffer;
  watch(r: FastWatchResponse): Buffer;
}

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

type Int64 = number | bigint;

function varintSize(v: number): number {
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
const narrow = (v: Int64): Int64 => (typeof v === 'bigint' && v >= 0n && v <= MAX_SAFE ? Number(v) : v);
const isFast = (v: Int64): v is number => typeof v === 'number' && v >= 0 && v <= Number.MAX_SAFE_INTEGER;
const int64Size = (v: Int64): number => (isFast(v) ? varintSize(v) : slowVarint(v).length);

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

const int64FieldSize = (v: Int64): number => (v === 0 || v === 0n ? 0 : 1 + int64Size(v));
const bytesFieldSize = (b: Uint8Array | undefined): number => (b && b.length > 0 ? 1 + varintSize(b.length) + b.length : 0);
const boolFieldSize = (v: boolean | undefined): number => (v ? 2 : 0);
const msgFieldSize = (size: number): number => 1 + varintSize(size) + size;

function writeInt64Field(w: Writer, field: number, v: Int64): void {
  if (v === 0 || v === 0n) return;
  w.tag(field, WIRE_VARINT);
  w.int64(v);
}
function writeBytesField(w: Writer, field: number, b: Uint8Array | undefined): void {
  if (!b || b.length === 0) return;
  w.tag(field, WIRE_LEN);
  w.bytes(b);
}
function writeBoolField(w: Writer, field: number, v: boolean | undefined): void {
  if (!v) return;
  w.tag(field, WIRE_VARINT);
  w.varint(1);
}

/** A field's complete bytes (tag and value), or nothing for a zero value. */
function int64FieldBytes(field: number, v: Int64): Buffer {
  const w = new Writer(Buffer.alloc(int64FieldSize(v)));
  writeInt64Field(w, field, v);
  return w.buf;
}

/**
 * ResponseHeader (cluster_id = 1, member_id = 2, revision = 3, raft_term = 4): the identity fields
 * are the same in every response, so their bytes are made once; only the revision is written.
 */
class HeaderWriter {
  private readonly before: Buffer;
  private readonly after: Buffer;

  constructor(id: FastHeaderIdentity) {
    const ids = [int64FieldBytes(1, BigInt(id.cluster_id)), int64FieldBytes(2, BigInt(id.member_id))];
    this.before = Buffer.concat(ids);
    this.after = int64FieldBytes(4, id.raft_term);
  }

  size(revision: number): number {
    return this.before.length + int64FieldSize(revision) + this.after.length;
  }

  write(w: Writer, field: number, revision: number, size: number): void {
    w.tag(field, WIRE_LEN);
    w.varint(size);
    w.raw(this.before);
    writeInt64Field(w, 3, revision);
    w.raw(this.after);
  }
}

// --- KeyValue (key = 1, create_revision = 2, mod_revision = 3, version = 4, value = 5, lease = 6) ---

function kvSize(kv: KeyValue): number {
  return (
    bytesFieldSize(kv.key) +
    int64FieldSize(kv.create_revision) +
    int64FieldSize(kv.mod_revision) +
    int64FieldSize(kv.version) +
    bytesFieldSize(kv.value) +
    int64FieldSize(narrow(kv.lease))
  );
}
function writeKv(w: Writer, field: number, kv: KeyValue, size: number): void {
  w.tag(field, WIRE_LEN);
  w.varint(size);
  writeBytesField(w, 1, kv.key);
  writeInt64Field(w, 2, kv.create_revision);
  writeInt64Field(w, 3, kv.mod_revision);
  writeInt64Field(w, 4, kv.version);
  writeBytesField(w, 5, kv.value);
  writeInt64Field(w, 6, narrow(kv.lease));
}

/** Event (type = 1, kv = 2, prev_kv = 3) as a complete message, cached per event object. */
const eventCache = new WeakMap<Event, Buffer>();
function encodedEvent(e: Event): Buffer {
  let buf = eventCache.get(e);
  if (buf) return buf;
  const ks = kvSize(e.kv);
  const ps = e.prev_kv ? kvSize(e.prev_kv) : 0;
  const type: number = e.type;
  const w = new Writer(Buffer.allocUnsafe((type !== 0 ? 2 : 0) + msgFieldSize(ks) + (e.prev_kv ? msgFieldSize(ps) : 0)));
  if (type !== 0) {
    w.tag(1, WIRE_VARINT);
    w.varint(type);
  }
  writeKv(w, 2, e.kv, ks);
  if (e.prev_kv) writeKv(w, 3, e.prev_kv, ps);
  buf = w.buf;
  eventCache.set(e, buf);
  return buf;
}

/** The bytes one event adds to a WatchResponse (its field 11), for splitting responses into fragments. */
export function watchEventFieldSize(e: Event): number {
  return msgFieldSize(encodedEvent(e).length);
}

/** The hot responses' encoders for one member identity (top-level responses: full headers). */
export function fastEncoders(id: FastHeaderIdentity): FastEncoders {
  const head = new HeaderWriter(id);
  return {
    /** RangeResponse: header = 1, kvs = 2, more = 3, count = 4. */
    range(r) {
      const hs = head.size(r.header.revision);
      const kvs = r.kvs;
      const sizes = new Array<number>(kvs.length);
      let total = msgFieldSize(hs) + boolFieldSize(r.more) + int64FieldSize(r.count);
      for (let i = 0; i < kvs.length; i++) total += msgFieldSize((sizes[i] = kvSize(kvs[i])));
      const w = new Writer(Buffer.allocUnsafe(total));
      head.write(w, 1, r.header.revision, hs);
      for (let i = 0; i < kvs.length; i++) writeKv(w, 2, kvs[i], sizes[i]);
      writeBoolField(w, 3, r.more);
      writeInt64Field(w, 4, r.count);
      return w.buf;
    },

    /** PutResponse: header = 1, prev_kv = 2. */
    put(r) {
      const hs = head.size(r.header.revision);
      const prev = r.prev_kv;
      const ps = prev ? kvSize(prev) : 0;
      const w = new Writer(Buffer.allocUnsafe(msgFieldSize(hs) + (prev ? msgFieldSize(ps) : 0)));
      head.write(w, 1, r.header.revision, hs);
      if (prev) writeKv(w, 2, prev, ps);
      return w.buf;
    },

    /** WatchResponse: header = 1, watch_id = 2, created = 3, canceled = 4, compact_revision = 5, cancel_reason = 6, fragment = 7, events = 11. */
    watch(r) {
      const events = r.events.map(encodedEvent);
      const reason = r.cancel_reason ? Buffer.from(r.cancel_reason, 'utf8') : undefined;
      const compact = r.compact_revision ?? 0;
      const hs = head.size(r.revision);
      let total = msgFieldSize(hs) + int64FieldSize(r.watch_id);
      total += boolFieldSize(r.created) + boolFieldSize(r.canceled) + boolFieldSize(r.fragment);
      total += int64FieldSize(compact) + bytesFieldSize(reason);
      for (const e of events) total += msgFieldSize(e.length);
      const w = new Writer(Buffer.allocUnsafe(total));
      head.write(w, 1, r.revision, hs);
      writeInt64Field(w, 2, r.watch_id);
      writeBoolField(w, 3, r.created);
      writeBoolField(w, 4, r.canceled);
      writeInt64Field(w, 5, compact);
      writeBytesField(w, 6, reason);
      writeBoolField(w, 7, r.fragment);
      for (const e of events) {
        w.tag(11, WIRE_LEN);
        w.bytes(e);
      }
      return w.buf;
    },
  };
}
