/** Txn messages (compares and nested operations) to mvcc requests, and mvcc results back. */
import type { Compare, CompareOperand, RequestOp, ResponseOp, TxnRequest, TxnResponse } from '../../mvcc/types';
import type * as pb from '../messages';
import { big, headerOf, int, type HeaderIdentity } from './header';
import { decodeDeleteRange, decodePut, decodeRange, encodeDeleteRange, encodePut, encodeRange } from './kv';

const EMPTY = Buffer.alloc(0);

function decodeOperand(m: pb.Compare): CompareOperand {
  switch (m.target_union) {
    case 'version':
      return { kind: 'version', value: int(m.version ?? '0') };
    case 'create_revision':
      return { kind: 'create_revision', value: int(m.create_revision ?? '0') };
    case 'mod_revision':
      return { kind: 'mod_revision', value: int(m.mod_revision ?? '0') };
    case 'value':
      return { kind: 'value', value: m.value ?? EMPTY };
    case 'lease':
      return { kind: 'lease', value: big(m.lease ?? '0') };
    default:
      return { kind: 'none' };
  }
}

function decodeCompare(m: pb.Compare): Compare {
  return { result: m.result, target: m.target, key: m.key, range_end: m.range_end, operand: decodeOperand(m) };
}

/** The oneof's virtual field names the member that is set; an op with none is etcd's empty op. */
function decodeOp(m: pb.RequestOp): RequestOp {
  if (m.request === 'request_range' && m.request_range) return { kind: 'range', range: decodeRange(m.request_range) };
  if (m.request === 'request_put' && m.request_put) return { kind: 'put', put: decodePut(m.request_put) };
  if (m.request === 'request_delete_range' && m.request_delete_range) {
    return { kind: 'delete_range', delete_range: decodeDeleteRange(m.request_delete_range) };
  }
  if (m.request === 'request_txn' && m.request_txn) return { kind: 'txn', txn: decodeTxn(m.request_txn) };
  return { kind: 'empty' };
}

export function decodeTxn(m: pb.TxnRequest): TxnRequest {
  return { compare: m.compare.map(decodeCompare), success: m.success.map(decodeOp), failure: m.failure.map(decodeOp) };
}

function encodeOp(op: ResponseOp): pb.ResponseOp {
  switch (op.kind) {
    case 'range':
      return { response_range: encodeRange(op.range, null) };
    case 'put':
      return { response_put: encodePut(op.put, null) };
    case 'delete_range':
      return { response_delete_range: encodeDeleteRange(op.delete_range, null) };
    case 'txn':
      return { response_txn: encodeTxn(op.txn, null) };
  }
}

/** `top` is the identity for a top-level response's header; null for a txn nested in a txn. */
export function encodeTxn(r: TxnResponse, top: HeaderIdentity | null): pb.TxnResponse {
  return { header: headerOf(top, r.header.revision), succeeded: r.succeeded, responses: r.responses.map(encodeOp) };
}
