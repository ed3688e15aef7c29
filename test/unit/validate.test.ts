import { describe, expect, it } from 'vitest';
import { Code, Errors, EtcdError } from '../../src/errors';
import type { RequestOp, TxnRequest } from '../../src/mvcc/types';
import { checkPut, checkRange, checkSize, checkTxn } from '../../src/rpc/validate';
import { b, putReq, rangeReq } from './helpers';

const limits = { maxRequestBytes: 100, maxTxnOps: 3 };
const put = (k: string): RequestOp => ({ kind: 'put', put: putReq(k, 'v') });
const del = (k: string, end = ''): RequestOp => ({ kind: 'delete_range', delete_range: { key: b(k), range_end: b(end), prev_kv: false } });
const txn = (success: RequestOp[], failure: RequestOp[] = []): TxnRequest => ({ compare: [], success, failure });
const err = (fn: () => void): { code: number; message: string } => {
  try {
    fn();
  } catch (e) {
    if (e instanceof EtcdError) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('no error');
};

describe('validation', () => {
  it('rejects empty keys, bad sort options and ignore_* conflicts', () => {
    expect(err(() => checkRange(rangeReq('')))).toEqual({ code: Code.InvalidArgument, message: 'etcdserver: key is not provided' });
    expect(err(() => checkRange(rangeReq('a', '', { sort_order: 3 }))).message).toBe('etcdserver: invalid sort option');
    expect(err(() => checkPut(putReq('a', 'v', { ignore_value: true }))).message).toBe('etcdserver: value is provided');
    expect(err(() => checkPut(putReq('a', '', { ignore_lease: true, lease: 5n }))).message).toBe('etcdserver: lease is provided');
  });

  it('limits ops per txn branch', () => {
    expect(err(() => checkTxn(txn([put('a'), put('b'), put('c'), put('d')]), limits)).message).toBe(
      'etcdserver: too many operations in txn request',
    );
    expect(() => checkTxn(txn([put('a'), put('b'), put('c')], [put('a'), put('b'), put('c')]), limits)).not.toThrow();
  });

  it('gives a nested txn only what its parent left of the op budget', () => {
    // limits.maxTxnOps is 3: one outer op leaves 2 for the nested txn.
    expect(() => checkTxn(txn([{ kind: 'txn', txn: txn([put('a'), put('b')]) }]), limits)).not.toThrow();
    expect(err(() => checkTxn(txn([{ kind: 'txn', txn: txn([put('a'), put('b'), put('c')]) }]), limits)).message).toBe(
      'etcdserver: too many operations in txn request',
    );
  });

  it('finds duplicate keys as etcd does', () => {
    const dup = 'etcdserver: duplicate key given in txn request';
    expect(err(() => checkTxn(txn([put('a'), put('a')]), limits)).message).toBe(dup);
    expect(err(() => checkTxn(txn([put('b'), del('a', 'c')]), limits)).message).toBe(dup);
    expect(err(() => checkTxn(txn([put('a'), { kind: 'txn', txn: txn([put('a')]) }]), limits)).message).toBe(dup);
    // then/else of a nested txn never both run; two deletes may overlap.
    expect(() => checkTxn(txn([{ kind: 'txn', txn: txn([put('a')], [put('a')]) }]), limits)).not.toThrow();
    expect(() => checkTxn(txn([del('a', 'c'), del('b', 'd')]), limits)).not.toThrow();
    expect(() => checkTxn(txn([put('a')], [put('a')]), limits)).not.toThrow();
  });

  it('rejects an empty op as etcd does', () => {
    expect(err(() => checkTxn(txn([{ kind: 'empty' }]), limits)).message).toBe('etcdserver: key not found');
  });

  it('rejects requests over the size limit', () => {
    expect(err(() => checkSize(101, limits))).toEqual({ code: Code.InvalidArgument, message: 'etcdserver: request is too large' });
    expect(() => checkSize(100, limits)).not.toThrow();
  });

  it('keeps etcd error texts byte for byte', () => {
    expect(Errors.compacted().message).toBe('etcdserver: mvcc: required revision has been compacted');
    expect(Errors.futureRev().message).toBe('etcdserver: mvcc: required revision is a future revision');
    expect(Errors.leaseNotFound().code).toBe(Code.NotFound);
    expect(Errors.authNotEnabled().code).toBe(Code.FailedPrecondition);
  });
});
