/**
 * HashKV as etcd 3.4/3.5 computes it (mvcc's HashByRev / kvHasher): CRC-32C (Castagnoli) over
 * "key", then the revision key and marshaled KeyValue of every row in etcd's `key` bucket up to
 * `revision`, skipping the rows at or below the compact revision that are not `keep`: each key's
 * version visible at `revision`. etcd's one quirk is kept too: when no key is live at `revision`
 * its keep set is empty and nothing is skipped, so the rows compaction left at or below C count.
 * Revisions at or below the compaction (ErrCompacted) and future ones are the caller's to refuse.
 */
import { crc32c } from '@node-rs/crc32';
import type { LogRow } from '../log/types';
import { keyBucketEntry } from './key-bucket';
import { isLastLive, lastRowsUpTo, type LastRows, type RowSource } from './retention';

const KEY_BUCKET = Buffer.from('key');

export async function hashKV(source: RowSource, revision: number, compactRevision: number): Promise<number> {
  let include: (row: LogRow) => boolean = () => true;
  if (compactRevision > 0) {
    const atRev = await lastRowsUpTo(source, revision);
    const keepEmpty = ![...atRev.values()].some((r) => r > 0);
    // With an empty keep set etcd hashes every row it holds: at or below C, the last live ones there.
    const held: LastRows = keepEmpty ? await lastRowsUpTo(source, compactRevision) : atRev;
    include = (row) => row.revision > compactRevision || isLastLive(held, row);
  }
  let crc = crc32c(KEY_BUCKET);
  for await (const row of source()) {
    if (row.revision > revision) break;
    if (!include(row)) continue;
    const [k, v] = keyBucketEntry(row);
    crc = crc32c(v, crc32c(k, crc));
  }
  return crc >>> 0;
}
