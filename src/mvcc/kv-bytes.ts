/**
 * A version as the index keeps it: its fields, and etcd's encoded mvccpb.KeyValue (the form etcd
 * keeps every revision in, in bbolt) in a slab. The key and the value are read out of those bytes,
 * so each is held once, with no Buffer of its own; reads frame their responses from the bytes with
 * one copy and no per-field work. A version never changes, so the bytes never go stale.
 */
import type { LogRow } from '../log/types';
import { WIRE_LEN, Writer, bytesFieldSize, int64FieldSize, narrow, writeInt64Field } from '../protobuf-writer';
import type { Slab, Slabs } from './slabs';

const EMPTY = Buffer.alloc(0);
/** One shared bigint for "no lease" (each 0n a driver or the decoder makes is an object of its own). */
const NO_LEASE = 0n;

export class Version implements LogRow {
  revision: number;
  sub: number;
  createRevision: number;
  prevRevision: number;
  version: number;
  lease: bigint;
  deleted: boolean;
  /** Where the KeyValue bytes are: `slab.buf[start, end)`, the value `[valueStart, valueEnd)`. */
  private slab: Slab;
  private start: number;
  private end: number;
  private valueStart: number;
  private valueEnd: number;

  /** Copies `row` (key and value included) into `slabs`. */
  constructor(row: LogRow, slabs: Slabs) {
    this.revision = row.revision;
    this.sub = row.sub;
    this.createRevision = row.createRevision;
    this.prevRevision = row.prevRevision;
    this.version = row.version;
    this.lease = row.lease === 0n ? NO_LEASE : row.lease;
    this.deleted = row.deleted;
    const lease = narrow(row.lease);
    const value = row.value;
    const size =
      bytesFieldSize(row.key) +
      int64FieldSize(row.createRevision) +
      int64FieldSize(row.revision) +
      int64FieldSize(row.version) +
      bytesFieldSize(value) +
      int64FieldSize(lease);
    const slab = slabs.reserve(size);
    const w = new Writer(slab.buf);
    w.pos = slab.used - size;
    this.slab = slab;
    this.start = w.pos;
    // etcd refuses empty keys, so field 1 is always there (`key` relies on it).
    w.tag(1, WIRE_LEN);
    w.varint(row.key.length);
    w.raw(row.key);
    writeInt64Field(w, 2, row.createRevision);
    writeInt64Field(w, 3, row.revision);
    writeInt64Field(w, 4, row.version);
    if (value.length > 0) {
      w.tag(5, WIRE_LEN);
      w.varint(value.length);
    }
    this.valueStart = w.pos;
    w.raw(value);
    this.valueEnd = w.pos;
    writeInt64Field(w, 6, lease);
    this.end = w.pos;
  }

  /** A view of the key (decoded from field 1's length). */
  get key(): Buffer {
    const buf = this.slab.buf;
    let at = this.start + 1;
    let len = 0;
    for (let shift = 1; ; shift *= 128) {
      const b = buf[at++];
      len += (b & 0x7f) * shift;
      if (b < 0x80) break;
    }
    return buf.subarray(at, at + len);
  }

  get value(): Buffer {
    return this.valueEnd > this.valueStart ? this.slab.buf.subarray(this.valueStart, this.valueEnd) : EMPTY;
  }

  /** The encoded KeyValue (key = 1, create_revision = 2, mod_revision = 3, version = 4, value = 5, lease = 6), a view into the slab. */
  bytes(): Buffer {
    return this.slab.buf.subarray(this.start, this.end);
  }

  /** The version is gone from the index: its bytes no longer hold its slab. */
  release(slabs: Slabs): void {
    slabs.release(this.slab, this.end - this.start);
  }

  /** Moves the bytes to the slab being filled if theirs is mostly dead (compaction). */
  compact(slabs: Slabs): void {
    if (!slabs.sparse(this.slab)) return;
    const n = this.end - this.start;
    const to = slabs.reserve(n);
    const at = to.used - n;
    this.slab.buf.copy(to.buf, at, this.start, this.end);
    slabs.release(this.slab, n);
    const shift = at - this.start;
    this.slab = to;
    this.start = at;
    this.end += shift;
    this.valueStart += shift;
    this.valueEnd += shift;
  }
}
