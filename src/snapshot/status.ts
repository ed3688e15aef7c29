/**
 * What `etcdctl snapshot status` reports for a db or snapshot file: CRC-32C over every bucket's
 * name and pairs in bbolt's order, the last revision in the `key` bucket, the number of pairs in
 * all buckets, and the db's size (pages in use times the page size). Used to check a snapshot
 * without etcdctl, and by the tests to show strata and etcdctl agree.
 */
import { crc32c } from '@node-rs/crc32';
import { BoltReader } from '../bbolt/reader';
import { BUCKETS } from './backend-layout';
import { decodeRevisionKey } from './revision-key';

export interface SnapshotStatus {
  hash: number;
  revision: number;
  totalKey: number;
  totalSize: number;
}

export async function snapshotStatus(path: string): Promise<SnapshotStatus> {
  const bolt = await BoltReader.open(path);
  try {
    let crc = 0;
    let revision = 0;
    let totalKey = 0;
    for await (const { name, bucket } of bolt.buckets()) {
      crc = crc32c(name, crc);
      const isKey = name.toString('latin1') === BUCKETS.key;
      for await (const e of bolt.entries(bucket)) {
        // bbolt hands etcdctl a nested bucket's value as nil.
        crc = e.bucket ? crc32c(e.key, crc) : crc32c(e.value, crc32c(e.key, crc));
        if (isKey) revision = decodeRevisionKey(e.key).main;
        totalKey++;
      }
    }
    return { hash: crc >>> 0, revision, totalKey, totalSize: bolt.meta.pgid * bolt.pageSize };
  } finally {
    await bolt.close();
  }
}
