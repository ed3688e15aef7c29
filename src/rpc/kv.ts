/** etcd's KV methods: decode, check, run on the store; the front-ends encode the results. */
import type { CompactionResponse, DeleteRangeResponse, PutResponse, RangeResponse, TxnResponse } from '../mvcc/types';
import type { UnaryMethod } from './calls';
import {
  decodeCompact,
  decodeDeleteRange,
  decodePut,
  decodeRange,
  encodeCompact,
  encodeDeleteRange,
  encodePut,
  encodeRange,
} from './codec/kv';
import { decodeTxn, encodeTxn } from './codec/txn';
import type { RpcContext } from './context';
import type * as pb from './messages';
import { checkDeleteRange, checkPut, checkRange, checkSize, checkTxn } from './validate';

export function kvCalls(ctx: RpcContext) {
  const { store, limits, identity } = ctx;
  const Range: UnaryMethod<pb.RangeRequest, RangeResponse, pb.RangeResponse> = {
    run: async (m, _size, who) => {
      const req = decodeRange(m);
      checkRange(req);
      return store.range(req, who);
    },
    encode: (r) => encodeRange(r, identity),
  };
  const Put: UnaryMethod<pb.PutRequest, PutResponse, pb.PutResponse> = {
    run: async (m, size, who, _signal, deadline) => {
      const req = decodePut(m);
      checkPut(req);
      checkSize(size, limits);
      return store.put(req, who, deadline);
    },
    encode: (r) => encodePut(r, identity),
  };
  const DeleteRange: UnaryMethod<pb.DeleteRangeRequest, DeleteRangeResponse, pb.DeleteRangeResponse> = {
    run: async (m, size, who, _signal, deadline) => {
      const req = decodeDeleteRange(m);
      checkDeleteRange(req);
      checkSize(size, limits);
      return store.deleteRange(req, who, deadline);
    },
    encode: (r) => encodeDeleteRange(r, identity),
  };
  const Txn: UnaryMethod<pb.TxnRequest, TxnResponse, pb.TxnResponse> = {
    run: async (m, size, who, _signal, deadline) => {
      const req = decodeTxn(m);
      checkTxn(req, limits);
      checkSize(size, limits);
      return store.txn(req, who, deadline);
    },
    encode: (r) => encodeTxn(r, identity),
  };
  const Compact: UnaryMethod<pb.CompactionRequest, CompactionResponse, pb.CompactionResponse> = {
    run: async (m, _size, who) => store.compact(decodeCompact(m), who),
    encode: (r) => encodeCompact(r, identity),
  };
  return { Range, Put, DeleteRange, Txn, Compact };
}
