/** etcd's request checks (etcdserver/api/v3rpc/key.go), with its exact errors. */
import { Errors } from '../errors';
import { MAX_KEY_BYTES, MAX_TXN_DEPTH } from '../limits';
import { inRange, keyRange, type KeyRange } from '../mvcc/key-range';
import type { DeleteRangeRequest, PutRequest, RangeRequest, RequestOp, TxnRequest } from '../mvcc/types';
import type { Limits } from './limits';

export function checkRange(r: RangeRequest): void {
  if (r.key.length === 0) throw Errors.emptyKey();
  if (r.sort_order < 0 || r.sort_order > 2 || r.sort_target < 0 || r.sort_target > 4) throw Errors.invalidSortOption();
}

export function checkPut(r: PutRequest): void {
  if (r.key.length === 0) throw Errors.emptyKey();
  if (r.ignore_value && r.value.length !== 0) throw Errors.valueProvided();
  if (r.ignore_lease && r.lease !== 0n) throw Errors.leaseProvided();
  // strata's own limit (limits.ts), the same on every backend.
  if (r.key.length > MAX_KEY_BYTES) throw Errors.keyTooLong(MAX_KEY_BYTES);
}

export function checkDeleteRange(r: DeleteRangeRequest): void {
  if (r.key.length === 0) throw Errors.emptyKey();
}

export function checkTxn(r: TxnRequest, limits: Limits): void {
  checkTxnOps(r, limits.maxTxnOps, 1);
  checkIntervals(r.success);
  checkIntervals(r.failure);
}

/**
 * A nested txn may use what its parent left: etcd passes down maxTxnOps minus the parent's count.
 * strata also bounds the depth itself (limits.ts), with the same error.
 */
function checkTxnOps(r: TxnRequest, budget: number, depth: number): void {
  const opc = Math.max(r.compare.length, r.success.length, r.failure.length);
  if (opc > budget || depth > MAX_TXN_DEPTH) throw Errors.tooManyOps();
  for (const c of r.compare) if (c.key.length === 0) throw Errors.emptyKey();
  for (const op of r.success) checkOp(op, budget - opc, depth);
  for (const op of r.failure) checkOp(op, budget - opc, depth);
}

function checkOp(op: RequestOp, budget: number, depth: number): void {
  switch (op.kind) {
    case 'range':
      return checkRange(op.range);
    case 'put':
      return checkPut(op.put);
    case 'delete_range':
      return checkDeleteRange(op.delete_range);
    case 'txn':
      return checkTxnOps(op.txn, budget, depth + 1);
    case 'empty':
      throw Errors.keyNotFound();
  }
}

/** Writes that may not meet in one txn branch: puts of one key twice, or a put inside a delete. */
interface Writes {
  puts: Set<string>;
  dels: KeyRange[];
}

const hits = (dels: KeyRange[], k: string): boolean => dels.some((d) => inRange(d, k));

function checkIntervals(ops: RequestOp[]): Writes {
  const dels: KeyRange[] = [];
  for (const op of ops) if (op.kind === 'delete_range') dels.push(keyRange(op.delete_range.key, op.delete_range.range_end));
  const puts = new Set<string>();
  for (const op of ops) {
    if (op.kind !== 'txn') continue;
    const then = checkIntervals(op.txn.success);
    const els = checkIntervals(op.txn.failure);
    for (const k of then.puts) {
      if (puts.has(k) || hits(dels, k)) throw Errors.duplicateKey();
      puts.add(k);
    }
    for (const k of els.puts) {
      // then and else never both run: the same key in each is fine.
      if ((puts.has(k) && !then.puts.has(k)) || hits(dels, k)) throw Errors.duplicateKey();
      puts.add(k);
    }
    dels.push(...then.dels, ...els.dels);
  }
  for (const op of ops) {
    if (op.kind !== 'put') continue;
    const k = op.put.key.toString('latin1');
    if (puts.has(k) || hits(dels, k)) throw Errors.duplicateKey();
    puts.add(k);
  }
  return { puts, dels };
}

/** etcd rejects a proposal larger than --max-request-bytes. */
export function checkSize(size: number, limits: Limits): void {
  if (size > limits.maxRequestBytes) throw Errors.requestTooLarge();
}
