/**
 * Applies etcd operations to the index at one revision, inside a writer job (or, for read-only
 * txns, against a committed revision). Follows etcd's applier: txn compares — nested ones too — are
 * decided on the state before any op runs; puts and ranges are checked before anything changes;
 * all writes of one request share one revision with increasing sub-revisions.
 */
import { Errors } from '../errors';
import type { BatchContext } from '../log/writer';
import { keyRange, type RevisionIndex, type Version } from './index';
import type { LeaseTable } from './leases';
import { readRange, toKeyValue } from './range';
import {
  CompareResult,
  CompareTarget,
  type Compare,
  type DeleteRangeRequest,
  type DeleteRangeResponse,
  type KeyValue,
  type PutRequest,
  type PutResponse,
  type RangeRequest,
  type RangeResponse,
  type RequestOp,
  type ResponseOp,
  type TxnRequest,
  type TxnResponse,
} from './types';

const EMPTY = Buffer.alloc(0);

/** Checks a read revision against the compacted and current revisions, as etcd's mvcc does. */
export function checkReadRevision(index: RevisionIndex, requested: number, current: number): number {
  if (requested > current) throw Errors.futureRev();
  const rev = requested <= 0 ? current : requested;
  if (rev < index.compactRevision) throw Errors.compacted();
  return rev;
}

export class Mutation {
  /** The revision this request's writes get. */
  readonly rev: number;
  private sub = 0;

  /** `ctx` is null for read-only evaluation at the committed revision `base`. */
  constructor(
    private readonly index: RevisionIndex,
    private readonly leases: LeaseTable,
    private readonly ctx: BatchContext | null,
    private readonly base: number = ctx ? ctx.revision : index.revision,
  ) {
    this.rev = this.base + 1;
  }

  get changed(): boolean {
    return this.sub > 0;
  }

  /** What reads inside this request see: its own writes so far included. */
  get readRev(): number {
    return this.changed ? this.rev : this.base;
  }

  /** Ends the request: the batch moves to this revision if anything changed. */
  finish(): number {
    if (this.changed && this.ctx) this.ctx.revision = this.rev;
    return this.readRev;
  }

  range(req: RangeRequest): RangeResponse {
    const cur = this.readRev;
    const { kvs, count, more } = readRange(this.index, req, checkReadRevision(this.index, req.revision, cur));
    return { header: { revision: cur }, kvs, count, more };
  }

  /** A Put on its own: lease and ignore_* checks, then the write. */
  put(req: PutRequest): PutResponse {
    this.checkPut(req);
    return this.applyPut(req);
  }

  private checkPut(req: PutRequest): void {
    if ((req.ignore_value || req.ignore_lease) && !this.visible(req.key.toString('latin1'))) throw Errors.keyNotFound();
    if (req.lease !== 0n && !this.leases.get(req.lease)) throw Errors.leaseNotFound();
  }

  private visible(k: string): Version | undefined {
    return this.index.get(k)?.at(this.readRev);
  }

  private applyPut(req: PutRequest): PutResponse {
    const k = req.key.toString('latin1');
    const cur = this.visible(k);
    const value = req.ignore_value && cur ? cur.value : req.value;
    const lease = req.ignore_lease && cur ? cur.lease : req.lease;
    this.write(k, req.key, {
      main: this.rev,
      sub: 0,
      createRevision: cur ? cur.createRevision : this.rev,
      version: cur ? cur.version + 1 : 1,
      lease,
      value,
      deleted: false,
    });
    this.leases.move(this.ctx, k, cur?.lease ?? 0n, lease);
    return { header: { revision: this.rev }, prev_kv: req.prev_kv && cur ? toKeyValue(k, cur) : undefined };
  }

  deleteRange(req: DeleteRangeRequest): DeleteRangeResponse {
    const prev: KeyValue[] = [];
    let deleted = 0;
    // Deleting appends a version to keys that exist, so the key set being iterated never changes.
    for (const h of this.index.histories(keyRange(req.key, req.range_end))) {
      const cur = h.at(this.readRev);
      if (!cur) continue;
      this.deleteKey(h.k, cur);
      if (req.prev_kv) prev.push(toKeyValue(h.key, cur));
      deleted++;
    }
    return { header: { revision: this.readRev }, deleted, prev_kvs: prev };
  }

  /** Deletes one live key (lease revocation and expiry). */
  deleteKey(k: string, cur: Version | undefined = this.visible(k)): void {
    if (!cur) return;
    this.write(k, null, { main: this.rev, sub: 0, createRevision: 0, version: 0, lease: 0n, value: EMPTY, deleted: true });
    this.leases.move(this.ctx, k, cur.lease, 0n);
  }

