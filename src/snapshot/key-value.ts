/**
 * The records etcd keeps in its backend: mvccpb.KeyValue (the `key` bucket's values) and
 * leasepb.Lease (the `lease` bucket's), byte for byte as etcd marshals them. A tombstone's value
 * is a KeyValue holding only the key.
 */
import { ProtoWriter, readFields, safeNumber } from './proto-wire';

export interface KeyValue {
  key: Buffer;
  createRevision: number;
  modRevision: number;
  version: number;
  value: Buffer;
  lease: bigint;
}

export function encodeKeyValue(kv: KeyValue): Buffer {
  return new ProtoWriter()
    .bytes(1, kv.key)
    .int64(2, kv.createRevision)
    .int64(3, kv.modRevision)
    .int64(4, kv.version)
    .bytes(5, kv.value)
    .int64(6, kv.lease)
    .finish();
}

const EMPTY = Buffer.alloc(0);

export function decodeKeyValue(buf: Buffer): KeyValue {
  const kv: KeyValue = { key: EMPTY, createRevision: 0, modRevision: 0, version: 0, value: EMPTY, lease: 0n };
  for (const f of readFields(buf)) {
    if (f.field === 1 && f.bytes) kv.key = f.bytes;
    else if (f.field === 2 && f.int !== undefined) kv.createRevision = safeNumber(f.int, 'create_revision');
    else if (f.field === 3 && f.int !== undefined) kv.modRevision = safeNumber(f.int, 'mod_revision');
    else if (f.field === 4 && f.int !== undefined) kv.version = safeNumber(f.int, 'version');
    else if (f.field === 5 && f.bytes) kv.value = f.bytes;
    else if (f.field === 6 && f.int !== undefined) kv.lease = f.int;
  }
  return kv;
}

export interface LeaseRecord {
  id: bigint;
  /** The TTL granted, in seconds. */
  ttl: number;
  /** Seconds left at the last checkpoint; 0 when never checkpointed (etcd then uses the TTL). */
  remainingTtl: number;
}

export function encodeLease(l: LeaseRecord): Buffer {
  return new ProtoWriter().int64(1, l.id).int64(2, l.ttl).int64(3, l.remainingTtl).finish();
}

export function decodeLease(buf: Buffer): LeaseRecord {
  const l: LeaseRecord = { id: 0n, ttl: 0, remainingTtl: 0 };
  for (const f of readFields(buf)) {
    if (f.int === undefined) continue;
    if (f.field === 1) l.id = f.int;
    else if (f.field === 2) l.ttl = safeNumber(f.int, 'lease TTL');
    else if (f.field === 3) l.remainingTtl = safeNumber(f.int, 'lease remaining TTL');
  }
  return l;
}
