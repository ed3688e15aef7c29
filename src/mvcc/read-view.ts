/**
 * Reads at one committed revision (etcd's txnRead): Range, and Txns whose every branch only reads.
 * The write transaction (write-txn.ts) extends it with writes, as etcd's storeTxnWrite embeds
 * storeTxnRead.
 */
import { compareVersion } from './compare';
import { keyRange } from './key-range';
import { checkReadRevision, readRange } from './range';
import type { RevisionIndex } from './revision-index';
import { runTxn, type TxnView } from './txn';
import {
  CompareTarget,
  type Compare,
  type DeleteRangeRequest,
  type DeleteRangeResponse,
  type PutRequest,
  type PutResponse,
  type RangeRequest,
  type RangeResponse,
  type TxnRequest,
  type TxnResponse,
} from './types';

export class ReadView implements TxnView {
  constructor(
    readonly index: RevisionIndex,
    /** The revision compares see: the committed state before anything this view does. */
    readonly base: number,
  ) {}

  /** What reads see; a write transaction's own writes move it. */
  get readRev(): number {
    return this.base;
  }

  range(req: RangeRequest): RangeResponse {
    const cur = this.readRev;
    const { kvs, count, more } = readRange(this.index, req, checkReadRevision(this.index, req.revision, cur));
    return { header: { revision: cur }, kvs, count, more };
  }

  txn(req: TxnRequest): TxnResponse {
    return runTxn(req, this);
  }

  /** A compare over every key in its range, on the state before the txn. */
  compare(c: Compare): boolean {
    let any = false;
    for (const h of this.index.histories(keyRange(c.key, c.range_end))) {
      const v = h.at(this.base);
      if (!v) continue;
      any = true;
      if (!compareVersion(c, v)) return false;
    }
    // A value compare on a missing key always fails; other targets compare against zero values.
    if (!any) return c.target !== CompareTarget.VALUE && compareVersion(c, undefined);
    return true;
  }

  /** A put's preconditions (lease, ignore_*); a read view has no puts to check. */
  checkPut(_req: PutRequest): void {
    throw new Error('put in a read-only view');
  }

  /** A put inside a txn, already checked. */
  applyPut(_req: PutRequest): PutResponse {
    throw new Error('put in a read-only view');
  }

  deleteRange(_req: DeleteRangeRequest): DeleteRangeResponse {
    throw new Error('delete in a read-only view');
  }
}
