/**
 * A log row as a pair of etcd's `key` bucket and back: the revision key (tombstones marked 't')
 * and the marshaled KeyValue (a tombstone's holds only the key). The reverse direction needs the
 * key's previous revision, which etcd does not store.
 */
import type { LogRow } from '../log/types';
import { decodeKeyValue, encodeKeyValue } from './key-value';
import { decodeRevisionKey, encodeRevisionKey } from './revision-key';

type KeyBucketEntry = readonly [key: Buffer, value: Buffer];

const EMPTY = Buffer.alloc(0);

export function keyBucketEntry(row: LogRow): KeyBucketEntry {
  const key = encodeRevisionKey(row.revision, row.sub, row.deleted);
  if (row.deleted) return [key, encodeKeyValue({ key: row.key, createRevision: 0, modRevision: 0, version: 0, value: EMPTY, lease: 0n })];
  return [
    key,
    encodeKeyValue({
      key: row.key,
      createRevision: row.createRevision,
      modRevision: row.revision,
      version: row.version,
      value: row.value,
      lease: row.lease,
    }),
  ];
}

/** The row a `key` bucket pair holds (its buffers copied out of the page they were read from). */
export function rowFromKeyBucket(k: Buffer, v: Buffer, prevRevision: number): LogRow {
  const rev = decodeRevisionKey(k);
  const kv = decodeKeyValue(v);
  if (kv.key.length === 0) throw new Error(`etcd backend: the row at revision ${rev.main}_${rev.sub} has no key`);
  const key = Buffer.from(kv.key);
  if (rev.tombstone) {
    return { revision: rev.main, sub: rev.sub, key, createRevision: 0, prevRevision, version: 0, lease: 0n, value: EMPTY, deleted: true };
  }
  if (kv.modRevision !== rev.main) throw new Error(`etcd backend: the row at revision ${rev.main} says mod_revision ${kv.modRevision}`);
  return {
    revision: rev.main,
    sub: rev.sub,
    key,
    createRevision: kv.createRevision,
    prevRevision,
    version: kv.version,
    lease: kv.lease,
    value: Buffer.from(kv.value),
    deleted: false,
  };
}
