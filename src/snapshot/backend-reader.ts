/**
 * Reads an etcd backend db (a `snapshot save` file or a data dir's member/snap/db) back as strata
 * log rows, streaming: the `key` bucket in revision order, each row's prev_revision derived from the
 * key's previous row in the bucket (0 when etcd no longer holds one), and what etcd itself would
 * restore from the file: its current revision, compaction mark and leases.
 */
import { BoltReader, type BucketRef } from '../bbolt/reader';
import type { LogRow } from '../log/types';
import { BUCKETS, META_KEYS } from './backend-layout';
import { rowFromKeyBucket } from './key-bucket';
import { decodeLease, type LeaseRecord } from './key-value';
import { etcdRetainedRows } from './retention';
import { decodeRevisionKey } from './revision-key';

export class EtcdBackendReader {
  private constructor(
    private readonly bolt: BoltReader,
    private readonly keys: BucketRef | undefined,
    private readonly leaseBucket: BucketRef | undefined,
    /** The revision a member started on this db serves (etcd: the last row's, or the compaction's). */
    readonly revision: number,
    /** etcd's compact revision after start: a scheduled compaction is finished first; -1 if none. */
    readonly compactRevision: number,
    /** Whether the file still holds rows its last compaction removes (it was cut short). */
    private readonly compactionPending: boolean,
  ) {}

  static async open(path: string): Promise<EtcdBackendReader> {
    const bolt = await BoltReader.open(path);
    try {
      const named = new Map<string, BucketRef>();
      for await (const bk of bolt.buckets()) named.set(bk.name.toString('latin1'), bk.bucket);
      const meta = named.get(BUCKETS.meta);
      if (!meta) throw new Error(`${path} is not an etcd backend: it has no "${BUCKETS.meta}" bucket`);
      let finished = -1;
      let scheduled = -1;
      for await (const e of bolt.entries(meta)) {
        const name = e.key.toString('latin1');
        if (name === META_KEYS.finishedCompact) finished = decodeRevisionKey(e.value).main;
        else if (name === META_KEYS.scheduledCompact) scheduled = decodeRevisionKey(e.value).main;
      }
      const keys = named.get(BUCKETS.key);
      const last = keys && (await bolt.last(keys));
      const compactRevision = Math.max(finished, scheduled);
      const revision = Math.max(last ? decodeRevisionKey(last.key).main : 1, compactRevision);
      return new EtcdBackendReader(bolt, keys, named.get(BUCKETS.lease), revision, compactRevision, scheduled > finished);
    } catch (e) {
      await bolt.close();
      throw e;
    }
  }

  /** The rows etcd serves from this db, in (revision, sub) order. */
  rows(): AsyncGenerator<LogRow> {
    if (!this.compactionPending) return this.storedRows();
    return etcdRetainedRows(() => this.storedRows(), this.revision, this.compactRevision);
  }

  async *leases(): AsyncGenerator<LeaseRecord> {
    if (!this.leaseBucket) return;
    for await (const e of this.bolt.entries(this.leaseBucket)) yield decodeLease(e.value);
  }

  close(): Promise<void> {
    return this.bolt.close();
  }

  /** Every row the `key` bucket holds. */
  private async *storedRows(): AsyncGenerator<LogRow> {
    if (!this.keys) return;
    // A key's last revision seen, for the next row's prev_revision.
    const lastRev = new Map<string, number>();
    for await (const e of this.bolt.entries(this.keys)) {
      const row = rowFromKeyBucket(e.key, e.value, 0);
      const k = row.key.toString('latin1');
      row.prevRevision = lastRev.get(k) ?? 0;
      lastRev.set(k, row.revision);
      yield row;
    }
  }
}
