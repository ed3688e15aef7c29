/**
 * Hand-written protobuf encoders for the hot responses (Range, Put, Watch), straight from the mvcc
 * results. protobufjs's generic path first converts every field of every message (fromObject,
 * int64 strings to Longs) and then walks it by reflection; for a 10,000-key Range that was most of
 * the request's CPU. Field numbers are etcd's (proto/rpc.proto, proto/kv.proto). The header's
 * identity fields are encoded once per encoder set; encoded watch events are cached per mvcc Event,
 * so an event fanned out to many watchers is encoded once; a KeyValue that carries its encoded
 * bytes (what a read returns) is copied as it is. A Range response is written behind room for
 * gRPC's message prefix (framed-message.ts), so grpc-js sends it without copying it again. Output
 * follows proto3: zero values are left out. Longer than most files: one encoder per message, each
 * with its size pass, reads best in one place.
 */
import type { Event, KeyValue, PutResponse, RangeResponse, WatchResponse } from '../mvcc/types';
import {
  WIRE_LEN,
  WIRE_VARINT,
  Writer,
  boolFieldSize,
  bytesFieldSize,
  int64FieldBytes,
  int64FieldSize,
  msgFieldSize,
  narrow,
  writeBoolField,
  writeBytesField,
  writeInt64Field,
} from '../protobuf-writer';
import { framedMessage } from './framed-message';

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
  if (kv.encoded) return kv.encoded.length;
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
  if (kv.encoded) return w.raw(kv.encoded);
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
      const w = new Writer(framedMessage(total));
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
