import { BatchState } from '../../src/log/batch';
import type { Batch, LogRow } from '../../src/log/types';
import { LeaseTable } from '../../src/mvcc/lease-table';
import { RevisionIndex, type Change } from '../../src/mvcc/revision-index';
import type { PutRequest, RangeRequest } from '../../src/mvcc/types';
import { WriteTxn } from '../../src/mvcc/write-txn';
import { putRequest, rangeRequest } from '../helpers/requests';

export const b = (s: string): Buffer => Buffer.from(s, 'latin1');

export function rangeReq(key: string, end = '', extra: Partial<RangeRequest> = {}): RangeRequest {
  return { ...rangeRequest({ key: b(key), range_end: b(end) }), ...extra };
}

export function putReq(key: string, value: string, extra: Partial<PutRequest> = {}): PutRequest {
  return { ...putRequest({ key: b(key), value: b(value) }), ...extra };
}

/** A write request run as a one-job batch that commits at once (the log's own batch bookkeeping, no SQL). */
export class Harness {
  readonly index = new RevisionIndex();
  readonly leases = new LeaseTable();
  readonly rows: LogRow[] = [];
  now = 1_000_000;

  /** `onCommitted` sees each committed request's changes after the index moved (the watch hub's feed). */
  constructor(private readonly onCommitted: (changes: Change[], prev: number) => void = () => undefined) {}

  run<T>(fn: (w: WriteTxn, batch: Batch) => T): T {
    const batch = new BatchState(this.index.revision, this.now);
    const w = new WriteTxn(this.index, this.leases, batch, (changes, rev) => {
      const prev = this.index.revision;
      this.index.commitTo(changes, rev);
      this.onCommitted(changes, prev);
    });
    try {
      const out = fn(w, batch);
      w.finish();
      batch.committed();
      this.rows.push(...batch.rows);
      return out;
    } catch (e) {
      batch.undoAll();
      throw e;
    }
  }
}
