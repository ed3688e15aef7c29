/**
 * Txn evaluation as etcd's applier does it: every compare on the chosen path — nested ones too —
 * is decided on the state before any op runs; every put on the path is checked first, then every
 * range's revision; then the ops run in order, writes sharing the txn's one revision.
 */
import { checkReadRevision } from './range';
import type { RevisionIndex } from './revision-index';
import type {
  Compare,
  DeleteRangeRequest,
  DeleteRangeResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  RequestOp,
  ResponseOp,
  TxnRequest,
  TxnResponse,
} from './types';

/** What a txn runs against: a read view, or a write transaction (which also writes). */
export interface TxnView {
  readonly index: RevisionIndex;
  /** The revision compares and range revision checks see: the state before the txn. */
  readonly base: number;
  /** The revision reads see now (moves with the txn's own writes). */
  readonly readRev: number;
  compare(c: Compare): boolean;
  range(req: RangeRequest): RangeResponse;
  checkPut(req: PutRequest): void;
  applyPut(req: PutRequest): PutResponse;
  deleteRange(req: DeleteRangeRequest): DeleteRangeResponse;
}

type Paths = Map<TxnRequest, boolean>;

export function runTxn(req: TxnRequest, view: TxnView): TxnResponse {
  const paths: Paths = new Map();
  decide(req, view, paths);
  eachChosen(req, paths, (op) => op.kind === 'put' && view.checkPut(op.put));
  eachChosen(req, paths, (op) => {
    if (op.kind === 'range' && op.range.revision !== 0) checkReadRevision(view.index, op.range.revision, view.base);
  });
  const resp = apply(req, view, paths);
  resp.header.revision = view.readRev;
  return resp;
}

/** etcd's compareToPath: the branch each (nested) txn takes. */
function decide(req: TxnRequest, view: TxnView, paths: Paths): void {
  const ok = req.compare.every((c) => view.compare(c));
  paths.set(req, ok);
  for (const op of ok ? req.success : req.failure) if (op.kind === 'txn') decide(op.txn, view, paths);
}

function eachChosen(req: TxnRequest, paths: Paths, fn: (op: RequestOp) => void): void {
  for (const op of paths.get(req) ? req.success : req.failure) {
    if (op.kind === 'txn') eachChosen(op.txn, paths, fn);
    else fn(op);
  }
}

function apply(req: TxnRequest, view: TxnView, paths: Paths): TxnResponse {
  const succeeded = paths.get(req) ?? false;
  const responses: ResponseOp[] = [];
  for (const op of succeeded ? req.success : req.failure) {
    const r = applyOp(op, view, paths);
    if (r) responses.push(r);
  }
  // Nested txn responses carry an empty header in etcd; the outer one is set by runTxn.
  return { header: { revision: 0 }, succeeded, responses };
}

function applyOp(op: RequestOp, view: TxnView, paths: Paths): ResponseOp | undefined {
  switch (op.kind) {
    case 'range':
      return { kind: 'range', range: view.range(op.range) };
    case 'put':
      return { kind: 'put', put: view.applyPut(op.put) };
    case 'delete_range':
      return { kind: 'delete_range', delete_range: view.deleteRange(op.delete_range) };
    case 'txn':
      return { kind: 'txn', txn: apply(op.txn, view, paths) };
    case 'empty':
      return undefined;
  }
}

/** Whether a txn, in any branch at any depth, can write (etcd's isTxnReadonly, negated). */
export function txnWrites(req: TxnRequest): boolean {
  const ops = (list: RequestOp[]) =>
    list.some((op) => op.kind === 'put' || op.kind === 'delete_range' || (op.kind === 'txn' && txnWrites(op.txn)));
  return ops(req.success) || ops(req.failure);
}
