/**
 * A version as etcd's encoded mvccpb.KeyValue (the form etcd keeps every revision in, in bbolt),
 * built on the version's first read and kept with it: later reads frame their responses from these
 * bytes with one copy and no per-field work. The version's value becomes a view into them, so the
 * value is still held once (a version never changes, so the bytes never go stale).
 */
import type { LogRow } from '../log/types';
import { WIRE_LEN, Writer, bytesFieldSize, int64FieldSize, narrow, writeBytesField, writeInt64Field } from '../protobuf-writer';

/** KeyValue: key = 1, create_revision = 2, mod_revision = 3, version = 4, value = 5, lease = 6. */
export function keyValueBytes(row: LogRow): Buffer {
  const kept = row.encoded;
  if (kept) return kept;
  const lease = narrow(row.lease);
  const value = row.value;
  const size =
    bytesFieldSize(row.key) +
    int64FieldSize(row.createRevision) +
    int64FieldSize(row.revision) +
    int64FieldSize(row.version) +
    bytesFieldSize(value) +
    int64FieldSize(lease);
  // Small sizes come from Node's shared pool: no allocation of its own per version.
  const w = new Writer(Buffer.allocUnsafe(size));
  writeBytesField(w, 1, row.key);
  writeInt64Field(w, 2, row.createRevision);
  writeInt64Field(w, 3, row.revision);
  writeInt64Field(w, 4, row.version);
  if (value.length > 0) {
    w.tag(5, WIRE_LEN);
    w.varint(value.length);
    const start = w.pos;
    w.raw(value);
    row.value = w.buf.subarray(start, w.pos);
  }
  writeInt64Field(w, 6, lease);
  row.encoded = w.buf;
  return w.buf;
}
