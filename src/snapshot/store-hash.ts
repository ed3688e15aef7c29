/**
 * Maintenance.Hash for strata: CRC-32C over the two buckets of etcd's backend strata has the
 * contents of — `key` (the rows etcd would hold, as its key bucket holds them) and `lease` — each
 * bucket's name then its pairs. etcd hashes its whole bbolt file (members, cluster, meta with the
 * raft index…), which no other store can reproduce; this hash is the same on every instance on one
 * database, and changes with every write.
 */
import { crc32c } from '@node-rs/crc32';
import type { LeaseRow } from '../log/types';
import { u64be } from './backend-layout';
import { keyBucketEntry } from './key-bucket';
import { encodeLease } from './key-value';
import { etcdRetainedRows, type RowSource } from './retention';

export async function storeHash(rows: RowSource, revision: number, compactRevision: number, leases: Iterable<LeaseRow>): Promise<number> {
  let crc = crc32c(Buffer.from('key'));
  for await (const row of etcdRetainedRows(rows, revision, compactRevision)) {
    const [k, v] = keyBucketEntry(row);
    crc = crc32c(v, crc32c(k, crc));
  }
  crc = crc32c(Buffer.from('lease'), crc);
  const sorted = [...leases].sort((x, y) => (BigInt.asUintN(64, x.id) < BigInt.asUintN(64, y.id) ? -1 : 1));
  for (const l of sorted) crc = crc32c(encodeLease({ id: l.id, ttl: l.ttl, remainingTtl: 0 }), crc32c(u64be(l.id), crc));
  return crc >>> 0;
}