  private write(k: string, key: Buffer | null, v: Version): void {
    const ctx = this.ctx;
    if (!ctx) throw new Error('write in a read-only evaluation');
    const h = this.index.get(k);
    const last = h ? h.versions[h.versions.length - 1] : undefined;
    const version: Version = { ...v, sub: this.sub++ };
    ctx.stage({
      revision: version.main,
      sub: version.sub,
      key: key ?? Buffer.from(k, 'latin1'),
      createRevision: version.createRevision,
      prevRevision: last ? last.main : 0,
      version: version.version,
      lease: version.lease,
      value: version.value,
      deleted: version.deleted,
    });
    ctx.onUndo(this.index.append(k, version));
  }

  txn(req: TxnRequest): TxnResponse {
    const paths = new Map<TxnRequest, boolean>();
    this.decide(req, paths);
    this.check(req, paths);
    const resp = this.applyTxn(req, paths);
    resp.header.revision = this.readRev;
    return resp;
  }

  /** compareToPath: every compare on the chosen path, on the state before the txn. */
  private decide(req: TxnRequest, paths: Map<TxnRequest, boolean>): void {
    const ok = req.compare.every((c) => this.compare(c));
    paths.set(req, ok);
    for (const op of ok ? req.success : req.failure) if (op.kind === 'txn') this.decide(op.txn, paths);
  }

  /** etcd checks every put on the chosen path first, then every range's revision. */
  private check(req: TxnRequest, paths: Map<TxnRequest, boolean>): void {
    this.eachChosen(req, paths, (op) => op.kind === 'put' && this.checkPut(op.put));
    this.eachChosen(req, paths, (op) => {
      if (op.kind === 'range' && op.range.revision !== 0) checkReadRevision(this.index, op.range.revision, this.base);
    });
  }

  private eachChosen(req: TxnRequest, paths: Map<TxnRequest, boolean>, fn: (op: RequestOp) => void): void {
    for (const op of paths.get(req) ? req.success : req.failure) {
      if (op.kind === 'txn') this.eachChosen(op.txn, paths, fn);
      else fn(op);
    }
  }

  private applyTxn(req: TxnRequest, paths: Map<TxnRequest, boolean>): TxnResponse {
    const succeeded = paths.get(req) ?? false;
    const responses: ResponseOp[] = [];
    for (const op of succeeded ? req.success : req.failure) {
      const r = this.applyOp(op, paths);
      if (r) responses.push(r);
    }
    // Nested txn responses carry an empty header in etcd; the outer one is set by txn().
    return { header: { revision: 0 }, succeeded, responses };
  }

  private applyOp(op: RequestOp, paths: Map<TxnRequest, boolean>): ResponseOp | undefined {
    switch (op.kind) {
      case 'range':
        return { kind: 'range', range: this.range(op.range) };
      case 'put':
        return { kind: 'put', put: this.applyPut(op.put) };
      case 'delete_range':
        return { kind: 'delete_range', delete_range: this.deleteRange(op.delete_range) };
      case 'txn':
        return { kind: 'txn', txn: this.applyTxn(op.txn, paths) };
      case 'empty':
        return undefined;
    }
  }

  private compare(c: Compare): boolean {
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
}

function compareVersion(c: Compare, v: Version | undefined): boolean {
  const o = c.operand;
  let result: number;
  switch (c.target as CompareTarget) {
    case CompareTarget.VALUE:
      result = Buffer.compare(v?.value ?? EMPTY, o.kind === 'value' ? o.value : EMPTY);
      break;
    case CompareTarget.CREATE:
      result = Math.sign((v?.createRevision ?? 0) - (o.kind === 'create_revision' ? o.value : 0));
      break;
    case CompareTarget.MOD:
      result = Math.sign((v?.main ?? 0) - (o.kind === 'mod_revision' ? o.value : 0));
      break;
    case CompareTarget.VERSION:
      result = Math.sign((v?.version ?? 0) - (o.kind === 'version' ? o.value : 0));
      break;
    case CompareTarget.LEASE: {
      const a = v?.lease ?? 0n;
      const b = o.kind === 'lease' ? o.value : 0n;
      result = a < b ? -1 : a > b ? 1 : 0;
      break;
    }
    default:
      result = 0;
  }
  switch (c.result as CompareResult) {
    case CompareResult.EQUAL:
      return result === 0;
    case CompareResult.NOT_EQUAL:
      return result !== 0;
    case CompareResult.GREATER:
      return result > 0;
    case CompareResult.LESS:
      return result < 0;
    default:
      return true;
  }
}

/** Whether a txn, in any branch at any depth, can write (etcd's isTxnReadonly, negated). */
export function txnWrites(req: TxnRequest): boolean {
  const ops = (list: RequestOp[]) =>
    list.some((op) => op.kind === 'put' || op.kind === 'delete_range' || (op.kind === 'txn' && txnWrites(op.txn)));
  return ops(req.success) || ops(req.failure);
}
