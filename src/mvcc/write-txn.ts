/**
 * One write request applied to the index inside a log batch (etcd's txnWrite): Put, DeleteRange
 * and Txn at one revision, writes taking sub-revisions 0, 1, …, reads seeing the request's own
 * writes. Every change is undone if the request fails or its batch does not commit; once the
 * batch commits, the changes are handed on (index live counts, watchers) in revision order.
 */
import { Errors } from '../errors';
import type { Batch, LogRow } from '../log/types';
import { keyRange } from './key-range';
import type { LeaseTable } from './lease-table';
import { toKeyValue } from './range';
import { ReadView } from './read-view';
import type { Change, RevisionIndex } from './revision-index';
import type { DeleteRangeRequest, DeleteRangeResponse, KeyValue, PutRequest, PutResponse } from './types';

const EMPTY = Buffer.alloc(0);

/** Receives a committed request's changes, all at `revision`. */
type CommitSink = (changes: Change[], revision: number) => void;

export class WriteTxn extends ReadView {
  /** The revision this request's writes get. */
  readonly rev: number;
  private readonly changes: Change[] = [];

  constructor(
    index: RevisionIndex,
    private readonly leases: LeaseTable,
    private readonly batch: Batch,
    private readonly sink: CommitSink,
  ) {
    super(index, batch.revision);
    this.rev = batch.revision + 1;
  }

  override get readRev(): number {
    return this.changes.length > 0 ? this.rev : this.base;
  }

  /** Ends the request: its changes reach memory's followers once the batch commits. */
  finish(): number {
    if (this.changes.length > 0) {
      const { changes, rev, sink } = this;
      this.batch.onCommit(() => sink(changes, rev));
    }
    return this.readRev;
  }

  /** A Put on its own: lease and ignore_* checks, then the write. */
  put(req: PutRequest): PutResponse {
    this.checkPut(req);
    return this.applyPut(req);
  }

  override checkPut(req: PutRequest): void {
    if ((req.ignore_value || req.ignore_lease) && !this.visible(req.key.toString('latin1'))) throw Errors.keyNotFound();
    if (req.lease !== 0n && !this.leases.get(req.lease)) throw Errors.leaseNotFound();
  }

  override applyPut(req: PutRequest): PutResponse {
    const k = req.key.toString('latin1');
    const cur = this.visible(k);
    const value = req.ignore_value && cur ? cur.value : req.value;
    const lease = req.ignore_lease && cur ? cur.lease : req.lease;
    this.write(k, {
      revision: this.rev,
      sub: 0,
      key: req.key,
      createRevision: cur ? cur.createRevision : this.rev,
      prevRevision: 0,
      version: cur ? cur.version + 1 : 1,
      lease,
      value,
      deleted: false,
    });
    this.leases.move(this.batch.onUndo, k, cur?.lease ?? 0n, lease);
    return { header: { revision: this.rev }, prev_kv: req.prev_kv && cur ? toKeyValue(cur) : undefined };
  }

  override deleteRange(req: DeleteRangeRequest): DeleteRangeResponse {
    const prev: KeyValue[] = [];
    let deleted = 0;
    // Deleting appends a version to keys that exist, so the key set being iterated never changes.
    for (const h of this.index.histories(keyRange(req.key, req.range_end))) {
      const cur = h.at(this.readRev);
      if (!cur) continue;
      this.deleteKey(h.k, cur);
      if (req.prev_kv) prev.push(toKeyValue(cur));
      deleted++;
    }
    return { header: { revision: this.readRev }, deleted, prev_kvs: prev };
  }

  /** Deletes one live key (lease revocation and expiry). */
  deleteKey(k: string, cur: LogRow | undefined = this.visible(k)): void {
    if (!cur) return;
    this.write(k, {
      revision: this.rev,
      sub: 0,
      key: cur.key,
      createRevision: 0,
      prevRevision: 0,
      version: 0,
      lease: 0n,
      value: EMPTY,
      deleted: true,
    });
    this.leases.move(this.batch.onUndo, k, cur.lease, 0n);
  }

  private visible(k: string): LogRow | undefined {
    return this.index.get(k)?.at(this.readRev);
  }

  /** Appends a version (its sub and prev_revision filled in here) to the index and the batch. */
  private write(k: string, row: LogRow): void {
    row.sub = this.changes.length;
    const c = this.index.append(k, row);
    c.row.prevRevision = c.prev ? c.prev.revision : 0;
    this.batch.onUndo(() => this.index.revert(c));
    this.changes.push(c);
    this.batch.append(c.row);
  }
}
